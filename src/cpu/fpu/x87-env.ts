/**
 * x87 control instructions (SDM Vol. 1 §8.3.10-8.3.11, Vol. 2): FLDCW, FNSTCW, FNSTSW
 * (m16 and AX), FNCLEX, FNINIT, FLDENV/FNSTENV, FRSTOR/FNSAVE and FWAIT. None of them
 * updates FOP/FIP/FDP. The FN forms do not check for pending exceptions.
 *
 * Environment layouts (SDM Vol. 1 §8.1.10, Figures 8-9 .. 8-12), offsets in bytes:
 *   32-bit protected: 0 FCW | 4 FSW | 8 FTW | 12 FIP | 16 FCS, FOP<<16 | 20 FDP | 24 FDS  (28 bytes)
 *   32-bit real/V86:  0 FCW | 4 FSW | 8 FTW | 12 FIP[15:0] | 16 FOP, FIP[31:16]<<12
 *                     | 20 FDP[15:0] | 24 FDP[31:16]<<12                               (28 bytes)
 *   16-bit protected: 0 FCW | 2 FSW | 4 FTW | 6 FIP | 8 FCS | 10 FDP | 12 FDS             (14 bytes)
 *   16-bit real/V86:  0 FCW | 2 FSW | 4 FTW | 6 FIP[15:0] | 8 FOP, FIP[19:16]<<12
 *                     | 10 FDP[15:0] | 12 FDP[19:16]<<12                                (14 bytes)
 * Unused upper halves of the 32-bit forms are written as FFFFH. In real mode the
 * pointers are 20/32-bit linear addresses (selector·16 + offset). FSAVE appends ST(0)..ST(7)
 * (10 bytes each) and then initializes the FPU like FNINIT.
 */
import type { Cpu } from '../cpu.js';
import { CR0_PE, CR0_MP, CR0_TS, NM, VM } from '../regs.js';
import { TAG_EMPTY } from './state.js';
import { x87Begin, checkPending, updateEs, probeWrite } from './x87.js';

export function fldcw(cpu: Cpu): void {
  const v = cpu.rd16(cpu.eaLin(2, false));
  // bits 6 and 13-15 are reserved: bit 6 reads as 1 (SDM Vol. 1 Figure 8-6)
  cpu.fpu.fcw = (v & 0x1f3f) | 0x40;
  updateEs(cpu);
}
export function fnstcw(cpu: Cpu): void { cpu.wr16(cpu.eaLin(2, true), cpu.fpu.fcw); }
export function fnstswM(cpu: Cpu): void { cpu.wr16(cpu.eaLin(2, true), cpu.fpu.getFsw()); }
export function fnstswAx(cpu: Cpu): void { cpu.setRegSz(0, 2, cpu.fpu.getFsw(), 0); }
/** FNCLEX: clears PE..IE, SF, ES and B. */
export function fnclex(cpu: Cpu): void { cpu.fpu.fsw &= ~0x80ff; }
/** FNINIT: FCW 037FH, FSW 0, all tags empty, pointers and FOP 0; register contents stay. */
export function fninit(cpu: Cpu): void { cpu.fpu.initX87(); }

/** Tag word as FSTENV stores it: non-empty registers tagged from their contents. */
function ftwForSave(cpu: Cpu): number {
  const f = cpu.fpu;
  let w = 0;
  for (let i = 7; i >= 0; i--) w = (w << 2) | (f.tag[i] === TAG_EMPTY ? TAG_EMPTY : f.classify(i));
  return w;
}

function realFormat(cpu: Cpu): boolean { return (cpu.cr0 & CR0_PE) === 0 || (cpu.flags & VM) !== 0; }
function envSize(cpu: Cpu): number { return cpu.osz === 2 ? 14 : 28; }

function storeEnv(cpu: Cpu, lin: number): void {
  const f = cpu.fpu, ftw = ftwForSave(cpu), fsw = f.getFsw();
  const real = realFormat(cpu);
  const ip = real ? (f.fcs * 16 + (f.fipLo >>> 0)) >>> 0 : f.fipLo >>> 0;
  const dp = real ? (f.fds * 16 + (f.fdpLo >>> 0)) >>> 0 : f.fdpLo >>> 0;
  if (cpu.osz === 2) {
    cpu.wr16(lin, f.fcw); cpu.wr16(lin + 2, fsw); cpu.wr16(lin + 4, ftw);
    if (real) {
      cpu.wr16(lin + 6, ip & 0xffff); cpu.wr16(lin + 8, ((ip >>> 16) & 0xf) << 12 | (f.fop & 0x7ff));
      cpu.wr16(lin + 10, dp & 0xffff); cpu.wr16(lin + 12, ((dp >>> 16) & 0xf) << 12);
    } else {
      cpu.wr16(lin + 6, ip & 0xffff); cpu.wr16(lin + 8, f.fcs);
      cpu.wr16(lin + 10, dp & 0xffff); cpu.wr16(lin + 12, f.fds);
    }
    return;
  }
  cpu.wr32(lin, 0xffff0000 | f.fcw); cpu.wr32(lin + 4, 0xffff0000 | fsw); cpu.wr32(lin + 8, 0xffff0000 | ftw);
  if (real) {
    cpu.wr32(lin + 12, 0xffff0000 | (ip & 0xffff)); cpu.wr32(lin + 16, ((ip >>> 16) << 12) | (f.fop & 0x7ff));
    cpu.wr32(lin + 20, 0xffff0000 | (dp & 0xffff)); cpu.wr32(lin + 24, (dp >>> 16) << 12);
  } else {
    cpu.wr32(lin + 12, ip); cpu.wr32(lin + 16, f.fcs | ((f.fop & 0x7ff) << 16));
    cpu.wr32(lin + 20, dp); cpu.wr32(lin + 24, 0xffff0000 | f.fds);
  }
}

