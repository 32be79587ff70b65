/**
 * The block translator's driver: decodes a straight-line run of instructions from one RAM
 * page (decode.ts), emits each one natively when an emitter knows it (emit-*.ts) or as a
 * call of the interpreter's own handler otherwise (SSE, x87 and VEX instructions included:
 * their run-time checks stay in the handlers), and turns the source into one JS
 * function (`new Function`, compiled once per block; docs/cpu-design.md "The block
 * translator"). A block ends after a control transfer, before an instruction the decoder
 * does not accept, at the end of the page, or after MAX_INSNS instructions.
 */
import type { Cpu, Handler } from '../cpu.js';
import type { DecodeCache } from '../decode-cache.js';
import { STOP } from '../fault.js';
import { Insn, decodeInsn } from './decode.js';
import { Builder } from './builder.js';
import { emitAlu } from './emit-alu.js';
import { emitMov } from './emit-mov.js';
import { emitBranch } from './emit-branch.js';
import { emitCond } from './emit-cond.js';
import { emitSse } from './emit-sse.js';
import { emitShift } from './emit-shift.js';
import { packPrefixes } from './prefixes.js';

/** A translated block: runs from rip0; `end` = run()'s instruction-count limit. */
export type BlockFn = (cpu: Cpu, rip0: number, end: number) => void;

/** Longest block, in instructions (the budget check happens once per block). */
export const MAX_INSNS = 48;

/** Opcodes whose interpreter handlers transfer control: they end a block. */
function isBranch(op: number, reg: number): boolean {
  return (op >= 0x70 && op < 0x80) || (op >= 0x180 && op < 0x190) || op === 0xe8 || op === 0xe9 || op === 0xeb ||
    op === 0xc2 || op === 0xc3 || (op === 0xff && (reg === 2 || reg === 4));
}

export interface Compiled {
  fn: BlockFn;
  /** Instructions in the block (run() enters it only when they all fit in the budget). */
  count: number;
  /** Bytes from the first instruction to the end of the last (32-bit EIP must not wrap). */
  bytes: number;
  /** The generated source, kept only with NESTVISOR_JIT_SOURCE=1 (debugging; blocks are many). */
  source: string;
}

const insn = new Insn();
const KEEP_SOURCE = typeof process !== 'undefined' && process.env['NESTVISOR_JIT_SOURCE'] === '1';

/**
 * Translates the block whose first instruction is at RAM index `ramIndex` for the CPU's
 * current code mode; null when its first instruction is not one the translator accepts.
 */
export function compileBlock(cpu: Cpu, dc: DecodeCache, ramIndex: number): Compiled | null {
  const page = ramIndex - (ramIndex % 4096);
  const startOff = ramIndex - page;
  const code64 = cpu.code64;
  const b = new Builder(code64, page);
  b.startOff = startOff;
  const table: Handler[] = cpu.table;
  let off = startOff;
  let n = 0;
  const body: string[] = [];
  while (n < MAX_INSNS && !b.ended) {
    if (!decodeInsn(cpu.ram, page, off, code64, insn)) break;
    b.k = n;
    b.nextOff = off + insn.len;
    b.offs.push(off);
    b.out.length = 0;
    const branch = isBranch(insn.opcode, insn.reg & 7) && insn.hasModrm === (insn.opcode === 0xff);
    const native = emitAlu(b, insn) || emitMov(b, insn) || emitCond(b, insn) || emitBranch(b, insn) || emitSse(b, insn) || emitShift(b, insn);
    if (!native) emitHandlerCall(b, insn, table[insn.opcode]!, page, branch);
    if (branch) b.ended = true;
    body.push(`/* ${n}: +${off - startOff} op ${insn.opcode.toString(16)} ${native ? 'native' : 'handler'} */ {`, ...b.out, '}');
    off += insn.len;
    n++;
  }
  if (n === 0) return null;
  if (!b.ended) { b.nextOff = off; b.k = n - 1; body.push(b.exitStmt(b.rip(off), n)); }
  b.offs.push(off);
  const src = [
    'return function block(cpu, rip0, end) {',
    '  const r = cpu.r;',
    '  let ic = cpu.instructionCount;',
    '  const inv0 = dc.invalidations;',
    '  let fo = 0, fs = 0, fr = 0, fa = 0, fb = 0, frh = 0, fah = 0, fbh = 0, fc = 0, fd = false;',
    '  try {',
    '    for (;;) {',
    ...body.map((l) => '      ' + l),
    '    }',
    '  } catch (e) {',
    // a VM exit (STOP) has already saved guest state and loaded the host's: nothing to put back
    '    if (e === STOP) throw e;',
    // the faulting instruction is the one whose index was last stored (builder contract)
    '    const k = cpu.instructionCount - ic;',
    '    cpu.rip = cpu.startRip = rip0 + OFFS[k] - OFFS[0];',
    '    if (fd) { cpu.lfOp = fo; cpu.lfSize = fs; cpu.lfRes = fr; cpu.lfA = fa; cpu.lfB = fb; cpu.lfResHi = frh; cpu.lfAHi = fah; cpu.lfBHi = fbh; cpu.lfCin = fc; }',
    '    throw e;',
    '  }',
    '};',
  ].join('\n');
  const names = ['dc', 'OFFS', 'STOP', ...b.constNames];
  const values: unknown[] = [dc, Int32Array.from(b.offs), STOP, ...b.consts];
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const factory = new Function(...names, src) as (...a: unknown[]) => BlockFn;
  return { fn: factory(...values), count: n, bytes: off - startOff, source: KEEP_SOURCE ? src : '' };
}

/**
 * An instruction without a native emitter runs its interpreter handler, with the front
 * end's state set as the run loop would set it: startRip/RIP, the fetch cursor just past
 * prefixes and opcode (the handler fetches ModRM and immediates itself), the prefix fields.
 */
function emitHandlerCall(b: Builder, ins: Insn, h: Handler, page: number, branch: boolean): void {
  const name = b.constant(`h${ins.opcode.toString(16)}`, h);
  const p = packPrefixes(ins);
  b.flagsToCpu();
  b.retireBefore();
  b.emit(`cpu.startRip = ${b.rip(ins.off)}; cpu.rip = ${b.rip(ins.off)} + ${ins.pfxLen};`);
  // the fetch window ends at the page end or the 15th byte, as in the run loop (SDM Vol. 2 §2.3.11)
  b.emit(`cpu.fp = ${page + ins.off + ins.pfxLen}; cpu.fpEnd = ${Math.min(page + 4096, page + ins.off + 15)}; cpu.dcReplay = false;`);
  b.emit(`if (cpu.curPfx !== ${p}) cpu.loadPrefixes(${p});`);
  b.emit(`cpu.opcode = ${ins.opcode}; ${name}(cpu);`);
  b.flagsClobbered();
  if (branch) { b.emit(`{ cpu.instructionCount = ic + ${b.k + 1}; return; }`); return; }
  b.checkAfter();
}

