/**
 * SSE, x87 and VEX instructions inside translated blocks (compile.ts handler calls, decode.ts
 * shapes): every test runs the same code on a CPU with the translator and on one without
 * (the interpreter is the reference) and compares all the state an instruction can leave —
 * GPRs, RIP, flags, the retired-instruction count, the exceptions raised and CR2, memory,
 * XMM/YMM, MXCSR, and the x87 stack, tags, FSW/FCW/TOP and last-instruction pointers.
 * Covers faults in the middle of a block (#PF, #GP for alignment, #XM, #MF) and the
 * run-time checks a block must not bake in: #NM at the first FP instruction after the guest
 * sets CR0.TS, #UD after it clears CR4.OSFXSR or takes AVX out of XCR0 (SDM Vol. 3A §2.5,
 * §13.2; Vol. 1 §13.3). Loops run well past the translation threshold (jit.ts HOT).
 * Bytes are quoted with their disassembly (objdump -M intel).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, hex, CODE, type Mode, type TestCpu } from '../testing.js';
import { STOP_HALT } from '../cpu.js';
import { avxProfile } from '../avx/avx-testing.js';
import { SSE_LOOP, X87_LOOP, AVX_LOOP, MIXED_LOOP32, COPY_LOOP, AVX_COPY_LOOP } from './fp-programs.js';
import { CR0_NE, CR4_OSFXSR, CR4_OSXMMEXCPT, CR4_OSXSAVE } from '../regs.js';
import type { CpuProfile } from '../profile.js';

const DATA = 0x30000;

/** A CPU with SSE, AVX/AVX2/FMA/BMI advertised and enabled (CR4.OSFXSR/OSXMMEXCPT/OSXSAVE, XCR0 = 7), CR0.NE set. */
function fpCpu(mode: Mode, jit: boolean): TestCpu {
  const t = makeCpu(mode);
  (t.cpu as unknown as { profile: CpuProfile }).profile = avxProfile(t.cpu.profile, { avx2: true, fma: true, f16c: true, bmi: true });
  t.cpu.cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_OSXSAVE;
  t.cpu.cr0 |= CR0_NE;
  t.cpu.xcr0 = 7;
  t.cpu.jit = jit;
  return t;
}

/** A small deterministic PRNG (tests must be reproducible). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s; };
}

/** The same start state on both CPUs: code at CODE, rbp = DATA, vector registers and memory from a seed. */
function setup(ts: TestCpu[], code: number[], seed: number, regs: Array<[number, number]> = []): void {
  for (const t of ts) {
    const next = rng(seed);
    const c = t.cpu;
    t.mem.load(CODE, Uint8Array.from(code));
    for (let i = 0; i < 64; i++) { c.fpu.xmm[i] = next() | 0; c.fpu.ymmh[i] = next() | 0; }
    const data = new Uint8Array(1024);
    for (let i = 0; i < data.length; i++) data[i] = next() & 0xff;
    t.mem.load(DATA, data);
    c.r[5 * 2] = DATA;
    for (const [n, v] of regs) { c.r[n * 2] = v | 0; c.r[n * 2 + 1] = 0; }
    c.rip = CODE;
    c.halted = false;
  }
}

function hx(v: number): string { return (v >>> 0).toString(16); }

/** Everything the two CPUs must agree on. */
function state(t: TestCpu): string {
  const c = t.cpu, f = c.fpu;
  return [
    `rip=${c.rip.toString(16)} n=${c.instructionCount} flags=${hx(c.getFlags() & 0x8d5)} cr2=${c.cr2.toString(16)} exc=${JSON.stringify(t.exceptions)}`,
    `regs=${Array.from(c.r, hx).join(' ')}`,
    `xmm=${Array.from(f.xmm, hx).join(' ')}`,
    `ymmh=${Array.from(f.ymmh, hx).join(' ')}`,
    `mxcsr=${hx(f.mxcsr)} fcw=${hx(f.fcw)} fsw=${hx(f.getFsw())} ftw=${hx(f.getFtw())} fop=${hx(f.fop)} ` +
      `fip=${hx(f.fipHi)}:${hx(f.fipLo)} fcs=${hx(f.fcs)} fdp=${hx(f.fdpHi)}:${hx(f.fdpLo)} fds=${hx(f.fds)}`,
    `st=${Array.from(f.mant, hx).join(' ')} se=${Array.from(f.se, hx).join(' ')}`,
    `data=${Array.from(t.mem.ram.subarray(DATA, DATA + 1024)).join(',')}`,
  ].join('\n');
}

function translatedBlocks(t: TestCpu): number {
  return t.cpu.dc.blk.filter((x) => x !== null).length;
}

/** Runs both CPUs in slices of `slice` instructions until they halt; asserts equal state after each. */
function runBoth(a: TestCpu, b: TestCpu, slice = 100000, maxSlices = 1000): void {
  for (let i = 0; i < maxSlices; i++) {
    const ra = a.cpu.run(slice), rb = b.cpu.run(slice);
    assert.equal(ra, rb, 'stop reason');
    assert.equal(state(a), state(b));
    if (ra === STOP_HALT) return;
  }
  assert.fail('the code did not reach HLT');
}

