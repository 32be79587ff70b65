/**
 * SSE, x87 and VEX code with and without the block translator (src/cpu/jit): ns per guest
 * instruction of the loops in src/cpu/jit/fp-programs.ts (vector/float instructions mixed
 * with the integer code around them) and of four-instruction VEX FP loops (bench/avx-fma.ts's
 * VADDPD and VFMADD231PD on ymm). Since the translator calls these instructions' handlers
 * from inside a block, the integer code around them stays compiled and the run loop's
 * per-instruction work (fetch window, decode-cache lookup, prefix reload, checks) is gone.
 *
 *   node dist/bench/fp-loops.js [LOOPS]      (default 200000; `npm run bench` runs it)
 *
 * Figures are CPU time of the process (process.cpuUsage) per retired instruction, best of
 * three runs, so that they hold on the shared machine. Prints figures; asserts nothing.
 */
import { hex, CODE, type TestCpu } from '../src/cpu/testing.js';
import { makeAvxCpu, setYmm, f64Hex } from '../src/cpu/avx/avx-testing.js';
import { SSE_LOOP, X87_LOOP, AVX_LOOP, MIXED_LOOP32, COPY_LOOP, AVX_COPY_LOOP } from '../src/cpu/jit/fp-programs.js';

const DATA = 0x30000;

/** CPU ns per instruction of `code` run `loops` times (ECX), best of three. */
function measure(code: number[], mode: 'long64' | 'prot32', jit: boolean, loops: number, init?: (t: TestCpu) => void): { ns: number; insns: number } {
  let best = Infinity, insns = 0;
  for (let rep = 0; rep < 3; rep++) {
    const t = makeAvxCpu(mode, { avx2: true, fma: true, bmi: true });
    t.cpu.jit = jit;
    t.mem.load(CODE, Uint8Array.from(code));
    // ordinary finite operands: 1.0 .. 2.0 as doubles everywhere in the data area
    for (let i = 0; i < 128; i++) { t.mem.write32(DATA + i * 8, 0); t.mem.write32(DATA + i * 8 + 4, 0x3ff00000 + i * 0x1000); }
    for (let k = 0; k < 16; k++) setYmm(t, k, f64Hex(1.5, 2.25, -3.125, 4));
    t.cpu.r[5 * 2] = DATA;
    t.cpu.r[1 * 2] = loops;
    if (init) init(t);
    t.cpu.rip = CODE; t.cpu.halted = false;
    const n0 = t.cpu.instructionCount;
    const c0 = process.cpuUsage();
    t.cpu.run(loops * 64);
    const cu = process.cpuUsage(c0);
    insns = t.cpu.instructionCount - n0;
    if (t.exceptions.length !== 0) throw new Error(`fault ${JSON.stringify(t.exceptions)}`);
    best = Math.min(best, ((cu.user + cu.system) * 1000) / insns);
  }
  return { ns: best, insns };
}

/** Four copies of a VEX FP instruction on ymm0..3 (dst) with ymm4, ymm5 sources, then SUB/JNZ (bench/avx-fma.ts's loop). */
function vexQuad(insn: string): number[] {
  const body = [0, 1, 2, 3].map((d) => insn.replace('D', (0xc0 | (d << 3) | 5).toString(16))).join(' ');
  const code = hex(`${body} 48 83 e9 01 75 00 f4`);
  code[code.length - 2] = (-(code.length - 1)) & 0xff;
  return code;
}

export function benchFpLoops(loops = 200000): void {
  console.log('SSE/x87/VEX in translated blocks (CPU ns per guest instruction, best of 3):');
  const rows: Array<[string, number[], 'long64' | 'prot32']> = [
    ['SSE loop (24 insns: SSE2-4.2 + integer)', SSE_LOOP, 'long64'],
    ['x87 loop (21 insns + FNINIT)', X87_LOOP, 'long64'],
    ['AVX loop (20 insns: AVX2/FMA/BMI + integer)', AVX_LOOP, 'long64'],
    ['32-bit VEX/SSE/x87 loop (13 insns)', MIXED_LOOP32, 'prot32'],
    ['SSE2 copy/xor/compare loop (8 insns, native)', COPY_LOOP, 'long64'],
    ['AVX copy loop (7 insns: VMOVDQU ymm native)', AVX_COPY_LOOP, 'long64'],
    // c5 dd 58 /r vaddpd ymmD, ymm4, ymm5; c4 e2 dd b8 /r vfmadd231pd ymmD, ymm4, ymm5
    ['vaddpd ymm x4 + sub/jnz', vexQuad('c5 dd 58 D'), 'long64'],
    ['vfmadd231pd ymm x4 + sub/jnz', vexQuad('c4 e2 dd b8 D'), 'long64'],
  ];
  for (const [label, code, mode] of rows) {
    const off = measure(code, mode, false, loops);
    const on = measure(code, mode, true, loops);
    console.log(`  ${label.padEnd(44)} interpreter ${off.ns.toFixed(1).padStart(6)} ns  translator ${on.ns.toFixed(1).padStart(6)} ns  ` +
      `(${(off.ns / on.ns).toFixed(2)}x; ${(1e3 / on.ns).toFixed(1)} MIPS, ${(on.insns / 1e6).toFixed(2)} M insns)`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) benchFpLoops(Number(process.argv[2] ?? '200000'));
