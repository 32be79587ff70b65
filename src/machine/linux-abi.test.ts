/**
 * Issue 4's "Why": real glibc userland code as a guest. guests/linux-abi/libc-check.c is
 * built here with `gcc -O2 -static -no-pie` against this machine's glibc (never committed:
 * the binary would carry glibc) and run twice:
 * - natively on this host, and
 * - as the ring-3 process of the guests/linux-abi kernel (built here from source with
 *   make) under PcMachine, the program passed as a Multiboot boot module,
 * and the two stdouts must be equal byte for byte. glibc picks its memcpy/strlen/strchr/
 * memset and libm's exp/log/pow/sin variants through IFUNCs from CPUID and XGETBV: the
 * default profile (AVX2, FMA, BMI2, ERMS) takes the AVX2/FMA ones, `-avx` the SSE2 ones.
 * libm's FMA and SSE2 builds of pow/atan2 round a few results differently, so each guest
 * run is compared with a native run in which glibc sees the same features
 * (GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX,... for `-avx`); the features glibc saw as
 * active are checked from the line the program writes to fd 2 when LIBC_CHECK_FEATURES
 * is in its environment (the guest kernel's command line).
 * guests/linux-abi/cxx-check.cc does the same for static libstdc++ (with g++), and
 * abi-probe.c checks the process state the kernel gives from inside.
 * Skipped, saying why, without gcc/make/ld/objcopy or /usr/lib/x86_64-linux-gnu/libc.a.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PcMachine } from './pc.js';
import { amdProfile, defaultProfile, withoutAvx, type CpuProfile } from '../cpu/profile.js';

const guests = fileURLToPath(new URL('../../../guests/', import.meta.url));
const LIBC_A = '/usr/lib/x86_64-linux-gnu/libc.a';
const cpuinfo = (() => { try { return readFileSync('/proc/cpuinfo', 'utf8'); } catch { return ''; } })();

function skipReason(): string | null {
  if (process.arch !== 'x64' || process.platform !== 'linux') return 'the host is not x86-64 Linux';
  for (const tool of ['gcc', 'make', 'ld', 'objcopy']) {
    if (spawnSync(tool, ['--version']).status !== 0) return `${tool} is not installed (apt-get install gcc binutils make)`;
  }
  if (!existsSync(LIBC_A)) return `${LIBC_A} is missing (apt-get install libc6-dev)`;
  return null;
}

const why = skipReason();

/** The kernel and the static program, built once into a temporary directory. */
let built: { dir: string; kernel: Uint8Array; program: Uint8Array; probe: Uint8Array; exe: string } | null = null;
function build(): NonNullable<typeof built> {
  if (built) return built;
  const dir = mkdtempSync(join(tmpdir(), 'nestvisor-linux-abi-'));
  const mk = spawnSync('make', ['-s', '-C', guests, `OUT=${dir}`, `OBJ=${join(dir, 'obj')}`, join(dir, 'linux-abi.elf')], { encoding: 'utf8' });
  assert.equal(mk.status, 0, `make linux-abi.elf failed:\n${mk.stdout}${mk.stderr}`);
  const exe = join(dir, 'libc-check');
  const cc = spawnSync('gcc', ['-O2', '-static', '-no-pie', '-o', exe, join(guests, 'linux-abi/libc-check.c'), '-lm'], { encoding: 'utf8' });
  assert.equal(cc.status, 0, `gcc -static libc-check.c failed:\n${cc.stderr}`);
  const probe = join(dir, 'abi-probe');
  const cp = spawnSync('gcc', ['-O2', '-static', '-no-pie', '-o', probe, join(guests, 'linux-abi/abi-probe.c')], { encoding: 'utf8' });
  assert.equal(cp.status, 0, `gcc -static abi-probe.c failed:\n${cp.stderr}`);
  built = {
    dir, kernel: new Uint8Array(readFileSync(join(dir, 'linux-abi.elf'))), program: new Uint8Array(readFileSync(exe)),
    probe: new Uint8Array(readFileSync(probe)), exe,
  };
  return built;
}

/** Runs the program natively with `env` as its whole environment; returns its stdout. */
function runNative(env: Record<string, string>): string {
  const r = spawnSync(build().exe, [], { env, maxBuffer: 1 << 24 });
  assert.equal(r.status, 0, `the native program failed: ${r.stderr.toString()}`);
  return r.stdout.toString('latin1');
}