function pair(mode: Mode): [TestCpu, TestCpu] { return [fpCpu(mode, true), fpCpu(mode, false)]; }

// ---- loops of each family (fp-programs.ts) ----------------------------------------------------

for (const [name, code, mode] of [
  ['SSE/SSE2/SSSE3/SSE4 (64-bit)', SSE_LOOP, 'long64'],
  ['x87 (64-bit)', X87_LOOP, 'long64'],
  ['AVX/AVX2/FMA/BMI (64-bit)', AVX_LOOP, 'long64'],
  ['VEX, SSE and x87 in 32-bit code', MIXED_LOOP32, 'prot32'],
  ['SSE2 copy/xor/compare (native)', COPY_LOOP, 'long64'],
  ['AVX copy (native VMOVDQU)', AVX_COPY_LOOP, 'long64'],
] as const) {
  test(`a ${name} loop runs in translated blocks with the interpreter's results`, () => {
    const [a, b] = pair(mode);
    setup([a, b], code, 7, [[1, 300]]);
    runBoth(a, b, 997);
    assert.deepEqual(a.exceptions, [], 'no exception');
    assert.ok(translatedBlocks(a) > 0, 'the loop was translated');
    const blk = a.cpu.dc.blk.find((x) => x !== null)!;
    assert.ok(blk.count >= 7, `the FP/vector instructions are inside the block (${blk.count} instructions)`);
  });
}

// ---- random programs mixing integer, SSE, x87 and VEX instructions --------------------------------

/** Encoders for the random programs: ModRM with a register or [rbp + disp8] operand. */
interface Rm { reg?: number; disp?: number }
function modrm(reg: number, rm: Rm): number[] {
  if (rm.reg !== undefined) return [0xc0 | ((reg & 7) << 3) | (rm.reg & 7)];
  return [0x40 | ((reg & 7) << 3) | 5, rm.disp! & 0xff];
}
/** Legacy SSE: mandatory prefix, REX (64-bit mode), 0F [38|3A] op, ModRM, imm8. */
function sse(pfx: number[], op: number[], reg: number, rm: Rm, imm?: number, w = false): number[] {
  const rmReg = rm.reg ?? 5;
  const rex = (w ? 8 : 0) | (reg >= 8 ? 4 : 0) | (rm.reg !== undefined && rmReg >= 8 ? 1 : 0);
  return [...pfx, ...(rex !== 0 ? [0x40 | rex] : []), 0x0f, ...op, ...modrm(reg, rm), ...(imm !== undefined ? [imm & 0xff] : [])];
}
/** VEX (three-byte C4 form): map, W, vvvv, L, pp. */
function vex(map: number, pp: number, l: number, w: number, op: number, reg: number, vvvv: number, rm: Rm, imm?: number): number[] {
  const rmReg = rm.reg ?? 5;
  const b1 = ((reg >= 8 ? 0 : 4) | 2 | (rm.reg !== undefined && rmReg >= 8 ? 0 : 1)) << 5 | map;
  const b2 = (w << 7) | ((~vvvv & 15) << 3) | (l << 2) | pp;
  return [0xc4, b1, b2, op, ...modrm(reg, rm), ...(imm !== undefined ? [imm & 0xff] : [])];
}

