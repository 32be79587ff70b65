// Decoder fuzzing (issue 2/5): a guest that executes garbage gets architectural exceptions,
// the host never throws. Random and structured byte strings run as the first instructions
// in every mode (harness.ts); fixed seeds keep CI reproducible. Properties checked per case:
//  - no JS exception escapes Cpu.run() and run() returns a STOP_* reason;
//  - every event handed to delivery has a valid vector, an error code exactly when the
//    SDM says the vector pushes one (Vol. 3A §6.15, Table 6-1) and an error code in range;
//  - no NaN/undefined/non-integer leaks into the CPU's numeric state; RIP is canonical in
//    64-bit mode (Vol. 3A §3.3.7.1) and 32-bit outside it;
//  - no instruction fetches a 16th byte: an instruction longer than 15 bytes is #GP(0)
//    (Vol. 2 §2.3.11), so the non-present page right after 15 bytes must never fault as a fetch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FuzzCpu, FUZZ_MODES, CODE_AT, CODE_MID, GUARD, DATA, type FuzzMode } from './harness.js';
import type { Cpu } from '../cpu.js';
import { DC_MASK } from '../decode-cache.js';
import { buildTable, undefinedOpcode } from '../ops/table.js';

/** Cases with a translated block among their instructions (jit runs). */
let translated = 0;

/** Vectors that push an error code (SDM Vol. 3A Table 6-1): #DF #TS #NP #SS #GP #PF #AC #CP. */
const ERR_VECTORS = new Set([8, 10, 11, 12, 13, 14, 17, 21]);
/** Exceptions the decoder and instructions may raise (1 and 3/4 traps included; 9, 15, 22-31 never). */
const HW_VECTORS = new Set([0, 1, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 16, 17, 18, 19, 21]);
const PF_FETCH = 0x10; // #PF error code I/D (SDM Vol. 3A §4.7), set with EFER.NXE
/**
 * Where the first instruction reruns mid-page: CODE_AT's offset modulo 64 kept, so that a
 * RIP-relative operand has the same alignment in both places (66 40 0f 38 00 05 66 00 00 00,
 * pshufb xmm0, [rip+0x66], is #GP(0) at the page end for its misaligned m128 and aligned
 * at CODE_MID itself: SDM Vol. 2A §2.5 exception type 4). 64 covers every alignment check (XSAVE's).
 */
const MID = CODE_MID + (CODE_AT & 63);

/** Register values worth having: pointers into mapped data, edges, anything. */
const regVal = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: DATA, max: DATA + 0xfff }) },
  { weight: 2, arbitrary: fc.constantFrom(0, 1, -1, 0x7fffffff, -0x80000000, 0xffff, 0x80) },
  { weight: 1, arbitrary: fc.integer({ min: -0x80000000, max: 0x7fffffff }) },
);
const regsArb = fc.tuple(fc.array(regVal, { minLength: 16, maxLength: 16 }), fc.array(fc.constantFrom(0, 0, 0, -1, 1), { minLength: 16, maxLength: 16 }), fc.nat(0xfff))
  .map(([lo, hi, flags]) => {
    const r = new Int32Array(32);
    for (let i = 0; i < 16; i++) { r[2 * i] = lo[i]!; r[2 * i + 1] = hi[i]!; }
    return { r, flags };
  });

const PREFIXES = [0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65];
/**
 * Structured instructions: legacy prefixes in any order and count, REX, an opcode map
 * (one-byte, 0F, 0F 38, 0F 3A, or VEX2/VEX3/EVEX-looking C5/C4/62 escapes), opcode, ModRM,
 * SIB and displacement as ModRM asks for them, an immediate, then random bytes to 15.
 */
