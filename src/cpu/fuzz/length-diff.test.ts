// Instruction lengths against GNU objdump (issue 2/5, decoder fuzzing; VEX: issue 4). Candidates are built
// from a fixed seed (at most one legacy prefix, REX, an opcode map — one-byte, 0F, 0F 38,
// 0F 3A — opcode, ModRM, SIB and displacement as ModRM asks, random bytes after) and
// disassembled in one objdump run per mode. Each candidate then runs alone, mid-page, for one
// instruction at CPL 0 (harness.ts) in 64-bit and in 32-bit protected mode:
//  - an instruction that retires without leaving the 15 bytes (no branch taken) advanced RIP
//    by exactly objdump's length;
//  - a byte sequence objdump calls "(bad)" is #UD (SDM Vol. 2 §2.3.11 aside, an encoding
//    that does not exist raises #UD).
// The converse does not hold: objdump knows extensions the CPU profile does not offer
// (VEX/EVEX: AVX, AVX-512, BMI, AMX...; see profile.ts), so "decodes there, #UD here" is
// tallied by mnemonic, not failed (NV_LENDIFF_SHOW=1 prints those without LOCK, which is
// #UD on them). A second pair of runs builds VEX candidates (C4/C5, any map_select, opcodes
// biased to the VEX table entries installed, optional allowed and forbidden prefixes) on a
// CPU with AVX/AVX2 advertised and enabled (CR4.OSXSAVE, XCR0 = 7), so the VEX lengths of
// every implemented form are compared too (SDM Vol. 2 §2.3). Skipped with a message where
// objdump is missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FuzzCpu, CODE_MID, DATA, type FuzzMode } from './harness.js';
import { buildTable, undefinedOpcode } from '../ops/table.js';
import { avxProfile } from '../avx/avx-testing.js';
import { CR4_OSXSAVE } from '../regs.js';
import type { CpuProfile } from '../profile.js';

const SLOT = 32; // 15 candidate bytes, then NOPs: objdump is back in step by the next slot
/** NV_FUZZ_SCALE=n multiplies the candidates and NV_FUZZ_SEED=k moves the seeds (longer hunts outside CI). */
const COUNT = 2000 * Math.max(1, Number(process.env['NV_FUZZ_SCALE'] ?? 1) || 1);
const SEED = Number(process.env['NV_FUZZ_SEED'] ?? 0) | 0;

function haveObjdump(): boolean {
  const r = spawnSync('objdump', ['--version'], { encoding: 'utf8' });
  return r.status === 0;
}

/** xorshift32: candidates are the same on every run. */
function rng(seed: number): () => number {
  let s = seed | 0 || 1;
  return () => { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return s >>> 0; };
}

const LEGACY = [0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x2e, 0x3e, 0x26, 0x36, 0x64, 0x65];

function candidates(seed: number, long: boolean): Uint8Array[] {
  const next = rng(seed);
  const out: Uint8Array[] = [];
  for (let n = 0; n < COUNT; n++) {
    const b: number[] = [];
    const r = next();
    if ((r & 3) === 0) b.push(LEGACY[(r >>> 2) % LEGACY.length]!);
    if (long && ((r >>> 8) & 3) === 0) b.push(0x40 | ((r >>> 10) & 15));
    const map = (r >>> 16) % 6; // 0,1: one-byte; 2,3: 0F; 4: 0F 38; 5: 0F 3A
    if (map >= 2) b.push(0x0f);
    if (map === 4) b.push(0x38);
    if (map === 5) b.push(0x3a);
    const op = next() & 0xff;
    // one-byte opcodes C4/C5/62 are VEX/EVEX escapes in 64-bit mode: outside the profile
    b.push(map < 2 && (op === 0xc4 || op === 0xc5 || op === 0x62 || op === 0x8f) ? 0x90 : op);
    const modrm = next() & 0xff;
    b.push(modrm);
    while (b.length < 15) b.push(next() & 0xff);
    out.push(Uint8Array.from(b.slice(0, 15)));
  }
  return out;
}

