/**
 * The block builder: the JavaScript source of one translated block while it is written,
 * with the helpers every emitter uses — register and memory operands, lazy flags held in
 * local variables, the retire/exit protocol — so that the emitters (emit-*.ts) only say
 * what an instruction computes.
 *
 * Contract of a translated block (docs/cpu-design.md "The block translator"):
 * - `fn(cpu, rip0, end)`: rip0 is the RIP of its first instruction (the block is keyed by
 *   the RAM index of its code, so RIP-relative operands and branch targets are computed from
 *   rip0 at run time); `end` is run()'s instruction-count limit.
 * - Before any instruction that can fault or observe the instruction count, it stores
 *   `cpu.instructionCount = ic + k` (k = the instruction's index); the catch clause turns
 *   that back into k, so a fault leaves RIP/startRip at the faulting instruction, earlier
 *   instructions retired and the flags as they were after instruction k - 1.
 * - Lazy flags live in locals (fo fs fr fa fb frh fah fbh fc) while `fd` is true; they are
 *   written back to the Cpu's lazy-flag fields at every exit, in the catch clause and before
 *   any interpreter handler runs. A flag reader whose producer is known at compile time
 *   tests the locals directly (cmp + jcc becomes one JS comparison).
 */
import { SS, FS, GS, SS_, GP } from '../regs.js';
import { LF_NONE, LF_ADD, LF_SUB, LF_LOGIC, LF_INC, LF_DEC } from '../cpu.js';
import { NO_REG, type Insn } from './decode.js';

/** Where the current flags are, as known at compile time. */
const FD_DYN = 0, FD_LOCAL = 1, FD_CPU = 2;

export class Builder {
  readonly out: string[] = [];
  readonly consts: unknown[] = [];
  readonly constNames: string[] = [];
  /** Index of the instruction being emitted, and the offsets (in the page) of every instruction. */
  k = 0;
  readonly offs: number[] = [];
  /** Offset in the page of the instruction after the current one. */
  nextOff = 0;
  /** Offset of the block's first instruction (a branch there loops inside the block). */
  startOff = 0;
  /** Statically known last lazy-flag writer in this pass through the block (LF_NONE = unknown). */
  lastOp = LF_NONE;
  lastSize = 4;
  private fd = FD_DYN;
  /** The block loops back to its start: set by a branch emitter. */
  loops = false;
  /** Set by an emitter that ended the block (branch): no fall-through exit needed. */
  ended = false;
  private tmp = 0;

  constructor(readonly code64: boolean, readonly pageBase: number) {}

  emit(s: string): void { this.out.push(s); }

  /** A fresh local name (instructions are emitted in their own `{}` scope; names stay unique anyway). */
  t(prefix = 't'): string { return `${prefix}${this.tmp++}`; }

  /** A constant (handler, table) referenced by the generated code. */
  constant(name: string, v: unknown): string {
    const i = this.constNames.indexOf(name);
    if (i >= 0) return name;
    this.constNames.push(name); this.consts.push(v);
    return name;
  }

  // ---- RIP ----------------------------------------------------------------------------

  /** RIP of a page offset of this block, as an expression. */
  rip(off: number): string { return off === 0 ? 'rip0' : `(rip0 + ${off - this.startOff})`; }

  /** Marks the current instruction as able to fault or observe the count (see the contract above). */
  retireBefore(): void { this.emit(`cpu.instructionCount = ic + ${this.k};`); }

  // ---- flags ----------------------------------------------------------------------------

  /**
   * Records a lazy-flag result in the locals (Cpu.setLazy semantics; size 8 uses the Hi
   * halves; cin = carry in for ADC/SBB, old CF for INC/DEC).
   */
  setFlags(op: number, size: number, res: string, a: string, b: string, resHi = '0', aHi = '0', bHi = '0', cin = ''): void {
    let s = `fo = ${op}; fs = ${size}; fr = ${res}; fa = ${a}; fb = ${b};`;
    if (size === 8) s += ` frh = ${resHi}; fah = ${aHi}; fbh = ${bHi};`;
    if (cin !== '') s += ` fc = ${cin};`;
    if (this.fd !== FD_LOCAL) s += ' fd = true;';
    this.emit(s);
    this.fd = FD_LOCAL;
    this.lastOp = op; this.lastSize = size;
  }

