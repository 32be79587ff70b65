// Completeness audit of the VEX instruction set against GNU objdump (issue 4: "advertise only
// what is implemented"). Every VEX encoding in 64-bit mode — map 1 (0F), 2 (0F 38), 3 (0F 3A)
// × opcode × VEX.pp × VEX.L × VEX.W × register and memory ModRM × ModRM.reg 0-7 (the /digit
// of the group opcodes; the destination register elsewhere), vvvv = 1111b (no register: the
// form every instruction accepts), an imm8 after — is disassembled in one objdump run (as
// the length fuzzer does, fuzz/length-diff.test.ts) and run for one instruction on the
// shipped profiles (defaultProfile, amdProfile) with CR4.OSXSAVE = 1 and XCR0 = 7:
//  - every encoding objdump names must run (anything but #UD) unless its mnemonic belongs to
//    an extension the profiles do not advertise (NOT_ADVERTISED below: each with the CPUID
//    bit that gates it), and then it must be #UD;
//  - every encoding objdump calls "(bad)" (or prints with a "(bad)" operand) must be #UD;
//  - the encodings objdump decodes though the SDM does not define them (OBJDUMP_DECODES_UD,
//    each checked against this machine's CPU) must be #UD.
// The families' own differential tests (avx-diff, x-diff, fma-diff, f16c-diff) check the
// results against this CPU; this test checks that the families together leave nothing out.
// Skipped with a message where objdump is missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCpu, run, setReg64, type TestCpu } from '../testing.js';
import { amdProfile, defaultProfile, isAmd, F1C_AVX, F1C_FMA, F1C_F16C, F7B_AVX2, F7B_BMI1, F7B_BMI2, type CpuProfile } from '../profile.js';
import { CR4_OSFXSR, CR4_OSXMMEXCPT, CR4_OSXSAVE, UD } from '../regs.js';

const SLOT = 16; // at most 7 candidate bytes, then NOPs: objdump is back in step by the next slot
const DATA = 0x20000;

/**
 * VEX-encoded extensions objdump (binutils 2.40) decodes that no Nestvisor profile
 * advertises, so they are #UD (issue 4). Each entry: the mnemonic pattern as objdump prints
 * it (register operands decide for the 256-bit-only ones) and the CPUID bit that gates it.
 */
const NOT_ADVERTISED: ReadonlyArray<{ re: RegExp; gate: string }> = [
  // VEX.256 VAESENC/VAESENCLAST/VAESDEC/VAESDECLAST: the VEX.128 forms are AES+AVX and run
  { re: /^vaes(enc|dec)(last)? ymm/, gate: 'VAES: CPUID.(7,0):ECX[9]' },
  // VEX.256 VPCLMULQDQ (objdump prints the imm8 pseudo-ops vpclmul{l,h}q{l,h}qdq); VEX.128 runs
  { re: /^vpclmul\w*qdq ymm/, gate: 'VPCLMULQDQ: CPUID.(7,0):ECX[10]' },
  { re: /^vgf2p8(affineqb|affineinvqb|mulb) /, gate: 'GFNI: CPUID.(7,0):ECX[8]' },
  { re: /^(\{vex\} )?vpdp(busd|busds|wssd|wssds) /, gate: 'AVX-VNNI: CPUID.(7,1):EAX[4]' },
  { re: /^(\{vex\} )?vpmadd52(l|h)uq /, gate: 'AVX-IFMA: CPUID.(7,1):EAX[23]' },
  { re: /^vpdpb(ss|su|uu)ds? /, gate: 'AVX-VNNI-INT8: CPUID.(7,1):EDX[4]' },
  { re: /^(vbcstne(bf16|sh)2ps|vcvtne(e|o)(bf16|ph)2ps|(\{vex\} )?vcvtneps2bf16) /, gate: 'AVX-NE-CONVERT: CPUID.(7,1):EDX[5]' },
  { re: /^cmp\w*xadd /, gate: 'CMPCCXADD: CPUID.(7,1):EAX[7]' },
  // the VEX-encoded opmask instructions belong to AVX-512 (F, DQ, BW)
  { re: /^k(and|andn|or|xor|xnor|not|mov|add|shiftl|shiftr|test|ortest|unpck)[bwdq]* /, gate: 'AVX512F/DQ/BW: CPUID.(7,0):EBX[16]/[17]/[30]' },
  { re: /^(ldtilecfg|sttilecfg|tilerelease|tilezero|tileloadd|tileloaddt1|tilestored) /, gate: 'AMX-TILE: CPUID.(7,0):EDX[24]' },
  { re: /^tilerelease$/, gate: 'AMX-TILE: CPUID.(7,0):EDX[24]' },
  { re: /^tdpb(ssd|sud|usd|uud) /, gate: 'AMX-INT8: CPUID.(7,0):EDX[25]' },
  { re: /^tdpbf16ps /, gate: 'AMX-BF16: CPUID.(7,0):EDX[22]' },
  { re: /^tdpfp16ps /, gate: 'AMX-FP16: CPUID.(7,1):EAX[21]' },
  // AMD's VEX-encoded FMA4 (map 3, 5C-5F, 68-7F) and VPERMIL2PS/PD (map 3, 48-49)
  // (four operands; the FMA3 forms of the same names have three)
  { re: /^vfn?m(add|sub)\w*(ps|pd|ss|sd) [^,]+,[^,]+,[^,]+,[^,]+$/, gate: 'FMA4: CPUID.80000001h:ECX[16]' },
  { re: /^vpermil2p[sd] /, gate: 'XOP: CPUID.80000001h:ECX[11]' },
];

