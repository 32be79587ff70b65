/**
 * The translator's static decoder (decode.ts) against the interpreter, for the encodings it
 * hands to interpreter handlers from inside a block: SSE/MMX (0F, 0F 38, 0F 3A with each
 * mandatory prefix, REX, 67 and a segment override), x87 (D8-DF with every ModRM byte, WAIT)
 * and VEX (C4 with maps 1-3, C5; each pp, L, W, two vvvv). A block continues after such an
 * instruction at the offset the static decoder computed, so for every encoding it accepts
 * and the interpreter retires, the interpreter's RIP advance must equal the static length
 * (SDM Vol. 2 §2.1-§2.3, Appendix A). Encodings that fault are not compared: a fault leaves
 * RIP at the instruction in both (jit.test.ts, jit-fp.test.ts check that). Also checks what
 * is refused: VEX after a 66/F2/F3/REX prefix, LES/LDS in 32-bit code, the VM-exiting maps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, CODE, type Mode, type TestCpu } from '../testing.js';
import { Insn, decodeInsn } from './decode.js';
import { avxProfile } from '../avx/avx-testing.js';
import { CR4_OSFXSR, CR4_OSXMMEXCPT, CR4_OSXSAVE } from '../regs.js';
import type { CpuProfile } from '../profile.js';

const DATA = 0x30000;

function fpCpu(mode: Mode): TestCpu {
  const t = makeCpu(mode);
  (t.cpu as unknown as { profile: CpuProfile }).profile = avxProfile(t.cpu.profile, { avx2: true, fma: true, f16c: true, bmi: true });
  t.cpu.cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_OSXSAVE;
  t.cpu.xcr0 = 7;
  t.cpu.jit = false;
  return t;
}

/** ModRM (+SIB, displacement) forms: register, [rax], [rax+40h], [rax+rdx*4+100h], [rip/abs+disp32], [disp32] via SIB. */
function modrmForms(reg: number): number[][] {
  const r = (reg & 7) << 3;
  return [
    [0xc0 | r | 1],
    [0x00 | r | 0],
    [0x40 | r | 0, 0x40],
    [0x80 | r | 4, 0x90, 0x00, 0x01, 0x00, 0x00],
    [0x00 | r | 5, 0x00, 0x02, 0x00, 0x00],
    [0x00 | r | 4, 0x25, 0x80, 0x00, 0x03, 0x00],
  ];
}

/** Runs one instruction in the interpreter: its RIP advance, or -1 when it did not retire. */
function interpLength(t: TestCpu, bytes: number[]): number {
  const c = t.cpu;
  c.fpu.reset();
  c.fpu.fcw = 0x37f; c.fpu.tag.fill(3); // FNINIT
  c.r.fill(0);
  c.r[0] = DATA; c.r[2] = 1; c.r[4] = 0x80000; c.r[6] = 0; // rax, rcx, rsp, rdx
  c.rip = CODE; c.halted = false;
  t.exceptions.length = 0;
  t.mem.load(CODE, Uint8Array.from([...bytes, 0x10, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0xf4]));
  const n0 = c.instructionCount;
  c.run(1);
  if (t.exceptions.length !== 0 || c.instructionCount !== n0 + 1) return -1;
  return c.rip - CODE;
}

interface Tally { accepted: number; retired: number; mismatches: string[] }

function check(t: TestCpu, code64: boolean, bytes: number[], ins: Insn, tally: Tally): void {
  const ram = new Uint8Array(4096);
  ram.set(bytes);
  ram.set([0x10, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0xf4], bytes.length);
  if (!decodeInsn(ram, 0, 0, code64, ins)) return;
  tally.accepted++;
  const len = interpLength(t, bytes);
  if (len < 0) return;
  tally.retired++;
  if (len !== ins.len && tally.mismatches.length < 20) {
    tally.mismatches.push(`${bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ')}: static ${ins.len}, interpreter ${len}`);
  }
}

