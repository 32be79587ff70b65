/**
 * The run loop: run(budget) and the per-instruction loop with its between-instruction
 * checks (events, breakpoints, interrupt shadow, single-step), the decoded-instruction
 * cache lookup and the translated-block entry (jit/), the prefix decoder, and event
 * recognition between instructions (SDM Vol. 3A §6.8-§6.9). Cpu.run() calls runLoop.run.
 */
import type { Cpu } from './cpu.js';
import { STOP_BUDGET, STOP_HALT, STOP_REQUESTED, REP_NONE, REP_E, REP_NE } from './cpu.js';
import { FAULT, STOP } from './fault.js';
import { CS, DS, ES, SS, FS, GS, TF, RF, IF, NMI, VM, CR0_PE } from './regs.js';
import { DC_BITS, DC_MASK, DC_LEN_SHIFT, DC_HAS_MODRM, DC_OP_MASK } from './decode-cache.js';
import { checkCodeBreakpoints, afterDebug } from './debug.js';
import { checkEvents, wakeGuest } from './vmx/events.js';
import { tryBlock } from './jit/jit.js';

/** Legacy prefixes and REX (64-bit mode): a REX followed by one of these is ignored. */
const IS_PREFIX = new Uint8Array(256);
for (const b of [0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65]) IS_PREFIX[b] = 1;
for (let b = 0x40; b < 0x50; b++) IS_PREFIX[b] = 1;

/** Executes up to `budget` instructions. Returns a STOP_* reason. */
export function run(cpu: Cpu, budget: number): number {
  cpu.pfxDirty = true;
  cpu.curPfx = -1;
  cpu.stopRequested = false;
  cpu.stopReason = STOP_BUDGET;
  const end = cpu.instructionCount + budget;
  while (cpu.instructionCount < end) {
    if (cpu.halted) {
      if (!wakeFromHalt(cpu)) return STOP_HALT;
    }
    try {
      runInner(cpu, end);
    } catch (e) {
      cpu.dc.buildSlot = -1; // the instruction did not complete: nothing of it is cached
      if (e === FAULT) {
        cpu.rip = cpu.startRip;
        // a triple fault during this delivery throws STOP from here, outside the try
        try { cpu.raiseException(cpu.excVector, cpu.excError, cpu.excHasError); } catch (e2) { if (e2 !== STOP) throw e2; }
      } else if (e !== STOP) throw e;
    }
    if (cpu.stopRequested) { cpu.stopRequested = false; return cpu.stopReason === STOP_BUDGET ? STOP_REQUESTED : cpu.stopReason; }
  }
  return STOP_BUDGET;
}