/**
 * Encodings objdump decodes that the SDM does not define, so they are #UD here — checked on
 * this machine's CPU (Zen 4), which raises #UD for every one of them. Matched on the
 * candidate's key (map, opcode, pp, L, W).
 */
const OBJDUMP_DECODES_UD: ReadonlyArray<{ key: RegExp; why: string }> = [
  // VZEROUPPER/VZEROALL are VEX.128/256.0F.WIG 77 (pp = 00); objdump ignores VEX.pp there
  { key: /^map1 77 pp[123] /, why: 'VZEROUPPER/VZEROALL with VEX.pp != 00' },
  // VLDMXCSR/VSTMXCSR are VEX.LZ.0F.WIG AE /2 /3; objdump ignores VEX.pp there
  { key: /^map1 ae pp[123] L0 W[01] mem \/[23]$/, why: 'VLDMXCSR/VSTMXCSR with VEX.pp != 00' },
];

/**
 * Encodings objdump calls (bad) that the nestvisor-amd profile runs because this machine's
 * CPU (Zen 4) does: VEX.W0 VPERMQ/VPERMPD (VEX.256.66.0F3A 00/01; the SDM and binutils list W1
 * only, Intel #UD, avx/cross.ts), checked by avx/x-diff.test.ts's slot test on the host.
 */
const AMD_RUNS_BAD: ReadonlyArray<RegExp> = [/^map3 0[01] pp1 L1 W0 (reg|mem) \/[0-7]$/];

function haveObjdump(): boolean {
  return spawnSync('objdump', ['--version'], { encoding: 'utf8' }).status === 0;
}

interface Cand { bytes: number[]; key: string }

function candidates(): Cand[] {
  const out: Cand[] = [];
  for (let map = 1; map <= 3; map++) {
    for (let op = 0; op < 256; op++) {
      for (let pp = 0; pp < 4; pp++) {
        for (let l = 0; l < 2; l++) {
          for (let w = 0; w < 2; w++) {
            for (let mem = 0; mem < 2; mem++) {
              for (let reg = 0; reg < 8; reg++) {
                // R̄X̄B̄ = 111 (no extension), vvvv = 1111b. Memory: [rax+rdx*1] (SIB, so a
                // gather gets index register xmm2/ymm2, apart from mask 0 and destination);
                // register: rm = 1. imm8 0x10 (register 1 where imm8[7:4] names one).
                const b2 = (w << 7) | (15 << 3) | (l << 2) | pp;
                const modrm = mem === 1 ? (reg << 3) | 4 : 0xc1 | (reg << 3);
                const bytes = mem === 1 ? [0xc4, 0xe0 | map, b2, op, modrm, 0x10, 0x10] : [0xc4, 0xe0 | map, b2, op, modrm, 0x10];
                out.push({ bytes, key: `map${map} ${op.toString(16).padStart(2, '0')} pp${pp} L${l} W${w} ${mem ? 'mem' : 'reg'} /${reg}` });
              }
            }
          }
        }
      }
    }
  }
  return out;
}