/** Opcodes of VEX map m (1-3) that have a handler (table entries 0x400-0x6ff). */
function vexOpcodes(map: number): number[] {
  const t = buildTable(), out: number[] = [];
  for (let op = 0; op < 256; op++) if (t[0x300 + (map << 8) + op] !== undefinedOpcode) out.push(op);
  return out;
}

/** VEX candidates: [prefix] C5 b1 | C4 b1 b2, opcode (implemented ones favoured), ModRM, random bytes. */
function vexCandidates(seed: number, long: boolean): Uint8Array[] {
  const next = rng(seed);
  const ops = [[], vexOpcodes(1), vexOpcodes(2), vexOpcodes(3)];
  const out: Uint8Array[] = [];
  for (let n = 0; n < COUNT; n++) {
    const b: number[] = [];
    const r = next();
    // segment/67 prefixes are allowed before VEX; 66/F2/F3/LOCK/REX make it #UD (SDM Vol. 2 §2.3.2)
    if ((r & 7) === 0) b.push([0x2e, 0x3e, 0x26, 0x36, 0x64, 0x65, 0x67][(r >>> 3) % 7]!);
    else if ((r & 31) === 1) b.push(long && (r & 32) !== 0 ? 0x40 | ((r >>> 6) & 15) : [0x66, 0xf2, 0xf3, 0xf0][(r >>> 6) & 3]!);
    // outside 64-bit mode mostly R̄X̄ = 11 (VEX rather than LES/LDS)
    const top = long || (r & 0x300) !== 0 ? 0 : 0xc0;
    let map = 1;
    const b1 = next() & 0xff;
    if ((r & 0x400) !== 0) b.push(0xc5, long ? b1 : b1 | (top === 0 ? 0xc0 : b1 & 0xc0));
    else {
      map = (r & 0x7000) !== 0 ? 1 + ((r >>> 15) % 3) : (r >>> 15) & 31;
      b.push(0xc4, ((long ? b1 : b1 | (top === 0 ? 0xc0 : b1 & 0xc0)) & 0xe0) | map, next() & 0xff);
    }
    const list = map >= 1 && map <= 3 ? ops[map]! : [];
    b.push(list.length > 0 && (next() % 5) < 3 ? list[next() % list.length]! : next() & 0xff);
    while (b.length < 15) b.push(next() & 0xff);
    out.push(Uint8Array.from(b.slice(0, 15)));
  }
  return out;
}

interface Dis { len: number; text: string }