function randomFpInsn(next: () => number, long: boolean): number[] {
  const pick = <T>(xs: readonly T[]): T => xs[next() % xs.length]!;
  const nreg = long ? 16 : 8;
  const x = (): number => next() % nreg;
  const g = (): number => pick(long ? [0, 1, 2, 3, 6, 7, 8, 9, 10, 11] : [0, 1, 2, 3, 6, 7]);
  // 16-byte aligned operands for the legacy SSE forms (#GP otherwise), any offset for VEX
  const m16 = (): Rm => ({ disp: (next() % 8) * 16 });
  const mAny = (): Rm => ({ disp: next() % 96 });
  const rmX = (): Rm => (next() & 1) === 0 ? { reg: x() } : m16();
  switch (next() % 24) {
    case 0: return sse(pick([[], [0x66], [0xf3], [0xf2]]), [pick([0x58, 0x59, 0x5c, 0x5d, 0x5f, 0x51, 0x5a])], x(), rmX()); // FP arithmetic
    case 1: return sse([], [pick([0x54, 0x55, 0x56, 0x57, 0x14, 0x15, 0x5b])], x(), rmX()); // logic, unpack, cvtdq2ps
    case 2: return sse([0x66], [pick([0xfe, 0xfb, 0xd5, 0x74, 0x60, 0xdb, 0xf6, 0xf5, 0xe4, 0xd8, 0xeb, 0x6c])], x(), rmX()); // integer
    case 3: return sse([0x66], [0x38, pick([0x00, 0x40, 0x1c, 0x04, 0x3d, 0x29])], x(), rmX()); // SSSE3/SSE4.1
    case 4: return sse([0x66], [0x70], x(), rmX(), next()); // pshufd
    case 5: return sse([], [0xc6], x(), rmX(), next()); // shufps
    case 6: { const [op, sub] = pick([[0x71, 2], [0x71, 4], [0x72, 6], [0x72, 4], [0x73, 2], [0x73, 7]] as const); return sse([0x66], [op], sub, { reg: x() }, next() & 31); } // shifts by imm
    case 7: return sse([], [0xc2], x(), rmX(), next() & 7); // cmpps
    case 8: return sse([0x66], [0x3a, pick([0x0f, 0x08, 0x0c, 0x0e, 0x40])], x(), rmX(), next() & 0xf3); // palignr, roundps, blendps, pblendw, dpps
    case 9: return sse(pick([[], [0x66]]), [pick([0x11, 0x29])], x(), m16()); // movups/movapd store
    case 10: return sse([0x66], [0x7f], x(), m16()); // movdqa store
    case 11: return [...sse(pick([[], [0x66]]), [pick([0x2e, 0x2f])], x(), { reg: x() }), ...pick([[0x0f, 0x92, 0xc0 | g() & 3], [0x83, 0xd3, 0x00], [0x72, 0x02, 0xff, 0xc6]])]; // (u)comis + setb/adc/jb
    case 12: return [...sse([0x66], [0x38, 0x17], x(), { reg: x() }), 0x0f, 0x94, 0xc1]; // ptest; sete cl
    case 13: return (next() & 1) === 0 ? sse([0x66], [0x7e], x(), { reg: g() }) : sse([0x66], [0xd7], g() & 7, { reg: x() }); // movd r32, xmm / pmovmskb r32, xmm
    case 14: return sse([0x66], [0x6e], x(), { reg: g() }, undefined, long && (next() & 1) === 1); // movd/movq xmm, r
    case 15: return sse([0xf2], [0x2c], g() & 7, { reg: x() }); // cvttsd2si r32, xmm
    case 16: return sse([0xf3], [0xb8], g() & 7, { reg: g() & 7 }); // popcnt
    case 17: { // x87: a balanced sequence
      const d = (next() % 12) * 8;
      return pick([
        [0xdd, 0x45, d, 0xd8, 0xc0, 0xdd, 0x5d, (d + 8) & 0xff], // fld qword; fadd st, st; fstp qword
        [0xdb, 0x45, d, 0xdc, 0x4d, (d + 16) & 0xff, 0xdb, 0x5d, (d + 24) & 0xff], // fild; fmul qword; fistp dword
        [0xd9, 0xe8, 0xd9, 0xeb, 0xde, 0xf9, 0xd9, 0x5d, d], // fld1; fldpi; fdivp; fstp dword
        [0xdd, 0x45, d, 0xd9, 0xe8, 0xdf, 0xf1, 0xdd, 0xd8], // fld; fld1; fcomip st, st(1); fstp st0
        [0xdf, 0xe0, 0x01, 0xc1], // fnstsw ax; add ecx, eax
      ]);
    }
    case 18: return vex(1, pick([0, 1]), next() & 1, 0, pick([0x58, 0x59, 0x5c, 0x5e, 0x54, 0x57]), x(), x(), (next() & 1) === 0 ? { reg: x() } : mAny()); // vaddps/pd...
    case 19: return vex(2, 1, next() & 1, next() & 1, pick([0xb8, 0xa8, 0x98, 0xbc]), x(), x(), { reg: x() }); // FMA
    case 20: return vex(1, 1, next() & 1, 0, pick([0xfe, 0xd4, 0xef, 0xdb, 0x74]), x(), x(), (next() & 1) === 0 ? { reg: x() } : mAny()); // vpaddd...
    case 21: return vex(1, pick([0, 1]), next() & 1, 0, 0x11, x(), 0, mAny()); // vmovups/pd store
    case 22: return pick([
      vex(2, 0, 0, next() & 1, 0xf2, g() & 7, g() & 7, { reg: g() & 7 }), // andn
      vex(2, 1, 0, next() & 1, 0xf7, g() & 7, g() & 7, { reg: g() & 7 }), // shlx
      vex(3, 3, 0, 0, 0xf0, g() & 7, 0, { reg: g() & 7 }, next()), // rorx
      vex(3, 1, 1, 1, 0x00, x(), 0, { reg: x() }, next()), // vpermq
      [0xc5, 0xf8, 0x77], // vzeroupper
    ]);
    default: return pick([
      [0x01, 0xc0 | ((g() & 7) << 3) | (g() & 7)], // add r, r
      [0x83, 0xc0 | (g() & 7), next() & 0x7f], // add r, imm8
      [0x39, 0xc0 | ((g() & 7) << 3) | (g() & 7), 0x0f, 0x9c, 0xc0 | (g() & 3)], // cmp; setl
    ]);
  }
}

function randomFpProgram(seed: number, long: boolean): number[] {
  const next = rng(seed);
  const body: number[] = [];
  const n = 6 + (next() % 20);
  for (let i = 0; i < n; i++) body.push(...randomFpInsn(next, long));
  const le32 = (v: number): number[] => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff];
  // the loop counter: r12d (64-bit), a dword at [ebp+0x3fc] (32-bit); fninit first
  if (long) return [0xdb, 0xe3, ...body, 0x41, 0xff, 0xcc, 0x0f, 0x85, ...le32(-(body.length + 3 + 6)), 0xf4];
  return [0xdb, 0xe3, ...body, 0xff, 0x8d, 0xfc, 0x03, 0, 0, 0x0f, 0x85, ...le32(-(body.length + 6 + 6)), 0xf4];
}

