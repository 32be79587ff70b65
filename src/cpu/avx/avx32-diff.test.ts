// Differential test of the AV-FP and AV-INT forms outside 64-bit mode: every form of
// fp-diff-specs.ts and int-diff-forms.ts (random VEX.W, imm8, operands, invalid variants; the
// integer forms' GPR heads and tails rewritten as 32-bit code, intTo32) runs natively in compatibility mode through
// test/native/avx32-harness.c (a far call to Linux's 32-bit code segment) and in the emulator
// in 32-bit protected mode; the images (ymm0-3, MXCSR, EAX, the 64-byte buffer at EDX, or the
// fault with the state it left) must be identical. Compared here and not in 64-bit mode:
// VEX.vvvv[3] names no register (half the C4 cases set it) yet counts for "vvvv = 1111b";
// VEX.W is ignored by VCVTSI2SS/SD and VCVT(T)SS/SD2SI; VBLENDVPS/PD ignore imm8[7]; GPR
// operands are 32-bit. C5 encodings whose second byte is not 11xxxxxxb are LDS outside 64-bit
// mode and are left out. Skipped where gcc is missing or the host has no AVX2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestCpu } from '../testing.js';
import { makeAvxCpu, avxProfile } from './avx-testing.js';
import { amdProfile, type CpuProfile } from '../profile.js';
import { BUF, emulateYmm } from './native-diff.js';
import { operandDwords } from './x-native.js';
import { FP_FORMS } from './fp-diff-specs.js';
import { INT_FORMS } from './int-diff-forms.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const SOURCE = join(ROOT, 'test/native/avx32-harness.c');
const PER_FORM = 40 * Math.max(1, Number(process.env['NV_FUZZ_SCALE'] ?? 1) || 1);

let s = 0x32b17a11;
function r32(): number { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return s >>> 0; }
const hx = (v: number, w: number): string => (v >>> 0).toString(16).padStart(w, '0');

/** 8 dwords: random bits, float specials, small integers, sign patterns (x-native.ts). */
const dwords = (): number[] => operandDwords(r32, true);
const ymmStr = (d: number[]): string => d.slice().reverse().map((x) => hx(x, 8)).join('');
function mxcsr(): number {
  let m = 0x1f80 | ((r32() & 3) << 13);
  if ((r32() & 7) === 0) m |= 0x40;
  if ((r32() & 7) === 0) m |= 0x8000;
  if ((r32() & 7) === 0) m &= ~(1 << (7 + (r32() % 6)));
  return m;
}

interface Form { name: string; enc: (r: () => number) => number[] }
interface Case { form: Form; code: number[]; y: string[]; mxcsr: number; eax: number; mem: string }

/**
 * An AV-INT encoding (int-diff-forms.ts, written for 64-bit mode) as 32-bit code: its head
 * (mov rdi/rcx, rdx; the VPCMPESTRx length set-up) and tail (pushfq; pop rax; and eax, 8d5h) lose
 * their REX.W prefixes (48H is DEC EAX here), and the VPCMPxSTRI tail's `shl rax, 32; or rax,
 * rcx` becomes `shl eax, 16; or eax, ecx` (flags in bits 27:16, the index in 4:0 — the same
 * fold on both sides). The VEX instruction itself is unchanged: no head or tail byte is C4/C5.
 */
function intTo32(code: number[]): number[] {
  const v = code.findIndex((b) => b === 0xc4 || b === 0xc5);
  const head = code.slice(0, v).filter((b) => b !== 0x48);
  const rest = code.slice(v);
  const fold = [0x48, 0xc1, 0xe0, 0x20, 0x48, 0x09, 0xc8];
  const k = rest.length - fold.length;
  if (k > 0 && fold.every((b, i) => rest[k + i] === b)) rest.splice(k, fold.length, 0xc1, 0xe0, 0x10, 0x09, 0xc8);
  return head.concat(rest);
}
/**
 * BMI1/BMI2 (avx/bmi.ts) as 32-bit code: operands in EAX, ECX, ESI, EDI (EBX and EBP belong to
 * the harness's C caller), loaded with random values and RFLAGS' arithmetic bits (push imm32;
 * popfd) by a head; [edx+disp8] in the buffer (MULX: ESI = the buffer, EDX = a dword of it, its
 * implicit operand, ESI cleared after); VEX.W random (ignored outside 64-bit mode). A tail folds
 * the flags and the four registers into EAX: pushfd; xor eax, ecx; xor eax, esi; xor eax, edi; pop ecx;
 * and ecx, 8d5h; shl ecx, 20; xor eax, ecx.
 */
