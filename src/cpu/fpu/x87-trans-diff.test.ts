/**
 * Differential test of the eight x87 transcendentals — FSIN/FCOS/FSINCOS/FPTAN (trig80.ts),
 * F2XM1/FYL2X/FYL2XP1/FPATAN (trans80.ts) — against this machine's FPU (issue 4). The x87 does not round these correctly, so bit-for-bit agreement is measured,
 * not assumed: every case is classed as identical (the whole FNSAVE image, RAX, flags),
 * within 1 ulp (results differ by one unit in the last place, C1 may differ with them), or
 * a real mismatch. The test requires no real mismatch and a bounded share of 1-ulp cases,
 * and prints the rates (node --test shows them as diagnostics).
 * Operands: small, medium and large (to 2^63) arguments, near multiples of π/2, tiny and
 * denormal ones, zeros, infinities, NaNs, unsupported encodings, out-of-range; for the
 * two-operand forms every pairing of those classes, arguments near 1 and near each other;
 * every rounding control, and a share of cases with exceptions unmasked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeCpu, CODE, type TestCpu } from '../testing.js';
import { LF_NONE } from '../cpu.js';
import { CR0_NE } from '../regs.js';
import { r32, reseed, type V80 } from './x87-diff-specs.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const hx = (v: number, w: number): string => (v >>> 0).toString(16).padStart(w, '0');

/** Operand generator for the trigonometric instructions. */
function trigArg(): V80 {
  const s = (r32() & 1) << 15, m = (): number => r32();
  const k = r32() % 20;
  if (k === 0) return [s, 0, 0];
  if (k === 1) return [s | 0x7fff, 0x80000000, 0];
  if (k === 2) return [s | 0x7fff, (0xc0000000 | m()) >>> 0, m()];
  if (k === 3) return [s, m() & 0x7fffffff, m()];                                      // denormal
  if (k === 4) return [s | (1 + (m() % 200)), (0x80000000 | m()) >>> 0, m()];         // tiny
  if (k === 5) return [s | (0x3fff + 63 + (m() % 3)), (0x80000000 | m()) >>> 0, m()]; // ≥ 2^63: C2
  if (k === 6) return [s | (0x3fff - 40 + (m() % 30)), (0x80000000 | m()) >>> 0, m()]; // small
  if (k === 7) {
    // close to q·π/2 (P66): the 66-bit π with the low bits perturbed
    const q = 1 + (m() % 8), e = 31 - Math.clz32(q);
    const p = [0xc90fdaa2, 0x2168c234];
    return [s | (0x3fff + e), (0x80000000 | ((p[0]! >>> 0) * q / 2 ** (e + 1) >>> 0)) >>> 0, (p[1]! + (m() % 64)) >>> 0];
  }
  if (k < 12) return [s | (0x3fff - 3 + (m() % 8)), (0x80000000 | m()) >>> 0, m()];   // 2^-3..2^4
  return [s | (0x3fff + (m() % 63)), (0x80000000 | m()) >>> 0, m()];                   // to 2^62
}

