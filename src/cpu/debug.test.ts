/**
 * Debug exceptions (SDM Vol. 3B §17.3) as the run loop raises them: single-step traps,
 * instruction and data breakpoints, RF, and MOV SS blocking. The traps kvm-unit-tests'
 * x86/debug.c checks, reduced to single instruction sequences.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, run, CODE, type TestCpu } from './testing.js';
import { nullInaccessibleSegments } from './segments.js';
import { GS, AR_UNUSABLE } from './regs.js';

/** A CPU whose "handler" records (vector, RIP, DR6) and resumes at once (as an IRET would). */
function tracing(mode: 'real' | 'long64'): { t: TestCpu; events: Array<[number, number, number]> } {
  const t = makeCpu(mode);
  const events: Array<[number, number, number]> = [];
  t.cpu.hooks.deliver = (c, vector) => { events.push([vector, c.rip, c.dr[6]!]); };
  return { t, events };
}

test('single-step: TF at the start of an instruction traps after it (not after the POPF that sets TF)', () => {
  const { t, events } = tracing('long64');
  run(t, `
    9c                ; pushfq
    58                ; pop rax
    48 0d 00 01 00 00 ; or rax, 0x100
    50                ; push rax
    9d                ; popfq         (sets TF: no trap after it)
    25 ff fe ff ff    ; and eax, 0xfffffeff   <- trap after, RIP = CODE+15
    50                ; push rax      <- trap, RIP = CODE+16
    9d                ; popfq         (clears TF: still traps, RIP = CODE+17)
    90                ; nop           (no trap)
  `);
  assert.deepEqual(events, [[1, CODE + 15, 0xffff4ff0], [1, CODE + 16, 0xffff4ff0], [1, CODE + 17, 0xffff4ff0]]);
});

test('single-step: MOV SS blocks the trap after itself; INT n replaces the trap of its instruction', () => {
  const { t, events } = tracing('real');
  run(t, `
    9c          ; pushf
    58          ; pop ax
    0d 00 01    ; or ax, 0x100
    50          ; push ax
    8c d2       ; mov dx, ss
    9d          ; popf          (sets TF)
    8e d2       ; mov ss, dx    (trap blocked)
    25 ff fe    ; and ax, 0xfeff  <- trap, RIP = CODE+14
    50          ; push ax       <- trap, RIP = CODE+15
    9d          ; popf          <- trap, RIP = CODE+16
  `);
  assert.deepEqual(events.map((e) => e[1]), [CODE + 14, CODE + 15, CODE + 16]);
});

test('instruction breakpoint: a fault before the instruction, B0 in DR6; RF suppresses it once', () => {
  const t = makeCpu('long64');
  t.cpu.dr[0] = CODE + 1;
  t.cpu.dr[7] = 0x401; // L0, R/W0 = 00 (execute), LEN0 = 00
  t.cpu.debugRegsChanged();
  run(t, '90 90 90'); // nop; nop; nop
  assert.deepEqual(t.exceptions, [[1, 0]]);
  assert.equal(t.cpu.rip, CODE + 1);
  assert.equal(t.cpu.dr[6]! & 0xf, 1);
  // resume with RF set (what a handler's IRET does): the NOP runs, RF is cleared after it
  t.cpu.flags |= 1 << 16;
  t.cpu.halted = false;
  t.cpu.run(1);
  assert.equal(t.cpu.rip, CODE + 2);
  assert.equal(t.cpu.flags & (1 << 16), 0);
});

test('data breakpoint: a write to the watched dword traps after the instruction; a read does not match R/W = 01', () => {
  const { t, events } = tracing('long64');
  t.cpu.dr[1] = 0x5000;
  t.cpu.dr[7] = 0x400 | (1 << 2) | (1 << 20) | (3 << 22); // L1, R/W1 = 01 (write), LEN1 = 11 (4 bytes)
  t.cpu.debugRegsChanged();
  run(t, `
    8b 04 25 00 50 00 00              ; mov eax, dword ptr [0x5000]   (read: no match)
    c7 04 25 00 50 00 00 2a 00 00 00  ; mov dword ptr [0x5000], 42    <- trap, RIP = CODE+18
    90                                ; nop
  `);
  assert.deepEqual(events, [[1, CODE + 18, 0xffff0ff2]]);
  assert.equal(t.mem.read32(0x5000), 42);
});

test('returning to an outer level invalidates DPL < CPL data registers but keeps their base (an MSR-loaded GS base)', () => {
  const t = makeCpu('long64');
  t.cpu.setSegCache(GS, 0x10, 0x1015000, 0xffffffff, 0xc093);
  t.cpu.setSegCache(1, 0x2b, 0, 0xffffffff, 0xa0fb); // CS: 64-bit code, DPL 3
  t.cpu.updateMode();
  nullInaccessibleSegments(t.cpu);
  assert.equal(t.cpu.segSel[GS], 0);
  assert.ok((t.cpu.segAr[GS]! & AR_UNUSABLE) !== 0);
  assert.equal(t.cpu.segBase[GS], 0x1015000);
});