const BMI_REGS = [0, 1, 6, 7];
function bmiForm(name: string, map: number, pp: number, op: number, kind: 'rvm' | 'rmv' | 'blsx' | 'mulx' | 'rorx', digit = 0): Form {
  return {
    name,
    enc: (r) => {
      const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
      const small = (): number => (r() & 3) === 0 ? r() : (r() & 1) ? r() % 80 : (r() % 40) | ((r() % 40) << 8);
      const head = [0xb9, ...le32(small()), 0xbe, ...le32(small()), 0xbf, ...le32(small()), 0x68, ...le32((r() & 0x8d5) | 0x202), 0x9d];
      const mem = (r() & 1) === 0;
      const w = r() & 1;
      // MULX: ESI holds the buffer's address (different natively), not an operand, and is cleared before the fold
      const pick = (): number => kind === 'mulx' ? [0, 1, 7][r() % 3]! : BMI_REGS[r() % 4]!;
      let reg = (r() & 1) ? 0 : pick(), v = pick(), rm = pick();
      if (kind === 'blsx') { reg = digit; v = (r() & 1) ? 0 : pick(); }
      if (kind === 'rorx') v = (r() % 8) === 0 ? 1 : 0; // vvvv ≠ 1111b: #UD
      let base = 2;
      if (kind === 'mulx') { head.push(0x89, 0xd6, 0x8b, 0x52, (r() % 16) * 4); base = 6; } // mov esi, edx; mov edx, [edx+disp8]
      const code = [...head, 0xc4, 0xe0 | map, (w << 7) | ((~v & 15) << 3) | pp, op];
      code.push(mem ? 0x40 | (reg << 3) | base : 0xc0 | (reg << 3) | rm);
      if (mem) code.push((r() % 16) * 4);
      if (kind === 'rorx') code.push(r() & 0xff);
      code.push(0x9c);
      if (kind === 'mulx') code.push(0x31, 0xf6); // xor esi, esi
      code.push(0x31, 0xc8, 0x31, 0xf0, 0x31, 0xf8, 0x59, 0x81, 0xe1, 0xd5, 0x08, 0, 0, 0xc1, 0xe1, 0x14, 0x31, 0xc8);
      return code;
    },
  };
}
const BMI_FORMS: Form[] = [
  bmiForm('andn', 2, 0, 0xf2, 'rvm'), bmiForm('blsr', 2, 0, 0xf3, 'blsx', 1), bmiForm('blsmsk', 2, 0, 0xf3, 'blsx', 2),
  bmiForm('blsi', 2, 0, 0xf3, 'blsx', 3), bmiForm('bextr', 2, 0, 0xf7, 'rmv'), bmiForm('bzhi', 2, 0, 0xf5, 'rmv'),
  bmiForm('pdep', 2, 3, 0xf5, 'rvm'), bmiForm('pext', 2, 2, 0xf5, 'rvm'), bmiForm('mulx', 2, 3, 0xf6, 'mulx'),
  bmiForm('rorx', 3, 3, 0xf0, 'rorx'), bmiForm('sarx', 2, 2, 0xf7, 'rmv'), bmiForm('shlx', 2, 1, 0xf7, 'rmv'),
  bmiForm('shrx', 2, 3, 0xf7, 'rmv'),
];
/**
 * The AV-X vector forms (avx/cross.ts, gather.ts; as in x-diff.test.ts): every VEX.W and VEX.L,
 * ymm0-3, [edx+disp8] inside the 64-byte buffer. Gathers address [edx + index*scale + disp8]
 * with 32-bit arithmetic; a head shifts the index register so every element (selected or not)
 * stays inside the buffer (vpsrld idx, idx, 30 or vpsrlq idx, idx, 62: indices 0-3), and one case
 * in ten makes destination, mask and index not distinct (#UD).
 */
