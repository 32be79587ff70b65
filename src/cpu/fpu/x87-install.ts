/**
 * The x87 family's entry in the opcode table (issue 4): the escape opcodes D8-DF and
 * 9B FWAIT (SDM Vol. 2 Appendix A.4, Tables A-7..A-22 "x87 FPU opcode map").
 * D8/DA/DC/DE (arithmetic) live in x87-arith.ts; D9/DB/DD/DF dispatch here to the data
 * transfer (x87-ldst.ts), control (x87-env.ts) and transcendental (x87-trans.ts) handlers.
 */
import type { Cpu, Handler } from '../cpu.js';
import { def } from '../ops/table.js';
import { x87Begin, recordIp } from './x87.js';
import { escD8, escDA, escDC, escDE, fcmov } from './x87-arith.js';
import {
  fldM32, fldM64, fldM80, fild, fbld, fldSt, fstM, fstpM80, fstSt, fist, fbstp, fxch, ffree, fsign, ftst, fxam,
  fldConst, fcomi, fucom, fstpAliasD9,
} from './x87-ldst.js';
import { fldcw, fnstcw, fnstswM, fnstswAx, fnclex, fninit, fnstenv, fldenv, fnsave, frstor, fwait } from './x87-env.js';
import { fsqrt, frndint, fscale, fprem, fxtract, fincstp, fdecstp, ftrig, f2xm1, fyl2x, fpatan } from './x87-trans.js';

/** D9: FLD/FST/FSTP m32fp, FLDENV, FLDCW, FNSTENV, FNSTCW; register forms FLD/FXCH/FNOP/D9 E0-FF. */
function escD9(cpu: Cpu): void {
  cpu.decodeModrm(0);
  const r = cpu.reg & 7;
  if (cpu.mod !== 3) {
    switch (r) {
      case 0: x87Begin(cpu, true); fldM32(cpu); return;
      case 2: x87Begin(cpu, true); fstM(cpu, 4, false); return;
      case 3: x87Begin(cpu, true); fstM(cpu, 4, true); return;
      case 4: x87Begin(cpu, true); fldenv(cpu); return;
      case 5: x87Begin(cpu, true); fldcw(cpu); return;
      case 6: x87Begin(cpu, false); fnstenv(cpu); return;
      case 7: x87Begin(cpu, false); fnstcw(cpu); return;
      default: cpu.ud();
    }
  }
  const i = cpu.rm & 7, m = cpu.modrmByte;
  if (r === 2 && i !== 0) cpu.ud();
  if ((m >= 0xe2 && m <= 0xe3) || (m >= 0xe6 && m <= 0xe7) || m === 0xef) cpu.ud();
  x87Begin(cpu, true);
  recordIp(cpu, false);
  switch (r) {
    case 0: fldSt(cpu, i); return;
    case 1: fxch(cpu, i); return;
    case 2: return; // FNOP
    case 3: fstpAliasD9(cpu, i); return; // D9 D8+i: undocumented FSTP alias (x87-ldst.ts)
    default: break;
  }
  switch (m) {
    case 0xe0: fsign(cpu, false); return;
    case 0xe1: fsign(cpu, true); return;
    case 0xe4: ftst(cpu); return;
    case 0xe5: fxam(cpu); return;
    case 0xf0: f2xm1(cpu); return;
    case 0xf1: fyl2x(cpu, false); return;
    case 0xf2: ftrig(cpu, 2); return;
    case 0xf3: fpatan(cpu); return;
    case 0xf4: fxtract(cpu); return;
    case 0xf5: fprem(cpu, true); return;
    case 0xf6: fdecstp(cpu); return;
    case 0xf7: fincstp(cpu); return;
    case 0xf8: fprem(cpu, false); return;
    case 0xf9: fyl2x(cpu, true); return;
    case 0xfa: fsqrt(cpu); return;
    case 0xfb: ftrig(cpu, 3); return;
    case 0xfc: frndint(cpu); return;
    case 0xfd: fscale(cpu); return;
    case 0xfe: ftrig(cpu, 0); return;
    case 0xff: ftrig(cpu, 1); return;
    default: fldConst(cpu, m - 0xe8); return; // E8-EE
  }
}

