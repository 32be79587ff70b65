/**
 * Where the run loop meets the block translator: decides whether the instruction at RIP may
 * start a translated block, translates blocks once they are hot, and runs them.
 *
 * A block runs only when it can honour everything the interpreter checks between
 * instructions (docs/cpu-design.md "The block translator"): no interrupt shadow, TF/RF
 * clear, no armed instruction or data breakpoints and no held debug traps, outside VMX
 * non-root operation (intercepts, MTF and the preemption timer stay with the interpreter),
 * no alignment checking, no pending event, 32- or 64-bit code, and the whole block fits in
 * the remaining instruction budget. Anything else runs in the interpreter.
 */
import type { Cpu } from '../cpu.js';
import { TF, RF, AC } from '../regs.js';
import { DC_MASK, DC_BITS } from '../decode-cache.js';
import { compileBlock } from './compile.js';

/** Runs of a block's first instruction before it is translated (code run once stays interpreted). */
const HOT = 8;

/** The translator is off unless NESTVISOR_JIT=1 (a switch for debugging and before/after figures). */
export const JIT_DEFAULT = typeof process !== 'undefined' && process.env['NESTVISOR_JIT'] === '1';

/**
 * Runs a translated block starting at RIP (RAM index fp of its first byte) when one exists
 * and may run now; returns false when the interpreter must execute the next instruction.
 */
export function tryBlock(cpu: Cpu, fp: number, rip: number, end: number): boolean {
  const mode = cpu.modeId;
  if (mode === 0 || cpu.inhibitIrq || (cpu.flags & (TF | RF)) !== 0 || cpu.codeBreakpoints !== 0 || cpu.dataBreakpoints ||
    cpu.dbHeld !== 0 || cpu.irqPending || cpu.nmiPending || cpu.vmx.nonRoot || (cpu.acUser && (cpu.flags & AC) !== 0)) return false;
  const dc = cpu.dc;
  const slot = fp & DC_MASK;
  const tag = ((fp >>> DC_BITS) << 2) | mode;
  let c = dc.blk[slot] ?? null;
  if (dc.blkTag[slot] !== tag) {
    if (++dc.blkHits[slot]! < HOT) return false;
    const page = fp >>> 12;
    if (!dc.cacheable(page)) { dc.blkHits[slot] = 0; return false; }
    const made = compileBlock(cpu, dc, fp);
    // the page now holds translated code: a write to it drops the block (decode-cache.ts)
    cpu.mem.codePages[page] = 1;
    dc.blk[slot] = made;
    dc.blkTag[slot] = tag;
    if (made === null) return false;
    c = made;
  } else if (c === null) return false;
  if (cpu.instructionCount + c.count > end) return false;
  if (mode !== 2 && rip + c.bytes > 0x100000000) return false; // EIP would wrap inside the block
  c.fn(cpu, rip, end);
  return true;
}
