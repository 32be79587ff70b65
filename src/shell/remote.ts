/**
 * Invoke-Command -VMName's script block, parsed and bound on the HOST (docs/guest-channel.md):
 * each statement becomes one structured request — a pipeline of commands with typed
 * arguments — for the guest agent, which never sees PowerShell text. Binding uses the
 * shell's own cmdlet definitions, restricted to what the agents implement, so a bad parameter
 * fails with PowerShell's ParameterBindingException exactly as it would inside the guest
 * (the record then carries PSComputerName, as remote errors do). A nested
 * `Invoke-Command -VMName L2 { ... }` compiles to requests routed through the first guest.
 *
 * Deviation from PowerShell, documented: arguments are evaluated on the host before they are
 * sent (a remote block in PowerShell evaluates them in the guest and sees host variables only
 * through $using:); literals, which is what the seed document's commands use, behave the same.
 */
import type { AgentCommand, AgentError, AgentValue } from '../hypervisor/agent-protocol.js';
import type { GuestStep } from '../management/guest-ops.js';
import type { Pipeline, Statement } from './ast.js';
import { BindingError, COMMON_PARAMS, SHOULD_PROCESS_PARAMS, bindArguments, checkMandatory, type ArgValue, type Bound, type ParamDef } from './binder.js';
import type { CmdletDef } from './cmdlet.js';
import type { Session } from './session.js';
import { PSObject, ScriptBlock, toStr, unroll, type Value } from './values.js';

/** The commands a guest agent runs (guests/lib/agent.h AGENT_COMMANDS); netsh and Invoke-Command are handled here. */
export const GUEST_CMDLETS: readonly string[] = [
  'New-VMSwitch', 'Get-VMSwitch', 'New-NetNat', 'Get-NetNat', 'Get-NetAdapter', 'New-NetIPAddress', 'Get-NetIPAddress',
  'Get-DnsClientServerAddress',
];
/** netsh's one context the agents run: `netsh interface ip add dnsserver` (seed: NAT section). */
export const NETSH_DNSSERVER = 'netsh interface ip add dnsserver';

const err = (message: string, category: string, fullyQualifiedErrorId: string, activity: string, exceptionType: string, targetName = ''): AgentError =>
  ({ kind: 'error', message, category, fullyQualifiedErrorId, activity, targetName, exceptionType });

class StepError extends Error {
  constructor(readonly item: AgentError) { super(item.message); }
}

/** Compiles a script block into the steps Invoke-Command sends; `route` names the VMs below the first. */
export async function compileScriptBlock(session: Session, sb: ScriptBlock, route: readonly string[] = []): Promise<GuestStep[]> {
  const steps: GuestStep[] = [];
  for (const st of sb.body) {
    try {
      steps.push(...(await compileStatement(session, st, route)));
    } catch (e) {
      if (!(e instanceof StepError)) throw e;
      steps.push({ route, error: e.item });
    }
  }
  return steps;
}

async function compileStatement(session: Session, st: Statement, route: readonly string[]): Promise<GuestStep[]> {
  if (st.kind !== 'pipeline') {
    throw new StepError(err(`Nestvisor's guest agents run pipelines of the cmdlets they implement (${GUEST_CMDLETS.join(', ')}, ${NETSH_DNSSERVER}, Invoke-Command); a '${st.kind}' statement cannot be sent to a virtual machine.`,
      'NotImplemented', 'GuestStatementNotSupported', '', 'NotSupportedException'));
  }
  const first = st.elements[0];
  if (first?.kind === 'command' && first.name.toLowerCase() === 'invoke-command') {
    if (st.elements.length > 1) throw new StepError(err('Invoke-Command must be alone in its pipeline inside a script block sent to a virtual machine.', 'NotImplemented', 'GuestStatementNotSupported', 'Invoke-Command', 'NotSupportedException'));
    return nestedInvoke(session, first, route);
  }
  const pipeline: AgentCommand[] = [];
  for (let i = 0; i < st.elements.length; i++) pipeline.push(await compileCommand(session, st, i));
  return [{ request: { route, pipeline } }];
}