export function runInner(cpu: Cpu, end: number): void {
  const table = cpu.table;
  const dc = cpu.dc;
  const tags = dc.tag;
  while (cpu.instructionCount < end && !cpu.halted) {
    if (cpu.irqPending || cpu.nmiPending) {
      if (checkInterrupts(cpu)) continue;
    }
    const shadow = cpu.inhibitIrq; // set by the previous instruction (STI, MOV SS, POP SS)
    const rip = cpu.rip;
    cpu.startRip = rip;
    const f0 = cpu.flags;
    // Intel inhibits instruction breakpoints on the instruction after MOV SS/POP SS (the
    // shadow's setter is still in cpu.opcode; STI is FB); AMD takes them (kvm-unit-tests
    // emulator test_mov_pop_ss_code_db)
    if (cpu.codeBreakpoints !== 0 && (f0 & RF) === 0 && !(shadow && cpu.opcode !== 0xfb && !cpu.amdDebug)) checkCodeBreakpoints(cpu);
    // the fetch cursor (beginFetch), then the decode cache by the RAM index of the first byte
    let off = cpu.segBase[CS]! + rip - cpu.fetchPage;
    if (!(off >= 0 && off < 4096) && cpu.refillFetch(rip)) off = cpu.segBase[CS]! + rip - cpu.fetchPage;
    if (off >= 0 && off < 4096) {
      const host = cpu.fetchHost;
      const fp = host + off;
      // a translated block (jit/) retires its instructions and does its own checks
      if (cpu.jit && tryBlock(cpu, fp, rip, end)) {
        if (cpu.stopRequested) return; // a stop asked for inside the block: as after an instruction
        continue;
      }
      cpu.fpEnd = host + 4096;
      const slot = fp & DC_MASK;
      const tag = ((fp >>> DC_BITS) << 2) | cpu.modeId;
      if (tags[slot] === tag) {
        const info = dc.info[slot]!;
        const len = (info >> DC_LEN_SHIFT) & 15;
        cpu.fp = fp + len;
        cpu.rip = rip + len;
        const p = dc.pfx[slot]!;
        if (p !== cpu.curPfx) loadPrefixes(cpu, p);
        cpu.dcReplay = (info & DC_HAS_MODRM) !== 0;
        cpu.dcSlot = slot;
        const op = info & DC_OP_MASK;
        cpu.opcode = op;
        table[op]!(cpu);
      } else {
        cpu.fp = fp;
        cpu.fpEnd = Math.min(host + 4096, fp + 15); // an instruction being decoded: at most 15 bytes (fetchSlow)
        cpu.dcReplay = false;
        cpu.curPfx = -1;
        const page = fp >>> 12;
        if (dc.cacheable(page)) {
          // build an entry; its page is marked first so that a write by this very
          // instruction abandons it (dc.invalidatePage)
          tags[slot] = -1;
          dc.buildSlot = slot; dc.buildPage = page; dc.buildModrmLen = 0;
          cpu.mem.codePages[page] = 1;
          decodePrefixes(cpu);
          const pfxLen = cpu.rip - rip;
          table[cpu.opcode]!(cpu);
          if (dc.buildSlot === slot && off + pfxLen + dc.buildModrmLen <= 4096) {
            const p = packPrefixes(cpu);
            dc.pfx[slot] = p;
            dc.info[slot] = cpu.opcode | (pfxLen << DC_LEN_SHIFT) | (dc.buildModrmLen !== 0 ? DC_HAS_MODRM : 0);
            tags[slot] = tag;
            cpu.curPfx = p;
          }
          dc.buildSlot = -1;
        } else {
          decodePrefixes(cpu);
          table[cpu.opcode]!(cpu);
        }
      }
    } else {
      cpu.fpEnd = 0;
      cpu.dcReplay = false;
      cpu.curPfx = -1;
      decodePrefixes(cpu);
      table[cpu.opcode]!(cpu);
    }
    cpu.instructionCount++;
    if (cpu.stopRequested) return;
    if (shadow || ((f0 | cpu.flags) & (TF | RF)) !== 0 || cpu.dbDataHits !== 0 || cpu.dbHeld !== 0) afterDebug(cpu, f0, shadow);
  }
}

/**
 * The prefix state as one int32 (decode-cache entries): osz | asz << 4 | REX << 8 |
 * (segOvr + 1) << 16 | rep << 19 | lock << 21 | 66 << 22 | VEX << 23 | VEX.L << 24 |
 * VEX.vvvv << 25. A VEX instruction keeps its R/X/B/W in the REX byte (0x40 | WRXB), so
 * every field a VEX handler reads is restored with the entry, and a block's handler call
 * (jit/compile.ts: `curPfx !== p` → loadPrefixes) never runs with a stale VEX state.
 */
export function packPrefixes(cpu: Cpu): number {
  return cpu.osz | (cpu.asz << 4) | (cpu.rex << 8) | ((cpu.segOvr + 1) << 16) | (cpu.rep << 19) |
    (cpu.lock ? 1 << 21 : 0) | (cpu.pfx66 ? 1 << 22 : 0) |
    (cpu.vex ? (1 << 23) | (cpu.vexL << 24) | (cpu.vexV << 25) : 0);
}

export function loadPrefixes(cpu: Cpu, p: number): void {
  cpu.osz = p & 15;
  cpu.asz = (p >> 4) & 15;
  const rex = (p >> 8) & 0xff;
  cpu.rex = rex;
  cpu.rexW = (rex & 8) !== 0; cpu.rexR = (rex & 4) << 1; cpu.rexX = (rex & 2) << 2; cpu.rexB = (rex & 1) << 3;
  cpu.segOvr = ((p >> 16) & 7) - 1;
  cpu.rep = (p >> 19) & 3;
  cpu.lock = (p & (1 << 21)) !== 0;
  cpu.pfx66 = (p & (1 << 22)) !== 0;
  cpu.vex = (p & (1 << 23)) !== 0;
  cpu.vexL = (p >> 24) & 1;
  cpu.vexV = (p >> 25) & 15;
  cpu.curPfx = p;
  cpu.pfxDirty = true;
}

