/**
 * `nestvisor` as a shell: the interactive REPL (history, tab completion of cmdlet and parameter
 * names), `-Command "..."` and `-File script.ps1`, with pwsh's exit codes: -Command exits 1
 * when the last statement failed, -File only on a terminating error; `exit N` wins in both.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as readline from 'node:readline';
import { InventoryError, resolveHome } from '../management/inventory.js';
import { openService, type Service } from '../management/service.js';
import { createSession, type Session, type ShellHost } from '../shell/index.js';
import { COMMON_PARAMS, SHOULD_PROCESS_PARAMS } from '../shell/binder.js';

const USAGE = `Usage: nestvisor [--home DIR] [-Command "<script>" | -File <script.ps1> [args]]
       nestvisor run|demo|serve ...
Without -Command or -File, starts an interactive shell. The inventory lives in DIR
(default: $NESTVISOR_HOME, else ~/.nestvisor).
`;

interface CliArgs { home?: string; command?: string; file?: string; fileArgs: string[]; help: boolean }

function parseArgs(argv: string[]): CliArgs | string {
  const a: CliArgs = { fileArgs: [], help: false };
  for (let i = 0; i < argv.length; i++) {
    const w = argv[i];
    const lw = w.toLowerCase().replace(/^[\u2013\u2014\u2015]/, '-');
    if (lw === '--home' || lw === '-home') { if (i + 1 >= argv.length) return 'Missing value for --home.'; a.home = argv[++i]; continue; }
    if (lw.startsWith('--home=')) { a.home = w.slice(7); continue; }
    if (lw === '-command' || lw === '-c' || lw === '--command') { a.command = argv.slice(i + 1).join(' '); if (a.command === '-') a.command = readFileSync(0, 'utf8'); break; }
    if (lw === '-file' || lw === '-f' || lw === '--file') { if (i + 1 >= argv.length) return 'Missing value for -File.'; a.file = argv[i + 1]; a.fileArgs = argv.slice(i + 2); break; }
    if (lw === '-noprofile' || lw === '-nologo' || lw === '-noninteractive') continue;
    if (lw === '-h' || lw === '--help' || lw === '-help' || lw === '-?') { a.help = true; continue; }
    // pwsh takes a bare script text as -Command
    a.command = argv.slice(i).join(' ');
    break;
  }
  return a;
}

class ConsoleHost implements ShellHost {
  constructor(private readonly confirmFn?: (q: string) => Promise<boolean>) {}
  write(text: string, stream: 'output' | 'error' | 'warning'): void {
    (stream === 'error' ? process.stderr : process.stdout).write(text);
  }
  get confirm() { return this.confirmFn; }
}

function serialLogger(home: string) {
  return (vmName: string, bytes: Uint8Array) => {
    const dir = join(home, 'vms', vmName.replace(/[^A-Za-z0-9._-]/g, '_'));
    mkdirSync(dir, { recursive: true });
    appendFileSync(join(dir, 'serial.log'), bytes);
  };
}

export async function shellCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (typeof args === 'string') { process.stderr.write(`${args}\n${USAGE}`); return 64; }
  if (args.help) { process.stdout.write(USAGE); return 0; }
  const home = resolve(resolveHome(args.home));
  let svc: Service;
  try {
    svc = openService({ home, serialOut: serialLogger(home) });
  } catch (e) {
    if (e instanceof InventoryError) { process.stderr.write(`nestvisor: ${e.message}\n`); return 1; }
    throw e;
  }
  try {
    if (args.file !== undefined) {
      const path = resolve(args.file);
      if (!existsSync(path)) {
        process.stderr.write(`The argument '${args.file}' is not recognized as the name of a script file. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.\n`);
        return 64;
      }
      const session = createSession(svc.controller, new ConsoleHost());
      session.setVar('args', args.fileArgs);
      const r = await session.run(readFileSync(path, 'utf8'), path);
      return r.exitCode ?? (r.terminated ? 1 : 0);
    }
    if (args.command !== undefined) {
      const session = createSession(svc.controller, new ConsoleHost());
      const r = await session.run(args.command);
      return r.exitCode ?? (r.terminated || !session.lastSuccess ? 1 : 0);
    }
    return await repl(svc, home);
  } finally {
    await svc.close();
  }
}

/** Completes cmdlet names at the start of a command, parameter names after a dash. */
export function completer(session: Session, line: string): [string[], string] {
  const segment = line.split(/[|;]/).pop() ?? '';
  const words = segment.trimStart().split(/\s+/);
  const last = words[words.length - 1] ?? '';
  if (words.length <= 1) {
    const hits = session.registry.all().map((d) => d.name).filter((n) => n.toLowerCase().startsWith(last.toLowerCase()));
    return [hits, last];
  }
  if (/^[-\u2013]/.test(last)) {
    const def = session.registry.find(words[0]);
    if (!def) return [[], last];
    const names = [...def.params, ...COMMON_PARAMS, ...(def.shouldProcess ? SHOULD_PROCESS_PARAMS : [])].map((p) => `-${p.name}`);
    return [names.filter((n) => n.toLowerCase().startsWith('-' + last.slice(1).toLowerCase())), last];
  }
  return [[], last];
}

async function repl(svc: Service, home: string): Promise<number> {
  const historyFile = join(home, 'history');
  const history = existsSync(historyFile) ? readFileSync(historyFile, 'utf8').split('\n').filter(Boolean).reverse().slice(0, 500) : [];
  let session: Session | undefined;
  const rl = readline.createInterface({
    input: process.stdin, output: process.stdout, history, historySize: 500, terminal: process.stdin.isTTY,
    completer: (line: string) => completer(session!, line),
  });
  const ask = (q: string) => new Promise<boolean>((res) => rl.question(`${q}\n[Y] Yes  [N] No (default is "Y"): `, (a) => res(!/^n/i.test(a.trim()))));
  session = createSession(svc.controller, new ConsoleHost(process.stdin.isTTY ? ask : undefined));
  process.stdout.write(`Nestvisor shell — Hyper-V cmdlets on an emulated VT-x host. Inventory: ${home}\nType Get-Command to list commands, Get-Help <command> for help, exit to quit.\n`);
  const prompt = () => { rl.setPrompt('PS Nestvisor> '); rl.prompt(); };
  let pending = '';
  let exitCode = 0;
  prompt();
  for await (const line of rl) {
    const text = pending + line;
    // A trailing backtick, pipe or open brace continues on the next line, as in PowerShell.
    if (/[`|{(]\s*$/.test(line) || unbalanced(text)) { pending = text.replace(/`\s*$/, '') + '\n'; rl.setPrompt('>> '); rl.prompt(); continue; }
    pending = '';
    if (text.trim()) {
      try { appendFileSync(historyFile, text.replace(/\n/g, ' ') + '\n'); } catch { /* history is best effort */ }
      const r = await session.run(text);
      if (r.exitCode !== undefined) { exitCode = r.exitCode; break; }
    }
    prompt();
  }
  rl.close();
  return exitCode;
}

function unbalanced(text: string): boolean {
  let depth = 0;
  let quote: string | null = null;
  for (const c of text) {
    if (quote) { if (c === quote) quote = null; continue; }
    if (c === '"' || c === "'") quote = c;
    else if (c === '{' || c === '(') depth++;
    else if (c === '}' || c === ')') depth--;
  }
  return depth > 0 || quote !== null;
}