for (const mode of ['long64', 'prot32'] as const) {
  test(`random programs mixing integer, SSE, x87 and VEX instructions give the interpreter's results (${mode}, 100 programs x 25 passes)`, () => {
    let translated = 0, handlerInsns = 0;
    for (let seed = 1; seed <= 100; seed++) {
      const [a, b] = pair(mode);
      const code = randomFpProgram(seed * 104729, mode === 'long64');
      setup([a, b], code, seed, [[12, 25], [1, 3], [0, 5]]);
      for (const t of [a, b]) t.mem.write32(DATA + 0x3fc, 25);
      try { runBoth(a, b, 500 + seed * 7); } catch (e) {
        throw new Error(`seed ${seed}: ${(e as Error).message}\ncode: ${code.map((v) => v.toString(16).padStart(2, '0')).join(' ')}`);
      }
      translated += translatedBlocks(a);
      for (const blk of a.cpu.dc.blk) if (blk !== null) handlerInsns += blk.count;
    }
    assert.ok(translated >= 100, `blocks were translated (${translated})`);
    assert.ok(handlerInsns > 1000, `instructions in blocks (${handlerInsns})`);
  });
}

// ---- faults in the middle of a block ----------------------------------------------------------------

test('#PF on an SSE store in the middle of a translated block: earlier instructions retired, RIP at the store', () => {
  const [a, b] = pair('long64');
  const code = hex(`
    0f 58 c1                ; 0x00 addps xmm0, xmm1
    0f 11 03                ; 0x03 movups [rbx], xmm0      (#PF once rbx reaches 1 GiB: not mapped)
    48 81 c3 00 00 01 00    ; 0x06 add rbx, 0x10000
    66 0f fe d0             ; 0x0d paddd xmm2, xmm0
    eb ed                   ; 0x11 jmp 0x00
  `);
  setup([a, b], code, 3, [[3, 0x3ff00000]]);
  runBoth(a, b);
  assert.deepEqual(a.exceptions, [[14, 2]], '#PF, write, not present');
  assert.equal(a.cpu.rip, CODE + 3);
  assert.equal(a.cpu.cr2, 0x40000000);
  assert.equal(a.cpu.instructionCount, 16 * 5 + 1);
  assert.ok(translatedBlocks(a) > 0);
});

test('#GP(0) on a misaligned MOVAPS in the middle of a translated block', () => {
  const [a, b] = pair('long64');
  const code = hex(`
    48 8b 5c cd 00          ; 0x00 mov rbx, [rbp+rcx*8]     (a table of pointers: entry 5 is misaligned)
    0f 58 c1                ; 0x05 addps xmm0, xmm1
    0f 28 13                ; 0x08 movaps xmm2, [rbx]
    0f 59 d0                ; 0x0b mulps xmm2, xmm0
    ff c9                   ; 0x0e dec ecx
    75 ee                   ; 0x10 jne 0x00
    f4                      ; 0x12 hlt
  `);
  setup([a, b], code, 4, [[1, 30]]);
  for (const t of [a, b]) for (let i = 0; i <= 30; i++) { t.mem.write32(DATA + i * 8, DATA + 0x200 + (i === 5 ? 8 : 0)); t.mem.write32(DATA + i * 8 + 4, 0); }
  runBoth(a, b);
  assert.deepEqual(a.exceptions, [[13, 0]]);
  assert.equal(a.cpu.rip, CODE + 8);
  assert.equal(a.cpu.instructionCount, 25 * 6 + 2);
  assert.ok(translatedBlocks(a) > 0);
});

test('#XM from an unmasked SIMD divide-by-zero in the middle of a block leaves MXCSR and the destination as interpreted', () => {
  const [a, b] = pair('long64');
  const code = hex(`
    0f 5c cb                ; 0x00 subps xmm1, xmm3
    ff c0                   ; 0x03 inc eax
    0f 5e c1                ; 0x05 divps xmm0, xmm1     (#XM when a lane of xmm1 reaches 0)
    0f 58 d0                ; 0x08 addps xmm2, xmm0
    eb f3                   ; 0x0b jmp 0x00
  `);
  setup([a, b], code, 5);
  for (const t of [a, b]) {
    const f = t.cpu.fpu.xmmF32;
    for (let i = 0; i < 4; i++) { f[4 + i] = 20 + i; f[12 + i] = 1; f[i] = 1; }
    t.cpu.fpu.mxcsr = 0x1f80 & ~0x200; // ZM clear
  }
  runBoth(a, b);
  assert.deepEqual(a.exceptions, [[19, 0]], '#XM');
  assert.equal(a.cpu.rip, CODE + 5);
  assert.equal(a.cpu.r[0], 20);
  assert.ok(translatedBlocks(a) > 0);
});