const sgn = (): number => (r32() & 1) << 15;
const mant = (): number => (0x80000000 | r32()) >>> 0;
/** Classes shared by every operand: zero, ∞, QNaN/SNaN, denormal, unnormal (unsupported). */
function edge(s: number): V80 {
  switch (r32() % 6) {
    case 0: return [s, 0, 0];
    case 1: return [s | 0x7fff, 0x80000000, 0];
    case 2: return [s | 0x7fff, (0xc0000000 | r32()) >>> 0, r32()];
    case 3: return [s | 0x7fff, (0x80000000 | (r32() & 0x3fffffff) | 1) >>> 0, r32()];
    case 4: return [s, r32() & 0x7fffffff, r32()];
    default: return [s | (1 + (r32() % 0x7ffe)), r32() & 0x7fffffff, r32()];
  }
}
/** F2XM1: mostly −1..1 (its domain), exactly ±1, just inside, tiny, and beyond 1. */
function f2xm1Arg(): V80 {
  const s = sgn(), k = r32() % 16;
  if (k === 0) return edge(s);
  if (k === 1) return [s | 0x3fff, 0x80000000, 0];
  if (k === 2) return [s | 0x3ffe, 0xffffffff, (0xffffff00 | r32()) >>> 0];
  if (k === 3) return [s | (1 + (r32() % 300)), mant(), r32()];
  if (k === 4) return [s | (0x3fff + (r32() % 70)), mant(), r32()];
  if (k === 5) return [s | (0x3fff - 64 - (r32() % 4000)), mant(), r32()];
  return [s | (0x3fff - 1 - (r32() % 64)), mant(), r32()];
}
/** A positive x for FYL2X: near 1 from both sides, powers of two, wide exponents, and the edge classes. */
function logArg(): V80 {
  const k = r32() % 14;
  if (k === 0) return edge(sgn());
  if (k === 1) return [0x8000 | (0x3fff - 20 + (r32() % 40)), mant(), r32()];            // negative
  if (k === 2) return [0x3fff, 0x80000000, r32() % 4096];                                  // 1 + tiny
  if (k === 3) return [0x3ffe, 0xffffffff, (0xfffff000 | r32()) >>> 0];                    // 1 − tiny
  if (k === 4) return [1 + (r32() % 0x7ffe), 0x80000000, 0];                               // 2^k
  if (k === 5) return [0x3fff, 0xb504f333, (0xf9de6000 | (r32() & 0xfff)) >>> 0];          // √2
  if (k === 6) return [r32() % 0x7fff, mant(), r32()];
  return [0x3fff - 8 + (r32() % 16), mant(), r32()];
}
/** The y factor: mostly ordinary, sometimes huge or tiny (overflow/underflow), and the edge classes. */
function yArg(): V80 {
  const s = sgn(), k = r32() % 12;
  if (k === 0) return edge(s);
  if (k === 1) return [s | (0x7ffe - (r32() % 20)), mant(), r32()];
  if (k === 2) return [s | (1 + (r32() % 80)), mant(), r32()];
  if (k === 3) return [s | 0x3fff, 0x80000000, 0];
  return [s | (0x3fff - 30 + (r32() % 60)), mant(), r32()];
}
/** FYL2XP1's x: its domain |x| < 1 − √2/2 down to denormals, then beyond it on both sides. */
function lp1Arg(): V80 {
  const s = sgn(), k = r32() % 16;
  if (k === 0) return edge(s);
  if (k === 1) return [s | (0x3ffe + (r32() % 3)), mant(), r32()];                          // 0.5..4: outside
  if (k === 2) return [s | (0x3fff + (r32() % 200)), mant(), r32()];
  if (k === 3) return [0x8000 | 0x3ffe, 0xffffffff, (0xffffff00 | r32()) >>> 0];            // −1 + tiny
  if (k === 4) return [s | (1 + (r32() % 200)), mant(), r32()];                             // tiny
  if (k === 5) return [s | 0x3ffd, (0x80000000 | (r32() & 0x1fffffff)) >>> 0, r32()];      // to 0.31
  return [s | (0x3ffd - 1 - (r32() % 70)), mant(), r32()];
}
/** FPATAN's operands: independent signs and exponents within ±80 of each other, equal magnitudes, extremes. */
function atanArgs(): V80[] {
  const k = r32() % 10;
  if (k === 0) return [edge(sgn()), r32() % 2 ? edge(sgn()) : [sgn() | (0x3fff - 10 + (r32() % 20)), mant(), r32()]];
  if (k === 1) return [[sgn() | (0x3fff - 10 + (r32() % 20)), mant(), r32()], edge(sgn())];
  const x: V80 = [sgn() | (0x3fff - 40 + (r32() % 80)), mant(), r32()];
  if (k === 2) return [x, [sgn() | (x[0] & 0x7fff), x[1], x[2]]];
  if (k === 3) return [x, [sgn() | (1 + (r32() % 0x7ffe)), mant(), r32()]];
  return [x, [sgn() | ((x[0] & 0x7fff) - 80 + (r32() % 160)), mant(), r32()]];
}

