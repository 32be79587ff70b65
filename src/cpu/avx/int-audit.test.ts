// Coverage audit of the AV-INT family's differential forms: every encoding the family
// installs that runs (is not #UD) on an AVX2 CPU — each table slot of avx/int.ts and
// avx/int2.ts, each VEX.pp, ModRM.reg of the shift groups, VEX.L, VEX.W, register and
// memory operand — must be covered by a form of avx/int-diff-forms.ts (the list the
// differential test avx-diff.test.ts runs against the host), and every such form must name
// an encoding that runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Handler } from '../cpu.js';
import { run, setReg64 } from '../testing.js';
import { makeAvxCpu } from './avx-testing.js';
import { installAvxInt } from './int.js';
import { installAvxInt2 } from './int2.js';
import { INT_FORMS } from './int-diff-forms.js';
import { UD } from '../regs.js';

const DATA = 0x20000;
const GROUPS = new Set([0x71, 0x72, 0x73]);

test('every AV-INT encoding that runs is in the differential forms, and every form runs', () => {
  const mine: Handler[] = [];
  installAvxInt(mine); installAvxInt2(mine);
  const slots: number[] = [];
  mine.forEach((h, i) => { if (h !== undefined) slots.push(i); });
  const t = makeAvxCpu();
  const runs = new Set<string>();
  let probes = 0;
  for (const s of slots) {
    const map = (s >> 8) - 3, op = s & 0xff;
    for (let pp = 0; pp < 4; pp++) {
      for (let reg = 0; reg < 8; reg++) {
        if (reg !== 0 && !(map === 1 && GROUPS.has(op))) continue;
        for (const l of [0, 1]) {
          for (const w of [0, 1]) {
            for (const mem of [false, true]) {
              const b2 = (w << 7) | (15 << 3) | (l << 2) | pp;
              // ModRM: [rax] or register 1; imm8 0x10 (VPBLENDVB: mask register 1)
              const code = [0xc4, 0xe0 | map, b2, op, mem ? reg << 3 : 0xc1 | (reg << 3), 0x10];
              setReg64(t.cpu, 0, BigInt(DATA)); setReg64(t.cpu, 7, BigInt(DATA));
              const before = t.exceptions.length;
              run(t, code, 1);
              probes++;
              const ud = t.exceptions.length !== before && t.exceptions[t.exceptions.length - 1]![0] === UD;
              if (!ud) runs.add(`${map}.${pp}.${op.toString(16)}${GROUPS.has(op) && map === 1 ? '/' + reg : ''}`);
            }
          }
        }
      }
    }
  }
  const forms = new Set(INT_FORMS.map((f) => `${f.map}.${f.pp}.${f.op.toString(16)}${f.sub !== undefined ? '/' + f.sub : ''}`));
  const missing = [...runs].filter((k) => !forms.has(k));
  const stale = [...forms].filter((k) => !runs.has(k));
  assert.deepEqual(missing, [], 'encodings that run but no differential form covers');
  assert.deepEqual(stale, [], 'differential forms naming encodings that do not run');
  assert.equal(runs.size, INT_FORMS.length);
  assert.ok(probes > 1000, `${probes} probes`);
});