function xForm(name: string, map: number, op: number, kind: 'v' | 'nov' | 'gather'): Form {
  return {
    name,
    enc: (r) => {
      const w = r() & 1, l = r() & 1;
      if (kind === 'gather') {
        const perm = [0, 1, 2, 3].sort(() => (r() & 1) - 0.5);
        const dst = perm[0]!, idx = perm[2]!;
        let mask = perm[1]!;
        if (r() % 10 === 0) mask = (r() & 1) ? dst : idx;
        const shift = (op & 1) !== 0 ? [0xc5, 0x80 | ((~idx & 15) << 3) | 5, 0x73, 0xd0 | idx, 62] : [0xc5, 0x80 | ((~idx & 15) << 3) | 5, 0x72, 0xd0 | idx, 30];
        return [...shift, 0xc4, 0xe0 | map, (w << 7) | ((~mask & 15) << 3) | (l << 2) | 1, op, 0x44 | (dst << 3), ((r() & 3) << 6) | (idx << 3) | 2, r() % 9];
      }
      const v = kind === 'v' ? r() & 3 : (r() % 8 === 0 ? 1 + (r() & 3) : 0);
      const code = [0xc4, 0xe0 | map, (w << 7) | ((~v & 15) << 3) | (l << 2) | 1, op];
      const reg = r() & 3;
      if ((r() & 1) === 0) code.push(0x42 | (reg << 3), r() % 33); else code.push(0xc0 | (reg << 3) | (r() & 3));
      if (map === 3) code.push(r() & 0xff);
      return code;
    },
  };
}
const X_FORMS: Form[] = [
  ...([['vpbroadcastb', 0x78], ['vpbroadcastw', 0x79], ['vpbroadcastd', 0x58], ['vpbroadcastq', 0x59], ['vbroadcasti128', 0x5a]] as const).map(([n, op]) => xForm(n, 2, op, 'nov')),
  ...([['vpermd', 0x36], ['vpermps', 0x16], ['vpmaskmovd/q load', 0x8c], ['vpmaskmovd/q store', 0x8e], ['vmaskmovps load', 0x2c], ['vmaskmovpd store', 0x2f],
    ['vpsllvd/q', 0x47], ['vpsrlvd/q', 0x45], ['vpsravd', 0x46]] as const).map(([n, op]) => xForm(n, 2, op, 'v')),
  ...([['vpermq', 0x00], ['vpermpd', 0x01], ['vextracti128', 0x39]] as const).map(([n, op]) => xForm(n, 3, op, 'nov')),
  ...([['vperm2i128', 0x46], ['vinserti128', 0x38], ['vpblendd', 0x02]] as const).map(([n, op]) => xForm(n, 3, op, 'v')),
  ...([['vpgatherd', 0x90], ['vpgatherq', 0x91], ['vgatherdp', 0x92], ['vgatherqp', 0x93]] as const).map(([n, op]) => xForm(n, 2, op, 'gather')),
];
const FORMS: Form[] = [...FP_FORMS, ...INT_FORMS.map((f) => ({ name: f.name, enc: (r: () => number) => intTo32(f.enc(r)) })), ...BMI_FORMS, ...X_FORMS];

/** One case in 32-bit protected mode: EAX from the case, EDX = BUF; EAX printed without leading zeros. */
function emulate(t: TestCpu, c: Case): string {
  return emulateYmm(t, c, 32, (u) => { u.cpu.setReg32(0, c.eax | 0); u.cpu.setReg32(2, BUF); }, (u) => (u.cpu.getReg32(0) >>> 0).toString(16));
}