test('#MF at the next waiting x87 instruction after an unmasked zero divide, mid-block, with FSW as interpreted', () => {
  const [a, b] = pair('long64');
  const code = hex(`
    d9 e8                   ; 0x00 fld1
    da 74 8d 00             ; 0x02 fidiv dword [rbp+rcx*4]   (entry 5 is 0: ZE pending, unmasked)
    d9 5d 7c                ; 0x06 fstp dword [rbp+0x7c]      (#MF here)
    ff c3                   ; 0x09 inc ebx
    ff c9                   ; 0x0b dec ecx
    75 f1                   ; 0x0d jne 0x00
    f4                      ; 0x0f hlt
  `);
  setup([a, b], code, 6, [[1, 30]]);
  for (const t of [a, b]) {
    for (let i = 0; i <= 30; i++) t.mem.write32(DATA + i * 4, i === 5 ? 0 : 3);
    t.cpu.fpu.initX87();
    t.cpu.fpu.fcw = 0x37f & ~4; // ZM clear
  }
  runBoth(a, b);
  assert.deepEqual(a.exceptions, [[16, 0]], '#MF');
  assert.equal(a.cpu.rip, CODE + 6);
  assert.equal(a.cpu.fpu.getFsw() & 0x84, 0x84, 'ZE and ES set');
  assert.ok(translatedBlocks(a) > 0);
});

// ---- CR0.TS, CR4.OSFXSR and XCR0 are read when the instruction runs, not when it was translated ------

/**
 * A hot loop whose second instruction is an FP/vector instruction; after 20 passes the guest
 * changes a control register with `change` (which ends the block: MOV CR/XSETBV are never
 * translated) and jumps back into the translated loop. `fp` is the instruction's bytes.
 *   b9 14 00 00 00   mov ecx, 20
 * loop (+5):
 *   83 c6 01         add esi, 1
 *   <fp>
 *   ff c2            inc edx
 *   ff c9            dec ecx
 *   75 xx            jne loop
 *   <change>
 *   b9 14 00 00 00   mov ecx, 20
 *   eb xx            jmp loop
 */
function controlChangeLoop(fp: number[], change: number[]): number[] {
  const body = [0x83, 0xc6, 0x01, ...fp, 0xff, 0xc2, 0xff, 0xc9];
  const code = [0xb9, 0x14, 0, 0, 0, ...body, 0x75, (-(body.length + 2)) & 0xff, ...change, 0xb9, 0x14, 0, 0, 0];
  return [...code, 0xeb, (5 - (code.length + 2)) & 0xff];
}

// 0f 20 c0 mov rax, cr0; 83 c8 08 or eax, 8; 0f 22 c0 mov cr0, rax  (sets CR0.TS)
const SET_TS = hex('0f 20 c0 83 c8 08 0f 22 c0');
// 0f 20 e0 mov rax, cr4; 0f ba f0 09 btr eax, 9; 0f 22 e0 mov cr4, rax  (clears CR4.OSFXSR)
const CLEAR_OSFXSR = hex('0f 20 e0 0f ba f0 09 0f 22 e0');
// 31 c9 xor ecx, ecx; b8 03 00 00 00 mov eax, 3; 31 d2 xor edx, edx; 0f 01 d1 xsetbv  (XCR0 = x87 | SSE)
const XCR0_NO_AVX = hex('31 c9 b8 03 00 00 00 31 d2 0f 01 d1');

for (const [name, fp, change, vector] of [
  ['#NM at an SSE instruction after the guest sets CR0.TS', hex('0f 58 c1' /* addps xmm0, xmm1 */), SET_TS, 7],
  ['#NM at an x87 instruction after the guest sets CR0.TS', hex('d8 c1' /* fadd st, st(1) */), SET_TS, 7],
  ['#NM at a VEX instruction after the guest sets CR0.TS', hex('c5 f4 58 c2' /* vaddps ymm0, ymm1, ymm2 */), SET_TS, 7],
  ['#NM at MMX PADDD after the guest sets CR0.TS', hex('0f fe c1' /* paddd mm0, mm1 */), SET_TS, 7],
  ['#UD at an SSE instruction after the guest clears CR4.OSFXSR', hex('0f 58 c1'), CLEAR_OSFXSR, 6],
  ['#UD at a VEX instruction after the guest takes AVX out of XCR0', hex('c5 f4 58 c2'), XCR0_NO_AVX, 6],
  ['#NM at a native VMOVDQU after the guest sets CR0.TS', hex('c5 fe 6f c1' /* vmovdqu ymm0, ymm1 */), SET_TS, 7],
  ['#UD at a native VMOVDQU after the guest takes AVX out of XCR0', hex('c5 fe 6f c1'), XCR0_NO_AVX, 6],
  ['#UD at a native VMOVAPS after the guest clears CR4.OSXSAVE', hex('c5 f8 28 c1' /* vmovaps xmm0, xmm1 */), hex('0f 20 e0 0f ba f0 12 0f 22 e0' /* mov rax, cr4; btr eax, 18; mov cr4, rax */), 6],
] as const) {
  test(`${name}, in the translated loop`, () => {
    const [a, b] = pair('long64');
    setup([a, b], controlChangeLoop([...fp], [...change]), 8);
    for (const t of [a, b]) t.cpu.fpu.initX87();
    runBoth(a, b);
    assert.deepEqual(a.exceptions, [[vector, 0]]);
    assert.equal(a.cpu.rip, CODE + 5 + 3, 'at the FP instruction, the add before it retired');
    assert.equal(a.cpu.r[6 * 2], 21, 'ESI: 20 passes + the add of the faulting pass');
    assert.ok(translatedBlocks(a) > 0);
    const blk = a.cpu.dc.blk.find((x) => x !== null && x.count >= 4);
    assert.ok(blk !== undefined, 'the FP instruction ran inside a translated block');
  });
}

