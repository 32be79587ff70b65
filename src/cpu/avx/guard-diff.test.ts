// Differential test of VEX memory operands at a page boundary (x-diff style): every FMA3/F16C
// form (fma-diff-forms.ts) and every AV-FP and AV-INT form with a memory operand
// (fp-diff-specs.ts, int-diff-forms.ts) runs with its [rdx+disp8] (or [rcx+disp8]) moved so the
// operand ends at, crosses or lies past the end of the buffer, where an inaccessible page begins
// (test/native/avx-x-harness.c natively; a not-present page in the emulator, avx/x-native.ts).
// Loads and read-modify-write operands that reach into the page must fault (#PF ↔ SIGSEGV) with
// nothing changed — registers, MXCSR flags, the buffer — and stores that straddle it must write
// nothing; the ones that stay inside must run as usual. The whole image is compared, at the
// fault too (the registers from the signal frame). The emulator runs nestvisor-amd, as this AMD
// host. Skipped where gcc is missing or the host has no AVX2/FMA/F16C.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { FMA_FORMS } from './fma-diff-forms.js';
import { FP_FORMS } from './fp-diff-specs.js';
import { INT_FORMS } from './int-diff-forms.js';
import { runXNative, makeXCpu, xEmulate, operandDwords, type XCase } from './x-native.js';

const PER_FORM = 12 * Math.max(1, Number(process.env['NV_FUZZ_SCALE'] ?? 1) || 1);

let s = 0x6a7d0c35;
function r32(): number { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return s >>> 0; }
const hx = (v: number, w: number): string => (v >>> 0).toString(16).padStart(w, '0');

/** 8 dwords: random bits, float specials and ordinary floats, small integers. */
const dwords = (): number[] => operandDwords(r32);

/**
 * The form's encoding with its memory operand's disp8 near the end of the buffer (RDX + 128 is
 * the first inaccessible byte): 80..127, a third of them 124..127 (so m32 crosses too): operands
 * of 4..32 bytes end inside, at the edge or past it. Null for a register-form draw (the caller draws again).
 */
function nearEdge(code: number[]): number[] | null {
  const v = code.findIndex((b) => b === 0xc4 || b === 0xc5);
  if (v < 0) return null;
  const m = v + (code[v] === 0xc4 ? 3 : 2) + 1; // ModRM after the opcode
  const modrm = code[m];
  if (modrm === undefined || (modrm & 0xc7) !== 0x42 && (modrm & 0xc7) !== 0x41) return null;
  const out = code.slice();
  out[m + 1] = r32() % 3 === 0 ? 124 + (r32() % 4) : 80 + (r32() % 48);
  // after a head (VPCMPESTRx's SAR sets AF, which the SDM leaves undefined and this AMD host sets
  // to 1; the ALU's vendor rule is not this test's subject), CMP ECX, ECX (39 C9) defines every
  // arithmetic flag before the VEX instruction, so the flags at a fault compare exactly
  if (v > 0) out.splice(v, 0, 0x39, 0xc9);
  return out;
}

/**
 * The VPCMPxSTRx forms address the buffer through RCX (`mov rcx, rdx` first): where RCX still
 * holds that pointer afterwards (the mask forms, and every form at a fault) it is the host's
 * buffer address natively and 100F80H here. Both end in F80H (the buffer ends at a page
 * boundary on both sides) and no index result does, so such a value prints as `buf`.
 */
function normalize(line: string): string {
  const p = line.split(' ');
  const i = p[0] === 'SIG' ? 9 : 7;
  const v = p[i];
  if (v !== undefined && v.length > 3 && v.endsWith('f80')) p[i] = 'buf';
  return p.join(' ');
}

interface Form { name: string; enc: (r: () => number) => number[] }
const FORMS: Form[] = [...FMA_FORMS, ...FP_FORMS, ...INT_FORMS];

function makeCases(): XCase[] {
  const out: XCase[] = [];
  for (const f of FORMS) {
    let made = 0;
    const want = FMA_FORMS.includes(f as never) ? 2 * PER_FORM : PER_FORM; // FMA: the subject
    for (let tries = 0; made < want && tries < want * 40; tries++) {
      const code = nearEdge(f.enc(r32));
      if (code === null) continue;
      const mem: number[] = [];
      for (let i = 0; i < 8; i++) mem.push(...dwords());
      const mx = (0x1f80 | ((r32() & 3) << 13) | ((r32() & 7) === 0 ? 0x8040 : 0)) & ~((r32() & 7) === 0 ? 1 << (7 + (r32() % 6)) : 0);
      out.push({
        name: f.name, code, y: [dwords(), dwords(), dwords(), dwords()], mxcsr: mx >>> 0,
        g: [hx(r32(), 8), hx(r32(), 8), hx(r32(), 8)], flags: r32() & 0x8d5, mem,
      });
      made++;
    }
  }
  return out;
}

test('VEX memory operands at a guard page (FMA3, F16C, AV-FP, AV-INT): faults and the state they leave match the host', (t) => {
  if (spawnSync('gcc', ['--version']).status !== 0) { t.skip('gcc not found'); return; }
  const info = readFileSync('/proc/cpuinfo', 'utf8');
  if (!/\bavx2\b/.test(info) || !/\bfma\b/.test(info) || !/\bf16c\b/.test(info)) { t.skip('host CPU without AVX2/FMA/F16C'); return; }
  const cases = makeCases();
  const lines = runXNative(cases);
  const tc = makeXCpu();
  const fails = new Map<string, number>(), outcome = new Map<string, number>();
  const segvForms = new Set<string>(), okForms = new Set<string>();
  const shown: string[] = [];
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i]!, want = normalize(lines[i]!), got = normalize(xEmulate(tc, c));
    const k = want.startsWith('SIG') ? want.slice(0, want.indexOf(' ', 4)) : 'ran';
    outcome.set(k, (outcome.get(k) ?? 0) + 1);
    if (k === 'SIG 11') segvForms.add(c.name); else if (k === 'ran') okForms.add(c.name);
    if (want !== got) {
      const n = (fails.get(c.name) ?? 0) + 1;
      fails.set(c.name, n);
      let d = 0; while (d < want.length && want[d] === got[d]) d++;
      const from = Math.max(0, d - 40);
      if (n <= 2 && shown.length < 16) shown.push(`${c.name} [${c.code.map((b) => hx(b, 2)).join(' ')}] (from char ${from})\n   native ${want.slice(from, from + 160)}\n   emul   ${got.slice(from, from + 160)}`);
    }
  }
  t.diagnostic(`compared ${cases.length} cases over ${FORMS.length} forms: ${[...outcome].map(([k, v]) => `${k}×${v}`).join(', ')}; ${segvForms.size} forms faulted on the guard page`);
  assert.equal(fails.size, 0, `mismatches: ${[...fails].map(([k, v]) => `${k}:${v}`).join(' ')}\n${shown.join('\n')}`);
  // every FMA form both faulted at the edge and ran inside the buffer
  for (const f of FMA_FORMS.filter((x) => x.name.startsWith('fma'))) assert.ok(segvForms.has(f.name) && okForms.has(f.name), f.name);
});
