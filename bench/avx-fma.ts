/**
 * What one fused rounding costs (avx/fma-core.ts): ns per guest instruction of a tight
 * loop of four VEX FP instructions on ymm registers + SUB/JNZ, interpreted (the translator
 * is turned off here; bench/fp-loops.ts runs VADDPD/VFMADD231PD both ways), for
 * VADDPD/VMULPD (separately rounded, the SSE lane path) against
 * VFMADD231PS/PD (binary32 by TwoSum, binary64 in 24-bit limbs), on ordinary operands.
 *
 *   node dist/bench/avx-fma.js [LOOPS]      (default 200000)
 *
 * Prints figures; asserts nothing.
 */
import { hex, CODE } from '../src/cpu/testing.js';
import { makeAvxCpu, setYmm, f64Hex, f32Hex } from '../src/cpu/avx/avx-testing.js';

const loops = Number(process.argv[2] ?? '200000');

function run(label: string, insn: string, single: boolean): void {
  const t = makeAvxCpu('long64', { avx2: true, fma: true });
  t.cpu.jit = false;
  // four copies of the instruction on ymm0..3 (dst) with ymm4, ymm5 sources, then the loop
  const body = [0, 1, 2, 3].map((d) => insn.replace('D', (0xc0 | (d << 3) | 5).toString(16))).join(' ');
  const code = hex(`${body} 48 83 e9 01 75 00 f4`);
  code[code.length - 2] = (-(code.length - 1)) & 0xff; // jnz back to the start
  t.mem.load(CODE, Uint8Array.from(code));
  for (let k = 0; k < 4; k++) setYmm(t, k, single ? f32Hex(1, 2, 3, 4, 5, 6, 7, 8) : f64Hex(1.5, 2.25, -3.125, 4));
  setYmm(t, 4, single ? f32Hex(0.999, 1.001, 0.5, 2, 0.75, 1.25, 0.1, 3) : f64Hex(0.999999, 1.000001, 0.7, 1.3));
  setYmm(t, 5, single ? f32Hex(1.1, 0.9, 1.3, 0.7, 1.01, 0.99, 1.7, 0.3) : f64Hex(1.1, 0.9, 1.01, 0.99));
  t.cpu.r[2] = loops; t.cpu.r[3] = 0; // rcx
  t.cpu.rip = CODE; t.cpu.halted = false;
  const n = loops * 6;
  const t0 = process.hrtime.bigint();
  t.cpu.run(n + 10);
  const ns = Number(process.hrtime.bigint() - t0);
  console.log(`${label.padEnd(44)} ${(ns / n).toFixed(1).padStart(8)} ns/insn  (${(n / ns * 1e3).toFixed(2)} M insn/s)${t.exceptions.length ? ' FAULT' : ''}`);
}

// c5 dd 58 /r vaddpd ymmD,ymm4,ymm5; c5 dd 59 vmulpd; c4 e2 dd b8 vfmadd231pd; c4 e2 5d b8 vfmadd231ps
run('vaddpd ymm (4 per loop)', 'c5 dd 58 D', false);
run('vmulpd ymm', 'c5 dd 59 D', false);
run('vfmadd231ps ymm (8 fused binary32)', 'c4 e2 5d b8 D', true);
run('vfmadd231pd ymm (4 fused binary64)', 'c4 e2 dd b8 D', false);