const structured = fc.record({
  pfx: fc.oneof({ weight: 5, arbitrary: fc.array(fc.constantFrom(...PREFIXES), { maxLength: 3 }) },
    { weight: 1, arbitrary: fc.array(fc.constantFrom(...PREFIXES), { minLength: 4, maxLength: 15 }) }),
  rex: fc.option(fc.integer({ min: 0x40, max: 0x4f })),
  map: fc.constantFrom('1', '1', '0f', '0f', '0f38', '0f3a', 'vex2', 'vex3', 'evex'),
  esc: fc.uint8Array({ minLength: 3, maxLength: 3 }),
  op: fc.nat(255),
  modrm: fc.nat(255),
  sib: fc.nat(255),
  disp: fc.uint8Array({ minLength: 4, maxLength: 4 }),
  immLen: fc.constantFrom(0, 1, 2, 4, 8),
  tail: fc.uint8Array({ minLength: 15, maxLength: 15 }),
}).map((s) => {
  const b: number[] = [...s.pfx];
  if (s.rex !== null) b.push(s.rex);
  switch (s.map) {
    case '0f': b.push(0x0f); break;
    case '0f38': b.push(0x0f, 0x38); break;
    case '0f3a': b.push(0x0f, 0x3a); break;
    case 'vex2': b.push(0xc5, s.esc[0]!); break;
    case 'vex3': b.push(0xc4, s.esc[0]!, s.esc[1]!); break;
    case 'evex': b.push(0x62, s.esc[0]!, s.esc[1]!, s.esc[2]!); break;
  }
  b.push(s.op, s.modrm);
  const mod = s.modrm >> 6, rm = s.modrm & 7;
  if (mod !== 3 && rm === 4) b.push(s.sib);
  const dl = mod === 1 ? 1 : mod === 2 || (mod === 0 && (rm === 5 || (rm === 4 && (s.sib & 7) === 5))) ? 4 : 0;
  for (let i = 0; i < dl; i++) b.push(s.disp[i]!);
  for (let i = 0; i < s.immLen; i++) b.push(s.tail[i]!);
  b.push(...s.tail);
  return Uint8Array.from(b.slice(0, 15));
});
const randomBytes = fc.uint8Array({ minLength: 15, maxLength: 15 });

/** Opcodes with a handler in the VEX maps (table 0x400-0x6ff), as [map, opcode]. */
const VEX_OPS: Array<[number, number]> = [];
{
  const t = buildTable();
  for (let i = 0x400; i < 0x700; i++) if (t[i] !== undefinedOpcode) VEX_OPS.push([(i >> 8) - 3, i & 0xff]);
}
/**
 * VEX instructions (avx machines): an optional prefix, C5 or C4 with random R̄X̄B̄/W/vvvv/L/pp,
 * map_select mostly 1-3, an installed opcode most of the time, then ModRM, SIB,
 * displacement and random bytes as `structured` builds them.
 */
const vexStructured = fc.record({
  pfx: fc.option(fc.constantFrom(...PREFIXES, 0x40, 0x48), { freq: 6 }),
  three: fc.boolean(),
  b1: fc.nat(255), b2: fc.nat(255),
  mapSel: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(1, 2, 3) }, { weight: 1, arbitrary: fc.nat(31) }),
  known: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...VEX_OPS) }, { weight: 1, arbitrary: fc.constant(null) }),
  op: fc.nat(255),
  modrm: fc.nat(255),
  sib: fc.nat(255),
  disp: fc.uint8Array({ minLength: 4, maxLength: 4 }),
  tail: fc.uint8Array({ minLength: 15, maxLength: 15 }),
}).map((s) => {
  const b: number[] = s.pfx === null ? [] : [s.pfx];
  const map = s.known !== null ? s.known[0] : s.mapSel, op = s.known !== null ? s.known[1] : s.op;
  if (s.three || map !== 1) b.push(0xc4, (s.b1 & 0xe0) | map, s.b2);
  else b.push(0xc5, s.b1);
  b.push(op, s.modrm);
  const mod = s.modrm >> 6, rm = s.modrm & 7;
  if (mod !== 3 && rm === 4) b.push(s.sib);
  const dl = mod === 1 ? 1 : mod === 2 || (mod === 0 && (rm === 5 || (rm === 4 && (s.sib & 7) === 5))) ? 4 : 0;
  for (let i = 0; i < dl; i++) b.push(s.disp[i]!);
  b.push(...s.tail);
  return Uint8Array.from(b.slice(0, 15));
});

