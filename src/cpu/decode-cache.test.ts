/**
 * The decoded-instruction cache must never run stale bytes: self-modifying code, DMA-like
 * copies over code and device writes through PhysicalMemory all drop cached entries.
 * Bytes quoted with their disassembly (objdump -M intel).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, run, reg64, setReg64, CODE } from './testing.js';
import { RAX, RBX, RCX } from './regs.js';

test('code that overwrites the next instruction runs the new bytes (cached before)', () => {
  const t = makeCpu('long64');
  // pass 1 writes 01 (add) over the add, pass 2 writes 29 (sub) over the now-cached add
  run(t, `
    31 db             ; 0x00 xor ebx, ebx
    b8 07 00 00 00    ; 0x02 mov eax, 7
    b2 01             ; 0x07 mov dl, 0x01
    b9 02 00 00 00    ; 0x09 mov ecx, 2
    88 15 00 00 00 00 ; 0x0e mov [rip+0], dl   (the first byte of the next instruction)
    01 c3             ; 0x14 add ebx, eax      (sub ebx, eax on pass 2)
    b2 29             ; 0x16 mov dl, 0x29
    ff c9             ; 0x18 dec ecx
    75 f2             ; 0x1a jnz 0x0e
  `);
  assert.equal(reg64(t.cpu, RBX), 0n, 'add then sub: a stale add would leave 14');
  assert.equal(t.exceptions.length, 0);
});

test('code that patches a ModRM byte of an earlier, cached instruction', () => {
  const t = makeCpu('long64');
  run(t, `
    31 db                ; 0x00 xor ebx, ebx
    b9 02 00 00 00       ; 0x02 mov ecx, 2
    83 c3 05             ; 0x07 add ebx, 5   (83 eb 05 = sub ebx, 5 after the patch)
    c6 05 f7 ff ff ff eb ; 0x0a mov byte [rip-9], 0xeb   (0x08, the ModRM above)
    ff c9                ; 0x11 dec ecx
    75 f2                ; 0x13 jnz 0x07
  `);
  assert.equal(reg64(t.cpu, RBX), 0n, 'add 5 then sub 5');
});

test('a DMA-like mem.load over cached code is seen by the next run', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RAX, 7n);
  setReg64(t.cpu, RBX, 100n);
  // the first instruction after a TLB flush is decoded without the cache; the second run caches it
  run(t, '01 c3'); // add ebx, eax
  run(t, '01 c3');
  assert.equal(reg64(t.cpu, RBX), 114n);
  run(t, '29 c3'); // sub ebx, eax  (same address, loaded by PhysicalMemory.load)
  assert.equal(reg64(t.cpu, RBX), 107n);
  run(t, '29 c3');
  run(t, '48 29 c3'); // sub rbx, rax  (REX now: the cached prefix state must go too)
  assert.equal(reg64(t.cpu, RBX), 93n);
});

test('a device write through PhysicalMemory over cached code is seen', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RCX, 0n);
  run(t, 'ff c1'); // inc ecx
  run(t, 'ff c1'); // cached now
  assert.equal(reg64(t.cpu, RCX), 2n);
  t.mem.write8(CODE + 1, 0xc9); // ff c9: dec ecx
  t.cpu.rip = CODE; t.cpu.halted = false;
  t.cpu.run(100);
  assert.equal(reg64(t.cpu, RCX), 1n);
});

test('a cached loop with memory operands and RIP-relative addresses keeps computing them', () => {
  const t = makeCpu('long64');
  t.mem.write32(0x2000, 3);
  setReg64(t.cpu, RBX, 0x1ff0n);
  // the SIB address depends on RCX, which changes on every pass
  run(t, `
    b9 04 00 00 00          ; mov ecx, 4
    31 c0                   ; xor eax, eax
    03 44 8b 00             ; add eax, [rbx + rcx*4 + 0]
    ff c9                   ; dec ecx
    75 f8                   ; jnz -8
    03 05 f0 ff ff ff       ; add eax, [rip-0x10]  (CODE+5: 31 c0 03 44 -> 0x4403c031)
  `);
  // [0x1ff0 + 4*4] = [0x2000] -> 3, the other passes read 0; then the dword at CODE+5
  assert.equal(Number(reg64(t.cpu, RAX)), 3 + 0x4403c031);
});
