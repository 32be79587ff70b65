/**
 * Nested virtualization costs (issue 5), on guests/images/vmxbench.elf — minivisor built
 * with -DVMXBENCH (guests/minivisor/l2bench.S), our own L1 hypervisor with EPT:
 *   - the L2→L1→L2 round trip of a CPUID exit (VM exit, L1's handler with its VMREADs and
 *     VMWRITEs, VMRESUME) in host nanoseconds: (time of K CPUIDs − time of 0) / K;
 *   - the ratio of L2 to L1 speed on the same CPU-bound loop (bench_loop, the same bytes
 *     in both): L1 runs it directly (mode 2), L2 runs it under EPT (mode 0); each time is
 *     taken minus the same run with a count of 0 (boot, VMXON, VMCS and EPT set-up).
 * Times are wall seconds of PcMachine.run(); the best of REPEAT runs is kept.
 *
 *   node dist/bench/vmx.js [LOOP_COUNT] [CPUID_COUNT]    (defaults 2000000 and 20000)
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PcMachine } from '../src/machine/pc.js';

const kernelPath = fileURLToPath(new URL('../../guests/images/vmxbench.elf', import.meta.url));
const REPEAT = 3;

interface Run { seconds: number; instructions: number }

async function once(mode: number, count: number): Promise<Run> {
  const out: Uint8Array[] = [];
  const m = new PcMachine({ memoryBytes: 64 * 2 ** 20, serialOut: (b) => out.push(b), exposeVirtualizationExtensions: true });
  m.loadKernel(new Uint8Array(readFileSync(kernelPath)), `${mode} ${count}`, kernelPath);
  const t0 = process.hrtime.bigint();
  const r = await m.run();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.reason !== 'debug-exit' || r.exitCode !== 1) {
    throw new Error(`vmxbench ${mode} ${count}: ${r.reason} ${r.report ?? ''} ${String(r.exitCode)}\n${Buffer.concat(out).toString('latin1')}`);
  }
  return { seconds, instructions: m.instructionsRetired };
}

async function best(mode: number, count: number): Promise<Run> {
  let b: Run | null = null;
  for (let i = 0; i < REPEAT; i++) {
    const r = await once(mode, count);
    if (b === null || r.seconds < b.seconds) b = r;
  }
  return b!;
}

function fmt(n: number, digits = 1): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export async function benchVmx(loopCount = 2_000_000, cpuidCount = 20_000): Promise<number> {
  console.log(`vmxbench.elf (minivisor with EPT): loop ${loopCount} rounds, ${cpuidCount} CPUID exits`);
  const l2Base = await best(0, 0);
  const cpuid = await best(1, cpuidCount);
  const rt = (cpuid.seconds - l2Base.seconds) / cpuidCount;
  const l1Insns = (cpuid.instructions - l2Base.instructions) / cpuidCount;
  console.log(`L2→L1→L2 CPUID round trip: ${fmt(rt * 1e9, 0)} ns host time ` +
    `(${fmt(l1Insns, 0)} guest instructions retired per round trip, L1 handler included)`);
  const l1Base = await best(2, 0);
  const l1 = await best(2, loopCount);
  const l2 = await best(0, loopCount);
  const l1s = l1.seconds - l1Base.seconds, l2s = l2.seconds - l2Base.seconds;
  console.log(`same loop: L1 ${fmt(l1s, 3)} s, L2 ${fmt(l2s, 3)} s → L2 runs at ${fmt(l1s / l2s, 2)}× L1 speed`);
  return 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  benchVmx(Number(process.argv[2] ?? 2_000_000), Number(process.argv[3] ?? 20_000)).then(
    (c) => { process.exitCode = c; },
    (e: unknown) => { process.stderr.write(`bench vmx: ${e instanceof Error ? e.message : String(e)}\n`); process.exitCode = 1; },
  );
}
