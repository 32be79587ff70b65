/**
 * The translator's native shifts (emit-shift.ts) against the interpreter: SHL/SAL/SHR/SAR of
 * a register by imm8 (C0/C1) and by 1 (D0/D1), at every operand size (AH..BH, 66, REX.W),
 * with counts 1..255 (masked to 5 or 6 bits, so above the operand width too) on values whose
 * shifted-out bits, signs and parities vary. Each program loops 30 times, so its block is
 * translated and rerun; registers (R15 sums the EFLAGS each shift left, pushed right after
 * it), RIP, the arithmetic flags and the count must match.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, setReg64, CODE, type TestCpu } from '../testing.js';
import { STOP_HALT } from '../cpu.js';

function state(t: TestCpu): string {
  const c = t.cpu;
  return `rip=${c.rip.toString(16)} n=${c.instructionCount} flags=${(c.getFlags() & 0x8d5).toString(16)} ` +
    `regs=${Array.from(c.r, (v) => (v >>> 0).toString(16)).join(' ')} exc=${JSON.stringify(t.exceptions)}`;
}

/** Runs `body` 30 times (dec r12d; jnz) on a translating and an interpreting CPU from the same registers. */
function check(body: number[], regs: bigint[]): void {
  const code = [...body, 0x41, 0xff, 0xcc, 0x0f, 0x85, ...le32(-(body.length + 9)), 0xf4];
  const ts = [makeCpu('long64'), makeCpu('long64')];
  ts[0]!.cpu.jit = true; ts[1]!.cpu.jit = false;
  for (const t of ts) {
    t.mem.load(CODE, Uint8Array.from(code));
    t.cpu.rip = CODE;
    regs.forEach((v, n) => { if (n !== 4 && n !== 12) setReg64(t.cpu, n, v); });
    setReg64(t.cpu, 12, 30n);
    assert.equal(t.cpu.run(100000), STOP_HALT);
  }
  assert.equal(state(ts[0]!), state(ts[1]!), `code ${body.map((x) => x.toString(16)).join(' ')}`);
  assert.ok(ts[0]!.cpu.dc.blk.some((x) => x !== null), 'the loop was translated');
}

function le32(v: number): number[] { return [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff]; }

/** A deterministic PRNG (tests are reproducible). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s; };
}

test('SHL/SAL/SHR/SAR reg by imm8 and by 1 at sizes 8/16/32/64: the interpreter\'s results and flags', () => {
  const next = rng(77);
  let programs = 0;
  for (const kind of [4, 5, 6, 7]) {
    for (const [pfx, byte] of [[[], true], [[], false], [[0x66], false], [[0x48], false], [[0x49], false], [[0x40], true]] as Array<[number[], boolean]>) {
      for (const count of [1, 2, 7, 8, 15, 16, 17, 31, 32, 33, 40, 63, 64, 200, 255]) {
        // a flag producer first, so that the shift's flags replace live lazy ones
        // never rm 4, 5, 6: with REX.B those are R12 (the loop counter), R13 and R14 (the flags)
        const rms = [0, 1, 2, 3, 7], rm = rms[next() % 5]!, rm2 = rms[(rms.indexOf(rm) + 2) % 5]!;
        // the 64-bit register holding the operand: R8+ with REX.B, AH..BH without REX
        const full = (n: number): number => (pfx.includes(0x49) ? n + 8 : byte && pfx.length === 0 && n >= 4 ? n - 4 : n);
        const movFromRsi = (n: number): number[] => [0x48 | (n >= 8 ? 1 : 0), 0x89, 0xc0 | (6 << 3) | (n & 7)];
        // every pass shifts a fresh value (rsi += rbp; mov reg, rsi) and adds the EFLAGS the
        // shift left (pushfq; pop r13) to r15, so each pass's flags count, translated or not
        const body = [
          0x48, 0x01, 0xee, ...movFromRsi(full(rm)), // add rsi, rbp; mov reg, rsi
          ...pfx, byte ? 0xc0 : 0xc1, 0xc0 | (kind << 3) | rm, count,
          0x9c, 0x41, 0x5d, 0x4d, 0x01, 0xef, // pushfq; pop r13; add r15, r13
          0x48, 0x01, 0xee, ...movFromRsi(full(rm2)),
          ...pfx, byte ? 0xd0 : 0xd1, 0xc0 | (kind << 3) | rm2,
          0x9c, 0x41, 0x5e, 0x4d, 0x01, 0xf7]; // pushfq; pop r14; add r15, r14
        const regs = Array.from({ length: 16 }, (_, n) => BigInt(next()) * 0x100000000n + BigInt(next() >>> (n % 3 === 0 ? 20 : 0)));
        check(body, regs);
        programs++;
      }
    }
  }
  assert.equal(programs, 4 * 6 * 15);
});

test('a shift between a compare and its Jcc: the Jcc reads the shift\'s flags', () => {
  // cmp rax, rbx; shr ecx, 3; jc +3; add edx, 1 — CF from the shift, not the compare
  for (const v of [0n, 4n, 7n, 8n, 0xfffffffcn, 0x80000004n]) {
    check([0x48, 0x39, 0xd8, 0xc1, 0xe9, 0x03, 0x72, 0x03, 0x83, 0xc2, 0x01, 0xd1, 0xe1], [1n, v, 0n, 2n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n]);
  }
});
