/**
 * `npm run bench`: guest MIPS of Nestvisor's CPU on a CPU-bound guest of our own
 * (guests/images/sieve.elf), and, when qemu-system-x86_64 is installed, the same kernel
 * with the same arguments under QEMU TCG for a time ratio.
 *
 *   node dist/bench/index.js [ITERATIONS] [LIMIT]     (defaults 20 and 1000000)
 *
 * MIPS = guest instructions retired / wall seconds of PcMachine.run(), and per CPU second
 * of the process (the figure that holds on a loaded machine); the run is repeated with the
 * block translator off (the interpreter alone) for comparison. QEMU does not
 * report an instruction count, so its figure is our count over QEMU's time for the same
 * work. QEMU runs QEMU_SCALE times as many iterations (it is that much faster, and a
 * longer run measures better) and once with 0 iterations (start-up, boot and exit only);
 * (long - empty) / QEMU_SCALE is its time for our work. Benchmarks print figures; no
 * test ever times anything.
 */
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PcMachine } from '../src/machine/pc.js';
import { benchVmx } from './vmx.js';
import { benchNet } from './net.js';
import { benchFpLoops } from './fp-loops.js';

const kernelPath = fileURLToPath(new URL('../../guests/images/sieve.elf', import.meta.url));
const iterations = process.argv[2] ?? '20';
const limit = process.argv[3] ?? '1000000';
const args = `${iterations} ${limit}`;
const QEMU_SCALE = 10;

function fmt(n: number, digits = 1): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/**
 * One sieve run. `jit` turns the block translator (src/cpu/jit) on or off for this run;
 * cpuSeconds is the process's CPU time (user + system) over the run, the figure to compare
 * on a shared, loaded machine.
 */
async function runNestvisor(jit = true): Promise<{ seconds: number; cpuSeconds: number; instructions: number; output: string; ok: boolean }> {
  const out: Uint8Array[] = [];
  const m = new PcMachine({ memoryBytes: 128 * 2 ** 20, serialOut: (b) => out.push(b) });
  for (const c of m.vcpus.cpus) c.jit = jit;
  m.loadKernel(new Uint8Array(readFileSync(kernelPath)), args, kernelPath);
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const r = await m.run();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cu = process.cpuUsage(c0);
  const cpuSeconds = (cu.user + cu.system) / 1e6;
  const output = Buffer.concat(out).toString('utf8');
  const ok = r.reason === 'debug-exit' && r.exitCode === 1;
  if (!ok) process.stderr.write(`nestvisor: ${r.reason} ${r.report ?? ''} ${r.exitCode ?? ''}\n`);
  return { seconds, cpuSeconds, instructions: m.instructionsRetired, output, ok };
}

function qemuAvailable(): boolean {
  return spawnSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' }).status === 0;
}

function runQemu(append: string): { seconds: number; output: string; status: number | null } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('qemu-system-x86_64', [
    '-nodefaults', '-accel', 'tcg', '-m', '128M', '-display', 'none', '-serial', 'stdio',
    '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x4', '-kernel', kernelPath, '-append', append,
  ], { encoding: 'utf8', timeout: 600_000 });
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, output: r.stdout, status: r.status };
}

async function main(): Promise<number> {
  console.log(`sieve.elf ${args} (iterations, limit)`);
  const nv = await runNestvisor(true);
  process.stdout.write(`  guest output: ${nv.output.trim()}\n`);
  const mips = nv.instructions / nv.seconds / 1e6;
  console.log(`Nestvisor: ${fmt(nv.instructions / 1e6)} M instructions in ${fmt(nv.seconds, 2)} s = ${fmt(mips)} MIPS ` +
    `(CPU time ${fmt(nv.cpuSeconds, 2)} s = ${fmt(nv.instructions / nv.cpuSeconds / 1e6)} MIPS)`);
  if (!nv.ok) return 1;
  // the same run with the block translator off: the interpreter alone
  const interp = await runNestvisor(false);
  console.log(`  translator off (interpreter only): ${fmt(interp.seconds, 2)} s = ${fmt(interp.instructions / interp.seconds / 1e6)} MIPS ` +
    `(CPU time ${fmt(interp.cpuSeconds, 2)} s = ${fmt(interp.instructions / interp.cpuSeconds / 1e6)} MIPS)` +
    `${interp.output.trim() === nv.output.trim() ? '' : '; GUEST OUTPUT DIFFERS'}`);
  if (!interp.ok || interp.output.trim() !== nv.output.trim()) return 1;

  if (!qemuAvailable()) {
    console.log('QEMU: qemu-system-x86_64 not found, no ratio (apt-get install qemu-system-x86)');
    return 0;
  }
  const same = runQemu(args);
  const sameOutput = same.output.trim() === nv.output.trim();
  const base = runQemu('0 16');
  const long = runQemu(`${Number(iterations) * QEMU_SCALE} ${limit}`);
  if (same.status !== 1 || long.status !== 1) {
    console.log(`QEMU: unexpected exit status ${String(same.status)}/${String(long.status)}`);
    return 1;
  }
  const work = Math.max((long.seconds - base.seconds) / QEMU_SCALE, 1e-3);
  console.log(`QEMU TCG: ${fmt(work, 3)} s for the same work (×${QEMU_SCALE} run: ${fmt(long.seconds, 2)} s, ` +
    `start-up and boot: ${fmt(base.seconds, 2)} s) ≈ ${fmt(nv.instructions / work / 1e6)} MIPS` +
    `${sameOutput ? '; same guest output' : '; GUEST OUTPUT DIFFERS'}`);
  console.log(`ratio: Nestvisor takes ${fmt(nv.seconds / work, 1)}× QEMU TCG's time for the same guest work`);
  return sameOutput ? 0 : 1;
}

main().then(async (code) => {
  process.exitCode = code;
  // SSE/x87/VEX code with the translator on and off (bench/fp-loops.ts)
  benchFpLoops();
  // nested virtualization: CPUID exit round trip and L2/L1 speed (bench/vmx.ts)
  const vmx = await benchVmx();
  if (code === 0) process.exitCode = vmx;
  // network: VM→VM over a switch and VM→host through NAT, guest TCP (bench/net.ts)
  const net = await benchNet();
  if (process.exitCode === 0) process.exitCode = net;
}, (e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