interface GuestRun { stdout: string; features: string; kernel: string[]; exitCode: number | undefined; reason: string }

async function runGuest(profile: CpuProfile, program = build().program, name = 'libc-check'): Promise<GuestRun> {
  const b = build();
  const chunks: Uint8Array[] = [];
  const m = new PcMachine({ memoryBytes: 64 << 20, serialOut: (x) => chunks.push(x), instructionLimit: 2_000_000_000, cpuProfile: profile });
  m.loadKernel(b.kernel, 'LIBC_CHECK_FEATURES=1', 'linux-abi.elf', [{ bytes: program, string: name }]);
  const r = await m.run();
  let out = Buffer.concat(chunks).toString('latin1');
  // The kernel's own messages are whole lines "[linux-abi] ...\n" written between the
  // program's write calls; the features line is the program's one write to fd 2, after
  // its stdout was flushed.
  const kernel: string[] = [];
  out = out.replace(/\[linux-abi\] [^\n]*\n/g, (l) => { kernel.push(l.trimEnd()); return ''; });
  let features = '';
  out = out.replace(/features: [^\n]*\n/, (l) => { features = l.trimEnd(); return ''; });
  return { stdout: out, features, kernel, exitCode: r.exitCode, reason: r.reason };
}

function assertSame(native: string, g: GuestRun): void {
  assert.equal(g.reason, 'debug-exit', `${g.kernel.join('\n')}\n${g.stdout.slice(-1500)}`);
  assert.equal(g.exitCode, 1, `the program exited with status 0 (process status 1); kernel said:\n${g.kernel.join('\n')}`);
  assert.ok(native.startsWith('libc-check: begin') && native.endsWith('libc-check: end\n'), 'the native output is complete');
  assert.ok(native.split('\n').length > 150, 'many lines');
  if (native !== g.stdout) {
    const la = native.split('\n'), lb = g.stdout.split('\n');
    const i = la.findIndex((l, k) => l !== lb[k]);
    assert.fail(`first difference at line ${i + 1}:\nnative: ${la[i]}\nguest:  ${lb[i]}\nkernel messages:\n${g.kernel.join('\n')}`);
  }
  assert.ok(g.kernel.some((l) => /^\[linux-abi\] exit status 0,/.test(l)), 'the kernel saw exit_group(0)');
}

const whyAvx2 = why ?? (!/\bavx2\b/.test(cpuinfo) || !/\bfma\b/.test(cpuinfo) ? 'the host CPU has no AVX2/FMA (its libm would not take the FMA paths the guest takes)' : null);

test('static glibc program: same stdout natively and under linux-abi on the default profile (AVX2/FMA variants)', { skip: whyAvx2 ?? false }, async () => {
  const native = runNative({});
  const g = await runGuest(defaultProfile());
  assertSame(native, g);
  assert.match(g.features, /\bavx=1 avx2=1 fma=1 bmi2=1 erms=1 avx512f=0\b/, 'glibc saw AVX2/FMA usable (CPUID + XGETBV)');
});

test('static glibc program: same stdout natively (glibc hwcaps without AVX) and under linux-abi on the -avx profile (SSE2 variants)', { skip: why ?? false }, async () => {
  const native = runNative({ GLIBC_TUNABLES: 'glibc.cpu.hwcaps=-AVX,-AVX2,-FMA,-AVX512F,-AVX512VL,-AVX512BW,-AVX512DQ' });
  const g = await runGuest(withoutAvx(defaultProfile()));
  assertSame(native, g);
  assert.match(g.features, /\bsse2=1 ssse3=1 sse4_2=1 avx=0 avx2=0 fma=0\b/, 'glibc saw no AVX: SSE2-family variants');
});

// cxx-check.cc: static libstdc++ (sort, to_chars/from_chars, map, exceptions through the
// .eh_frame unwinder, regex, iostream, setjmp/longjmp), on the default profile only: its
// first throw sorts every FDE of the binary (about 14 of its 17 million guest instructions).
function whyCxx(): string | null {
  if (whyAvx2) return whyAvx2;
  if (spawnSync('g++', ['--version']).status !== 0) return 'g++ is not installed';
  const lib = spawnSync('g++', ['-print-file-name=libstdc++.a'], { encoding: 'utf8' }).stdout.trim();
  return lib.startsWith('/') && existsSync(lib) ? null : 'the static libstdc++ (libstdc++.a) is missing';
}
const skipCxx = whyCxx();

