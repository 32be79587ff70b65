/**
 * `nestvisor run`: boot one Multiboot kernel the way `qemu-system-x86_64 -kernel` does,
 * with COM1 on stdout and QEMU's isa-debug-exit at 0xf4.
 *
 *   nestvisor run --kernel FILE [--append ARGS] [--initrd FILE[,FILE...]] [--memory SIZE]
 *                 [--smp N] [--expose-virtualization-extensions] [--cpu PROFILE[,-FEATURE|,+FEATURE...]]
 *
 * --initrd loads each FILE as a Multiboot boot module, page-aligned after the kernel, with
 * the entry's text as its module string, as QEMU's -initrd does for a Multiboot kernel: the
 * list is comma-separated (",," is a literal comma) and an entry may carry arguments after
 * the file name ("env.txt a=1" loads env.txt with the string "env.txt a=1").
 * kvm-unit-tests' scripts pass their environment file this way.
 *
 * --cpu picks the CPU profile (src/cpu/profile-select.ts), like QEMU's -cpu: the default is
 * `nestvisor-intel`; `,-NAME` removes a feature (`--cpu nestvisor-intel,-x2apic` is an
 * xAPIC-only CPU: no x2APIC in CPUID, IA32_APIC_BASE.EXTD reserved, x2APIC MSRs #GP),
 * `,+NAME` puts one back. Names: x2apic, tsc-deadline, pcid, invpcid, smep, smap, umip,
 * rdtscp, rdpid, tsc-adjust, fsgsbase, ... (QEMU's spelling).
 *
 * SIZE is bytes, or a number with K, M, G or T (binary units, like QEMU's -m; a trailing
 * "B" or "iB" is accepted). The default is QEMU's: 128M.
 *
 * Exit status (QEMU-compatible where QEMU has one; ours are even, so they never collide
 * with a debug-exit status, which is always odd):
 *   (v << 1) | 1   the guest wrote v to port 0xf4 (kvm-unit-tests: 1 = pass, 3 = fail)
 *   0              the guest halted with nothing left to wake it (QEMU would hang)
 *   2              bad input: unknown option, missing or unreadable file, not a Multiboot
 *                  kernel, too little memory, bad size (one line on stderr)
 *   4              triple fault (QEMU would reset; the report goes to stderr)
 *   130            interrupted (SIGINT/Ctrl-C) or terminated (SIGTERM)
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { MachineConfigError, PcMachine } from '../machine/pc.js';
import { BootError, ModuleTooLargeError } from '../machine/errors.js';
import { CpuSpecError, profileFromSpec } from '../cpu/profile-select.js';
import type { CpuProfile } from '../cpu/profile.js';

export const EXIT_HALT = 0;
export const EXIT_USAGE = 2;
export const EXIT_TRIPLE_FAULT = 4;
export const EXIT_INTERRUPTED = 130;

const DEFAULT_MEMORY = 128 * 1024 * 1024;
const USAGE = 'usage: run --kernel FILE [--append ARGS] [--initrd FILE[,FILE...]] [--memory SIZE] [--smp N] [--expose-virtualization-extensions] [--cpu PROFILE[,-FEATURE]...]';

/** A problem with what the user asked for: printed as one line, exit status 2. */
class UsageError extends Error {}

/** Parses "256M", "1G", "512K", "1073741824", "64MiB". Throws UsageError. */
export function parseSize(text: string): number {
  const m = /^(\d+)\s*([kmgt])?(?:i?b)?$/i.exec(text.trim());
  if (!m) throw new UsageError(`bad memory size '${text}' (use e.g. 256M, 1G, 512K or a number of bytes)`);
  const unit = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[(m[2] ?? '').toLowerCase() as 'k'] ?? 1;
  const bytes = Number(m[1]) * unit;
  if (!Number.isSafeInteger(bytes) || bytes === 0) throw new UsageError(`bad memory size '${text}'`);
  if (bytes % 4096 !== 0) throw new UsageError(`memory size '${text}' is not a multiple of 4 KiB`);
  return bytes;
}

interface RunOptions {
  kernel: string;
  append: string;
  /** --initrd entries: file name and module string. */
  initrd: { path: string; string: string }[];
  memoryBytes: number;
  smp: number;
  exposeVmx: boolean;
  cpu: CpuProfile | undefined;
}

/** Options that take a value: `--append -foo` must mean what QEMU's `-append -foo` means. */
const VALUE_OPTIONS = new Set(['--kernel', '--append', '--initrd', '--memory', '-m', '--smp', '--cpu']);

/**
 * node's parseArgs refuses a value that starts with a dash (`--append "-x"`), which
 * kvm-unit-tests' vmx test lists need; joining each value-taking option with its value
 * (`--append=-x`) keeps every other rule of the parser.
 */
function joinValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (VALUE_OPTIONS.has(a) && i + 1 < argv.length) { out.push(`${a}=${argv[i + 1]!}`); i++; }
    else out.push(a);
  }
  return out;
}