let numericKeys: string[] | null = null;
let floatArrays: string[] | null = null;
/** Fields that hold NaN on purpose as "empty" (no fetch window, free TLB and breakpoint slots). */
const NAN_OK = new Set(['fetchPage', 'tlbTag', 'dataBpPage']);

function checkState(cpu: Cpu): void {
  const o = cpu as unknown as Record<string, unknown>;
  numericKeys ??= Object.keys(o).filter((k) => typeof o[k] === 'number');
  floatArrays ??= Object.keys(o).filter((k) => o[k] instanceof Float64Array && !NAN_OK.has(k));
  for (const k of numericKeys) {
    const v = o[k];
    if (typeof v !== 'number' || (!Number.isFinite(v) && !NAN_OK.has(k))) throw new Error(`cpu.${k} = ${String(v)}`);
  }
  for (const k of floatArrays) for (const v of o[k] as Float64Array) if (!Number.isFinite(v)) throw new Error(`cpu.${k} holds ${v}`);
  const rip = cpu.rip;
  if (!Number.isSafeInteger(rip)) throw new Error(`rip ${rip}`);
  if (cpu.code64 ? rip < -(2 ** 47) || rip >= 2 ** 47 : rip < 0 || rip >= 2 ** 32) throw new Error(`rip 0x${rip.toString(16)} out of range (code64=${cpu.code64})`);
}

/** Runs one case and checks it; returns its outcome ("retired", "#13", "int", "stop3") for the tally. */
function runCase(fz: FuzzCpu, code: Uint8Array, r: Int32Array, flags: number, times = 1, budget = 4): string {
  let out = '';
  let first = '';
  for (let k = 0; k < times; k++) {
    fz.load(code, r, flags);
    const stop = fz.cpu.run(budget);
    if (!Number.isInteger(stop) || stop < 0 || stop > 5) throw new Error(`run() returned ${stop}`);
    checkState(fz.cpu);
    for (const e of fz.events) {
      if (!Number.isInteger(e.vector) || e.vector < 0 || e.vector > 255) throw new Error(`vector ${e.vector}`);
      if (!Number.isInteger(e.err) || e.err < 0 || e.err > 0xffff) throw new Error(`vector ${e.vector} error code ${e.err}`);
      if (e.soft) continue;
      if (!HW_VECTORS.has(e.vector)) throw new Error(`exception vector ${e.vector}`);
      if (e.hasErr !== ERR_VECTORS.has(e.vector)) throw new Error(`vector ${e.vector} hasError=${e.hasErr}`);
      // SDM Vol. 2 §2.3.11: the 16th byte is never fetched; the instruction is #GP(0)
      if (fz.mode !== 'real' && e.vector === 14 && e.rip === CODE_AT && e.cr2 === GUARD && (e.err & PF_FETCH) !== 0) {
        throw new Error('fetched a 16th instruction byte (#PF on the guard page instead of #GP(0))');
      }
    }
    const e = fz.events[0];
    // translator on: the 9th run (translated blocks) ends exactly as the 1st (interpreter)
    if (times > 1) {
      const c = fz.cpu;
      const sig = `rip ${c.rip.toString(16)} flags ${c.getFlags().toString(16)} r ${[...c.r].map((x) => (x >>> 0).toString(16)).join(',')} ` +
        `events ${fz.events.map((ev) => `${ev.vector}/${ev.err}@${ev.rip.toString(16)}`).join(',')}` +
        (fz.avx ? ` ymm ${[...c.fpu.xmm, ...c.fpu.ymmh].join(',')} mxcsr ${c.fpu.mxcsr}` : '');
      if (k === 0) first = sig;
      else if (k === times - 1 && sig !== first) throw new Error(`translated run differs:\n  interpreter ${first}\n  translated  ${sig}`);
    }
    if (times > 1 && k === times - 1) {
      // a block translated from any of the case's instructions (the first one reaches the
      // translator only when the fetch window already covers it)
      const slot = CODE_AT & DC_MASK; // RAM index = physical address here (identity paging)
      for (let i = 0; i < 15; i++) if (fz.cpu.dc.blk[slot + i] != null) { translated++; break; }
    }
    // the same first instruction mid-page, where bytes come from the fetch fast path: when it
    // was #GP(0) at the page end (its 16th byte fetched there), it must not retire here.
    // Only a #GP(0) raised before anything retired says that: after a REP slice (the
    // instruction decoded, ran REP_CAP iterations and restarts at the same RIP: string.ts)
    // or after other instructions jumped back to CODE_AT (c5 46 00 0c 85 77 f9: LDS loads a
    // null DS, OR, JA back, and LDS's read through DS is #GP(0)) the fault is the
    // instruction's own, and run(1) mid-page would stop before reaching it.
    if (times === 1 && e !== undefined && !e.soft && e.vector === 13 && e.err === 0 && e.rip === CODE_AT && e.retired === 0) {
      fz.load(code, r, flags, MID);
      fz.cpu.run(1);
      checkState(fz.cpu);
      const m = fz.events[0];
      if (m === undefined || m.rip !== MID) throw new Error('#GP(0) at the end of a page, retired mid-page: an instruction longer than 15 bytes ran');
    }
    out = stop === 3 ? 'stop3' : e === undefined ? 'retired' : e.soft ? 'int' : `#${e.vector}`;
  }
  return out;
}