  /** Statement that writes the flag locals back to the Cpu when they hold the current flags. */
  syncFlagsStmt(): string {
    const body = 'cpu.lfOp = fo; cpu.lfSize = fs; cpu.lfRes = fr; cpu.lfA = fa; cpu.lfB = fb; cpu.lfResHi = frh; cpu.lfAHi = fah; cpu.lfBHi = fbh; cpu.lfCin = fc;';
    if (this.fd === FD_CPU) return '';
    if (this.fd === FD_LOCAL) return body;
    return `if (fd) { ${body} }`;
  }

  /** Before an interpreter handler or cpu.cond(): the Cpu's fields become the truth. */
  flagsToCpu(): void {
    const s = this.syncFlagsStmt();
    if (s !== '') this.emit(`${s} fd = false;`);
    this.fd = FD_CPU;
  }

  /** After an interpreter handler that may have written flags: the producer is unknown again. */
  flagsClobbered(): void { this.fd = FD_CPU; this.lastOp = LF_NONE; }

  /** A loop back-edge: the next pass starts with whatever the locals say at run time. */
  loopHead(): void { this.fd = FD_DYN; this.lastOp = LF_NONE; }

  /** Expression for CF as 0/1 (needs a known producer, else reads the Cpu). */
  cf(): string {
    const sz = this.lastSize;
    switch (this.lastOp) {
      case LF_LOGIC: return '0';
      case LF_INC: case LF_DEC: return 'fc';
      case LF_ADD: return sz === 8 ? '(frh !== fah ? ((frh >>> 0) < (fah >>> 0) ? 1 : 0) : ((fr >>> 0) < (fa >>> 0) ? 1 : 0))' : sz === 4 ? '((fr >>> 0) < (fa >>> 0) ? 1 : 0)' : '(fr < fa ? 1 : 0)';
      case LF_SUB: return sz === 8 ? '(fah !== fbh ? ((fah >>> 0) < (fbh >>> 0) ? 1 : 0) : ((fa >>> 0) < (fb >>> 0) ? 1 : 0))' : sz === 4 ? '((fa >>> 0) < (fb >>> 0) ? 1 : 0)' : '(fa < fb ? 1 : 0)';
      default:
        this.flagsToCpu();
        return 'cpu.getCF()';
    }
  }

  /** Expression for condition cc (Jcc/SETcc/CMOVcc low nibble; SDM Vol. 1 App. B). */
  cond(cc: number): string {
    const e = this.condFast(cc >> 1);
    if (e !== '') return (cc & 1) !== 0 ? `!(${e})` : `(${e})`;
    this.flagsToCpu();
    return `cpu.cond(${cc})`;
  }

  /** The positive condition for cc >> 1 from the known producer, '' when not specialised. */
  private condFast(c: number): string {
    const op = this.lastOp, sz = this.lastSize;
    if (op !== LF_SUB && op !== LF_LOGIC && op !== LF_ADD && op !== LF_INC && op !== LF_DEC) return '';
    // result sign / zero at the size (size 1/2 values are zero-extended)
    const zf = sz === 8 ? '(fr === 0 && frh === 0)' : 'fr === 0';
    const sf = sz === 8 ? 'frh < 0' : sz === 4 ? 'fr < 0' : sz === 2 ? '(fr & 0x8000) !== 0' : '(fr & 0x80) !== 0';
    if (op === LF_LOGIC) {
      switch (c) {
        case 0: case 1: return 'false'; // OF = CF = 0
        case 2: return zf;
        case 3: return zf;
        case 4: return sf;
        case 6: return sf; // SF != OF with OF = 0
        case 7: return `${zf} || ${sf}`;
        default: return '';
      }
    }
    if (op === LF_SUB) {
      // a - b: the comparisons themselves (SDM Vol. 1 App. B "CMP" meanings)
      if (sz === 8) {
        switch (c) {
          case 1: return '(fah !== fbh ? (fah >>> 0) < (fbh >>> 0) : (fa >>> 0) < (fb >>> 0))';
          case 2: return zf;
          case 3: return '(fah !== fbh ? (fah >>> 0) < (fbh >>> 0) : (fa >>> 0) <= (fb >>> 0))';
          case 4: return sf;
          case 6: return '(fah !== fbh ? fah < fbh : (fa >>> 0) < (fb >>> 0))';
          case 7: return '(fah !== fbh ? fah < fbh : (fa >>> 0) <= (fb >>> 0))';
          default: return '';
        }
      }
      const sh = sz === 4 ? 0 : sz === 2 ? 16 : 24;
      const ua = sz === 4 ? '(fa >>> 0)' : 'fa', ub = sz === 4 ? '(fb >>> 0)' : 'fb';
      const sa = sh === 0 ? 'fa' : `(fa << ${sh})`, sb = sh === 0 ? 'fb' : `(fb << ${sh})`;
      switch (c) {
        case 0: return `(((fa ^ fb) & (fa ^ fr)) << ${sh}) < 0`;
        case 1: return `${ua} < ${ub}`;
        case 2: return zf;
        case 3: return `${ua} <= ${ub}`;
        case 4: return sf;
        case 6: return `${sa} < ${sb}`;
        case 7: return `${sa} <= ${sb}`;
        default: return '';
      }
    }
    // ADD / INC / DEC: from CF/ZF/SF/OF
    if (sz === 8) {
      switch (c) {
        case 2: return zf;
        case 4: return sf;
        default: return '';
      }
    }
    const sh = sz === 4 ? 0 : sz === 2 ? 16 : 24;
    const of = op === LF_DEC ? `(((fa ^ fb) & (fa ^ fr)) << ${sh}) < 0` : `(((fa ^ fr) & (fb ^ fr)) << ${sh}) < 0`;
    switch (c) {
      case 0: return of;
      case 1: return op === LF_ADD ? (sz === 4 ? '(fr >>> 0) < (fa >>> 0)' : 'fr < fa') : 'fc !== 0';
      case 2: return zf;
      case 3: return op === LF_ADD ? (sz === 4 ? `((fr >>> 0) < (fa >>> 0) || ${zf})` : `(fr < fa || ${zf})`) : `(fc !== 0 || ${zf})`;
      case 4: return sf;
      case 6: return `(${sf}) !== (${of})`;
      case 7: return `(${zf} || (${sf}) !== (${of}))`;
      default: return '';
    }
  }