/** objdump's decoding of the first instruction of every slot. */
function disassemble(cands: Uint8Array[], long: boolean): Dis[] {
  const dir = mkdtempSync(join(tmpdir(), 'nv-lendiff-'));
  try {
    const buf = new Uint8Array(cands.length * SLOT).fill(0x90);
    cands.forEach((c, i) => buf.set(c, i * SLOT));
    const file = join(dir, 'c.bin');
    writeFileSync(file, buf);
    const r = spawnSync('objdump', ['-D', '-b', 'binary', '-m', long ? 'i386:x86-64' : 'i386', '-M', 'intel', '--insn-width=16', file],
      { encoding: 'utf8', maxBuffer: 256 << 20 });
    if (r.status !== 0) throw new Error(`objdump: ${r.stderr}`);
    const at = new Map<number, Dis>();
    // objdump prints a prefix it considers stray (a REX before another prefix or REX, a
    // repeated one) on a line of its own; the CPU decodes one instruction through them, so
    // such lines join the next (SDM Vol. 2 §2.2.1: a REX not next to the opcode is ignored)
    let open: Dis | null = null;
    for (const line of r.stdout.split('\n')) {
      const m = /^\s*([0-9a-f]+):\t([0-9a-f ]+?)\s*\t(.*)$/.exec(line);
      if (m === null) continue;
      const addr = parseInt(m[1]!, 16);
      const len = m[2]!.split(' ').filter(Boolean).length, text = m[3]!.replace(/\s+/g, ' ').trim();
      if (addr % SLOT === 0) { open = { len, text }; at.set(addr / SLOT, open); }
      else if (open !== null) { open.len += len; open.text += ` ${text}`; }
      if (open !== null && !PREFIX_ONLY.test(open.text)) open = null;
    }
    return cands.map((_, i) => {
      const d = at.get(i);
      if (d === undefined) throw new Error(`objdump lost step at slot ${i}`);
      return d;
    });
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

const PFX = '(?:bnd|notrack|rep[a-z]*|lock|data16|data32|addr16|addr32|rex\\S*|[cdefgs]s)';
/** A line of prefixes only, as objdump prints stray ones. */
const PREFIX_ONLY = new RegExp(`^(?:${PFX} ?)+$`);
const LEADING_PFX = new RegExp(`^(?:${PFX} )*`);
/** Mnemonics that may leave the 15 bytes or stay in place: no length from RIP. */
const BRANCHY = new RegExp(`^(?:${PFX} )*(j|call|ret|loop|iret|sys|int|into|lret|ljmp|lcall|enter|hlt|ud)`);

/**
 * Encodings objdump calls "(bad)" that exist on Intel hardware, so the CPU rightly runs them:
 * D6 SALC outside 64-bit mode; the x87 aliases D9 D8-DF (FSTP), DC D0-DF (FCOM/FCOMP), DD C8-CF (FXCH),
 * DE D0-D7 (FCOMP), DF C8-DF (FXCH/FSTP) (SDM Vol. 1 App. and Table A-10's reserved
 * forms execute as the documented ones); 0F 1A/0F 1B, MPX space, which is NOP Ev without
 * MPX (SDM Vol. 2 Table A-3, "NOP Ev" at 0F 19-1F); and forms with F2/F3/66 before an opcode
 * whose mandatory-prefix variant objdump does not know (the CPU ignores the prefix there).
 */
function firstOpcode(c: Uint8Array, long: boolean): number {
  let i = 0;
  while (i < c.length && (LEGACY.includes(c[i]!) || (long && (c[i]! & 0xf0) === 0x40))) i++;
  return c[i]!;
}

function hardwareValid(c: Uint8Array, long: boolean): boolean {
  let i = 0;
  let mandatory = false;
  while (i < c.length && (LEGACY.includes(c[i]!) || (long && (c[i]! & 0xf0) === 0x40))) { if (c[i] === 0xf2 || c[i] === 0xf3 || c[i] === 0x66) mandatory = true; i++; }
  const op = c[i]!, m = c[i + 1]!;
  if (op === 0xd6 && !long) return true;
  if (op === 0x9b) return true; // FWAIT is an instruction of its own; objdump joins it to the next
  if (op === 0xd9 && m >= 0xd8 && m <= 0xdf) return true;
  if (op === 0xdc && m >= 0xd0 && m <= 0xdf) return true;
  if (op === 0xdd && m >= 0xc8 && m <= 0xcf) return true;
  if (op === 0xde && m >= 0xd0 && m <= 0xd7) return true;
  if (op === 0xdf && m >= 0xc8 && m <= 0xdf) return true;
  if (op === 0x0f && (m === 0x1a || m === 0x1b)) return true;
  // 0F AE E8-FF: LFENCE/MFENCE/SFENCE take any r/m (objdump knows only E8/F0/F8)
  if (op === 0x0f && m === 0xae && c[i + 2]! >= 0xe8) return true;
  return mandatory && op === 0x0f;
}
const hex = (b: Uint8Array, n = 15): string => [...b.subarray(0, n)].map((x) => x.toString(16).padStart(2, '0')).join(' ');

function compare(mode: FuzzMode, seed: number, t: { diagnostic(s: string): void }, vex = false): void {
  const long = mode === 'long64';
  const cands = vex ? vexCandidates(seed, long) : candidates(seed, long);
  const dis = disassemble(cands, long);
  const fz = new FuzzCpu(mode);
  if (vex) (fz.cpu as unknown as { profile: CpuProfile }).profile = avxProfile(fz.cpu.profile, { avx2: true });
  const regs = new Int32Array(32);
  for (let i = 0; i < 16; i++) regs[2 * i] = DATA + 0x100 * i;
  let compared = 0, bad = 0, badValid = 0, udHere = 0, faulted = 0, branchy = 0;
  const lacks = new Map<string, number>();
  const errors: string[] = [];
  for (let i = 0; i < cands.length; i++) {
    const c = cands[i]!, d = dis[i]!;
    fz.load(c, regs, 0, CODE_MID);
    if (vex) { fz.cpu.cr4 |= CR4_OSXSAVE; fz.cpu.xcr0 = 7; } // AVX enabled as an OS does it
    fz.cpu.run(1);
    const e = fz.events[0];
    const retired = e === undefined || e.rip !== CODE_MID;
    if (d.text.includes('(bad)')) {
      if (hardwareValid(c, long)) { badValid++; continue; }
      bad++;
      if (retired || e.vector !== 6) errors.push(`[${hex(c)}] objdump "(bad)", here ${retired ? `retired ${fz.cpu.rip - CODE_MID} bytes` : `#${e.vector}`}`);
      continue;
    }
    if (!retired) {
      if (e.vector === 6) {
        udHere++;
        const mn = d.text.replace(LEADING_PFX, '').split(' ')[0]!;
        lacks.set(mn, (lacks.get(mn) ?? 0) + 1);
        if (process.env['NV_LENDIFF_SHOW'] && !/\block\b/.test(d.text)) console.log(`#UD here: [${hex(c, d.len)}] ${d.text}`);
      } else faulted++;
      continue;
    }
    if (BRANCHY.test(d.text)) { branchy++; continue; }
    if (firstOpcode(c, long) === 0x9b) { branchy++; continue; } // FWAIT: objdump joins the next x87 instruction
    const adv = fz.cpu.rip - CODE_MID;
    if (adv === 0) { branchy++; continue; } // a REP string step that has not finished
    compared++;
    if (adv !== d.len) errors.push(`[${hex(c, Math.max(adv, d.len))}] objdump ${d.len} bytes "${d.text}", here ${adv}`);
  }
  const top = [...lacks].sort((a, b) => b[1] - a[1]).slice(0, 40).map(([k, v]) => `${k} ${v}`).join(', ');
  t.diagnostic(`${mode}: ${cands.length} candidates: ${compared} lengths compared, ${bad} "(bad)" checked for #UD (${badValid} more exist on hardware), ` +
    `${faulted} faulted otherwise, ${branchy} branches/REP steps skipped, ${udHere} #UD here though objdump decodes them`);
  t.diagnostic(`${mode}: #UD here, decoded by objdump (top 40): ${top}`);
  assert.deepEqual(errors.slice(0, 20), [], `${errors.length} mismatches`);
  assert.ok(compared > cands.length / (vex ? 10 : 4), `too few lengths compared (${compared})`);
}

test('instruction lengths and #UD agree with objdump, 64-bit mode', (t) => {
  if (!haveObjdump()) { t.skip('GNU objdump not installed (binutils): length differential skipped'); return; }
  compare('long64', 0x1e9d1f + SEED, t);
});

test('instruction lengths and #UD agree with objdump, 32-bit protected mode', (t) => {
  if (!haveObjdump()) { t.skip('GNU objdump not installed (binutils): length differential skipped'); return; }
  compare('prot32', 0x1e9d32 + SEED, t);
});

test('VEX instruction lengths and #UD agree with objdump, 64-bit mode (AVX/AVX2 on)', (t) => {
  if (!haveObjdump()) { t.skip('GNU objdump not installed (binutils): length differential skipped'); return; }
  compare('long64', 0x7e8a64 + SEED, t, true);
});

test('VEX instruction lengths and #UD agree with objdump, 32-bit protected mode (AVX/AVX2 on)', (t) => {
  if (!haveObjdump()) { t.skip('GNU objdump not installed (binutils): length differential skipped'); return; }
  compare('prot32', 0x7e8a32 + SEED, t, true);
});