const hexOf = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');

function fuzzMode(mode: FuzzMode, seed: number, runs: number, jit: boolean, idt = false, avx = false): Map<string, number> {
  let fz = new FuzzCpu(mode, idt, avx);
  fz.cpu.jit = jit;
  let n = 0;
  const tally = new Map<string, number>();
  // a block is translated after it has run HOT (8) times: jit runs repeat each case 9 times,
  // with a budget the whole block fits in (jit.ts enters a block only then)
  const times = jit ? 9 : 1, budget = jit ? 16 : 4;
  const gens = avx ? [['random', randomBytes], ['vex', vexStructured]] as const : [['random', randomBytes], ['structured', structured]] as const;
  for (const [name, gen] of gens) {
    fc.assert(fc.property(gen, regsArb, (code, { r, flags }) => {
      let out: string;
      // the decode cache stops caching a code page rewritten 32 times (decode-cache.ts,
      // HOT_WRITES): a fresh machine every 24 cases keeps the translator in play
      if (jit && ++n % 24 === 0) { fz = new FuzzCpu(mode, false, avx); fz.cpu.jit = true; }
      try { out = runCase(fz, code, r, flags, times, budget); } catch (e) { throw new Error(`${mode} ${name} [${hexOf(code)}]: ${(e as Error).message}`); }
      tally.set(out, (tally.get(out) ?? 0) + 1);
    }), { seed: seed + (name === 'random' ? 0 : 1), numRuns: runs, includeErrorInReport: true });
  }
  return tally;
}

/** NV_FUZZ_SCALE=n multiplies the case counts and NV_FUZZ_SEED=k moves the seeds, for longer hunts outside CI. */
const SCALE = Math.max(1, Number(process.env['NV_FUZZ_SCALE'] ?? 1) || 1);
const SEED = Number(process.env['NV_FUZZ_SEED'] ?? 0) | 0;
const RUNS = 600 * SCALE;
const JIT_RUNS = 40 * SCALE;