function image(fcw: number, st: V80[]): Uint8Array {
  const b = new Uint8Array(108), dv = new DataView(b.buffer);
  // TOP = 0: ST(i) = R(i) valid (FRSTOR recomputes the tags), the rest empty
  const tags = st.length === 1 ? 0xfffc : 0xfff0;
  dv.setUint16(0, fcw, true); dv.setUint16(4, 0, true); dv.setUint16(8, tags, true);
  st.forEach((v, i) => { dv.setUint32(28 + 10 * i, v[2] >>> 0, true); dv.setUint32(32 + 10 * i, v[1] >>> 0, true); dv.setUint16(36 + 10 * i, v[0], true); });
  return b;
}

function emulate(t: TestCpu, code: number[], fcw: number, st: V80[]): string {
  t.mem.load(CODE, Uint8Array.from([...code, 0xf4]));
  const f = t.cpu.fpu;
  f.fcw = fcw; f.setFsw(0);
  for (let p = 0; p < 8; p++) { f.tag[p] = 3; f.se[p] = 0; f.mant[2 * p] = 0; f.mant[2 * p + 1] = 0; } // as the FRSTOR image: zeros
  st.forEach((v, i) => { const p = (f.top + i) & 7; f.se[p] = v[0]; f.mant[2 * p + 1] = v[1] | 0; f.mant[2 * p] = v[2] | 0; f.tag[p] = f.classify(p); });
  t.cpu.lfOp = LF_NONE; t.cpu.flags = 0x202;
  t.cpu.rip = CODE; t.cpu.halted = false;
  const before = t.exceptions.length;
  t.cpu.run(code.length + 1);
  if (t.exceptions.length !== before) return `SIG ${t.exceptions[t.exceptions.length - 1]![0]}`;
  let ftw = 0;
  for (let p = 7; p >= 0; p--) ftw = (ftw << 2) | (f.tag[p] === 3 ? 3 : f.classify(p));
  const regs: string[] = [];
  for (let i = 0; i < 8; i++) { const p = (f.top + i) & 7; regs.push(hx(f.se[p]!, 4) + hx(f.mant[2 * p + 1]!, 8) + hx(f.mant[2 * p]!, 8)); }
  return `${hx(f.fcw, 4)} ${hx(f.getFsw(), 4)} ${hx(ftw, 4)} ${regs.join(' ')}`;
}

/** Whether two 80-bit hex values differ by exactly one unit in the last place. */
function oneUlp(a: string, b: string): boolean {
  const va = BigInt('0x' + a), vb = BigInt('0x' + b);
  if ((va >> 79n) !== (vb >> 79n)) return false;
  // the 80-bit patterns of finite same-sign values are ordered like integers across binades
  const mag = (v: bigint): bigint => { const e = (v >> 64n) & 0x7fffn, m = v & 0xffffffffffffffffn; return (e << 63n) | (m & 0x7fffffffffffffffn); };
  const d = mag(va) - mag(vb);
  return d === 1n || d === -1n;
}

const trig = (): V80[] => [trigArg()];
const FORMS: Array<{ name: string; code: number[]; args: () => V80[] }> = [
  { name: 'fsin', code: [0xd9, 0xfe], args: trig }, { name: 'fcos', code: [0xd9, 0xff], args: trig },
  { name: 'fsincos', code: [0xd9, 0xfb], args: trig }, { name: 'fptan', code: [0xd9, 0xf2], args: trig },
  { name: 'f2xm1', code: [0xd9, 0xf0], args: () => [f2xm1Arg()] },
  { name: 'fyl2x', code: [0xd9, 0xf1], args: () => [logArg(), yArg()] },
  { name: 'fyl2xp1', code: [0xd9, 0xf9], args: () => [lp1Arg(), yArg()] },
  { name: 'fpatan', code: [0xd9, 0xf3], args: atanArgs },
];
const PER_FORM = 2500;
/** X87T_SHOW=fsin (etc.) lists that form's non-identical cases (1-ulp, C1 and mismatches) as diagnostics, for studying them. */
const SHOW = process.env.X87T_SHOW ?? '';
/** X87T_SEED=0x13572468 (etc.) draws other operands than the default seed's (0x87878787), to
 * check that the models hold beyond the test's own cases; the bounds are set for the default. */