// ---- the natively compiled SSE data instructions (emit-sse.ts) ---------------------------------------

/** The encodings emit-sse.ts compiles: [mandatory prefix, opcode after 0F, is a store]. */
const NATIVE_SSE: ReadonlyArray<readonly [readonly number[], number, boolean]> = [
  [[], 0x10, false], [[0x66], 0x10, false], [[], 0x28, false], [[0x66], 0x28, false], [[0x66], 0x6f, false], [[0xf3], 0x6f, false],
  [[], 0x11, true], [[0x66], 0x11, true], [[], 0x29, true], [[0x66], 0x29, true], [[0x66], 0x7f, true], [[0xf3], 0x7f, true],
  [[], 0x54, false], [[], 0x55, false], [[], 0x56, false], [[], 0x57, false], [[0x66], 0x54, false], [[0x66], 0x57, false],
  ...[0xdb, 0xdf, 0xeb, 0xef, 0xfc, 0xfd, 0xfe, 0xd4, 0xf8, 0xf9, 0xfa, 0xfb, 0x74, 0x75, 0x76].map((op) => [[0x66], op, false] as const),
  [[0x66, 0xf3], 0x6f, false], // F3 wins over 66: MOVDQU
];
/** Lane values where carries, borrows and equal-lane tests go wrong first. */
const EDGE = [0, -1, 0x7f7f7f7f, 0x80808080 | 0, 0x7fff7fff, 0x80008000 | 0, 0x01010101, 0xfefefefe | 0, 0x00ff00ff, 0x7fffffff, 0x80000000 | 0, 1];

test('natively compiled SSE moves, logic and PADD/PSUB/PCMPEQ give the interpreter\'s results on edge-case lanes (64-bit, 60 programs x 25 passes)', () => {
  let native = 0;
  for (let seed = 1; seed <= 60; seed++) {
    const next = rng(seed * 7777);
    const body: number[] = [];
    for (let i = 0; i < 24; i++) {
      const [pfx, op] = NATIVE_SSE[next() % NATIVE_SSE.length]!;
      body.push(...sse([...pfx], [op], next() % 16, (next() & 1) === 0 ? { reg: next() % 16 } : { disp: (next() % 8) * 16 }));
    }
    const le32 = (v: number): number[] => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff];
    const code = [...body, 0x41, 0xff, 0xcc, 0x0f, 0x85, ...le32(-(body.length + 9)), 0xf4]; // dec r12d; jnz; hlt
    const [a, b] = pair('long64');
    setup([a, b], code, seed, [[12, 25]]);
    for (const t of [a, b]) {
      const v = rng(seed);
      for (let i = 0; i < 64; i++) t.cpu.fpu.xmm[i] = (v() & 3) === 0 ? t.cpu.fpu.xmm[(v() % 16) * 4 + (i & 3)]! : EDGE[v() % EDGE.length]!;
      for (let i = 0; i < 64; i++) t.mem.write32(DATA + i * 4, EDGE[v() % EDGE.length]!);
    }
    try { runBoth(a, b, 300 + seed); } catch (e) {
      throw new Error(`seed ${seed}: ${(e as Error).message}\ncode: ${code.map((v) => v.toString(16).padStart(2, '0')).join(' ')}`);
    }
    assert.deepEqual(a.exceptions, []);
    native += translatedBlocks(a);
  }
  assert.ok(native >= 60, `blocks translated (${native})`);
});

test('a natively compiled MOVDQU store across into a not-present page is #PF and writes nothing', () => {
  const [a, b] = pair('long64');
  const code = hex(`
    66 0f fe c1             ; 0x00 paddd xmm0, xmm1
    f3 0f 7f 03             ; 0x04 movdqu [rbx], xmm0    (rbx = 0x3ffff8 on the 20th pass: crosses into 0x400000)
    f3 0f 6f 53 10          ; 0x08 movdqu xmm2, [rbx+0x10]
    48 81 c3 00 10 00 00    ; 0x0d add rbx, 0x1000
    eb ea                   ; 0x14 jmp 0x00
  `);
  setup([a, b], code, 9, [[3, 0x3ffff8 - 19 * 0x1000]]);
  for (const t of [a, b]) {
    t.mem.write32(0x200000 + 0x2000 + 2 * 8, 0); // PD[2]: 0x400000-0x5fffff not present
    t.cpu.flushTlb();
    for (let i = 0; i < 8; i++) t.mem.write8(0x3ffff8 + i, 0xa5);
  }
  runBoth(a, b);
  assert.deepEqual(a.exceptions, [[14, 2]]);
  assert.ok(a.cpu.cr2 >= 0x400000 && a.cpu.cr2 < 0x400010, 'CR2 in the not-present page (the value itself is the interpreter\'s: state() compares it)');
  assert.equal(a.cpu.rip, CODE + 4);
  assert.equal(a.cpu.instructionCount, 19 * 5 + 1);
  for (let i = 0; i < 8; i++) assert.equal(a.mem.ram[0x3ffff8 + i], 0xa5, 'the first half was not written');
  assert.ok(translatedBlocks(a) > 0);
});

