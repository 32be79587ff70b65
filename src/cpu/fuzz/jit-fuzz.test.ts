// The block translator against the interpreter on code it translates natively: random
// straight-line sequences of the forms jit/emit-*.ts know (ALU r/m,r and r,r/m; ALU with
// imm8/imm32; MOV r/m<->r, MOV r,imm; INC/DEC/NOT/NEG; TEST; LEA; shifts by imm8; short
// Jcc over the next instruction), with and without REX.W/operand-size prefixes, register
// and memory operands. Each case runs nine times on one machine (a block is translated
// after 8 runs, jit.ts HOT); the 9th run must end exactly as the 1st: GPRs, RIP, EFLAGS,
// events and the data page. Memory operands use RBX/RSI/RDI, which point into the data
// page (they may be overwritten: faults then have to match too).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FuzzCpu, CODE_MID, DATA, type FuzzMode } from './harness.js';
import { DC_MASK } from '../decode-cache.js';

const ALU = [0x00, 0x01, 0x02, 0x03, 0x08, 0x09, 0x0a, 0x0b, 0x10, 0x11, 0x12, 0x13, 0x18, 0x19, 0x1a, 0x1b,
  0x20, 0x21, 0x22, 0x23, 0x28, 0x29, 0x2a, 0x2b, 0x30, 0x31, 0x32, 0x33, 0x38, 0x39, 0x3a, 0x3b, 0x84, 0x85, 0x88, 0x89, 0x8a, 0x8b];

/** ModRM: a register pair, or [rbx/rsi/rdi + disp8] (the disp8 keeps it in the data page). */
const modrm = fc.oneof(
  fc.record({ reg: fc.nat(7), rm: fc.nat(7) }).map(({ reg, rm }) => [0xc0 | (reg << 3) | rm]),
  fc.record({ reg: fc.nat(7), rm: fc.constantFrom(3, 6, 7), d: fc.nat(0x7f) }).map(({ reg, rm, d }) => [0x40 | (reg << 3) | rm, d]),
);
const imm32 = fc.integer({ min: -0x80000000, max: 0x7fffffff }).map((v) => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff]);

function insn(long: boolean): fc.Arbitrary<number[]> {
  const pfx = fc.constantFrom<number[]>([], [], [], long ? [0x48] : [], long ? [0x4c] : [0x66], [0x66]);
  const body = fc.oneof(
    fc.tuple(fc.constantFrom(...ALU), modrm).map(([op, m]) => [op, ...m]),
    fc.tuple(fc.constantFrom(0x83, 0xc1, 0xc0), fc.constantFrom(0, 1, 2, 3, 4, 5, 7), modrm, fc.nat(255)).map(([op, r, m, i]) => [op, (m[0]! & ~0x38) | (r << 3), ...m.slice(1), i]),
    fc.tuple(fc.nat(7), modrm, imm32).map(([r, m, i]) => [0x81, (m[0]! & ~0x38) | (r << 3), ...m.slice(1), ...i]),
    fc.tuple(fc.constantFrom(0xf7, 0xff), fc.constantFrom(0, 1, 2, 3), modrm).map(([op, r, m]) =>
      op === 0xf7 ? [0xf7, (m[0]! & ~0x38) | ((r + 2) << 3), ...m.slice(1)] : [0xff, (m[0]! & ~0x38) | ((r & 1) << 3), ...m.slice(1)]),
    fc.tuple(fc.nat(7), imm32).map(([r, i]) => [0xb8 + r, ...i]),
    fc.tuple(fc.nat(7), fc.constantFrom(3, 6, 7), fc.nat(0x7f)).map(([r, b, d]) => [0x8d, 0x40 | (r << 3) | b, d]),
  );
  // immediates follow the operand size: imm16 with 66, imm64 for REX.W B8+r (MOV r64, imm64)
  return fc.tuple(pfx, body).map(([p, b]) => {
    const immOp = b[0] === 0x81 || (b[0]! >= 0xb8 && b[0]! <= 0xbf);
    if (immOp && p.includes(0x66)) b = b.slice(0, b.length - 2);
    else if (b[0]! >= 0xb8 && b[0]! <= 0xbf && p.some((x) => (x & 0xf8) === 0x48)) b = [...b, ...b.slice(1, 5)];
    return [...p, ...b];
  });
}

