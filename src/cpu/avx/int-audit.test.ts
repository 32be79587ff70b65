// Coverage audit of the AV-INT family's differential forms: every encoding the family
// installs that runs (is not #UD) on an AVX2 CPU — each table slot of avx/int.ts and
// avx/int2.ts, each VEX.pp, ModRM.reg of the shift groups, VEX.L, VEX.W, register and
// memory operand — must be covered by a form of avx/int-diff-forms.ts (the list the
// differential test avx-diff.test.ts runs against the host), and every such form must name
// an encoding that runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setReg64 } from '../testing.js';
import { makeAvxCpu } from './avx-testing.js';
import { installAvxInt } from './int.js';
import { installAvxInt2 } from './int2.js';
import { INT_FORMS } from './int-diff-forms.js';
import { installedSlots, forEachVexProbe, runsWithoutUd, assertSameEncodings } from './audit-testing.js';

const DATA = 0x20000;
const GROUPS = new Set([0x71, 0x72, 0x73]);

test('every AV-INT encoding that runs is in the differential forms, and every form runs', () => {
  const t = makeAvxCpu();
  const runs = new Set<string>();
  let probes = 0;
  forEachVexProbe(installedSlots(installAvxInt, installAvxInt2), ({ map, op, pp, mem, b2 }) => {
    for (let reg = 0; reg < 8; reg++) {
      if (reg !== 0 && !(map === 1 && GROUPS.has(op))) continue;
      // ModRM: [rax] or register 1; imm8 0x10 (VPBLENDVB: mask register 1)
      const code = [0xc4, 0xe0 | map, b2, op, mem ? reg << 3 : 0xc1 | (reg << 3), 0x10];
      setReg64(t.cpu, 0, BigInt(DATA)); setReg64(t.cpu, 7, BigInt(DATA));
      probes++;
      if (runsWithoutUd(t, code)) runs.add(`${map}.${pp}.${op.toString(16)}${GROUPS.has(op) && map === 1 ? '/' + reg : ''}`);
    }
  });
  const forms = new Set(INT_FORMS.map((f) => `${f.map}.${f.pp}.${f.op.toString(16)}${f.sub !== undefined ? '/' + f.sub : ''}`));
  assertSameEncodings(runs, forms);
  assert.equal(runs.size, INT_FORMS.length);
  assert.ok(probes > 1000, `${probes} probes`);
});
