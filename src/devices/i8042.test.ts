import { test } from 'node:test';
import assert from 'node:assert/strict';
import { I8042, ResetControl } from './i8042.js';

test('i8042: status, self test, command byte, output port; 0xFE and an output port bit 0 = 0 reset', () => {
  let resets = 0;
  const k = new I8042(() => { resets++; });
  assert.equal(k.read(4, 1) & 0x07, 0x04, 'system flag, buffers empty');
  k.write(4, 1, 0xaa);
  assert.equal(k.read(4, 1) & 1, 1, 'output full');
  assert.equal(k.read(0, 1), 0x55);
  k.write(4, 1, 0x60); k.write(0, 1, 0x47);
  k.write(4, 1, 0x20);
  assert.equal(k.read(0, 1), 0x47);
  k.write(4, 1, 0xd0);
  assert.equal(k.read(0, 1), 0x03, 'reset line high, A20 on');
  k.write(4, 1, 0xd1); k.write(0, 1, 0x02); // kvm-unit-tests init: kbd_out(kbd_in() & ~1)
  assert.equal(resets, 1);
  k.write(4, 1, 0xfe); // KBD_CCMD_RESET
  assert.equal(resets, 2);
  assert.equal(k.read(4, 1) & 2, 0, 'never busy');
});

test('reset control 0xCF9: a write with RST_CPU resets, SYS_RST picks hard; PCI dword accesses pass through', () => {
  const kinds: boolean[] = [];
  const rc = new ResetControl((hard) => kinds.push(hard));
  const seen: string[] = [];
  const port = rc.wrap({ read: (o, s) => { seen.push(`r${o}/${s}`); return 0x12345678; }, write: (o, s, v) => { seen.push(`w${o}/${s}=${v.toString(16)}`); } });
  port.write(1, 1, 0); port.write(1, 1, 4); // soft
  port.write(1, 1, 2); // SYS_RST alone does nothing
  port.write(1, 1, 6); // hard
  assert.deepEqual(kinds, [false, true]);
  assert.equal(port.read(1, 1), 0x02, 'SYS_RST reads back, RST_CPU does not');
  port.write(0, 4, 0x80000000);
  assert.equal(port.read(0, 4), 0x12345678);
  assert.deepEqual(seen, ['w0/4=80000000', 'r0/4']);
});