/** Reads legacy prefixes, REX and the opcode (1, 2 or 3 bytes) into this.opcode (0..1023). */
export function decodePrefixes(cpu: Cpu): void {
  // Prefix state is reset only when the previous instruction changed it: most
  // instructions carry no prefix (32-bit code) or only REX (64-bit code).
  if (cpu.pfxDirty) {
    cpu.osz = cpu.defOsz;
    cpu.asz = cpu.defAsz;
    cpu.rex = 0; cpu.rexW = false; cpu.rexR = 0; cpu.rexX = 0; cpu.rexB = 0;
    cpu.segOvr = -1; cpu.rep = REP_NONE; cpu.lock = false; cpu.pfx66 = false;
    cpu.vex = false; cpu.vexL = 0; cpu.vexV = 0;
    cpu.pfxDirty = false;
  }
  let b = cpu.fetch8();
  if (IS_PREFIX[b] === 0 || (b >= 0x40 && b < 0x50 && !cpu.code64)) {
    if (b !== 0x0f) { cpu.opcode = b; if ((b & 0xfe) === 0xc4) decodeVex(cpu, b); return; }
    opcode0f(cpu);
    return;
  }
  cpu.pfxDirty = true;
  for (;;) {
    switch (b) {
      case 0x66: cpu.pfx66 = true; cpu.osz = cpu.defOsz === 2 ? 4 : 2; if (cpu.code64) cpu.osz = 2; break;
      case 0x67: cpu.asz = cpu.code64 ? 4 : (cpu.defAsz === 2 ? 4 : 2); break;
      case 0xf2: cpu.rep = REP_NE; break;
      case 0xf3: cpu.rep = REP_E; break;
      case 0xf0: cpu.lock = true; break;
      case 0x26: cpu.segOvr = cpu.code64 ? -1 : ES; break;
      case 0x2e: cpu.segOvr = cpu.code64 ? -1 : CS; break;
      case 0x36: cpu.segOvr = cpu.code64 ? -1 : SS; break;
      case 0x3e: cpu.segOvr = cpu.code64 ? -1 : DS; break;
      case 0x64: cpu.segOvr = FS; break;
      case 0x65: cpu.segOvr = GS; break;
      default:
        if (cpu.code64 && (b & 0xf0) === 0x40) {
          // REX must immediately precede the opcode; a later prefix cancels it (SDM §2.2.1)
          const nb = cpu.fetch8();
          if (IS_PREFIX[nb] === 1) {
            b = nb; continue;
          }
          cpu.rex = b;
          cpu.rexW = (b & 8) !== 0; cpu.rexR = (b & 4) << 1; cpu.rexX = (b & 2) << 2; cpu.rexB = (b & 1) << 3;
          if (cpu.rexW) cpu.osz = 8;
          b = nb;
        }
        if (b === 0x0f) opcode0f(cpu);
        else { cpu.opcode = b; if ((b & 0xfe) === 0xc4) decodeVex(cpu, b); }
        return;
    }
    if (cpu.rip - cpu.startRip >= 15) cpu.gp(0);
    b = cpu.fetch8();
  }
}

/** The 0F, 0F 38 and 0F 3A opcode maps. */
export function opcode0f(cpu: Cpu): void {
  const b2 = cpu.fetch8();
  if (b2 === 0x38) cpu.opcode = 0x200 | cpu.fetch8();
  else if (b2 === 0x3a) cpu.opcode = 0x300 | cpu.fetch8();
  else cpu.opcode = 0x100 | b2;
}

/** Table index of VEX map 1 (0F): map m (1-3) is at VEX_BASE + (m - 1) * 0x100 + opcode. */
export const VEX_BASE = 0x400;

/**
 * C4/C5 as opcode byte (cpu.opcode holds it): a VEX prefix or LES/LDS (SDM Vol. 2 §2.3.5,
 * §2.3.11). Never VEX in real and virtual-8086 mode; in protected and compatibility mode
 * only when the next byte has bits 7:6 = 11 (R̄ and X̄, or R̄ and v̄3, which must be 1
 * there; in LES/LDS that is a register ModRM, itself #UD). In 64-bit mode always VEX.
 * Fields: byte 1 of C5 = R̄ v̄v̄v̄v̄ L pp (map 0F, W = 0); bytes 1-2 of C4 = R̄ X̄ B̄ mmmmm,
 * W v̄v̄v̄v̄ L pp. Outside 64-bit mode B̄ is ignored (§2.3.5.3) and vvvv keeps all 4 bits
 * (the must-be-1111b checks see them; the register is vvvv & 7). map_select other than
 * 1-3 is #UD (§2.3.5.4); a 66, F2, F3, LOCK or REX prefix before VEX is #UD (§2.3.2).
 */
