/**
 * Coverage audit of the differential tests against this machine's CPU (issue 4 "Done when":
 * every SSE/x87 family checked bit for bit). Every instruction form installed by sse/install.ts
 * and fpu/x87-install.ts (each mandatory prefix, REX.W where it matters, each ModRM.reg group
 * member, register and memory forms; found by probing, see diff-audit.ts) must be executed by
 * a differential spec — sse-diff-specs.ts, sse4-diff-specs.ts, fpu/x87-diff-specs.ts, or the
 * transcendental specs inside fpu/x87-trans-diff.test.ts — or be listed in EXCLUDED with the
 * reason it cannot run natively in user mode. The test also checks that the operand
 * generators reach what the differential tests exist for: every MXCSR rounding mode, DAZ,
 * FTZ, unmasked SIMD exceptions, a misaligned operand for every alignment-checked form, every
 * x87 precision and rounding control, unmasked x87 exceptions, stack overflow and underflow,
 * and FNSTENV/FNSAVE images in both operand sizes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { installedSlots, probeCpu, installedSseForms, installedX87Forms, decodeSeq, sseFormOf, x87Name } from './diff-audit.js';
import { installSse } from './install.js';
import { installX87 } from '../fpu/x87-install.js';
import { SPECS, genF32, genF64 } from './sse-diff-specs.js';
import { SPECS4 } from './sse4-diff-specs.js';
import { SPECS as X87SPECS, genImage } from '../fpu/x87-diff-specs.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/**
 * Installed forms no differential spec runs, each with the reason it cannot be run natively
 * in user mode (a form that faults by design there, or reads state a user process cannot set).
 * Empty today: every installed SSE/MMX/x87 form runs natively from ring 3.
 */
const EXCLUDED = new Map<string, string>([]);

/** Forms run by the transcendental test, whose specs are private to its file: read from its source. */
function transForms(installedX87: Set<string>): string[] {
  const src = readFileSync(join(ROOT, 'src/cpu/fpu/x87-trans-diff.test.ts'), 'utf8');
  const out: string[] = [];
  for (const m of src.matchAll(/code: \[(0x[0-9a-f]{2}), (0x[0-9a-f]{2})\]/g)) out.push(x87Name(parseInt(m[1]!, 16), parseInt(m[2]!, 16), installedX87));
  return out;
}

test('every installed SSE/MMX/x87 form is run by a differential spec or excluded with a reason', (t) => {
  const tc = probeCpu();
  const slots = installedSlots(installSse);
  const { forms, aligned, ops } = installedSseForms(tc, slots);
  const x87 = installedX87Forms(tc, installedSlots(installX87));
  const covered = new Set<string>(), misaligned = new Set<string>();
  let sseCases = 0, x87Cases = 0;
  for (const s of [...SPECS, ...SPECS4]) {
    sseCases += s.count;
    for (const d of decodeSeq(s.code())) {
      if (!d.sse) continue;
      const n = sseFormOf(d.sse, ops);
      if (n === null) continue; // CRC32 (ops/bits.ts), group 15/9 (ops/system.ts): other families' slots
      covered.add(n);
      if (d.sse.mis) misaligned.add(n);
    }
  }
  for (const s of X87SPECS) {
    x87Cases += s.count;
    for (const d of decodeSeq(s.code)) if (d.x87) covered.add(d.x87.esc === 0x9b ? '9b' : x87Name(d.x87.esc, d.x87.modrm, x87));
  }
  const trans = transForms(x87);
  assert.ok(trans.length >= 8, `x87-trans-diff.test.ts specs not found (${trans.length})`);
  for (const f of trans) covered.add(f);

  const installed = [...forms, ...x87].sort();
  const missing = installed.filter((f) => !covered.has(f) && !EXCLUDED.has(f));
  const stale = [...EXCLUDED.keys()].filter((f) => covered.has(f) || !installed.includes(f));
  const alignedUntested = [...aligned].filter((f) => !misaligned.has(f)).sort();
  t.diagnostic(`installed forms: ${forms.size} SSE/MMX (${slots.length} table slots) + ${x87.size} x87 = ${installed.length}; ` +
    `run by specs: ${installed.filter((f) => covered.has(f)).length}; excluded: ${EXCLUDED.size}; ` +
    `spec cases: ${sseCases} SSE + ${x87Cases} x87 (+ x87-trans-diff); alignment-checked forms: ${aligned.size}`);
  assert.deepEqual(missing, [], `installed forms no differential spec runs:\n${missing.join('\n')}`);
  assert.deepEqual(stale, [], `EXCLUDED entries that are covered or not installed: ${stale.join(' ')}`);
  assert.deepEqual(alignedUntested, [], `alignment-checked forms without a misaligned ([rdx+1]) spec: ${alignedUntested.join(' ')}`);
  assert.ok(forms.size > 600 && x87.size > 100, 'the probe found the installed forms');
});

test('the SSE operand generators reach every MXCSR rounding mode, DAZ, FTZ and unmasked exceptions', () => {
  const rc = new Set<number>();
  let daz = 0, ftz = 0, unmasked = 0;
  for (let i = 0; i < 400; i++) {
    for (const im of [genF32(), genF64()]) {
      rc.add((im.mxcsr >> 13) & 3);
      if (im.mxcsr & 0x40) daz++;
      if (im.mxcsr & 0x8000) ftz++;
      if ((im.mxcsr & 0x1f80) !== 0x1f80) unmasked++;
    }
  }
  assert.deepEqual([...rc].sort(), [0, 1, 2, 3]);
  assert.ok(daz > 50 && ftz > 50 && unmasked > 50, `DAZ ${daz} FTZ ${ftz} unmasked ${unmasked} of 800`);
});

test('the x87 generators reach every PC and RC, unmasked exceptions, stack overflow/underflow and environment images', () => {
  const pc = new Set<number>(), rc = new Set<number>();
  let unmasked = 0;
  for (let i = 0; i < 400; i++) {
    const im = genImage(null);
    pc.add((im.fcw >> 8) & 3); rc.add((im.fcw >> 10) & 3);
    if ((im.fcw & 0x3f) !== 0x3f) unmasked++;
  }
  assert.deepEqual([...pc].sort(), [0, 2, 3]); // PC = 1 is reserved (SDM Vol. 1 §8.1.5.2)
  assert.deepEqual([...rc].sort(), [0, 1, 2, 3]);
  assert.ok(unmasked > 30, `unmasked ${unmasked} of 400`);
  // overflow: a push with every register full; underflow: an operand register empty
  const names = X87SPECS.map((s) => s.name);
  assert.ok(X87SPECS.some((s) => s.opts?.emptyPct === 0 && /^fld/.test(s.name)), 'a push onto a full stack');
  assert.ok(X87SPECS.some((s) => (s.opts?.emptyPct ?? 0) >= 50 && s.opts?.unmasked), 'unmasked underflow');
  for (const n of ['fnstenv', 'fnsave', 'fldenv', 'frstor', 'o16 fnstenv', 'o16 fnsave', 'o16 fldenv', 'o16 frstor']) assert.ok(names.includes(n), n);
});