test('natively compiled MOVDQA: a misaligned store is #GP(0) mid-block; #NM and #UD are checked when the block runs', () => {
  const code = hex(`
    48 8b 5c cd 00          ; 0x00 mov rbx, [rbp+rcx*8]   (entry 5 misaligned)
    66 0f ef c1             ; 0x05 pxor xmm0, xmm1
    66 0f 7f 03             ; 0x09 movdqa [rbx], xmm0
    ff c9                   ; 0x0d dec ecx
    75 ef                   ; 0x0f jne 0x00
    f4                      ; 0x11 hlt
  `);
  const [a, b] = pair('long64');
  setup([a, b], code, 10, [[1, 30]]);
  for (const t of [a, b]) for (let i = 0; i <= 30; i++) { t.mem.write32(DATA + i * 8, DATA + 0x200 + (i === 5 ? 4 : 0)); t.mem.write32(DATA + i * 8 + 4, 0); }
  runBoth(a, b);
  assert.deepEqual(a.exceptions, [[13, 0]]);
  assert.equal(a.cpu.rip, CODE + 9);
  assert.equal(a.cpu.instructionCount, 25 * 5 + 2);
  // the same translated block, rerun with CR0.TS set, then with CR4.OSFXSR clear, then without SSE2 in CPUID
  for (const [change, vector] of [
    [(t: TestCpu): void => { t.cpu.cr0 |= 8; }, 7],
    [(t: TestCpu): void => { t.cpu.cr4 &= ~CR4_OSFXSR; }, 6],
    [(t: TestCpu): void => { (t.cpu as unknown as { profile: CpuProfile }).profile = { ...t.cpu.profile, leaf1Edx: t.cpu.profile.leaf1Edx & ~(1 << 26) }; }, 6],
  ] as const) {
    for (const t of [a, b]) {
      t.exceptions.length = 0;
      t.cpu.fpu.xmm.fill(0);
      setup([t], code, 10, [[1, 30]]);
      for (let i = 0; i <= 30; i++) { t.mem.write32(DATA + i * 8, DATA + 0x200); t.mem.write32(DATA + i * 8 + 4, 0); }
      t.cpu.run(1000);
      t.exceptions.length = 0;
      t.cpu.halted = false; t.cpu.rip = CODE; t.cpu.r[2] = 30;
      change(t);
    }
    runBoth(a, b);
    assert.deepEqual(a.exceptions, [[vector, 0]]);
    assert.equal(a.cpu.rip, CODE + 5, 'at PXOR, the first SSE instruction of the block');
    for (const t of [a, b]) { t.cpu.cr0 &= ~8; t.cpu.cr4 |= CR4_OSFXSR; (t.cpu as unknown as { profile: CpuProfile }).profile = avxProfile(makeCpu('long64').cpu.profile, { avx2: true, fma: true, f16c: true, bmi: true }); }
  }
});

test('a natively compiled SSE instruction after a LOCK-prefixed one in the same block is not #UD (the prefix state is reloaded)', () => {
  const [a, b] = pair('long64');
  const code = hex(`
    f0 01 45 40             ; 0x00 lock add [rbp+0x40], eax
    66 0f ef c1             ; 0x04 pxor xmm0, xmm1
    f0 0f c1 4d 44          ; 0x08 lock xadd [rbp+0x44], ecx
    f3 0f 7f 45 00          ; 0x0d movdqu [rbp], xmm0
    ff ca                   ; 0x12 dec edx
    75 ea                   ; 0x14 jne 0x00
    f4                      ; 0x16 hlt
  `);
  setup([a, b], code, 11, [[2, 40], [0, 3], [1, 5]]);
  runBoth(a, b);
  assert.deepEqual(a.exceptions, []);
  assert.ok(translatedBlocks(a) > 0);
});

// ---- the natively compiled VEX moves (emit-sse.ts emitVexMove) ---------------------------------------

