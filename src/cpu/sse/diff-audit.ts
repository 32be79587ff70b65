/**
 * Coverage audit of the differential tests (issue 4; diff-audit.test.ts): lists every
 * instruction form the SSE/MMX (sse/install.ts) and x87 (fpu/x87-install.ts) families install
 * and every form the differential specs execute, under one naming, so the test can print
 * and check the difference. Test-only code: it may allocate freely.
 *
 * Installed forms are found by probing, not by reading handler code: the handlers resolve
 * mandatory prefixes and ModRM.reg groups internally, so each installed table slot is run
 * in the emulator (64-bit mode, every feature advertised, CR4.OSFXSR/OSXMMEXCPT set) for each
 * mandatory prefix (none, 66, F3, F2), register and memory ModRM, every ModRM.reg and REX.W
 * 0/1, and a form is installed when it does not raise #UD (SDM Vol. 2 §2.1.2: an unused
 * prefix/opcode combination is #UD). Form names:
 *   SSE:  "<pfx>[.W] <map><op> <r|m>[/<reg>]"  e.g. "66 0f3a16 m", "66.W 0f3a16 m", "np 0f73 r/2"
 *         pfx is np/66/f3/f2; ".W" only where REX.W changes the result (found by running both
 *         from the same random states); "/<reg>" only where ModRM.reg selects the instruction
 *         (some reg values are #UD).
 *   x87:  "<esc> m/<reg>" memory forms; "<esc> r/<reg>" register rows whose eight ModRM bytes are
 *         one instruction on ST(i); "<esc> <modrm>" for rows where each byte is its own
 *         instruction (D9 E0-FF, DA E9, DB E0-E4, DE D9, DF E0); "9b" FWAIT.
 */
import { makeCpu, CODE, type TestCpu } from '../testing.js';
import { LF_NONE, type Handler } from '../cpu.js';
import { undefinedOpcode } from '../ops/table.js';
import { installSse } from './install.js';
import { installX87 } from '../fpu/x87-install.js';
import { CR0_NE, CR4_OSFXSR, CR4_OSXMMEXCPT } from '../regs.js';
import {
  F1D_MMX, F1D_SSE, F1D_SSE2, F1C_SSE3, F1C_SSSE3, F1C_SSE41, F1C_SSE42, F1C_AES, F1C_PCLMUL, type CpuProfile,
} from '../profile.js';

export const PFX = [[], [0x66], [0xf3], [0xf2]] as const;
export const PFX_NAME = ['np', '66', 'f3', 'f2'];
export const MAP_BYTES: number[][] = [[], [0x0f], [0x0f, 0x38], [0x0f, 0x3a]];
const MAP_NAME = ['', '0f', '0f38', '0f3a'];
const BUF = 0x100000;
const hex2 = (b: number): string => b.toString(16).padStart(2, '0');

/** The table slots (0x100-0x3ff) each family installs, from a fresh table. */
export function installedSlots(install: (t: Handler[]) => void): number[] {
  const t: Handler[] = new Array<Handler>(0x400).fill(undefinedOpcode);
  install(t);
  const out: number[] = [];
  for (let i = 0; i < 0x400; i++) if (t[i] !== undefinedOpcode) out.push(i);
  return out;
}

/** A CPU with every SSE extension advertised and SSE enabled, as diff-runner.ts sets it up. */
export function probeCpu(): TestCpu {
  const tc = makeCpu('long64');
  const p = tc.cpu.profile;
  (tc.cpu as { profile: CpuProfile }).profile = {
    ...p, leaf1Edx: p.leaf1Edx | F1D_MMX | F1D_SSE | F1D_SSE2,
    leaf1Ecx: p.leaf1Ecx | F1C_SSE3 | F1C_SSSE3 | F1C_SSE41 | F1C_SSE42 | F1C_AES | F1C_PCLMUL,
  };
  tc.cpu.cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
  tc.cpu.cr0 |= CR0_NE;
  return tc;
}

let seed = 0xa0d17;
function r32(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}

/** Runs one instruction from random state number `k`; returns "UD" or a fingerprint of the result. */
export function probe(tc: TestCpu, code: number[], k: number): string {
  seed = 0xa0d17 + k * 7919;
  const c = tc.cpu, f = c.fpu;
  tc.mem.load(CODE, Uint8Array.from([...code, 0, 0, 0, 0xf4]));
  for (let i = 0; i < 64; i++) f.xmm[i] = r32() | 0;
  for (let i = 0; i < 8; i++) f.setMm(i, r32() | 0, r32() | 0);
  f.enterMmx(); f.fsw = 0; f.fcw = 0x37f;
  f.mxcsr = 0x1f80;
  for (let i = 0; i < 32; i++) c.r[i] = r32() | 0;
  c.r[4] = BUF; c.r[5] = 0; // rdx: the 16-aligned buffer of the memory forms
  c.r[8] = 0x80000; c.r[9] = 0; // rsp
  for (let i = 0; i < 64; i++) tc.mem.ram[BUF + i] = r32() & 0xff;
  c.lfOp = LF_NONE; c.flags = 0x202;
  c.rip = CODE; c.halted = false;
  const before = tc.exceptions.length;
  c.run(1);
  if (tc.exceptions.length !== before) {
    const v = tc.exceptions[tc.exceptions.length - 1]![0];
    return v === 6 ? 'UD' : `exc ${v}`;
  }
  return `${Array.from(f.xmm).join(',')} ${Array.from(f.mant).join(',')} ${Array.from(c.r).join(',')} ` +
    `${Array.from(tc.mem.ram.subarray(BUF, BUF + 64)).join(',')} ${c.getFlags() & 0x8d5} ${f.mxcsr}`;
}