/** objdump's text for the first instruction of every slot ('' when it owns no bytes there). */
function disassemble(cands: Cand[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'nv-isa-audit-'));
  try {
    const buf = new Uint8Array(cands.length * SLOT).fill(0x90);
    cands.forEach((c, i) => buf.set(c.bytes, i * SLOT));
    const file = join(dir, 'c.bin');
    writeFileSync(file, buf);
    const r = spawnSync('objdump', ['-D', '-b', 'binary', '-m', 'i386:x86-64', '-M', 'intel', '--insn-width=16', file],
      { encoding: 'utf8', maxBuffer: 1 << 30 });
    if (r.status !== 0) throw new Error(`objdump: ${r.stderr}`);
    const text: string[] = new Array<string>(cands.length).fill('');
    for (const line of r.stdout.split('\n')) {
      const m = /^\s*([0-9a-f]+):\t[0-9a-f ]+?\s*\t(.*)$/.exec(line);
      if (m === null) continue;
      const addr = parseInt(m[1]!, 16);
      if (addr % SLOT === 0) text[addr / SLOT] = m[2]!.replace(/\s+/g, ' ').replace(/ ?#.*$/, '').trim();
    }
    return text;
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

/** A 64-bit test CPU on `p` with AVX state enabled as an OS does (CR4.OSXSAVE, XCR0 = 7). */
function cpuOn(p: CpuProfile): TestCpu {
  const t = makeCpu('long64');
  (t.cpu as unknown as { profile: CpuProfile }).profile = p;
  t.cpu.cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_OSXSAVE;
  t.cpu.xcr0 = 7;
  return t;
}

/** Runs one candidate; true when it raised #UD. */
function isUd(t: TestCpu, c: Cand): boolean {
  const cpu = t.cpu;
  for (let i = 0; i < 16; i++) setReg64(cpu, i, 0n);
  setReg64(cpu, 0, BigInt(DATA)); setReg64(cpu, 4, 0x80000n);
  cpu.fpu.mxcsr = 0x1f80; // masked: an FP instruction never ends in #XM, and a VLDMXCSR before does not leak
  cpu.fpu.xmm.fill(0); cpu.fpu.ymmh.fill(0);
  const before = t.exceptions.length;
  run(t, c.bytes, 1);
  return t.exceptions.length !== before && t.exceptions[t.exceptions.length - 1]![0] === UD;
}

const notAdvertised = (s: string): string | null => NOT_ADVERTISED.find((e) => e.re.test(s))?.gate ?? null;

/** Gathers #UD when destination, index and mask registers are not distinct (SDM Vol. 2 VGATHERDPS). */
const gatherClash = (s: string): boolean => /^v(p)?gather\w+ [xy]mm[02],/.test(s);

function audit(p: CpuProfile, cands: Cand[], dis: string[]): { runs: number; ud: number; gated: Map<string, number>; bad: number } {
  const t = cpuOn(p);
  const wrong: string[] = [];
  const gated = new Map<string, number>();
  let runs = 0, ud = 0, bad = 0;
  cands.forEach((c, i) => {
    const s = dis[i]!;
    const u = isUd(t, c);
    if (u) ud++; else runs++;
    if (s === '' || s.includes('(bad)')) {
      bad++;
      if (!u && !(isAmd(p) && AMD_RUNS_BAD.some((re) => re.test(c.key)))) wrong.push(`${c.key}: objdump ${s === '' ? 'lost step' : s}, runs here`);
      return;
    }
    const undefinedForm = OBJDUMP_DECODES_UD.find((e) => e.key.test(c.key));
    if (undefinedForm !== undefined) {
      if (!u) wrong.push(`${c.key}: ${s} runs (${undefinedForm.why}: #UD on hardware)`);
      return;
    }
    const gate = notAdvertised(s);
    if (gate !== null) {
      gated.set(gate, (gated.get(gate) ?? 0) + 1);
      if (!u) wrong.push(`${c.key}: ${s} runs, but ${gate} is not advertised`);
    } else if (u && !gatherClash(s)) wrong.push(`${c.key}: ${s} is #UD`);
  });
  if (wrong.length > 0) {
    const shown = wrong.slice(0, 5000).join('\n');
    assert.fail(`${p.name}: ${wrong.length} encodings disagree with objdump:\n${shown}`);
  }
  return { runs, ud, gated, bad };
}

const FEATURES: ReadonlyArray<[string, (p: CpuProfile) => boolean]> = [
  ['AVX', (p) => (p.leaf1Ecx & F1C_AVX) !== 0], ['FMA', (p) => (p.leaf1Ecx & F1C_FMA) !== 0],
  ['F16C', (p) => (p.leaf1Ecx & F1C_F16C) !== 0], ['AVX2', (p) => (p.leaf7Ebx & F7B_AVX2) !== 0],
  ['BMI1', (p) => (p.leaf7Ebx & F7B_BMI1) !== 0], ['BMI2', (p) => (p.leaf7Ebx & F7B_BMI2) !== 0],
];

test('every VEX encoding objdump decodes runs on the shipped profiles unless its extension is listed as not advertised', (ctx) => {
  if (!haveObjdump()) { ctx.skip('objdump not installed'); return; }
  const cands = candidates();
  const dis = disassemble(cands);
  for (const p of [defaultProfile(), amdProfile()]) {
    for (const [name, has] of FEATURES) assert.ok(has(p), `${p.name} advertises ${name}`);
    const r = audit(p, cands, dis);
    // 3 maps × 256 × 4 pp × 2 L × 2 W × 2 ModRM kinds × 8 reg
    assert.equal(cands.length, 196608);
    assert.equal(r.runs + r.ud, cands.length);
    assert.ok(r.runs > 10000, `${p.name}: ${r.runs} encodings run`);
    assert.ok(r.gated.size >= 5, `${p.name}: gated extensions seen: ${[...r.gated.keys()].join(', ')}`);
    if (process.env['NV_AUDIT_SHOW'] === '1') {
      console.log(`${p.name}: ${r.runs} run, ${r.ud} #UD (${r.bad} objdump (bad)); gated: ${[...r.gated].map(([g, n]) => `${g} ${n}`).join('; ')}`);
    }
  }
});