for (const mode of ['long64', 'prot32'] as const) {
  test(`natively compiled VMOVUPS/UPD/APS/APD/DQA/DQU (xmm and ymm; loads, stores, register copies) give the interpreter's results (${mode}, 60 programs x 25 passes)`, () => {
    const long = mode === 'long64';
    for (let seed = 1; seed <= 60; seed++) {
      const next = rng(seed * 31337);
      const body: number[] = [];
      // eight registers in both modes (in 64-bit mode four of them need VEX.R/B), so that the
      // same register is often written by a ymm and then by an xmm form (bits 255:128 zeroed)
      const regs = long ? [0, 1, 2, 3, 8, 9, 10, 11] : [0, 1, 2, 3, 4, 5, 6, 7];
      const xr = (): number => regs[next() % 8]!;
      for (let i = 0; i < 20; i++) {
        const [op, pp] = [[0x10, 0], [0x10, 1], [0x28, 0], [0x28, 1], [0x6f, 1], [0x6f, 2], [0x11, 0], [0x11, 1], [0x29, 0], [0x29, 1], [0x7f, 1], [0x7f, 2]][next() % 12]!;
        const aligned = op === 0x28 || op === 0x29 || (pp === 1 && (op === 0x6f || op === 0x7f));
        const rm: Rm = (next() & 1) === 0 ? { reg: xr() } : { disp: aligned ? (next() % 4) * 32 : next() % 100 };
        body.push(...vex(1, pp!, next() & 1, next() & 1, op!, xr(), 0, rm));
        if ((next() & 3) === 0) body.push(...sse([0x66], [0xfe], xr(), { reg: xr() })); // paddd: the upper halves must survive
      }
      const le32 = (v: number): number[] => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff];
      const code = long ? [...body, 0x41, 0xff, 0xcc, 0x0f, 0x85, ...le32(-(body.length + 9)), 0xf4]
        : [...body, 0xff, 0x8d, 0xfc, 0x03, 0, 0, 0x0f, 0x85, ...le32(-(body.length + 12)), 0xf4];
      const [a, b] = pair(mode);
      setup([a, b], code, seed, [[12, 25]]);
      for (const t of [a, b]) t.mem.write32(DATA + 0x3fc, 25);
      try { runBoth(a, b, 400 + seed); } catch (e) {
        throw new Error(`seed ${seed}: ${(e as Error).message}\ncode: ${code.map((v) => v.toString(16).padStart(2, '0')).join(' ')}`);
      }
      assert.deepEqual(a.exceptions, []);
      assert.ok(translatedBlocks(a) > 0);
    }
  });
}

test('native VEX moves: VMOVDQA ymm on a 16- but not 32-byte aligned address is #GP(0), a VMOVDQU ymm store into a not-present page writes nothing, VEX.vvvv != 1111b is #UD', () => {
  {
    const code = hex(`
      48 8b 5c cd 00          ; 0x00 mov rbx, [rbp+rcx*8]     (entry 5: DATA + 0x210, 16- but not 32-byte aligned)
      66 0f fe c1             ; 0x05 paddd xmm0, xmm1
      c5 fd 6f 13             ; 0x09 vmovdqa ymm2, [rbx]
      ff c9                   ; 0x0d dec ecx
      75 ef                   ; 0x0f jne 0x00
      f4                      ; 0x11 hlt
    `);
    const [a, b] = pair('long64');
    setup([a, b], code, 14, [[1, 30]]);
    for (const t of [a, b]) for (let i = 0; i <= 30; i++) { t.mem.write32(DATA + i * 8, DATA + 0x200 + (i === 5 ? 0x10 : 0)); t.mem.write32(DATA + i * 8 + 4, 0); }
    runBoth(a, b);
    assert.deepEqual(a.exceptions, [[13, 0]]);
    assert.equal(a.cpu.rip, CODE + 9);
    assert.equal(a.cpu.instructionCount, 25 * 5 + 2);
  }
  // c5 fe 7f 03: vmovdqu [rbx], ymm0   (crosses into 0x400000 on the 20th pass)
  for (const [insn, start, step, vector] of [
    ['c5 fe 7f 03', 0x3ffff0 - 19 * 0x1000, 0x1000, 14],
  ] as const) {
    const code = hex(`
      66 0f fe c1             ; 0x00 paddd xmm0, xmm1
      ${insn}                 ; 0x04 the VEX move
      48 81 c3 ${(step & 0xff).toString(16)} ${((step >> 8) & 0xff).toString(16)} 00 00   ; 0x08 add rbx, step
      eb ef                   ; 0x0f jmp 0x00
    `);
    const [a, b] = pair('long64');
    setup([a, b], code, 12, [[3, start]]);
    for (const t of [a, b]) {
      t.mem.write32(0x200000 + 0x2000 + 2 * 8, 0); // PD[2]: 0x400000-0x5fffff not present
      t.cpu.flushTlb();
      for (let i = 0; i < 16; i++) t.mem.write8(0x3ffff0 + i, 0x5a);
    }
    runBoth(a, b);
    assert.deepEqual(a.exceptions, [[vector, vector === 14 ? 2 : 0]]);
    assert.equal(a.cpu.rip, CODE + 4);
    assert.equal(a.cpu.instructionCount, 19 * 4 + 1);
    for (let i = 0; i < 16; i++) assert.equal(a.mem.ram[0x3ffff0 + i], 0x5a, 'nothing written');
    assert.ok(translatedBlocks(a) > 0);
  }
  const [a, b] = pair('long64');
  // 0x00 paddd xmm0, xmm1; 0x04 vmovdqu ymm0, ymm1 (c5 fe 6f c1); 0x08 dec ecx; 0x0a jne 0x00; 0x0c hlt
  const code = hex('66 0f fe c1 c5 fe 6f c1 ff c9 75 f4 f4');
  setup([a, b], code, 13, [[1, 40]]);
  for (const t of [a, b]) t.cpu.run(80); // translated with vvvv = 1111b
  for (const t of [a, b]) { t.mem.write8(CODE + 5, 0xf6); t.cpu.halted = false; } // vvvv = 0001b: #UD (the store drops the block)
  runBoth(a, b);
  assert.deepEqual(a.exceptions, [[6, 0]]);
  assert.equal(a.cpu.rip, CODE + 4);
});