  // ---- exits ----------------------------------------------------------------------------

  /** Leaves the block: RIP = ripExpr, `retired` instructions of this pass retired. */
  exitStmt(ripExpr: string, retired: number): string {
    return `{ ${this.syncFlagsStmt()} cpu.rip = ${ripExpr}; cpu.instructionCount = ic + ${retired}; return; }`;
  }

  /**
   * After an instruction that touched memory or ran a handler: leave before the next one if
   * an interrupt became pending, a stop was requested or code was written (the following
   * instructions may be stale: self-modifying code), as the interpreter would notice.
   */
  checkAfter(): void {
    this.emit(`if (dc.invalidations !== inv0 || cpu.stopRequested || cpu.irqPending || cpu.nmiPending) ${this.exitStmt(this.rip(this.nextOff), this.k + 1)}`);
  }

  // ---- registers --------------------------------------------------------------------------

  /** Register n at size (1/2/4; 8 = low half), as the interpreter's getRegSz. */
  reg(n: number, size: number, legacy8: boolean): string {
    switch (size) {
      case 1: return legacy8 && n >= 4 && n < 8 ? `((r[${(n - 4) * 2}] >> 8) & 0xff)` : `(r[${n * 2}] & 0xff)`;
      case 2: return `(r[${n * 2}] & 0xffff)`;
      default: return `r[${n * 2}]`;
    }
  }
  regHi(n: number): string { return `r[${n * 2 + 1}]`; }

  /** Statement writing register n at size (32-bit writes zero the high half, SDM Vol. 1 §3.4.1.1). */
  setReg(n: number, size: number, legacy8: boolean, lo: string, hi = '0'): string {
    const i = n * 2;
    switch (size) {
      case 1:
        if (legacy8 && n >= 4 && n < 8) { const j = (n - 4) * 2; return `r[${j}] = (r[${j}] & ~0xff00) | ((${lo} & 0xff) << 8);`; }
        return `r[${i}] = (r[${i}] & ~0xff) | (${lo} & 0xff);`;
      case 2: return `r[${i}] = (r[${i}] & ~0xffff) | (${lo} & 0xffff);`;
      case 4: return `r[${i}] = ${lo}; r[${i + 1}] = 0;`;
      default: return `r[${i}] = ${lo}; r[${i + 1}] = ${hi};`;
    }
  }

  // ---- memory operands ----------------------------------------------------------------------

