import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pic8259 } from './pic8259.js';

function pic() {
  const levels: boolean[] = [];
  const p = new Pic8259({ set: (l) => levels.push(l) });
  // the PC BIOS initialisation: edge, cascade, vectors 0x20/0x28, 8086 mode
  const init = [[0, 0x11], [1, 0x20], [1, 0x04], [1, 0x01]] as const;
  for (const [o, v] of init) p.masterPorts.write(o, 1, v);
  for (const [o, v] of init) p.slavePorts.write(o, 1, o === 1 && v === 0x20 ? 0x28 : o === 1 && v === 0x04 ? 0x02 : v);
  return { p, levels };
}

test('pic: ICW sequence, edge IRQ, INTA vector, ISR, non-specific EOI', () => {
  const { p, levels } = pic();
  p.setIrq(1, true);
  assert.equal(p.intrLevel, true);
  assert.deepEqual(levels, [true]);
  assert.equal(p.acknowledge(), 0x21);
  assert.equal(p.intrLevel, false);
  p.masterPorts.write(0, 1, 0x0b); // OCW3: read ISR
  assert.equal(p.masterPorts.read(0, 1), 0x02);
  p.setIrq(1, false); p.setIrq(1, true); // a new edge while in service
  assert.equal(p.intrLevel, false, 'same priority in service');
  p.setIrq(0, true);
  assert.equal(p.intrLevel, true, 'IRQ 0 has higher priority');
  assert.equal(p.acknowledge(), 0x20);
  p.masterPorts.write(0, 1, 0x20); // EOI (IRQ 0)
  p.masterPorts.write(0, 1, 0x20); // EOI (IRQ 1)
  assert.equal(p.acknowledge(), 0x21);
});

test('pic: slave cascade through IR2, masks, spurious IRQ 7 and 15', () => {
  const { p } = pic();
  p.setIrq(8, true);
  assert.equal(p.acknowledge(), 0x28);
  p.slavePorts.write(0, 1, 0x20);
  p.masterPorts.write(0, 1, 0x20);
  p.masterPorts.write(1, 1, 0xff); // mask everything on the master
  p.setIrq(3, true);
  assert.equal(p.intrLevel, false);
  assert.equal(p.acknowledge(), 0x27, 'spurious IRQ 7 without ISR');
  p.masterPorts.write(0, 1, 0x0b);
  assert.equal(p.masterPorts.read(0, 1), 0);
  p.masterPorts.write(1, 1, 0x00);
  assert.equal(p.acknowledge(), 0x23, 'the masked request waited in IRR');
  p.masterPorts.write(0, 1, 0x20);
  p.slavePorts.write(1, 1, 0xff);
  p.setIrq(9, true);
  assert.equal(p.intrLevel, false);
  assert.equal(p.masterPorts.read(1, 1), 0);
});

test('pic: ELCR level mode keeps the request while the line is high; auto-EOI; poll', () => {
  const { p } = pic();
  p.elcr.write(1, 1, 0xff);
  assert.equal(p.elcr.read(1, 1), 0xde, 'IRQ 8 and 13 are always edge');
  p.setIrq(10, true);
  assert.equal(p.acknowledge(), 0x2a);
  p.slavePorts.write(0, 1, 0x20); p.masterPorts.write(0, 1, 0x20);
  assert.equal(p.intrLevel, true, 'still high: requested again');
  p.setIrq(10, false);
  assert.equal(p.intrLevel, false);
  p.masterPorts.write(0, 1, 0x11); p.masterPorts.write(1, 1, 0x20); p.masterPorts.write(1, 1, 0x04); p.masterPorts.write(1, 1, 0x03);
  p.setIrq(5, true);
  assert.equal(p.acknowledge(), 0x25);
  p.masterPorts.write(0, 1, 0x0b);
  assert.equal(p.masterPorts.read(0, 1), 0, 'auto-EOI: nothing in service');
  p.setIrq(6, true);
  p.masterPorts.write(0, 1, 0x0c); // poll
  assert.equal(p.masterPorts.read(0, 1), 0x86);
});