for (const mode of ['long64', 'prot32'] as const) {
  const code64 = mode === 'long64';

  test(`static lengths of SSE/MMX encodings (0F, 0F 38, 0F 3A) equal the interpreter's (${mode})`, () => {
    const t = fpCpu(mode);
    const ins = new Insn();
    const tally: Tally = { accepted: 0, retired: 0, mismatches: [] };
    const pfxSets = code64
      ? [[], [0x66], [0xf2], [0xf3], [0x48], [0x66, 0x4c], [0xf3, 0x41], [0xf2, 0x48], [0x67], [0x64, 0x66]]
      : [[], [0x66], [0xf2], [0xf3], [0x64, 0x66]];
    const opcodes: number[][] = [];
    for (let b = 0; b < 256; b++) {
      // (Jcc rel32 transfers control: its RIP is the target, not the length)
      if (b !== 0x38 && b !== 0x3a && (b & 0xf0) !== 0x80) opcodes.push([0x0f, b]);
      opcodes.push([0x0f, 0x38, b], [0x0f, 0x3a, b]);
    }
    for (const op of opcodes) {
      for (const p of pfxSets) {
        for (let reg = 0; reg < 8; reg++) {
          for (const m of modrmForms(reg)) check(t, code64, [...p, ...op, ...m], ins, tally);
        }
      }
    }
    assert.deepEqual(tally.mismatches, []);
    assert.ok(tally.retired > (code64 ? 20000 : 8000), `retired ${tally.retired} of ${tally.accepted} accepted`);
  });

  test(`static lengths of x87 encodings (D8-DF, every ModRM byte; WAIT) equal the interpreter's (${mode})`, () => {
    const t = fpCpu(mode);
    const ins = new Insn();
    const tally: Tally = { accepted: 0, retired: 0, mismatches: [] };
    for (let esc = 0xd8; esc < 0xe0; esc++) {
      for (let m = 0; m < 256; m++) {
        const form = modrmForms((m >> 3) & 7).find((f) => (f[0]! & 0xc7) === (m & 0xc7));
        const rest = form !== undefined ? form.slice(1) : (m >> 6) === 1 ? [0x40] : (m >> 6) === 2 ? [0, 1, 0, 0] : [];
        const sib = (m & 7) === 4 && (m >> 6) !== 3 && form === undefined ? [0x90] : [];
        const disp = (m >> 6) === 0 && (m & 7) === 5 && form === undefined ? [0, 2, 0, 0] : [];
        check(t, code64, [esc, m, ...sib, ...rest, ...disp], ins, tally);
      }
    }
    check(t, code64, [0x9b], ins, tally);
    assert.deepEqual(tally.mismatches, []);
    assert.equal(tally.accepted, 8 * 256 + 1, 'every x87 encoding is accepted');
    assert.ok(tally.retired > 1500, `retired ${tally.retired}`);
  });

  test(`static lengths of VEX encodings (C4 maps 1-3, C5) equal the interpreter's (${mode})`, () => {
    const t = fpCpu(mode);
    const ins = new Insn();
    const tally: Tally = { accepted: 0, retired: 0, mismatches: [] };
    for (let map = 1; map <= 3; map++) {
      for (let op = 0; op < 256; op++) {
        for (let w = 0; w < 2; w++) {
          for (let l = 0; l < 2; l++) {
            for (let pp = 0; pp < 4; pp++) {
              for (const vvvv of [0xf, 0xe]) {
                const b2 = (w << 7) | (vvvv << 3) | (l << 2) | pp;
                // R̄X̄B̄ = 111 (no extension; the only form outside 64-bit mode), and 010 in 64-bit mode
                for (const rxb of code64 ? [7, 2] : [7]) {
                  for (let reg = 0; reg < 8; reg += (map === 1 && op >= 0x70 && op <= 0x73) || op === 0xae || op === 0xf3 ? 1 : 3) {
                    for (const m of modrmForms(reg)) {
                      check(t, code64, [0xc4, (rxb << 5) | map, b2, op, ...m], ins, tally);
                      if (map === 1 && w === 0 && rxb === 7) check(t, code64, [0xc5, 0x80 | (vvvv << 3) | (l << 2) | pp, op, ...m], ins, tally);
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    assert.deepEqual(tally.mismatches, []);
    assert.ok(tally.retired > 20000, `retired ${tally.retired} of ${tally.accepted} accepted`);
  });

  test(`encodings the translator leaves to the interpreter are refused (${mode})`, () => {
    const ins = new Insn();
    const refused = (bytes: number[]): boolean => {
      const ram = new Uint8Array(4096);
      ram.set([...bytes, 0, 0, 0, 0, 0, 0]);
      return !decodeInsn(ram, 0, 0, code64, ins);
    };
    // c4 e1 74 58 c2: vaddps ymm0, ymm1, ymm2 — accepted, with its fields
    assert.equal(refused([0xc4, 0xe1, 0x74, 0x58, 0xc2]), false);
    assert.equal(ins.opcode, 0x458); assert.equal(ins.vexL, 1); assert.equal(ins.vexV, 1); assert.equal(ins.len, 5);
    assert.ok(refused([0x66, 0xc5, 0xf8, 0x58, 0xc1]), '66 before VEX (#UD)');
    assert.ok(refused([0xf3, 0xc5, 0xf8, 0x58, 0xc1]), 'F3 before VEX (#UD)');
    assert.ok(refused([0xc4, 0xe4, 0x78, 0x58, 0xc1]), 'VEX map 4 (#UD)');
    assert.ok(refused([0x0f, 0x0f, 0xc1, 0x9e]), '3DNow! (not offered)');
    assert.ok(refused([0x0f, 0x78, 0xc1]), 'VMREAD');
    assert.ok(refused([0x66, 0x0f, 0x38, 0x80, 0x08]), 'INVEPT');
    assert.ok(refused([0x0f, 0xc7, 0x30]), 'VMPTRLD');
    assert.ok(refused([0xf3, 0x0f, 0xae, 0xc0]), 'RDFSBASE');
    assert.equal(refused([0x0f, 0xae, 0xf0]), false, 'MFENCE is accepted');
    assert.equal(refused([0x0f, 0xae, 0x10]), false, 'LDMXCSR is accepted');
    if (code64) {
      assert.ok(refused([0x48, 0xc5, 0xf8, 0x58, 0xc1]), 'REX before VEX (#UD)');
    } else {
      // c5 00: LDS eax, [eax] outside 64-bit mode
      assert.ok(refused([0xc5, 0x00]), 'LDS');
      assert.ok(refused([0xc4, 0x40, 0x00]), 'LES');
      assert.equal(refused([0xc5, 0xf8, 0x58, 0xc1]), false, 'VEX in 32-bit code');
    }
  });
}