/** How an opcode of the SSE maps splits into forms. */
export interface SseOpcode {
  slot: number;
  /** per prefix index and mod (0 = register, 1 = memory): which reg values are not #UD, and is REX.W significant */
  regs: boolean[][][];
  w: boolean[][];
}

/** Probes every installed SSE slot; returns the form names and the per-opcode split used to name spec forms. */
export function installedSseForms(tc: TestCpu, slots: number[]): { forms: Set<string>; aligned: Set<string>; ops: Map<number, SseOpcode> } {
  const forms = new Set<string>();
  const aligned = new Set<string>();
  const ops = new Map<number, SseOpcode>();
  for (const slot of slots) {
    const map = slot >> 8, op = slot & 0xff;
    const info: SseOpcode = { slot, regs: [], w: [] };
    for (let p = 0; p < 4; p++) {
      info.regs.push([]); info.w.push([]);
      for (let m = 0; m < 2; m++) {
        const ok: boolean[] = [];
        if (slot === 0x177 && m === 1) { for (let reg = 0; reg < 8; reg++) ok.push(false); info.regs[p]!.push(ok); info.w[p]!.push(false); continue; } // EMMS has no ModRM
        let wSig = false;
        for (let reg = 0; reg < 8; reg++) {
          const modrm = m === 0 ? 0xc1 | (reg << 3) : 0x02 | (reg << 3);
          const base = (w: boolean): number[] => [...PFX[p]!, ...(w ? [0x48] : []), ...MAP_BYTES[map]!, op, modrm];
          const r0 = probe(tc, base(false), 0);
          ok.push(r0 !== 'UD');
          if (r0 === 'UD') { if (probe(tc, base(true), 0) !== 'UD') wSig = true; continue; }
          for (let k = 0; k < 8 && !wSig; k++) if (probe(tc, base(false), 8 * reg + k) !== probe(tc, base(true), 8 * reg + k)) wSig = true;
        }
        info.regs[p]!.push(ok); info.w[p]!.push(wSig);
        const grouped = ok.some((x) => !x) && ok.some((x) => x);
        for (const w of wSig ? [false, true] : [false]) {
          for (let reg = 0; reg < 8; reg++) {
            if (!ok[reg]) continue;
            const name = sseName(p, w && wSig, map, op, m, grouped ? reg : -1);
            forms.add(name);
            // a memory form that faults #GP(0) at [rdx+1] checks alignment (SDM Vol. 1 §4.1.1)
            if (m === 1 && probe(tc, [...PFX[p]!, ...(w ? [0x48] : []), ...MAP_BYTES[map]!, op, 0x42 | (reg << 3), 0x01], 0) === 'exc 13') aligned.add(name);
            if (!grouped) break;
          }
        }
      }
    }
    ops.set(slot, info);
  }
  return { forms, aligned, ops };
}

export function sseName(p: number, w: boolean, map: number, op: number, mem: number, reg: number): string {
  return `${PFX_NAME[p]}${w ? '.W' : ''} ${MAP_NAME[map]}${hex2(op)} ${mem ? 'm' : 'r'}${reg >= 0 ? '/' + reg : ''}`;
}

/** x87 rows whose eight register bytes are eight different instructions (SDM Vol. 2 Table A-10). */
const X87_BYTE_ROWS = new Set(['d9/6', 'd9/7']);

/** Probes the x87 family's one-byte slots: D8-DF (every memory /reg, every register ModRM byte) and 9B. */
export function installedX87Forms(tc: TestCpu, slots: number[]): Set<string> {
  const forms = new Set<string>();
  for (const esc of slots) {
    if (esc === 0x9b) { forms.add('9b'); continue; }
    if (esc < 0xd8 || esc > 0xdf) throw new Error(`x87 slot ${hex2(esc)} not known to the audit`);
    for (let reg = 0; reg < 8; reg++) {
      if (probe(tc, [esc, 0x02 | (reg << 3)], 0) !== 'UD') forms.add(`${hex2(esc)} m/${reg}`);
      const ok: number[] = [];
      for (let i = 0; i < 8; i++) {
        const b = 0xc0 | (reg << 3) | i;
        if (probe(tc, [esc, b], 0) !== 'UD') ok.push(b);
      }
      if (ok.length === 8 && !X87_BYTE_ROWS.has(`${hex2(esc)}/${reg}`)) forms.add(`${hex2(esc)} r/${reg}`);
      else for (const b of ok) forms.add(`${hex2(esc)} ${hex2(b)}`);
    }
  }
  return forms;
}