  /**
   * Emits the checked linear address of the ModRM memory operand for an access of `size`
   * bytes into a new local and returns its name (Cpu.computeEa + Cpu.linear, SDM Vol. 3A
   * §3.4.1, §3.3.7.1). 64-bit code inlines the canonical check; other code calls
   * cpu.linear for the segment checks.
   */
  ea(ins: Insn, size: number, write: boolean): string {
    const lin = this.t('lin');
    const { lo, hi } = this.eaHalves(ins, 0);
    const seg = ins.seg;
    if (this.code64) {
      let e = hi === '0' ? `(${lo} >>> 0)` : `${hi} * 4294967296 + (${lo} >>> 0)`;
      if (seg === FS || seg === GS) e += ` + cpu.segBase[${seg}]`;
      this.emit(`const ${lin} = ${e};`);
      this.emit(`if (${lin} < -0x800000000000 || ${lin} + ${size - 1} >= 0x800000000000) cpu.fault(${seg === SS ? SS_ : GP}, 0, true);`);
    } else {
      this.emit(`const ${lin} = cpu.linear(${seg}, ${lo}, 0, ${size}, ${write});`);
    }
    return lin;
  }

  /**
   * The effective address (offset in its segment) as lo/hi expressions, exactly as
   * Cpu.computeEa computes it (carries across the halves for 64-bit addresses). `extra` is
   * the immediate size after the displacement (RIP-relative operands are relative to the
   * end of the instruction, which the decoder's length already includes).
   */
  eaHalves(ins: Insn, _extra: number): { lo: string; hi: string } {
    const asz = ins.asz;
    if (ins.ripRel) {
      const target = this.t('ea');
      this.emit(`const ${target} = ${this.rip(this.nextOff)} + ${ins.disp};`);
      return asz === 8 ? { lo: `(${target} | 0)`, hi: `(Math.floor(${target} / 4294967296) | 0)` } : { lo: `(${target} | 0)`, hi: '0' };
    }
    const base = ins.base, idx = ins.index, sc = ins.scale, disp = ins.disp;
    if (asz === 8) {
      const s = this.t('s');
      const parts: string[] = [];
      const his: string[] = [];
      if (base !== NO_REG) { parts.push(`(r[${base * 2}] >>> 0)`); his.push(`r[${base * 2 + 1}]`); }
      if (idx !== NO_REG) {
        const l = `r[${idx * 2}]`, h = `r[${idx * 2 + 1}]`;
        parts.push(sc === 0 ? `(${l} >>> 0)` : `((${l} << ${sc}) >>> 0)`);
        his.push(sc === 0 ? h : `((${h} << ${sc}) | (${l} >>> ${32 - sc}))`);
      }
      if (disp !== 0 || parts.length === 0) parts.push(String(disp));
      this.emit(`const ${s} = ${parts.join(' + ')};`);
      const h = this.t('h');
      // the displacement is sign-extended: its high half is -1 when negative
      this.emit(`const ${h} = (${his.length ? his.join(' + ') + ' + ' : ''}Math.floor(${s} / 4294967296)) | 0;`);
      return { lo: `(${s} | 0)`, hi: h };
    }
    const parts: string[] = [];
    if (base !== NO_REG) parts.push(`r[${base * 2}]`);
    if (idx !== NO_REG) parts.push(sc === 0 ? `r[${idx * 2}]` : `(r[${idx * 2}] << ${sc})`);
    if (disp !== 0 || parts.length === 0) parts.push(String(disp));
    return { lo: `((${parts.join(' + ')}) | 0)`, hi: '0' };
  }

  /** Reads `size` bytes at a linear address: returns the lo expression (hi in `hiVar` for 8). */
  load(lin: string, size: number): { lo: string; hi: string } {
    const v = this.t('v');
    switch (size) {
      case 1: this.emit(`const ${v} = cpu.rd8(${lin});`); return { lo: v, hi: '0' };
      case 2: this.emit(`const ${v} = cpu.rd16(${lin});`); return { lo: v, hi: '0' };
      case 4: this.emit(`const ${v} = cpu.rd32(${lin});`); return { lo: v, hi: '0' };
      default: {
        const h = this.t('vh');
        this.emit(`const ${v} = cpu.rd64(${lin}), ${h} = cpu.hi;`);
        return { lo: v, hi: h };
      }
    }
  }

  store(lin: string, size: number, lo: string, hi = '0'): void {
    switch (size) {
      case 1: this.emit(`cpu.wr8(${lin}, ${lo});`); return;
      case 2: this.emit(`cpu.wr16(${lin}, ${lo});`); return;
      case 4: this.emit(`cpu.wr32(${lin}, ${lo});`); return;
      default: this.emit(`cpu.wr64(${lin}, ${lo}, ${hi});`); return;
    }
  }
}

export { FD_DYN, FD_LOCAL, FD_CPU };
