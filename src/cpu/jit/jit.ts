/**
 * Where the run loop meets the block translator: decides whether the instruction at RIP may
 * start a translated block, translates blocks once they are hot, and runs them.
 *
 * A block runs only when it can honour everything the interpreter checks between
 * instructions (docs/cpu-design.md "The block translator"): no interrupt shadow, TF/RF
 * clear, no armed instruction or data breakpoints and no held debug traps, no alignment
 * checking, no pending event, 32- or 64-bit code, and the whole block fits in the remaining
 * instruction budget. Anything else runs in the interpreter.
 *
 * VMX non-root operation (L2): blocks run there too, since no instruction a block accepts
 * can cause a VM exit by itself (SDM Vol. 3C §25.1.2-§25.1.3: none is on the list of
 * instructions that exit unconditionally or by an execution control; PAUSE, the one
 * candidate among NOP forms, ends decoding in decode.ts, as do the exiting forms of the
 * vector maps: 0F 78/79, 0F C7, 0F 38 80-82 and the prefixed/register forms of group 15,
 * decode.ts header). What remains is checked here:
 * - exits between instructions (MTF §25.5.2, VMX-preemption timer §25.5.1, interrupt and
 *   NMI windows §25.2, INIT/SIPI): no block while any is armed — events.ts keeps
 *   irqPending set for them anyway, inNonRootAllowed says it explicitly;
 * - exits in the middle of an instruction through its memory accesses (EPT violation and
 *   misconfiguration, §28.3.3): ept-glue.ts defers them while cpu.vmx.inBlock, so that the
 *   block's catch clause first puts RIP, startRip and the lazy flags at the faulting
 *   instruction, then the exit saves exactly the guest state the interpreter would;
 * - exceptions go to the run loop as in root operation, which applies the exception bitmap.
 */
import type { Cpu } from '../cpu.js';
import { TF, RF, AC, CS } from '../regs.js';
import { DC_MASK, DC_BITS } from '../decode-cache.js';
import { compileBlock, type Compiled } from './compile.js';
import { PIN_PREEMPT_TIMER, PROC_INTR_WINDOW, PROC_NMI_WINDOW, PROC_MTF } from '../vmx/capabilities.js';
import { MTF_INJECTED, ACT_ACTIVE } from '../vmx/vmx-state.js';
import { EPT_EXIT_DEFERRED, takeDeferredEptExit } from '../vmx/ept-glue.js';

/** Runs of a block's first instruction before it is translated (code run once stays interpreted). */
const HOT = 8;

/** The translator is on unless NESTVISOR_JIT=0 (a switch for debugging and before/after figures). */
export const JIT_DEFAULT = typeof process === 'undefined' || process.env['NESTVISOR_JIT'] !== '0';

/**
 * Runs a translated block starting at RIP (RAM index fp of its first byte) when one exists
 * and may run now, then the blocks that follow it while they are translated (chaining: the
 * run loop's per-instruction checks are not needed between blocks, since nothing a block
 * runs can arm a breakpoint, set TF, open an interrupt shadow or change the mode; pending
 * events and stop requests end the chain). Returns false when the interpreter must execute
 * the next instruction.
 */
export function tryBlock(cpu: Cpu, fp: number, rip: number, end: number): boolean {
  const mode = cpu.modeId;
  if (mode === 0 || mode === 3 || cpu.inhibitIrq || (cpu.flags & (TF | RF)) !== 0 || cpu.codeBreakpoints !== 0 || cpu.dataBreakpoints ||
    cpu.dbHeld !== 0 || cpu.irqPending || cpu.nmiPending || (cpu.acUser && (cpu.flags & AC) !== 0)) return false;
  const dc = cpu.dc;
  let slot = fp & DC_MASK;
  let tag = ((fp >>> DC_BITS) << 2) | mode;
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
  const st = cpu.vmx;
  if (!st.nonRoot) return runChain(cpu, c, rip, end);
  if (!inNonRootAllowed(cpu)) return false;
  st.inBlock = true;
  try {
    return runChain(cpu, c, rip, end);
  } catch (e) {
    // the block has put RIP/flags at the faulting instruction: now the exit (never returns)
    if (e === EPT_EXIT_DEFERRED) takeDeferredEptExit(cpu);
    throw e;
  } finally {
    st.inBlock = false;
  }
}

/**
 * Whether nothing in VMX non-root operation needs a look between instructions (see the
 * header): no MTF (also the one VM entry injects), no preemption timer, no interrupt or NMI
 * window exiting, no INIT or SIPI waiting, the guest active.
 */
function inNonRootAllowed(cpu: Cpu): boolean {
  const st = cpu.vmx;
  return (st.proc & (PROC_MTF | PROC_INTR_WINDOW | PROC_NMI_WINDOW)) === 0 && (st.pin & PIN_PREEMPT_TIMER) === 0 &&
    st.mtfArmedAt !== MTF_INJECTED && !st.initPending && st.sipiVector < 0 && st.activity === ACT_ACTIVE;
}

/** Runs block c at RIP rip, then the translated blocks that follow it (see tryBlock). */
function runChain(cpu: Cpu, c: Compiled, rip: number, end: number): boolean {
  const mode = cpu.modeId;
  const dc = cpu.dc;
  let slot: number, tag: number, fp: number;
  for (;;) {
    c.fn(cpu, rip, end);
    if (cpu.stopRequested || cpu.irqPending || cpu.nmiPending) return true;
    // the next block, when it is translated and its code page is the fetch window
    rip = cpu.rip;
    let off = cpu.segBase[CS]! + rip - cpu.fetchPage;
    if (!(off >= 0 && off < 4096)) {
      if (!cpu.refillFetch(rip)) return true;
      off = cpu.segBase[CS]! + rip - cpu.fetchPage;
    }
    fp = cpu.fetchHost + off;
    slot = fp & DC_MASK;
    tag = ((fp >>> DC_BITS) << 2) | mode;
    if (dc.blkTag[slot] !== tag) return true;
    const next = dc.blk[slot] ?? null;
    if (next === null || cpu.instructionCount + next.count > end) return true;
    if (mode !== 2 && rip + next.bytes > 0x100000000) return true;
    c = next;
  }
}