const SEED = process.env.X87T_SEED;
if (SEED !== undefined && SEED !== '') reseed(Number(SEED));

test('the x87 transcendentals against the host FPU: identical or within 1 ulp', (t) => {
  if (spawnSync('gcc', ['--version']).status !== 0) { t.skip('gcc not found'); return; }
  const dir = mkdtempSync(join(tmpdir(), 'nestvisor-x87t-'));
  try {
    const exe = join(dir, 'x87-harness');
    const cc = spawnSync('gcc', ['-O1', '-mno-red-zone', '-o', exe, join(ROOT, 'test/native/x87-harness.c')], { encoding: 'utf8' });
    assert.equal(cc.status, 0, cc.stderr);
    const cases: Array<{ form: typeof FORMS[number]; fcw: number; st: V80[] }> = [];
    for (const form of FORMS) for (let i = 0; i < PER_FORM; i++) {
      // every rounding control (nearest twice as often) and precision control (which the
      // transcendentals ignore); one case in eight with some exceptions unmasked
      const rc = [0, 0, 1, 2, 3][r32() % 5]!, pc = [0, 2, 3, 3][r32() % 4]!;
      const masks = r32() % 8 === 0 ? 0x40 | (r32() & 0x3f) : 0x7f;
      cases.push({ form, fcw: 0x40 | masks | (pc << 8) | (rc << 10), st: form.args() });
    }
    const zeros = '0'.repeat(256);
    const input = cases.map((c) => `${c.form.code.map((b) => hx(b, 2)).join('')} ${Array.from(image(c.fcw, c.st), (b) => hx(b, 2)).join('')} ${zeros} 0 0`).join('\n') + '\n';
    const run = spawnSync(exe, [], { input, encoding: 'utf8', maxBuffer: 1 << 28 });
    assert.equal(run.status, 0, run.stderr);
    const lines = run.stdout.trim().split('\n');
    assert.equal(lines.length, cases.length);
    const tc = makeCpu('long64');
    tc.cpu.cr0 |= CR0_NE;
    const stats = new Map<string, { same: number; c1: number; ulp: number; bad: number }>();
    const shown: string[] = [];
    for (let i = 0; i < cases.length; i++) {
      const c = cases[i]!;
      const want = lines[i]!.split(' ').slice(0, 11).join(' ');
      const got = emulate(tc, c.form.code, c.fcw, c.st);
      const s = stats.get(c.form.name) ?? { same: 0, c1: 0, ulp: 0, bad: 0 };
      stats.set(c.form.name, s);
      if (want === got) { s.same++; continue; }
      const w = want.split(' '), g = got.split(' ');
      // FSW may differ only in C1 (bit 9: rounded up)
      const fswOk = w.length === 11 && g.length === 11 && ((parseInt(w[1]!, 16) ^ parseInt(g[1]!, 16)) & ~0x200) === 0;
      let ulpOnly = fswOk && w[0] === g[0] && w[2] === g[2];
      let differ = 0;
      for (let k = 3; ulpOnly && k < 11; k++) if (w[k] !== g[k]) { differ++; if (!oneUlp(w[k]!, g[k]!)) ulpOnly = false; }
      if (ulpOnly && SHOW === c.form.name) t.diagnostic(`${differ === 0 ? 'C1 ' : 'ulp'} fcw ${hx(c.fcw, 4)} st ${c.st.map((v) => hx(v[0], 4) + hx(v[1], 8) + hx(v[2], 8)).join(' ')} native ${w.slice(1, 5).join(' ')} emul ${g.slice(1, 5).join(' ')}`);
      if (ulpOnly && differ === 0) { s.c1++; }
      else if (ulpOnly) s.ulp++;
      else {
        s.bad++;
        if (SHOW === c.form.name) t.diagnostic(`bad fcw ${hx(c.fcw, 4)} st ${c.st.map((v) => hx(v[0], 4) + hx(v[1], 8) + hx(v[2], 8)).join(' ')} native ${w.slice(0, 5).join(' ')} emul ${g.slice(0, 5).join(' ')}`);
        if (shown.length < 40) shown.push(`${c.form.name} fcw ${hx(c.fcw, 4)} st ${c.st.map((v) => hx(v[0], 4) + hx(v[1], 8) + hx(v[2], 8)).join(' ')}\n  native ${w.slice(0, 5).join(' ')}\n  emul   ${g.slice(0, 5).join(' ')}`);
      }
    }
    for (const [name, s] of stats) t.diagnostic(`${name}: ${s.same} identical, ${s.c1} same value but C1, ${s.ulp} within 1 ulp, ${s.bad} mismatches of ${PER_FORM}`);
    const bad = [...stats.values()].reduce((a, s) => a + s.bad, 0);
    assert.equal(bad, 0, shown.join('\n'));
    // measured on this AMD EPYC host (the hardware's own evaluation carries an error of about
    // ±0.1 ulp, so correctly rounded results differ where the exact value lies that close to
    // a rounding boundary): FSIN/FCOS/FSINCOS/FPATAN 1-2% off by 1 ulp or C1, F2XM1/FYL2X/
    // FYL2XP1 2.5-3.3%, FPTAN ~8%. The bounds leave room for another seed, not for a defect.
    // FYL2X/FYL2XP1 model the host's 68-bit log steps (trans80.ts logModel) with its degree-10
    // correction polynomial (LOGC): 0 and 0 of 2500 non-identical, 4 and 3 with the exact series
    // instead, 63 and 81 when correctly rounded (bound 0.0008: 2 cases). FPATAN models the 68-bit ratio,
    // π and its (8, 7) rational (trans80.ts atanRational): 1 of 2500 off, 46 when correctly rounded
    // (bound 0.0008: 2 cases). The bounds catch the loss of either.
    // FPTAN models the host's tiny-argument rounding (trig80.ts tanTinyPack) and its 68-bit
    // degree-4 rational of the reduced argument (tanRationalPack, a/Q or −Q/a): 6 of 2500
    // non-identical, 8 with Q2 at the constrained minimax, 61 with the rational below P66/4 only
    // (correctly rounded tan r / −cot r above), 67 with it below 2^-11 only, 71 with the tiny
    // model alone, 196 with neither; the bound (10) catches the loss of any part.
    // F2XM1 models the host's 68-bit rational on all of |x| ≤ 1 (trans80.ts f2xm1Core, P and Q
    // pinned per run of |x| up to 0.97): 0 of 2500 non-identical with it, 10 with the earlier
    // minimax coefficients below 2^-4 only, 75 correctly rounded; the bound (2) catches a loss
    // of coefficient accuracy or range.
    // FSIN/FCOS/FSINCOS model the host's sine and cosine polynomials, minimax coefficients in
    // 68-bit Horner steps (trig80.ts sinHornerPack, cosHornerPack, with the cosine's last step
    // truncated to 2^-71): 0/2/0 of 2500 non-identical; 2/3/3 without that truncation, 5/4/8 with
    // the earlier fitted sine error curve and 68-bit tails, 32/16/49 correctly rounded.
    // The bounds (2/3/2 cases) catch the loss of any of these.
    const BOUND: Record<string, number> = { fsin: 0.0008, fcos: 0.0012, fsincos: 0.0008, fptan: 0.004, f2xm1: 0.0008, fyl2x: 0.0008, fyl2xp1: 0.0008, fpatan: 0.0008 };
    for (const [name, s] of stats) assert.ok(s.ulp + s.c1 <= PER_FORM * (BOUND[name] ?? 0.03), `${name}: ${s.ulp} cases off by 1 ulp, ${s.c1} by C1`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
