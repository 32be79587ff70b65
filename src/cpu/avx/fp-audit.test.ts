// Coverage audit of the AV-FP family's differential forms: every encoding fp.ts / fp2.ts
// install that runs (is not #UD) on an AVX2 CPU — each table slot, each VEX.pp, VEX.L,
// VEX.W, register and memory operand — must be covered by a form of avx/fp-diff-specs.ts
// (the list avx-diff.test.ts runs against the host; every form draws VEX.W at random), and
// every form's declared L and operand kinds must name encodings that run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setReg64 } from '../testing.js';
import { makeAvxCpu } from './avx-testing.js';
import { installAvxFp } from './fp.js';
import { installAvxFp2 } from './fp2.js';
import { FP_FORMS } from './fp-diff-specs.js';
import { installedSlots, forEachVexProbe, runsWithoutUd, assertSameEncodings } from './audit-testing.js';

const DATA = 0x20000;

test('every AV-FP encoding that runs is in the differential forms, and every form runs', () => {
  const t = makeAvxCpu();
  const runs = new Set<string>();
  let probes = 0;
  forEachVexProbe(installedSlots(installAvxFp, installAvxFp2), ({ map, op, l, mem, pp, b2 }) => {
    // ModRM: [rax] or (reg 0, r/m 1); imm8 0x10 (VBLENDVPS/PD: mask register 1)
    const code = [0xc4, 0xe0 | map, b2, op, mem ? 0x00 : 0xc1, 0x10];
    setReg64(t.cpu, 0, BigInt(DATA));
    t.cpu.fpu.mxcsr = 0x1f80;
    probes++;
    if (runsWithoutUd(t, code)) runs.add(`${map}.${pp}.${op.toString(16)}.L${l}.${mem ? 'm' : 'r'}`);
  });
  const forms = new Set<string>();
  for (const f of FP_FORMS) {
    // the operand kinds a form draws: fp-diff-specs.ts `mem` ('only' / 'never' / both)
    const kinds = f.memKind === 'only' ? ['m'] : f.memKind === 'never' ? ['r'] : ['m', 'r'];
    for (const l of f.ls) for (const k of kinds) forms.add(`${f.map}.${f.pp}.${f.op.toString(16)}.L${l}.${k}`);
  }
  assertSameEncodings(runs, forms);
  assert.ok(probes > 1000, `${probes} probes`);
});