for (const [i, mode] of FUZZ_MODES.entries()) {
  test(`decoder fuzz, ${mode}: ${RUNS} random + ${RUNS} structured cases never throw in the host`, (t) => {
    const tally = fuzzMode(mode, 0x5eed00 + i * 16 + SEED, RUNS, false);
    t.diagnostic(`${mode}: ${2 * RUNS} cases: ${[...tally].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    assert.ok((tally.get('retired') ?? 0) > 0 && (tally.get('#6') ?? 0) > 0, 'cases both retire and #UD');
  });
}

for (const [i, mode] of FUZZ_MODES.entries()) {
  if (mode === 'real') continue; // the translator runs 32- and 64-bit code only (jit/jit.ts)
  test(`decoder fuzz with the block translator on, ${mode}: ${JIT_RUNS} + ${JIT_RUNS} cases, each run 9 times`, (t) => {
    translated = 0;
    const tally = fuzzMode(mode, 0x11700 + i * 16 + SEED, JIT_RUNS, true);
    t.diagnostic(`${mode} jit: ${2 * JIT_RUNS} cases x 9, ${translated} with a translated block: ${[...tally].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    assert.ok(translated > 0, 'some cases ran translated');
  });
}

const AVX_RUNS = 400 * SCALE;

for (const [i, mode] of FUZZ_MODES.entries()) {
  test(`decoder fuzz with AVX/AVX2 on (src/cpu/avx), ${mode}: ${AVX_RUNS} random + ${AVX_RUNS} VEX cases never throw in the host`, (t) => {
    const tally = fuzzMode(mode, 0xa7c000 + i * 16 + SEED, AVX_RUNS, false, false, true);
    t.diagnostic(`${mode} avx: ${2 * AVX_RUNS} cases: ${[...tally].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    assert.ok((tally.get('#6') ?? 0) > 0, 'some cases #UD');
    if (mode !== 'real') assert.ok((tally.get('retired') ?? 0) > 0, 'some VEX cases retire');
  });
}

for (const [i, mode] of FUZZ_MODES.entries()) {
  if (mode === 'real') continue;
  test(`decoder fuzz with AVX on and the block translator on, ${mode}: ${JIT_RUNS} + ${JIT_RUNS} cases, each run 9 times (YMM state compared)`, (t) => {
    translated = 0;
    const tally = fuzzMode(mode, 0xa7c700 + i * 16 + SEED, JIT_RUNS, true, false, true);
    t.diagnostic(`${mode} avx jit: ${2 * JIT_RUNS} cases x 9, ${translated} with a translated block: ${[...tally].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  });
}

const IDT_RUNS = 250 * SCALE;

for (const [i, mode] of FUZZ_MODES.entries()) {
  test(`decoder fuzz through a real IDT (interrupts.ts, TSS stack switch at CPL 3), ${mode}: ${IDT_RUNS} + ${IDT_RUNS} cases`, (t) => {
    const tally = fuzzMode(mode, 0x1d7000 + i * 16 + SEED, IDT_RUNS, false, true);
    t.diagnostic(`${mode} idt: ${2 * IDT_RUNS} cases: ${[...tally].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    assert.ok((tally.get('#6') ?? 0) > 0, 'some cases #UD');
  });
}

test('15 prefixes with no opcode are #GP(0) at the first byte in every mode (SDM Vol. 2 §2.3.11)', () => {
  for (const mode of FUZZ_MODES) {
    const fz = new FuzzCpu(mode);
    for (const p of [0x66, 0xf3, 0x2e, 0x67]) {
      fz.load(new Uint8Array(15).fill(p), new Int32Array(32), 0);
      fz.cpu.run(4);
      assert.deepEqual(fz.events.map((e) => [e.vector, e.err, e.rip]), [[13, 0, CODE_AT]], `${mode} ${p.toString(16)} x15`);
    }
  }
});

// Cases NV_FUZZ_SCALE=5 (and =10 with NV_FUZZ_SEED=3) reported as "an instruction longer
// than 15 bytes ran": each ends in a #GP(0) at the page end that is not the length limit.
// After a REP slice or a jump back, the mid-page rerun's run(1) stopped before the fault; a
// RIP-relative operand had another alignment mid-page. The emulator was right; the check
// now asks for a fault before anything retired (FuzzEvent.retired) and reruns at the same
// offset modulo 64 (MID), and a real length fault still has retired = 0.
test('#GP(0) at the page end after a REP slice, a jump back or for a misaligned RIP-relative operand is not taken for the 15-byte limit', () => {
  const regs = (set: Record<number, number>): Int32Array => {
    const r = new Int32Array(32).fill(0);
    for (const [n, v] of Object.entries(set)) r[2 * Number(n)] = v;
    return r;
  };
  // real mode, f2 a5 = repne movsw (F2 acts as REP on MOVS), DF=1: CX=0x34c9, SI=0, DI=0x22b7.
  // The first slice copies REP_CAP (4096) words and restarts at the same IP; in the second,
  // DI reaches 0xffff after 348 more and a word there crosses ES's 64K limit: #GP(0)
  // (SDM Vol. 2 MOVS, real-address mode exceptions) with CX = 0x34c9 - 4444.
  const real = new FuzzCpu('real');
  const rep = Uint8Array.from([0xf2, 0xa5, ...new Array<number>(13).fill(0)]);
  const rr = regs({ 0: DATA, 1: 0x34c9, 6: DATA, 7: 0x3c4a22b7 });
  assert.equal(runCase(real, rep, rr, 0x400), '#13');
  assert.deepEqual(real.events.map((e) => [e.vector, e.err, e.rip, e.retired]), [[13, 0, CODE_AT, 1]]);
  const c = real.cpu;
  assert.deepEqual([c.r[2]! & 0xffff, c.r[12]! & 0xffff, c.r[14]! & 0xffff], [0x34c9 - 4444, (0x10000 - 2 * 4444) & 0xffff, 0xffff]);
  // prot32 CPL 3: c5 46 00 lds eax, [esi+0] (DS := the null selector at DATA); 0c 85 or al,
  // 0x85; 77 f9 ja back to the LDS, whose read through the null DS is #GP(0) (SDM Vol. 3A
  // §3.4.2): three instructions, not one 7-byte instruction that ran on
  for (const avx of [false, true]) {
    const p = new FuzzCpu('prot32-cpl3', false, avx);
    const lds = Uint8Array.from([0xc5, 0x46, 0x00, 0x0c, 0x85, 0x77, 0xf9, ...new Array<number>(8).fill(0)]);
    assert.equal(runCase(p, lds, regs({ 0: DATA, 6: DATA }), 0), '#13');
    assert.deepEqual(p.events.map((e) => [e.vector, e.err, e.rip, e.retired]), [[13, 0, CODE_AT, 3]]);
    assert.equal(p.cpu.r[0]! & 0xff, 0x85);
  }
  // 15 x 66 (the opcode would be a 16th byte): the length fault comes before anything
  // retired, so the check reruns it mid-page (the events are that rerun's) and it faults there too
  const long = new FuzzCpu('prot32');
  assert.equal(runCase(long, new Uint8Array(15).fill(0x66), new Int32Array(32), 0), '#13');
  assert.deepEqual(long.events.map((e) => [e.vector, e.err, e.rip, e.retired]), [[13, 0, MID, 0]]);
  // 66 40 0f 38 00 05 66 00 00 00: pshufb xmm0, [rip+0x66], 10 bytes. At the page end its m128
  // is 0x11061, misaligned: #GP(0) before the access (SDM Vol. 2A §2.5, type 4), although the
  // operand lies in the non-present page; rerun at the same alignment mid-page, it faults too
  const l64 = new FuzzCpu('long64');
  const pshufb = Uint8Array.from([0x66, 0x40, 0x0f, 0x38, 0x00, 0x05, 0x66, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(runCase(l64, pshufb, new Int32Array(32), 0), '#13');
  assert.deepEqual(l64.events.map((e) => [e.vector, e.err, e.rip, e.retired]), [[13, 0, MID, 0]]);
  l64.load(pshufb, new Int32Array(32), 0, CODE_MID); // at CODE_MID the operand is 16-aligned
  l64.cpu.run(1);
  assert.deepEqual([l64.events.length, l64.cpu.rip], [0, CODE_MID + 10]);
});