/** A sequence; a Jcc short (70-7F) may jump over the instruction after it. */
function program(long: boolean): fc.Arbitrary<Uint8Array> {
  const step = fc.tuple(fc.nat(15), fc.boolean(), insn(long), insn(long)).map(([cc, jump, a, b]) => (jump ? [0x70 + cc, b.length, ...b, ...a] : a));
  return fc.array(step, { minLength: 2, maxLength: 12 }).map((s) => Uint8Array.from(s.flat()));
}

const regsArb = fc.array(fc.integer({ min: -0x80000000, max: 0x7fffffff }), { minLength: 16, maxLength: 16 }).map((lo) => {
  const r = new Int32Array(32);
  for (let i = 0; i < 16; i++) r[2 * i] = lo[i]!;
  for (const p of [3, 6, 7]) r[2 * p] = DATA + 0x400 + p * 0x40; // RBX, RSI, RDI: the data page
  return r;
});

function signature(fz: FuzzCpu): string {
  const c = fz.cpu;
  let sum = 0;
  for (let i = DATA; i < DATA + 0x1000; i++) sum = (Math.imul(sum, 31) + c.mem.ram[i]!) | 0;
  return `rip ${c.rip.toString(16)} flags ${c.getFlags().toString(16)} data ${sum} r ${[...c.r].map((x) => (x >>> 0).toString(16)).join(',')} ` +
    `events ${fz.events.map((e) => `${e.vector}/${e.err}@${e.rip.toString(16)}`).join(',')}`;
}

const RUNS = 120 * Math.max(1, Number(process.env['NV_FUZZ_SCALE'] ?? 1) || 1);
const SEED = Number(process.env['NV_FUZZ_SEED'] ?? 0) | 0;

for (const [i, mode] of (['long64', 'prot32', 'compat'] as FuzzMode[]).entries()) {
  test(`translated blocks end as the interpreter does, ${mode}: ${RUNS} straight-line programs x 9 runs`, (t) => {
    let fz = new FuzzCpu(mode);
    fz.cpu.jit = true;
    let n = 0, translated = 0, faulted = 0;
    fc.assert(fc.property(program(mode === 'long64'), regsArb, fc.nat(0xfff), (code, r, flags) => {
      // a fresh machine every 24 cases: the decode cache stops caching a page rewritten 32 times
      if (++n % 24 === 0) { fz = new FuzzCpu(mode); fz.cpu.jit = true; }
      let first = '';
      for (let k = 0; k < 9; k++) {
        fz.load(code, r, flags, CODE_MID);
        fz.cpu.run(200);
        const sig = signature(fz);
        if (k === 0) first = sig;
        else if (k === 8 && sig !== first) {
          throw new Error(`[${[...code].map((b) => b.toString(16).padStart(2, '0')).join(' ')}] translated run differs:\n  interpreter ${first}\n  translated  ${sig}`);
        }
      }
      // the first instruction reaches the translator only when the TLB already maps its page
      for (let j = 0; j < code.length; j++) if (fz.cpu.dc.blk[(CODE_MID + j) & DC_MASK] != null) { translated++; break; }
      if (fz.events.length > 0) { faulted++; if (process.env['NV_FUZZ_SHOW']) console.log(fz.events[0]); }
    }), { seed: 0x717000 + i + SEED, numRuns: RUNS, includeErrorInReport: true });
    t.diagnostic(`${mode}: ${RUNS} programs, ${translated} with translated blocks, ${faulted} ending in a fault`);
    assert.ok(translated > RUNS / 2, 'most programs ran translated');
  });
}