async function compileCommand(session: Session, p: Pipeline, index: number): Promise<AgentCommand> {
  const el = p.elements[index]!;
  if (el.kind !== 'command') {
    throw new StepError(err('Expressions cannot be sent to a virtual machine; only commands can.', 'NotImplemented', 'GuestStatementNotSupported', '', 'NotSupportedException'));
  }
  const args = await argValues(session, el.args);
  const lower = el.name.toLowerCase().replace(/\.exe$/, '');
  if (lower === 'netsh') return netshCommand(args.map((a) => (a.kind === 'param' ? `-${a.name}` : unroll(a.value ?? null).map(toStr).join(' '))));
  const def = session.registry.find(el.name);
  if (!def || !GUEST_CMDLETS.includes(def.name)) {
    throw new StepError(err(`The term '${el.name}' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.`,
      'ObjectNotFound', 'CommandNotFoundException', '', 'CommandNotFoundException', el.name));
  }
  const params = allParams(def);
  let bound: Bound;
  try {
    bound = bindArguments(params, args);
    // later elements may get mandatory values from the objects piped to them, in the guest
    if (index === 0) checkMandatory(params, bound);
  } catch (e) {
    if (!(e instanceof BindingError)) throw e;
    const r = e.record;
    throw new StepError(err(r.message, r.category, `${r.errorId},${def.type}`, def.name, r.exceptionType, r.targetName));
  }
  const out: Array<[string, AgentValue]> = [];
  for (const pd of def.params) {
    if (!bound.has(pd.name)) continue;
    out.push([pd.name, toAgentValue(bound.get(pd.name)!, def, pd)]);
  }
  return { name: def.name, args: out };
}

async function nestedInvoke(session: Session, el: Extract<Pipeline['elements'][number], { kind: 'command' }>, route: readonly string[]): Promise<GuestStep[]> {
  const def = session.registry.find('Invoke-Command')!;
  const params = allParams(def);
  let bound: Bound;
  try {
    bound = bindArguments(params, await argValues(session, el.args));
    checkMandatory(params, bound);
  } catch (e) {
    if (!(e instanceof BindingError)) throw e;
    const r = e.record;
    throw new StepError(err(r.message, r.category, `${r.errorId},${def.type}`, def.name, r.exceptionType, r.targetName));
  }
  const sb = bound.get('ScriptBlock');
  if (!(sb instanceof ScriptBlock)) throw new StepError(err('Invoke-Command needs -ScriptBlock.', 'InvalidArgument', 'MissingArgument', def.name, 'ParameterBindingException'));
  const steps: GuestStep[] = [];
  for (const vm of bound.strs('VMName') ?? []) steps.push(...(await compileScriptBlock(session, sb, [...route, vm])));
  return steps;
}

function allParams(def: CmdletDef): ParamDef[] {
  return [...def.params, ...COMMON_PARAMS, ...(def.shouldProcess ? SHOULD_PROCESS_PARAMS : [])];
}

async function argValues(session: Session, args: Extract<Pipeline['elements'][number], { kind: 'command' }>['args']): Promise<ArgValue[]> {
  const out: ArgValue[] = [];
  for (const a of args) {
    if (a.kind === 'param') out.push({ kind: 'param', name: a.name, hasValue: a.value !== undefined, value: a.value ? await session.eval(a.value) : undefined, span: a.span });
    else out.push({ kind: 'value', hasValue: true, value: await session.eval(a.expr), span: a.span });
  }
  return out;
}

function toAgentValue(v: Value, def: CmdletDef, p: ParamDef): AgentValue {
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number')) return v.map(toStr);
  const what = v instanceof PSObject ? v.typeName : Array.isArray(v) ? 'System.Object[]' : 'object';
  throw new StepError(err(`The value of -${p.name} (${what}) cannot be sent to a virtual machine: only strings, numbers and Booleans travel over PowerShell Direct in Nestvisor.`,
    'InvalidArgument', `CannotSendArgument,${def.type}`, def.name, 'ParameterBindingException'));
}

const NETSH_USAGE = 'Usage: netsh interface ip add dnsserver [name=]<interface> [address=]<IPv4 address> [[index=]<integer>]';

/** `netsh interface ip add dnsserver "NAME" address=X [index=N]` → one structured command (the rules of src/shell/cmdlets/net.ts netsh). */
function netshCommand(words: string[]): AgentCommand {
  const w = words.map((x) => x.toLowerCase());
  const ok = (w[0] === 'interface' || w[0] === 'int') && ['ip', 'ipv4'].includes(w[1] ?? '') && w[2] === 'add' && ['dnsserver', 'dnsservers', 'dns'].includes(w[3] ?? '');
  if (!ok) throw new StepError(err(`The following command was not found: ${words.join(' ')}.`, 'NotSpecified', 'netsh', 'netsh', 'NativeCommandError'));
  const named = new Map<string, string>();
  const positional: string[] = [];
  for (const a of words.slice(4)) {
    const m = /^(name|address|index|validate)=(.*)$/i.exec(a);
    if (m) named.set(m[1]!.toLowerCase(), m[2]!); else positional.push(a);
  }
  const name = named.get('name') ?? positional.shift();
  const address = named.get('address') ?? positional.shift();
  const index = named.get('index') ?? positional.shift();
  if (!name || !address) throw new StepError(err(NETSH_USAGE, 'NotSpecified', 'netsh', 'netsh', 'NativeCommandError'));
  const args: Array<[string, AgentValue]> = [['Name', name], ['Address', address]];
  if (index !== undefined) args.push(['Index', Number(index)]);
  return { name: NETSH_DNSSERVER, args };
}