/** The x87 name of the instruction `esc modrm`, consistent with installedX87Forms. */
export function x87Name(esc: number, modrm: number, installed: Set<string>): string {
  const reg = (modrm >> 3) & 7;
  if (modrm < 0xc0) return `${hex2(esc)} m/${reg}`;
  const row = `${hex2(esc)} r/${reg}`;
  return installed.has(row) ? row : `${hex2(esc)} ${hex2(modrm)}`;
}

/** ModRM + SIB + displacement length of the bytes at i (64-bit addressing). */
function modrmLen(code: number[], i: number): number {
  const m = code[i]!, mod = m >> 6, rm = m & 7;
  if (mod === 3) return 1;
  let n = 1;
  if (rm === 4) { n++; if (mod === 0 && (code[i + 1]! & 7) === 5) n += 4; }
  if (mod === 0 && rm === 5) n += 4;
  if (mod === 1) n += 1;
  if (mod === 2) n += 4;
  return n;
}
/** 0F-map opcodes with an imm8 (the 0F 3A map always has one). */
const IMM8_0F = new Set([0x70, 0x71, 0x72, 0x73, 0xc2, 0xc4, 0xc5, 0xc6, 0xa4, 0xac, 0xba]);

/** One decoded instruction; `mis` marks a memory operand at [rdx+odd disp8] (the specs' misaligned form). */
export interface Decoded { sse?: { p: number; w: boolean; map: number; op: number; modrm: number; mis: boolean }; x87?: { esc: number; modrm: number } }

/**
 * Splits a spec's byte sequence into instructions. Besides the SSE maps and x87 it knows the
 * few one-byte instructions the specs use as set-up (PUSH/POP r, MOV r/m,r and r,r/m); anything
 * else throws, so a new kind of set-up code is noticed rather than miscounted.
 */
export function decodeSeq(code: number[]): Decoded[] {
  const out: Decoded[] = [];
  let i = 0;
  while (i < code.length) {
    let p = 0, w = false;
    for (;;) {
      const b = code[i]!;
      if (b === 0x66) { if (p === 0) p = 1; i++; } else if (b === 0xf3) { p = 2; i++; } else if (b === 0xf2) { p = 3; i++; }
      else if (b >= 0x40 && b <= 0x4f) { w = (b & 8) !== 0; i++; } else break;
    }
    const b = code[i]!;
    if (b === 0x0f) {
      let map = 1, op = code[i + 1]!;
      i += 2;
      if (op === 0x38 || op === 0x3a) { map = op === 0x38 ? 2 : 3; op = code[i]!; i++; }
      if (map === 1 && op === 0x77) { out.push({ sse: { p, w, map, op, modrm: -1, mis: false } }); continue; }
      const modrm = code[i]!;
      const mis = (modrm & 0xc7) === 0x42 && (code[i + 1]! & 1) === 1;
      i += modrmLen(code, i);
      if (map === 3 || (map === 1 && IMM8_0F.has(op))) i++;
      out.push({ sse: { p, w, map, op, modrm, mis } });
    } else if (b >= 0xd8 && b <= 0xdf) {
      const modrm = code[i + 1]!;
      out.push({ x87: { esc: b, modrm } });
      i += 1 + modrmLen(code, i + 1);
    } else if (b === 0x9b) { out.push({ x87: { esc: 0x9b, modrm: -1 } }); i++; }
    else if (b >= 0x50 && b <= 0x5f) { out.push({}); i++; }
    else if (b === 0x89 || b === 0x8b || b === 0x8d) { out.push({}); i += 1 + modrmLen(code, i + 1); }
    else throw new Error(`decodeSeq: unknown opcode ${hex2(b)} in ${code.map(hex2).join(' ')}`);
  }
  return out;
}

/** The form name of one decoded SSE-map instruction, or null when the slot is not the SSE family's. */
export function sseFormOf(d: NonNullable<Decoded['sse']>, ops: Map<number, SseOpcode>): string | null {
  const slot = (d.map << 8) | d.op;
  if (d.modrm < 0) return ops.has(slot) ? sseName(d.p, false, d.map, d.op, 0, -1) : null;
  const info = ops.get(slot);
  if (!info) return null;
  const m = d.modrm >= 0xc0 ? 0 : 1, reg = (d.modrm >> 3) & 7;
  const ok = info.regs[d.p]![m]!;
  const grouped = ok.some((x) => !x) && ok.some((x) => x);
  return sseName(d.p, d.w && info.w[d.p]![m]!, d.map, d.op, m, grouped ? reg : -1);
}
