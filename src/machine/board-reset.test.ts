/**
 * Guest-requested resets through the board (board-reset.ts) and the firmware stub at the
 * reset vector (firmware.ts): RAM survives, the kernel boots again, port 0x92 bit 0 tells a
 * soft reset from a hard one, and CMOS shutdown status 0Ah resumes through 40:67.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PcMachine } from './pc.js';

function machine(): PcMachine {
  return new PcMachine({ memoryBytes: 4 << 20, serialOut: () => {}, instructionLimit: 1_000_000, realTimeIdle: false });
}

test('board reset: port 0x92 fast reset re-boots the image with RAM kept and bit 0 still set (soft reset)', async () => {
  const m = machine();
  m.loadFlatImage(new Uint8Array([
    0xff, 0x05, 0x00, 0x30, 0x00, 0x00, //       inc dword [0x3000]      ; survives the resets
    0x83, 0x3d, 0x00, 0x30, 0x00, 0x00, 0x03, // cmp dword [0x3000], 3
    0x74, 0x0b, //                               je done
    0xe4, 0x92, //                               in al, 0x92
    0x24, 0xfe, //                               and al, 0xfe
    0xe6, 0x92, //                               out 0x92, al
    0x0c, 0x01, //                               or al, 1
    0xe6, 0x92, //                               out 0x92, al            ; fast reset
    0xf4, //                                     hlt
    0xe4, 0x92, //                         done: in al, 0x92
    0xe6, 0xf4, //                               out 0xf4, al            ; exit (al << 1) | 1
  ]));
  const r = await m.run();
  assert.deepEqual(r, { reason: 'debug-exit', exitCode: (0x03 << 1) | 1 }, 'A20 | fast reset bit kept');
  assert.equal(m.memory.read32(0x3000), 3);
  assert.equal(m.boardReset.count, 4, 'two resets, each followed by the firmware boot');
});

test('board reset: 0xCF9 hard reset with CMOS shutdown status 0Ah resumes at the 40:67 vector in real mode', async () => {
  const m = machine();
  m.loadFlatImage(new Uint8Array([
    0xb0, 0x8f, 0xe6, 0x70, //                   mov al, 0x8f; out 0x70, al
    0xb0, 0x0a, 0xe6, 0x71, //                   mov al, 0x0a; out 0x71, al   ; shutdown status 0Ah
    0x66, 0xc7, 0x05, 0x67, 0x04, 0x00, 0x00, 0x00, 0x10, // mov word [0x467], 0x1000
    0x66, 0xc7, 0x05, 0x69, 0x04, 0x00, 0x00, 0x00, 0x00, // mov word [0x469], 0
    0xc7, 0x05, 0x00, 0x10, 0x00, 0x00, 0xb0, 0x21, 0xe6, 0xf4, // mov dword [0x1000], (mov al, 0x21; out 0xf4, al)
    0x66, 0xba, 0xf9, 0x0c, //                   mov dx, 0xcf9
    0xb0, 0x00, 0xee, //                         mov al, 0; out dx, al
    0xb0, 0x06, 0xee, //                         mov al, 6; out dx, al          ; hard reset
    0xf4, //                                     hlt
  ]));
  m.ports.write(0x92, 1, 0x03);
  const r = await m.run();
  assert.deepEqual(r, { reason: 'debug-exit', exitCode: (0x21 << 1) | 1 });
  assert.equal(m.boardReset.count, 1);
  assert.equal(m.ports.read(0x92, 1), 0x02, 'a hard reset clears port 0x92 bit 0');
  m.ports.write(0x70, 1, 0x0f);
  assert.equal(m.ports.read(0x71, 1), 0, 'the firmware cleared the shutdown status');
  assert.equal(m.cpu.segSel[1], 0x0000, 'the resume code ran in real mode at 0000:1000');
});

test('board reset: the 8042 reset command resets; a triple fault still stops the machine with a report', async () => {
  const m = machine();
  m.loadFlatImage(new Uint8Array([0xb0, 0xfe, 0xe6, 0x64, 0xf4])); // mov al, 0xfe; out 0x64, al; hlt
  m.ports.write(0x70, 1, 0x0f); m.ports.write(0x71, 1, 0x0a);
  m.memory.write32(0x467, 0x1000); // resume at 0000:1000: an empty IDT, then ud2 → triple fault
  // 0f 01 1e 00 20   lidt [0x2000]   (limit 0, base 0)
  // 0f 0b            ud2
  [0x0f, 0x01, 0x1e, 0x00, 0x20, 0x0f, 0x0b].forEach((b, i) => m.memory.write8(0x1000 + i, b));
  const r = await m.run();
  assert.equal(m.boardReset.count, 1);
  assert.equal(r.reason, 'triple-fault');
  assert.match(r.report ?? '', /triple fault/);
});
