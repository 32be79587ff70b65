/**
 * The decode cache's packed prefix word (run-loop.ts packPrefixes) for an instruction of the
 * translator's static decoder: a block that runs an interpreter handler, or sets the fields a
 * handler's helper reads, reloads the Cpu's prefix fields from it when they differ
 * (`cpu.curPfx !== p` → loadPrefixes), so nothing runs with a stale prefix or VEX state.
 */
import type { Insn } from './decode.js';

/** osz | asz << 4 | REX << 8 | (segOvr + 1) << 16 | rep << 19 | LOCK << 21 | 66 << 22 | VEX << 23 | VEX.L << 24 | VEX.vvvv << 25. */
export function packPrefixes(ins: Insn): number {
  return ins.osz | (ins.asz << 4) | (ins.rex << 8) | ((ins.segOvr + 1) << 16) | (ins.rep << 19) |
    (ins.lock ? 1 << 21 : 0) | (ins.pfx66 ? 1 << 22 : 0) |
    (ins.vex ? (1 << 23) | (ins.vexL << 24) | (ins.vexV << 25) : 0);
}