test('AV-FP, AV-INT, AV-X and BMI forms outside 64-bit mode match the host CPU in compatibility mode', (t) => {
  if (spawnSync('gcc', ['--version']).status !== 0) { t.skip('gcc not found'); return; }
  if (!/\bavx2\b/.test(readFileSync('/proc/cpuinfo', 'utf8')) || !/\bbmi2\b/.test(readFileSync('/proc/cpuinfo', 'utf8'))) { t.skip('host CPU without AVX2/BMI2'); return; }
  const dir = mkdtempSync(join(tmpdir(), 'nestvisor-avx32-'));
  try {
    const exe = join(dir, 'avx32-harness');
    const cc = spawnSync('gcc', ['-O1', '-o', exe, SOURCE], { encoding: 'utf8' });
    assert.equal(cc.status, 0, `gcc failed: ${cc.stderr}`);
    const cases: Case[] = [];
    for (const form of FORMS) {
      for (let i = 0; i < PER_FORM; i++) {
        const code = form.enc(r32);
        if (code[0] === 0xc5 && (code[1]! & 0xc0) !== 0xc0) continue; // LDS here
        // VEX.vvvv[3] (inverted in bit 6 of C4's third byte) names no register here: set it on half the C4 cases
        if (code[0] === 0xc4 && (r32() & 1) !== 0) code[2] = code[2]! & ~0x40;
        const m = dwords().concat(dwords());
        cases.push({ form, code, y: [0, 1, 2, 3].map(() => ymmStr(dwords())), mxcsr: mxcsr(), eax: r32(), mem: m.slice().reverse().map((x) => hx(x, 8)).join('') });
      }
    }
    const line = (c: Case): string => `${c.code.map((b) => hx(b, 2)).join('')} ${c.y.join(' ')} ${c.mxcsr.toString(16)} ${c.eax.toString(16)} ${c.mem}`;
    const run = spawnSync(exe, [], { input: cases.map(line).join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 28 });
    assert.equal(run.status, 0, `harness failed (signal ${run.signal}): ${run.stderr}`);
    const lines = run.stdout.trim().split('\n');
    assert.equal(lines.length, cases.length);
    // the nestvisor-amd profile, as this AMD host (VEX.W1 VPEXTRQ/VPINSRQ are #UD here, avx/int2.ts)
    const tc = makeAvxCpu('prot32', { avx2: true });
    (tc.cpu as unknown as { profile: CpuProfile }).profile = avxProfile(amdProfile(), { avx2: true, bmi: true });
    const fails = new Map<string, number>();
    const faults = new Map<string, number>();
    const shown: string[] = [];
    for (let i = 0; i < cases.length; i++) {
      const c = cases[i]!, want = lines[i]!, got = emulate(tc, c);
      if (want.startsWith('SIG')) { const k = want.slice(0, 6).trim(); faults.set(k, (faults.get(k) ?? 0) + 1); }
      if (want !== got) {
        const n = (fails.get(c.form.name) ?? 0) + 1;
        fails.set(c.form.name, n);
        if (n <= 2 && shown.length < 16) shown.push(`${c.form.name} [${c.code.map((b) => hx(b, 2)).join(' ')}]\n   in     ${line(c)}\n   native ${want}\n   emul   ${got}`);
      }
    }
    t.diagnostic(`compared ${cases.length} cases over ${FORMS.length} forms (${FP_FORMS.length} AV-FP, ${INT_FORMS.length} AV-INT, ${BMI_FORMS.length} BMI, ${X_FORMS.length} AV-X); native faults: ${[...faults].map(([k, v]) => `${k}×${v}`).join(', ')}`);
    assert.equal(fails.size, 0, `mismatches: ${[...fails].map(([k, v]) => `${k}:${v}`).join(' ')}\n${shown.join('\n')}`);
    assert.ok(cases.length > FORMS.length * PER_FORM * 0.8 && (faults.get('SIG 4') ?? 0) > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
