/**
 * Test support of the coverage audits of the VEX differential forms (fp-audit.test.ts,
 * int-audit.test.ts): which table slots a family installs, whether a VEX encoding runs
 * (raises no #UD) on the test CPU, and the two-way check between the encodings that run and
 * those the differential forms name. Test-only: may allocate.
 */
import assert from 'node:assert/strict';
import type { Handler } from '../cpu.js';
import { run, type TestCpu } from '../testing.js';
import { UD } from '../regs.js';

/** The slots (VEX map + 3 << 8 | opcode) the installers fill. */
export function installedSlots(...installs: Array<(table: Handler[]) => void>): number[] {
  const mine: Handler[] = [];
  for (const install of installs) install(mine);
  const slots: number[] = [];
  mine.forEach((h, i) => { if (h !== undefined) slots.push(i); });
  return slots;
}

/** One C4 probe of a slot: its map and opcode, VEX.pp, VEX.L, VEX.W, memory or register operand, and VEX byte 2 (vvvv = 1111b). */
export interface VexProbe { map: number; op: number; pp: number; l: number; w: number; mem: boolean; b2: number }

/** Visits every VEX.pp × L × W × (register, memory) probe of each slot. */
export function forEachVexProbe(slots: number[], visit: (p: VexProbe) => void): void {
  for (const s of slots) {
    const map = (s >> 8) - 3, op = s & 0xff;
    for (let pp = 0; pp < 4; pp++) {
      for (const l of [0, 1]) {
        for (const w of [0, 1]) {
          for (const mem of [false, true]) visit({ map, op, pp, l, w, mem, b2: (w << 7) | (15 << 3) | (l << 2) | pp });
        }
      }
    }
  }
}

/** Runs `code` (one instruction) at CODE; true unless it raised #UD. */
export function runsWithoutUd(t: TestCpu, code: number[]): boolean {
  const before = t.exceptions.length;
  run(t, code, 1);
  return !(t.exceptions.length !== before && t.exceptions[t.exceptions.length - 1]![0] === UD);
}

/** Every encoding that runs is named by a differential form, and every form names one that runs. */
export function assertSameEncodings(runs: Set<string>, forms: Set<string>): void {
  const missing = [...runs].filter((k) => !forms.has(k));
  const stale = [...forms].filter((k) => !runs.has(k));
  assert.deepEqual(missing, [], 'encodings that run but no differential form covers');
  assert.deepEqual(stale, [], 'differential forms naming encodings that do not run');
}