function parse(argv: string[]): RunOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: joinValues(argv),
      strict: true,
      allowPositionals: false,
      options: {
        kernel: { type: 'string' },
        append: { type: 'string' },
        initrd: { type: 'string' },
        memory: { type: 'string', short: 'm' },
        smp: { type: 'string' },
        'expose-virtualization-extensions': { type: 'boolean' },
        cpu: { type: 'string' },
      },
    }));
  } catch (e) {
    // node's messages are long and mention `--` tricks; say the one thing that matters.
    const msg = e instanceof Error ? e.message : String(e);
    const quoted = /'([^']*)'/.exec(msg)?.[1] ?? '?';
    const code = (e as { code?: string }).code;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`unknown option '${quoted}' (${USAGE})`);
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new UsageError(`unexpected argument '${quoted}' (${USAGE})`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      throw new UsageError(`option '${quoted.split(' ')[0]}' ${/missing/.test(msg) ? 'needs a value' : 'takes no value'}`);
    }
    throw new UsageError(msg.split('\n')[0]!);
  }
  if (!values.kernel) throw new UsageError(`--kernel FILE is required (${USAGE})`);
  const cpu = values.cpu === undefined ? undefined : cpuProfile(values.cpu);
  if (values['expose-virtualization-extensions'] && cpu !== undefined && !cpu.hasVmx) {
    throw new UsageError(`CPU profile '${cpu.name}' has no VT-x to expose`);
  }
  const smpText = values.smp ?? '1';
  if (!/^\d+$/.test(smpText) || Number(smpText) < 1) throw new UsageError(`bad CPU count '${smpText}' for --smp`);
  return {
    kernel: values.kernel,
    append: values.append ?? '',
    initrd: values.initrd === undefined ? [] : parseInitrd(values.initrd),
    memoryBytes: values.memory === undefined ? DEFAULT_MEMORY : parseSize(values.memory),
    smp: Number(smpText),
    exposeVmx: values['expose-virtualization-extensions'] ?? false,
    cpu,
  };
}

/**
 * Splits QEMU's -initrd list: entries separated by ',' (',,' stands for a comma in a name),
 * each "FILE [ARGS]"; the whole entry is the module string. Throws UsageError.
 */
export function parseInitrd(text: string): { path: string; string: string }[] {
  const entries: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== ',') { cur += text[i]; continue; }
    if (text[i + 1] === ',') { cur += ','; i++; continue; }
    entries.push(cur); cur = '';
  }
  entries.push(cur);
  return entries.map((e) => {
    const path = e.trim().split(' ')[0]!;
    if (path === '') throw new UsageError(`empty file name in --initrd '${text}'`);
    return { path, string: e.trim() };
  });
}

function cpuProfile(spec: string): CpuProfile {
  try {
    return profileFromSpec(spec);
  } catch (e) {
    if (e instanceof CpuSpecError) throw new UsageError(`--cpu: ${e.message}`);
    throw e;
  }
}

function readKernel(path: string, what = 'kernel file'): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT') throw new UsageError(`${what} '${path}' does not exist`);
    if (code === 'EISDIR') throw new UsageError(`${what} '${path}' is a directory`);
    if (code === 'EACCES') throw new UsageError(`${what} '${path}' cannot be read (permission denied)`);
    throw new UsageError(`${what} '${path}' cannot be read (${code ?? 'error'})`);
  }
}

/** `nestvisor run --help`: the usage and the exit statuses, on stdout, status 0. */
const HELP = `${USAGE.replace(/^usage: /, 'usage: nestvisor ')}

Boots one Multiboot kernel like qemu-system-x86_64 -kernel: COM1 on stdout, QEMU's
isa-debug-exit at port 0xf4, fw_cfg, pc-testdev. Memory defaults to 128M.

  --kernel FILE     Multiboot 1 kernel (ELF32, ELF64 or a.out kludge)
  --append ARGS     kernel command line
  --initrd F[,F]    Multiboot modules (QEMU's -initrd)
  --memory SIZE     RAM, e.g. 256M, 1G (at most 4G)
  --smp N           virtual CPUs
  --expose-virtualization-extensions
                    the CPU reports and implements VT-x with EPT
  --cpu PROFILE     nestvisor-intel (default) or nestvisor-amd, with ,-feature / ,+feature

Exit status: (v << 1) | 1 when the guest writes v to port 0xf4; 0 guest halted for good;
2 bad input; 4 triple fault; 130 interrupted.
`;

export async function runCommand(argv: string[]): Promise<number> {
  if (argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h')) { process.stdout.write(HELP); return 0; }
  let machine: PcMachine;
  let kernelPath = '';
  try {
    const o = parse(argv);
    kernelPath = o.kernel;
    const image = readKernel(o.kernel);
    const modules = o.initrd.map((m) => ({ bytes: readKernel(m.path, 'initrd file'), string: m.string }));
    machine = new PcMachine({
      memoryBytes: o.memoryBytes,
      cpuCount: o.smp,
      exposeVirtualizationExtensions: o.exposeVmx,
      cpuProfile: o.cpu,
      serialOut: (bytes) => { process.stdout.write(bytes); },
    });
    machine.loadKernel(image, o.append, o.kernel, modules);
  } catch (e) {
    if (e instanceof UsageError || e instanceof BootError) {
      // Image problems name the file; machine and usage problems do not need to.
      const aboutImage = e instanceof BootError && !(e instanceof MachineConfigError) && !(e instanceof ModuleTooLargeError);
      const file = aboutImage ? `${basename(kernelPath)}: ` : '';
      process.stderr.write(`nestvisor run: ${file}${e.message}\n`);
      return EXIT_USAGE;
    }
    throw e;
  }

  const onSignal = (): void => machine.stop();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const r = await machine.run();
    switch (r.reason) {
      case 'debug-exit':
        return (r.exitCode ?? 1) & 0xff; // a process status is 8 bits, as QEMU's exit() gives
      case 'halt':
        process.stderr.write(`nestvisor run: ${r.report ?? 'the guest halted'}\n`);
        return EXIT_HALT;
      case 'triple-fault':
        process.stderr.write(`nestvisor run: ${r.report ?? 'triple fault'}\n`);
        return EXIT_TRIPLE_FAULT;
      case 'stopped':
        process.stderr.write('nestvisor run: stopped\n');
        return EXIT_INTERRUPTED;
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