function decodeVex(cpu: Cpu, b: number): void {
  if (!cpu.code64) {
    if ((cpu.cr0 & CR0_PE) === 0 || (cpu.flags & VM) !== 0) return; // real / V86: LES, LDS
    const nb = cpu.fetch8();
    // un-fetch: the fetch cursor still points into the same page (fetchSlow leaves fp one past)
    cpu.fp--; cpu.rip--;
    if ((nb & 0xc0) !== 0xc0) return; // LES/LDS with a memory operand
  }
  const b1 = cpu.fetch8();
  let w = 0, map = 1, rxb: number, b2: number;
  if (b === 0xc5) {
    rxb = (~b1 >> 5) & 4; // R only
    b2 = b1;
  } else {
    rxb = (~b1 >> 5) & 7;
    map = b1 & 31;
    b2 = cpu.fetch8();
    w = b2 >> 7;
  }
  if (!cpu.code64) rxb = 0; // R̄, X̄ are 1 here; B̄ is ignored (§2.3.5.3)
  // the opcode byte is fetched before the decode #UDs: a fetch fault ranks above them
  // (SDM Vol. 3A Table 6-2, priorities 7 and 8)
  const op = cpu.fetch8();
  if (cpu.pfx66 || cpu.rep !== REP_NONE || cpu.lock || cpu.rex !== 0) cpu.ud();
  if (map < 1 || map > 3) cpu.ud();
  cpu.pfxDirty = true;
  cpu.vex = true;
  cpu.vexV = (~b2 >> 3) & 15;
  cpu.vexL = (b2 >> 2) & 1;
  const pp = b2 & 3;
  if (pp === 1) cpu.pfx66 = true;
  else if (pp === 2) cpu.rep = REP_E;
  else if (pp === 3) cpu.rep = REP_NE;
  // W, R, X, B as a REX byte: rexW/rexR/... as the legacy decoder sets them; W widens
  // the operand size in 64-bit mode only (BMI's GPR forms, VMOVQ, VPEXTRQ)
  const rex = 0x40 | (w << 3) | rxb;
  cpu.rex = rex;
  cpu.rexW = w !== 0; cpu.rexR = (rex & 4) << 1; cpu.rexX = (rex & 2) << 2; cpu.rexB = (rex & 1) << 3;
  if (w !== 0 && cpu.code64) cpu.osz = 8;
  cpu.opcode = VEX_BASE + ((map - 1) << 8) + op;
}

export function checkInterrupts(cpu: Cpu): boolean {
  if (cpu.vmx.nonRoot) return checkEvents(cpu); // VMX non-root event order (vmx/events.ts)
  if (cpu.inhibitIrq) { cpu.inhibitIrq = false; return false; }
  if (cpu.nmiPending && !cpu.nmiBlocked) {
    cpu.nmiPending = false;
    cpu.nmiBlocked = true;
    cpu.halted = false;
    cpu.startRip = cpu.rip;
    cpu.raiseException(NMI, 0, false);
    cpu.lastEventAt = -1;
    return true;
  }
  if (cpu.irqPending && (cpu.flags & IF) !== 0) {
    const v = cpu.hooks.acknowledgeInterrupt(cpu);
    if (v < 0) { cpu.irqPending = false; return false; }
    cpu.halted = false;
    cpu.startRip = cpu.rip;
    cpu.delivering = v;
    cpu.hooks.deliver(cpu, v, 0, false, false, cpu.rip);
    cpu.delivering = -1;
    return true;
  }
  return false;
}

export function wakeFromHalt(cpu: Cpu): boolean {
  if (cpu.vmx.nonRoot) { if (!wakeGuest(cpu)) return false; cpu.halted = false; return true; }
  // the STI/MOV SS shadow covered the HLT itself (the "sti; hlt" idiom): it is over, and
  // the waking interrupt is taken before the next instruction (SDM Vol. 3A §6.8.3)
  cpu.inhibitIrq = false;
  // an NMI held pending by NMI blocking (until IRET) does not end the halt (SDM Vol. 3A §6.7.1)
  if (cpu.nmiPending && !cpu.nmiBlocked) { cpu.halted = false; return true; }
  if (cpu.irqPending && (cpu.flags & IF) !== 0) { cpu.halted = false; return true; }
  return false;
}