/** Values read by loadEnv, applied only after every read succeeded. */
let eFcw = 0, eFsw = 0, eFtw = 0, eIp = 0, eCs = 0, eOp = 0, eDp = 0, eDs = 0;
function readEnv(cpu: Cpu, lin: number): void {
  const real = realFormat(cpu);
  if (cpu.osz === 2) {
    eFcw = cpu.rd16(lin); eFsw = cpu.rd16(lin + 2); eFtw = cpu.rd16(lin + 4);
    const a = cpu.rd16(lin + 6), b = cpu.rd16(lin + 8), c = cpu.rd16(lin + 10), d = cpu.rd16(lin + 12);
    if (real) { eIp = a | ((b >>> 12) << 16); eOp = b & 0x7ff; eCs = 0; eDp = c | ((d >>> 12) << 16); eDs = 0; }
    else { eIp = a; eCs = b; eDp = c; eDs = d; eOp = 0; }
    return;
  }
  eFcw = cpu.rd16(lin); eFsw = cpu.rd16(lin + 4); eFtw = cpu.rd16(lin + 8);
  const a = cpu.rd32(lin + 12), b = cpu.rd32(lin + 16), c = cpu.rd32(lin + 20), d = cpu.rd32(lin + 24);
  if (real) { eIp = (a & 0xffff) | ((b >>> 12) << 16); eOp = b & 0x7ff; eCs = 0; eDp = (c & 0xffff) | ((d >>> 12) << 16); eDs = 0; }
  else { eIp = a; eCs = b & 0xffff; eOp = (b >>> 16) & 0x7ff; eDp = c; eDs = d & 0xffff; }
}
function applyEnv(cpu: Cpu): void {
  const f = cpu.fpu;
  f.fcw = (eFcw & 0x1f3f) | 0x40; f.setFsw(eFsw);
  f.fipLo = eIp | 0; f.fipHi = 0; f.fcs = eCs; f.fop = eOp; f.fdpLo = eDp | 0; f.fdpHi = 0; f.fds = eDs;
  // only "empty" is taken from the image; other tags follow the register contents
  for (let i = 0; i < 8; i++) f.tag[i] = ((eFtw >> (2 * i)) & 3) === TAG_EMPTY ? TAG_EMPTY : f.classify(i);
  // ES and B are not taken from the image: they follow the loaded flags and masks, so a pending
  // unmasked exception raises #MF at the next waiting instruction (host-verified, FLDENV/FRSTOR)
  updateEs(cpu);
}

/** D9 /6 FNSTENV: stores the environment, then masks all exceptions. */
export function fnstenv(cpu: Cpu): void {
  const n = envSize(cpu), lin = cpu.eaLin(n, true);
  probeWrite(cpu, lin, n);
  storeEnv(cpu, lin);
  cpu.fpu.fcw |= 0x3f;
  updateEs(cpu);
}
/** D9 /4 FLDENV. */
export function fldenv(cpu: Cpu): void {
  const n = envSize(cpu), lin = cpu.eaLin(n, false);
  readEnv(cpu, lin);
  applyEnv(cpu);
}
/** DD /6 FNSAVE: environment + registers in stack order, then FNINIT. */
export function fnsave(cpu: Cpu): void {
  const n = envSize(cpu), lin = cpu.eaLin(n + 80, true);
  probeWrite(cpu, lin, n + 80);
  storeEnv(cpu, lin);
  const f = cpu.fpu;
  for (let i = 0; i < 8; i++) {
    const p = (f.top + i) & 7, a = lin + n + 10 * i;
    cpu.wr64(a, f.mant[2 * p]!, f.mant[2 * p + 1]!); cpu.wr16(a + 8, f.se[p]!);
  }
  f.initX87();
}
/** DD /4 FRSTOR. */
export function frstor(cpu: Cpu): void {
  const n = envSize(cpu), lin = cpu.eaLin(n + 80, false);
  readEnv(cpu, lin);
  for (let i = 0; i < 8; i++) {
    const a = lin + n + 10 * i;
    REGS[3 * i] = cpu.rd64(a); REGS[3 * i + 1] = cpu.hi; REGS[3 * i + 2] = cpu.rd16(a + 8);
  }
  const f = cpu.fpu, top = (eFsw >> 11) & 7;
  for (let i = 0; i < 8; i++) {
    const p = (top + i) & 7;
    f.mant[2 * p] = REGS[3 * i]!; f.mant[2 * p + 1] = REGS[3 * i + 1]!; f.se[p] = REGS[3 * i + 2]!;
  }
  applyEnv(cpu);
}
const REGS = new Int32Array(24);

/** 9B FWAIT: #NM when CR0.MP and CR0.TS are both set, then pending exceptions (SDM Vol. 3A §2.5 Table 2-2). */
export function fwait(cpu: Cpu): void {
  if ((cpu.cr0 & (CR0_MP | CR0_TS)) === (CR0_MP | CR0_TS)) cpu.fault(NM, 0, false);
  checkPending(cpu);
}

export { x87Begin };
