// Coverage audit of the AV-FP family's differential forms: every encoding fp.ts / fp2.ts
// install that runs (is not #UD) on an AVX2 CPU — each table slot, each VEX.pp, VEX.L,
// VEX.W, register and memory operand — must be covered by a form of avx/fp-diff-specs.ts
// (the list avx-diff.test.ts runs against the host; every form draws VEX.W at random), and
// every form's declared L and operand kinds must name encodings that run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Handler } from '../cpu.js';
import { run, setReg64 } from '../testing.js';
import { makeAvxCpu } from './avx-testing.js';
import { installAvxFp } from './fp.js';
import { installAvxFp2 } from './fp2.js';
import { FP_FORMS } from './fp-diff-specs.js';
import { UD } from '../regs.js';

const DATA = 0x20000;

test('every AV-FP encoding that runs is in the differential forms, and every form runs', () => {
  const mine: Handler[] = [];
  installAvxFp(mine); installAvxFp2(mine);
  const slots: number[] = [];
  mine.forEach((h, i) => { if (h !== undefined) slots.push(i); });
  const t = makeAvxCpu();
  const runs = new Set<string>();
  let probes = 0;
  for (const s of slots) {
    const map = (s >> 8) - 3, op = s & 0xff;
    for (let pp = 0; pp < 4; pp++) {
      for (const l of [0, 1]) {
        for (const w of [0, 1]) {
          for (const mem of [false, true]) {
            const b2 = (w << 7) | (15 << 3) | (l << 2) | pp;
            // ModRM: [rax] or (reg 0, r/m 1); imm8 0x10 (VBLENDVPS/PD: mask register 1)
            const code = [0xc4, 0xe0 | map, b2, op, mem ? 0x00 : 0xc1, 0x10];
            setReg64(t.cpu, 0, BigInt(DATA));
            t.cpu.fpu.mxcsr = 0x1f80;
            const before = t.exceptions.length;
            run(t, code, 1);
            probes++;
            const ud = t.exceptions.length !== before && t.exceptions[t.exceptions.length - 1]![0] === UD;
            if (!ud) runs.add(`${map}.${pp}.${op.toString(16)}.L${l}.${mem ? 'm' : 'r'}`);
          }
        }
      }
    }
  }
  const forms = new Set<string>();
  for (const f of FP_FORMS) {
    // the operand kinds a form draws: fp-diff-specs.ts `mem` ('only' / 'never' / both)
    const kinds = f.memKind === 'only' ? ['m'] : f.memKind === 'never' ? ['r'] : ['m', 'r'];
    for (const l of f.ls) for (const k of kinds) forms.add(`${f.map}.${f.pp}.${f.op.toString(16)}.L${l}.${k}`);
  }
  const missing = [...runs].filter((k) => !forms.has(k));
  const stale = [...forms].filter((k) => !runs.has(k));
  assert.deepEqual(missing, [], 'encodings that run but no differential form covers');
  assert.deepEqual(stale, [], 'differential forms naming encodings that do not run');
  assert.ok(probes > 1000, `${probes} probes`);
});