/** DB: FILD/FISTTP/FIST/FISTP m32int, FLD/FSTP m80fp; FCMOVNcc, FNCLEX, FNINIT, FUCOMI, FCOMI. */
function escDB(cpu: Cpu): void {
  cpu.decodeModrm(0);
  const r = cpu.reg & 7;
  if (cpu.mod !== 3) {
    if (r === 4 || r === 6) cpu.ud();
    if (r === 1 && (cpu.profile.leaf1Ecx & 1) === 0) cpu.ud(); // FISTTP is SSE3
    x87Begin(cpu, true);
    switch (r) {
      case 0: fild(cpu, 4); return;
      case 1: fist(cpu, 4, true, true); return;
      case 2: fist(cpu, 4, false, false); return;
      case 3: fist(cpu, 4, true, false); return;
      case 5: fldM80(cpu); return;
      default: fstpM80(cpu); return;
    }
  }
  const i = cpu.rm & 7;
  if (r === 4) {
    // E0 FENI, E1 FDISI, E4 FSETPM: 8087/287 leftovers executed as FNOP (SDM Vol. 2 Table A-17 notes)
    if (i === 2) { x87Begin(cpu, false); fnclex(cpu); return; }
    if (i === 3) { x87Begin(cpu, false); fninit(cpu); return; }
    if (i === 0 || i === 1 || i === 4) { x87Begin(cpu, false); return; }
    cpu.ud();
  }
  if (r === 7) cpu.ud();
  x87Begin(cpu, true);
  recordIp(cpu, false);
  if (r < 4) { fcmov(cpu, [3, 5, 7, 11][r]!, i); return; }
  fcomi(cpu, i, r === 5, false);
}

/** DD: FLD/FISTTP/FST/FSTP m64, FRSTOR, FNSAVE, FNSTSW m16; FFREE, FST/FSTP ST(i), FUCOM(P). */
function escDD(cpu: Cpu): void {
  cpu.decodeModrm(0);
  const r = cpu.reg & 7;
  if (cpu.mod !== 3) {
    if (r === 5) cpu.ud();
    if (r === 1 && (cpu.profile.leaf1Ecx & 1) === 0) cpu.ud();
    x87Begin(cpu, r !== 6 && r !== 7);
    switch (r) {
      case 0: fldM64(cpu); return;
      case 1: fist(cpu, 8, true, true); return;
      case 2: fstM(cpu, 8, false); return;
      case 3: fstM(cpu, 8, true); return;
      case 4: frstor(cpu); return;
      case 6: fnsave(cpu); return;
      default: fnstswM(cpu); return;
    }
  }
  if (r >= 6) cpu.ud();
  const i = cpu.rm & 7;
  x87Begin(cpu, true);
  recordIp(cpu, false);
  switch (r) {
    case 0: ffree(cpu, i, false); return;
    case 1: fxch(cpu, i); return; // DD C8+i: undocumented FXCH alias
    case 2: fstSt(cpu, i, false); return;
    case 3: fstSt(cpu, i, true); return;
    case 4: fucom(cpu, i, 0); return;
    default: fucom(cpu, i, 1); return;
  }
}

/** DF: FILD/FISTTP/FIST/FISTP m16int, FBLD, FILD m64int, FBSTP, FISTP m64int; FNSTSW AX, FUCOMIP, FCOMIP. */
function escDF(cpu: Cpu): void {
  cpu.decodeModrm(0);
  const r = cpu.reg & 7;
  if (cpu.mod !== 3) {
    if (r === 1 && (cpu.profile.leaf1Ecx & 1) === 0) cpu.ud();
    x87Begin(cpu, true);
    switch (r) {
      case 0: fild(cpu, 2); return;
      case 1: fist(cpu, 2, true, true); return;
      case 2: fist(cpu, 2, false, false); return;
      case 3: fist(cpu, 2, true, false); return;
      case 4: fbld(cpu); return;
      case 5: fild(cpu, 8); return;
      case 6: fbstp(cpu); return;
      default: fist(cpu, 8, true, false); return;
    }
  }
  const i = cpu.rm & 7;
  if (r === 4) {
    if (i !== 0) cpu.ud();
    x87Begin(cpu, false); fnstswAx(cpu); return;
  }
  if (r === 7) cpu.ud();
  x87Begin(cpu, true);
  recordIp(cpu, false);
  switch (r) {
    case 0: ffree(cpu, i, true); return; // DF C0+i: FFREEP (undocumented)
    case 1: fxch(cpu, i); return;
    case 2: case 3: fstSt(cpu, i, true); return;
    default: fcomi(cpu, i, r === 5, true); return;
  }
}

export function installX87(t: Handler[]): void {
  def(t, 0xd8, escD8);
  def(t, 0xd9, escD9);
  def(t, 0xda, escDA);
  def(t, 0xdb, escDB);
  def(t, 0xdc, escDC);
  def(t, 0xdd, escDD);
  def(t, 0xde, escDE);
  def(t, 0xdf, escDF);
  def(t, 0x9b, fwait);
}
