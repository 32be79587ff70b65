import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  Uart16550, UART_IER, UART_IIR_FCR, UART_LCR, UART_LSR, UART_MCR, UART_MSR, UART_RBR_THR, UART_SCR,
} from './uart16550.js';

function make() {
  const out: number[] = [];
  const irq = { level: false, edges: 0, set(l: boolean) { if (l && !this.level) this.edges++; this.level = l; } };
  const uart = new Uart16550(irq, { write: (b) => out.push(b) });
  return { uart, out, irq };
}

test('THR writes reach the sink and LSR shows an empty transmitter', () => {
  const { uart, out } = make();
  for (const c of 'hi\n') uart.write(UART_RBR_THR, 1, c.charCodeAt(0));
  assert.deepEqual(out, [0x68, 0x69, 0x0a]);
  assert.equal(uart.read(UART_LSR, 1) & 0x60, 0x60);
});

test('DLAB switches offsets 0 and 1 to the divisor latch', () => {
  const { uart, out } = make();
  uart.write(UART_LCR, 1, 0x83);
  uart.write(UART_RBR_THR, 1, 0x01);
  uart.write(UART_IER, 1, 0x00);
  assert.equal(uart.read(UART_RBR_THR, 1), 0x01);
  assert.equal(uart.read(UART_IER, 1), 0x00);
  assert.deepEqual(out, [], 'divisor writes are not transmitted');
  uart.write(UART_LCR, 1, 0x03);
  assert.equal(uart.read(UART_LCR, 1), 0x03);
  assert.equal(uart.read(UART_IER, 1), 0x00);
});

test('scratch register holds a byte', () => {
  const { uart } = make();
  uart.write(UART_SCR, 1, 0x5a);
  assert.equal(uart.read(UART_SCR, 1), 0x5a);
});

test('received bytes: DR, RBR, and a data-available interrupt gated by OUT2', () => {
  const { uart, irq } = make();
  uart.write(UART_IER, 1, 0x01);
  uart.receive([0x41]);
  assert.equal(uart.read(UART_IIR_FCR, 1), 0x04);
  assert.equal(irq.level, false, 'OUT2 clear: the PC gate keeps the line quiet');
  uart.write(UART_MCR, 1, 0x08);
  assert.equal(irq.level, true);
  assert.equal(uart.read(UART_LSR, 1) & 1, 1);
  assert.equal(uart.read(UART_RBR_THR, 1), 0x41);
  assert.equal(uart.read(UART_LSR, 1) & 1, 0);
  assert.equal(uart.read(UART_IIR_FCR, 1), 0x01);
  assert.equal(irq.level, false);
});

test('without FIFOs the guest sees one byte at a time; the rest waits in the host queue', () => {
  const { uart } = make();
  uart.receive([1, 2, 3]);
  assert.equal(uart.read(UART_RBR_THR, 1), 1);
  assert.equal(uart.read(UART_RBR_THR, 1), 2);
  assert.equal(uart.read(UART_RBR_THR, 1), 3);
  assert.equal(uart.read(UART_LSR, 1) & 1, 0);
});

test('FIFO mode: IIR high bits, trigger level and character timeout', () => {
  const { uart } = make();
  uart.write(UART_IIR_FCR, 1, 0x47); // enable, clear both, trigger 4
  uart.write(UART_IER, 1, 0x01);
  assert.equal(uart.read(UART_IIR_FCR, 1), 0xc1);
  uart.receive([1, 2]);
  assert.equal(uart.read(UART_IIR_FCR, 1), 0xcc, 'below trigger: timeout');
  uart.receive([3, 4]);
  assert.equal(uart.read(UART_IIR_FCR, 1), 0xc4, 'at trigger: data available');
  uart.write(UART_IIR_FCR, 1, 0x03); // clear RX FIFO
  assert.equal(uart.read(UART_LSR, 1) & 1, 0);
});

test('THRE interrupt: raised when enabled, cleared by reading IIR, re-armed by a write', () => {
  const { uart, irq } = make();
  uart.write(UART_MCR, 1, 0x08);
  uart.write(UART_IER, 1, 0x02);
  assert.equal(irq.level, true);
  assert.equal(uart.read(UART_IIR_FCR, 1), 0x02);
  assert.equal(irq.level, false);
  assert.equal(uart.read(UART_IIR_FCR, 1), 0x01);
  uart.write(UART_RBR_THR, 1, 0x20);
  assert.equal(irq.level, true);
});

test('loopback: THR feeds RBR, MSR mirrors MCR, nothing reaches the sink, overrun sets OE', () => {
  const { uart, out, irq } = make();
  uart.write(UART_MCR, 1, 0x1f);
  assert.equal(uart.read(UART_MCR, 1), 0x1f);
  assert.equal(uart.read(UART_MSR, 1) & 0xf0, 0xf0);
  uart.write(UART_RBR_THR, 1, 0xae);
  uart.write(UART_RBR_THR, 1, 0xaf); // no FIFO: the second one overruns
  assert.deepEqual(out, []);
  const lsr = uart.read(UART_LSR, 1);
  assert.equal(lsr & 0x03, 0x03);
  assert.equal(uart.read(UART_LSR, 1) & 0x02, 0, 'OE clears on read');
  assert.equal(uart.read(UART_RBR_THR, 1), 0xae);
  uart.write(UART_IER, 1, 0x0f);
  assert.equal(irq.level, false, 'loopback forces OUT2 inactive');
  uart.write(UART_MCR, 1, 0x00);
  assert.equal(uart.read(UART_MSR, 1) & 0xf0, 0xb0, 'a connected terminal: DCD, DSR, CTS');
});

test('MSR deltas are reported and cleared by reading MSR', () => {
  const { uart } = make();
  uart.write(UART_MCR, 1, 0x10);
  uart.read(UART_MSR, 1);
  uart.write(UART_MCR, 1, 0x13); // RTS and DTR rise: ΔCTS and ΔDSR
  assert.equal(uart.read(UART_MSR, 1) & 0x0f, 0x03);
  assert.equal(uart.read(UART_MSR, 1) & 0x0f, 0x00);
});

test('state round-trips through a snapshot', () => {
  const a = make();
  a.uart.write(UART_IIR_FCR, 1, 0x01);
  a.uart.write(UART_IER, 1, 0x05);
  a.uart.write(UART_SCR, 1, 0x77);
  a.uart.receive([9, 8, 7]);
  const s = a.uart.state;
  const b = make();
  b.uart.state = JSON.parse(JSON.stringify(s));
  assert.deepEqual(b.uart.state, s);
  assert.equal(b.uart.read(UART_RBR_THR, 1), 9);
});

test('property: arbitrary register traffic never throws and reads stay byte-sized', () => {
  fc.assert(fc.property(
    fc.array(fc.record({ w: fc.boolean(), off: fc.integer({ min: 0, max: 9 }), v: fc.integer({ min: -1, max: 0x1ffff }) }), { maxLength: 200 }),
    (ops) => {
      const { uart } = make();
      for (const op of ops) {
        if (op.w) uart.write(op.off, 1, op.v);
        else { const r = uart.read(op.off, 1); if (r < 0 || r > 0xff) return false; }
      }
      return true;
    },
  ));
});
