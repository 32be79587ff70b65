/**
 * Invoke-Command -VMName (PowerShell Direct) on the management side: find the VM, check that
 * it runs, open a session with its guest agent through the hypervisor layer, run the
 * pipelines the shell bound, and turn what comes back into objects and error records.
 *
 * Errors are PowerShell's own, from PowerShell's sources (PSExecutionCmdlet
 * CreateRunspacesWhenVMParameterSpecified and resources/RemotingErrorIdStrings.resx):
 *  - unknown VM:     InvalidVMNameNotSingle "The input VMName {0} does not resolve to a single virtual machine."
 *  - not running:    InvalidVMState "The virtual machine {0} is not in running state."
 *    (both ArgumentException, category InvalidArgument, no target)
 *  - no agent:       the guest does not answer on the channel. PowerShell Direct then reports
 *    "An error has occurred which Windows PowerShell cannot handle. A remote session might have
 *    ended." with CreateRemoteRunspaceForVMFailed / InvalidOperation / PSRemotingDataStructureException
 *    — what Windows PowerShell 5.1 prints when the guest OS has not booted or offers no PowerShell
 *    Direct service (Microsoft's "Manage Windows virtual machines with PowerShell Direct",
 *    Troubleshooting). Nestvisor uses it both when no session opens in time and when one breaks.
 * -Credential is accepted and ignored: the agent runs every operation as the guest's only
 * principal; there are no accounts to check (docs/guest-channel.md, "Credentials").
 */
import type { AgentError, AgentItem, AgentRequest, AgentValue } from '../hypervisor/agent-protocol.js';
import { GuestAgentError, type GuestAgentSession } from '../hypervisor/guest-agent.js';
import type { ViewObject } from './actions.js';
import type { Controller } from './controller.js';
import { ManagementError } from './errors.js';

/** One statement of the script block: a pipeline to run, or the error binding it on the host gave. */
export type GuestStep =
  | { readonly request: AgentRequest }
  | { readonly route: readonly string[]; readonly error: AgentError };

export interface InvokeCommandSpec {
  readonly vmNames: readonly string[];
  readonly steps: readonly GuestStep[];
}

/** An error record that happened in a guest: shown with its own FullyQualifiedErrorId and PSComputerName. */
export class RemoteCommandError extends ManagementError {
  constructor(readonly item: AgentError, readonly computerName: string) {
    super(item.message, item.category as ManagementError['category'], item.fullyQualifiedErrorId, item.targetName, '', item.exceptionType);
  }
}

export const SESSION_BROKEN_MESSAGE = 'An error has occurred which Windows PowerShell cannot handle. A remote session might have ended.';

export function sessionBroken(): ManagementError {
  return new ManagementError(SESSION_BROKEN_MESSAGE, 'InvalidOperation', 'CreateRemoteRunspaceForVMFailed', '', '', 'PSRemotingDataStructureException');
}

export type InvokeOutput = ViewObject | ManagementError;

export async function invokeCommand(ctrl: Controller, spec: InvokeCommandSpec, timeoutMs: number): Promise<InvokeOutput[]> {
  const out: InvokeOutput[] = [];
  const s = ctrl.inventory.read();
  for (const name of spec.vmNames) {
    const vm = s.vms.find((v) => v.name.toLowerCase() === name.toLowerCase());
    if (!vm) {
      out.push(new ManagementError(`The input VMName ${name} does not resolve to a single virtual machine.`, 'InvalidArgument', 'InvalidVMNameNotSingle', '', '', 'ArgumentException'));
      continue;
    }
    const handle = ctrl.partitionOf(vm);
    if (ctrl.stateOf(vm) !== 'Running' || !handle) {
      out.push(new ManagementError(`The virtual machine ${vm.name} is not in running state.`, 'InvalidArgument', 'InvalidVMState', '', '', 'ArgumentException'));
      continue;
    }
    let session: GuestAgentSession;
    try {
      if (!handle.openGuestSession) throw new GuestAgentError('no-agent', 'no guest channel');
      session = await handle.openGuestSession({ connectTimeoutMs: timeoutMs, requestTimeoutMs: timeoutMs });
    } catch (e) {
      if (!(e instanceof GuestAgentError)) throw e;
      out.push(sessionBroken());
      continue;
    }
    try {
      for (const step of spec.steps) {
        if ('error' in step) { out.push(new RemoteCommandError(step.error, computer(vm.name, step.route))); continue; }
        let items: AgentItem[];
        try {
          items = await session.request(step.request);
        } catch (e) {
          if (!(e instanceof GuestAgentError)) throw e;
          out.push(sessionBroken());
          break;
        }
        const where = computer(vm.name, step.request.route);
        for (const it of items) out.push(it.kind === 'object' ? remoteObject(it.typeName, it.props, where) : new RemoteCommandError(it, where));
      }
    } finally {
      session.close();
    }
  }
  return out;
}

function computer(vmName: string, route: readonly string[]): string {
  return route.length ? route[route.length - 1]! : vmName;
}

/** A deserialized object, as remoting returns them: its type prefixed "Deserialized.", plus PSComputerName. */
function remoteObject(typeName: string, props: ReadonlyArray<readonly [string, AgentValue]>, computerName: string): ViewObject {
  const p: Record<string, unknown> = {};
  for (const [k, v] of props) p[k] = Array.isArray(v) ? [...v] : v;
  p.PSComputerName = computerName;
  return { typeName: `Deserialized.${typeName}`, props: p };
}
