/**
 * Translator emitters for near control transfers, which end a block: Jcc (70-7F, 0F 80-8F),
 * JMP rel (EB/E9), and in 64-bit mode CALL rel32 (E8) and RET (C3), plus PUSH/POP of a
 * register in 64-bit mode (50-5F). Semantics as ops/control.ts and ops/stack.ts (SDM Vol. 2
 * Jcc/JMP/CALL/RET/PUSH/POP): the target is checked (canonical in 64-bit mode, the CS limit
 * elsewhere) before anything is written, the stack is checked for canonical addresses (#SS).
 * A taken branch back to the block's first instruction loops inside the block (after the
 * budget, interrupt and code-write checks the run loop would make between instructions).
 */
import { CS, SS_ } from '../regs.js';
import type { Builder } from './builder.js';
import type { Insn } from './decode.js';

/** Emits `const t = <checked target>` for a relative branch and returns t. */
function target(b: Builder, ins: Insn): string {
  const t = b.t('tg');
  const rel = ins.imm;
  if (b.code64) {
    b.emit(`const ${t} = ${b.rip(b.nextOff)} + ${rel};`);
    b.emit(`if (${t} < -0x800000000000 || ${t} >= 0x800000000000) cpu.gp(0);`);
  } else {
    b.emit(`const ${t} = (${b.rip(b.nextOff)} + ${rel}) >>> 0;`);
    b.emit(`if (${t} > cpu.segLimit[${CS}]) cpu.gp(0);`);
  }
  return t;
}

/** The block's own start as a branch target: the loop continues in place. */
function loopsToStart(b: Builder, ins: Insn): boolean {
  return b.nextOff + ins.imm === b.startOff;
}

/** Taken branch: to the block start (loop) or out. `k + 1` instructions retired. */
function taken(b: Builder, ins: Insn, t: string): string {
  if (loopsToStart(b, ins)) {
    b.loops = true;
    const n = b.k + 1;
    // the interpreter would check, before the next instruction, the budget, pending
    // events and stop requests; code writes were checked after each store
    return `{ ic += ${n}; if (ic + ${n} > end || cpu.irqPending || cpu.nmiPending || cpu.stopRequested || dc.invalidations !== inv0) { ${b.syncFlagsStmt()} cpu.rip = ${t}; cpu.instructionCount = ic; return; } continue; }`;
  }
  return b.exitStmt(t, b.k + 1);
}

export function emitBranch(b: Builder, ins: Insn): boolean {
  const op = ins.opcode;
  // 16-bit operand size truncates IP: left to the interpreter
  if (ins.osz === 2 || ins.lock) return false;
  if ((op >= 0x70 && op < 0x80) || (op >= 0x180 && op < 0x190)) {
    const c = b.cond(op & 0xf);
    const cv = b.t('cc');
    b.emit(`const ${cv} = ${c};`);
    // the target check only matters when the branch is taken
    b.emit(`if (${cv}) {`);
    if (b.code64 && loopsToStart(b, ins)) {
      // back to the block's own first instruction, whose RIP is canonical: nothing to check
      b.emit(taken(b, ins, 'rip0'));
    } else {
      b.retireBefore();
      const t = target(b, ins);
      b.emit(taken(b, ins, t));
    }
    b.emit('}');
    b.emit(b.exitStmt(b.rip(b.nextOff), b.k + 1));
    b.ended = true;
    return true;
  }
  if (op === 0xeb || op === 0xe9) {
    b.retireBefore();
    const t = target(b, ins);
    b.emit(taken(b, ins, t));
    b.ended = true;
    return true;
  }
  if (!b.code64) return false;
  if (op === 0xe8) {
    b.retireBefore();
    const t = target(b, ins);
    push64(b, `(${b.rip(b.nextOff)} | 0)`, `(Math.floor(${b.rip(b.nextOff)} / 4294967296) | 0)`);
    b.emit(b.exitStmt(t, b.k + 1));
    b.ended = true;
    return true;
  }
  if (op === 0xc3) {
    b.retireBefore();
    const sp = b.t('sp');
    b.emit(`const ${sp} = r[9] * 4294967296 + (r[8] >>> 0);`);
    b.emit(`if (${sp} < -0x800000000000 || ${sp} + 7 >= 0x800000000000) cpu.fault(${SS_}, 0, true);`);
    const lo = b.t('rl'), t = b.t('tg');
    b.emit(`const ${lo} = cpu.rd64(${sp}), ${t} = cpu.hi * 4294967296 + (${lo} >>> 0);`);
    b.emit(`if (${t} < -0x800000000000 || ${t} >= 0x800000000000) cpu.gp(0);`);
    b.emit(`r[8] = (${sp} + 8) | 0; r[9] = Math.floor((${sp} + 8) / 4294967296) | 0;`);
    b.emit(b.exitStmt(t, b.k + 1));
    b.ended = true;
    return true;
  }
  if (op >= 0x50 && op < 0x58) {
    const n = (op & 7) | ((ins.rex & 1) << 3);
    b.retireBefore();
    const lo = b.t('pv'), hi = b.t('ph');
    b.emit(`const ${lo} = r[${n * 2}], ${hi} = r[${n * 2 + 1}];`);
    push64(b, lo, hi);
    b.checkAfter();
    return true;
  }
  if (op >= 0x58 && op < 0x60) {
    const n = (op & 7) | ((ins.rex & 1) << 3);
    b.retireBefore();
    const sp = b.t('sp');
    b.emit(`const ${sp} = r[9] * 4294967296 + (r[8] >>> 0);`);
    b.emit(`if (${sp} < -0x800000000000 || ${sp} + 7 >= 0x800000000000) cpu.fault(${SS_}, 0, true);`);
    const lo = b.t('pl');
    b.emit(`const ${lo} = cpu.rd64(${sp}), ${lo}h = cpu.hi;`);
    // RSP is incremented first: POP RSP ends with the popped value (SDM POP)
    b.emit(`r[8] = (${sp} + 8) | 0; r[9] = Math.floor((${sp} + 8) / 4294967296) | 0;`);
    b.emit(`r[${n * 2}] = ${lo}; r[${n * 2 + 1}] = ${lo}h;`);
    b.checkAfter();
    return true;
  }
  return false;
}

/** PUSH of a 64-bit value (lo/hi expressions) in 64-bit mode (Cpu.push with stackSize 8). */
function push64(b: Builder, lo: string, hi: string): void {
  const sp = b.t('sp');
  b.emit(`const ${sp} = r[9] * 4294967296 + (r[8] >>> 0) - 8;`);
  b.emit(`if (${sp} < -0x800000000000 || ${sp} + 7 >= 0x800000000000) cpu.fault(${SS_}, 0, true);`);
  b.emit(`cpu.wr64(${sp}, ${lo}, ${hi});`);
  b.emit(`r[8] = ${sp} | 0; r[9] = Math.floor(${sp} / 4294967296) | 0;`);
}