test('static libstdc++ program: same stdout natively and under linux-abi (default profile)', { skip: skipCxx ?? false }, async () => {
  const dir = build().dir, exe = join(dir, 'cxx-check');
  const cc = spawnSync('g++', ['-O2', '-static', '-no-pie', '-o', exe, join(guests, 'linux-abi/cxx-check.cc')], { encoding: 'utf8' });
  assert.equal(cc.status, 0, `g++ -static cxx-check.cc failed:\n${cc.stderr}`);
  const native = spawnSync(exe, [], { env: {} });
  assert.equal(native.status, 0, 'the native program failed');
  const g = await runGuest(defaultProfile(), new Uint8Array(readFileSync(exe)), 'cxx-check');
  assert.equal(g.reason, 'debug-exit', `${g.kernel.join('\n')}\n${g.stdout.slice(-1500)}`);
  assert.equal(g.exitCode, 1, g.kernel.join('\n'));
  const a = native.stdout.toString('latin1');
  assert.match(a, /caught \d+\nout_of_range\nregex sum \d+\n/);
  assert.equal(g.stdout, a);
});

// abi-probe.c checks the process state from inside (argv/envp, the auxiliary vector,
// XCR0, vector registers across system calls, -ENOSYS for an unknown call, anonymous
// mmap/mprotect/munmap/MAP_FIXED/MAP_FIXED_NOREPLACE, brk, a 10 MiB malloc), then writes to a page it made
// read-only: the kernel must report that #PF from ring 3 and fail.
for (const [label, profile, xcr0] of [['default', defaultProfile(), '0x7'], ['-avx', withoutAvx(defaultProfile()), '0x3'], ['nestvisor-amd', amdProfile(), '0x7']] as const) {
  test(`abi-probe under linux-abi (${label} profile): every probe passes, then its write to a read-only page is a #PF reported with CR2`, { skip: why ?? false }, async () => {
    const chunks: Uint8Array[] = [];
    const m = new PcMachine({ memoryBytes: 64 << 20, serialOut: (x) => chunks.push(x), instructionLimit: 500_000_000, cpuProfile: profile });
    m.loadKernel(build().kernel, 'FOO=bar', 'linux-abi.elf', [{ bytes: build().probe, string: 'abi-probe one two' }]);
    const r = await m.run();
    const out = Buffer.concat(chunks).toString('latin1');
    assert.equal(r.reason, 'debug-exit', out);
    assert.equal(r.exitCode, 3, 'the fault ends the machine with failure');
    const probes = out.split('\n').filter((l) => l.startsWith('probe: ') && !l.includes('failures'));
    assert.equal(probes.length, 14, out);
    for (const l of probes) assert.match(l, /^probe: \S+ ok/, out);
    assert.match(out, new RegExp(`probe: xcr0 ok xcr0=${xcr0} `));
    assert.match(out, /\[linux-abi\] system call 999 not implemented: -ENOSYS\n/);
    const page = /now writing to the read-only page (0x[0-9a-f]+)/.exec(out);
    assert.ok(page, out);
    assert.match(out, /unexpected exception #PF \(vector 14\), error code 0x7, at rip 0x4[0-9a-f]+, rsp 0x7ffffff[0-9a-f]+\n/,
      'a user-mode write to a present read-only page: P | W | U');
    assert.match(out, new RegExp(`cr2 ${page[1]}\n`));
    assert.doesNotMatch(out, /the write did not fault/);
  });
}

test('linux-abi without a boot module says what it needs and fails', { skip: why ?? false }, async () => {
  const chunks: Uint8Array[] = [];
  const m = new PcMachine({ memoryBytes: 16 << 20, serialOut: (x) => chunks.push(x), instructionLimit: 50_000_000 });
  m.loadKernel(build().kernel, '', 'linux-abi.elf');
  const r = await m.run();
  assert.equal(r.reason, 'debug-exit');
  assert.equal(r.exitCode, 3);
  assert.match(Buffer.concat(chunks).toString('latin1'), /no program: pass a static x86-64 Linux executable as a boot module/);
});

after(() => { if (built) rmSync(built.dir, { recursive: true, force: true }); });
