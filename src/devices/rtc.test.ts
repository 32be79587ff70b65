import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from './clock.js';
import { Rtc, UIP_NS, periodicNs } from './rtc.js';

const MS = 1e6, S = 1e9;
/** 2024-02-29 23:59:58 UTC, a Thursday: the next seconds cross a day, a month and a leap day. */
const START = Date.UTC(2024, 1, 29, 23, 59, 58);

function make(startMs = START, ramBelow4g = 256 * 1024 * 1024) {
  const clock = new VirtualClock();
  const edges: string[] = [];
  let level = false;
  const rtc = new Rtc(clock, { set: (l) => { if (l !== level) edges.push(l ? 'up' : 'down'); level = l; } }, { ramBelow4g, startMs });
  const rd = (i: number): number => { rtc.write(0, 1, i); return rtc.read(1, 1); };
  const wr = (i: number, v: number): void => { rtc.write(0, 1, i); rtc.write(1, 1, v); };
  return { clock, rtc, rd, wr, edges, level: () => level };
}

function time(rd: (i: number) => number): string {
  const h = (i: number): string => rd(i).toString(16).padStart(2, '0');
  return `${h(0x32)}${h(9)}-${h(8)}-${h(7)} ${h(4)}:${h(2)}:${h(0)} dow ${h(6)}`;
}

test('rtc: power-on time is the host wall time in BCD 24-hour mode, counted by the virtual clock', () => {
  const { clock, rd } = make();
  assert.equal(time(rd), '2024-02-29 23:59:58 dow 05');
  clock.advanceTo(S - 1);
  assert.equal(rd(0), 0x58, 'no update before a virtual second has passed');
  clock.advanceTo(2 * S);
  assert.equal(time(rd), '2024-03-01 00:00:00 dow 06', 'leap day → 1 March, Friday');
  assert.equal(rd(0xa), 0x26, 'register A: DV = 010, RS = 0110');
  assert.equal(rd(0xb), 0x02, 'register B: 24-hour, BCD');
  assert.equal(rd(0xd), 0x80, 'register D: VRT');
});

test('rtc: binary mode (DM) and 12-hour mode with the PM bit', () => {
  const { rd, wr } = make(Date.UTC(2023, 11, 31, 13, 5, 9));
  wr(0xb, 0x06); // binary, 24h
  assert.deepEqual([rd(4), rd(2), rd(0), rd(9), rd(0x32)], [13, 5, 9, 23, 20]);
  wr(0xb, 0x04); // binary, 12h
  assert.equal(rd(4), 0x81, '1 PM');
  wr(0xb, 0x00); // BCD, 12h
  assert.equal(rd(4), 0x81);
  const am = make(Date.UTC(2023, 11, 31, 0, 30, 0));
  am.wr(0xb, 0x00);
  assert.equal(am.rd(4), 0x12, '00:30 is 12 AM');
  const noon = make(Date.UTC(2023, 11, 31, 12, 30, 0));
  noon.wr(0xb, 0x00);
  assert.equal(noon.rd(4), 0x92, '12:30 is 12 PM');
});

test('rtc: UIP is set for the 244 µs before each update only', () => {
  const { clock, rd } = make();
  assert.equal(rd(0xa) & 0x80, 0);
  clock.advanceTo(S - UIP_NS - 1);
  assert.equal(rd(0xa) & 0x80, 0);
  clock.advanceTo(S - UIP_NS);
  assert.equal(rd(0xa) & 0x80, 0x80);
  assert.equal(rd(0), 0x58, 'the time registers still hold the old second during UIP');
  clock.advanceTo(S);
  assert.equal(rd(0xa) & 0x80, 0);
  assert.equal(rd(0), 0x59);
});

test('rtc: SET stops updates and lets the guest set the time; clearing SET resumes from it', () => {
  const { clock, rd, wr } = make();
  wr(0xb, 0x82); // SET
  clock.advanceTo(5 * S);
  assert.equal(rd(0), 0x58, 'frozen');
  clock.advanceTo(5 * S + 999_900_000);
  assert.equal(rd(0xa) & 0x80, 0, 'no UIP while SET');
  wr(0, 0x30); wr(2, 0x15); wr(4, 0x10); wr(7, 0x04); wr(8, 0x07); wr(9, 0x25); wr(0x32, 0x20);
  wr(0xb, 0x02);
  assert.equal(time(rd), '2025-07-04 10:15:30 dow 06');
  clock.advanceTo(6 * S);
  assert.equal(rd(0), 0x31, 'updates continue on the old phase');
});

test('rtc: a time register written while running takes effect immediately', () => {
  const { clock, rd, wr } = make();
  wr(2, 0x42);
  assert.equal(rd(2), 0x42);
  clock.advanceTo(2 * S);
  assert.equal(time(rd), '2024-02-29 23:43:00 dow 05');
});

test('rtc: periodic interrupt at the RS rate sets PF, raises IRQF and the line; reading C clears them', () => {
  assert.equal(periodicNs(0), 0);
  assert.equal(periodicNs(6), 976562.5, '1024 Hz');
  assert.equal(periodicNs(15), 500 * MS, '2 Hz');
  assert.equal(periodicNs(1), 3.90625 * MS, 'RS 1 = 256 Hz');
  assert.equal(periodicNs(3), 122070.3125, 'RS 3 = 8192 Hz');
  const { clock, rd, wr, edges } = make(Date.UTC(2024, 0, 1, 10, 0, 0)); // no alarm match at 00:00:00
  wr(0xa, 0x2f); // 2 Hz
  assert.equal(clock.nextDeadline(), Infinity, 'no timer without PIE');
  clock.advanceTo(600 * MS);
  assert.equal(rd(0xc), 0x40, 'PF is set without PIE, IRQF is not');
  wr(0xb, 0x42); // PIE
  assert.equal(clock.nextDeadline(), 1000 * MS);
  clock.advanceTo(999 * MS);
  assert.deepEqual(edges, []);
  clock.advanceTo(1000 * MS);
  assert.deepEqual(edges, ['up']);
  clock.advanceTo(2600 * MS);
  assert.deepEqual(edges, ['up'], 'the line stays up until C is read');
  assert.equal(rd(0xc), 0xd0, 'IRQF | PF | UF (updates happened too)');
  assert.deepEqual(edges, ['up', 'down']);
  assert.equal(rd(0xc), 0, 'cleared by the read');
  clock.advanceTo(3000 * MS);
  assert.deepEqual(edges, ['up', 'down', 'up']);
  wr(0xa, 0x20); // RS = 0: no periodic interrupt
  rd(0xc);
  clock.advanceTo(10 * S);
  assert.equal(rd(0xc) & 0x40, 0);
});

test('rtc: update-ended interrupt once per second; SET clears UIE', () => {
  const { clock, rd, wr, edges } = make(Date.UTC(2024, 0, 1, 10, 0, 0));
  wr(0xb, 0x12); // UIE
  clock.advanceTo(999 * MS);
  assert.deepEqual(edges, []);
  clock.advanceTo(S);
  assert.deepEqual(edges, ['up']);
  assert.equal(rd(0xc), 0xd0, 'IRQF | UF, and PF at the default 1024 Hz although PIE is clear');
  clock.advanceTo(2 * S);
  assert.equal(rd(0xc) & 0xb0, 0x90);
  wr(0xb, 0x92); // SET | UIE → UIE cleared
  assert.equal(rd(0xb), 0x82);
});

test('rtc: alarm with exact values and with don\'t-care bytes', () => {
  const { clock, rd, wr, edges } = make(Date.UTC(2024, 0, 1, 10, 0, 0));
  wr(5, 0x10); wr(3, 0x00); wr(1, 0x05); // 10:00:05
  wr(0xb, 0x22); // AIE
  assert.equal(clock.nextDeadline(), 5 * S);
  clock.advanceTo(5 * S - 1);
  assert.deepEqual(edges, []);
  clock.advanceTo(5 * S);
  assert.deepEqual(edges, ['up']);
  assert.equal(rd(0xc) & 0xb0, 0xb0, 'IRQF | AF | UF');
  wr(5, 0xc0); wr(3, 0xc0); wr(1, 0x30); // every minute at :30
  assert.equal(clock.nextDeadline(), 30 * S);
  clock.advanceTo(30 * S);
  assert.equal(rd(0xc) & 0xa0, 0xa0);
  clock.advanceTo(89 * S);
  assert.equal(rd(0xc) & 0x20, 0, 'no alarm before 10:01:30');
  clock.advanceTo(90 * S);
  assert.equal(rd(0xc) & 0x20, 0x20);
  wr(1, 0xff); // all don't care: every second
  clock.advanceTo(91 * S);
  assert.equal(rd(0xc) & 0xa0, 0xa0);
  wr(0xb, 0x02);
  wr(1, 0x61); // an impossible second: never matches
  clock.advanceTo(200 * S);
  assert.equal(rd(0xc) & 0x20, 0);
});

test('rtc: the divider reset holds the time; releasing it gives the first update 500 ms later', () => {
  const { clock, rd, wr } = make();
  wr(0xa, 0x66); // DV = 110: reset
  clock.advanceTo(3 * S);
  assert.equal(rd(0), 0x58);
  wr(0xa, 0x26);
  clock.advanceTo(3 * S + 499 * MS);
  assert.equal(rd(0), 0x58);
  clock.advanceTo(3 * S + 500 * MS);
  assert.equal(rd(0), 0x59);
});

test('rtc: CMOS memory sizes as QEMU and SeaBIOS provide them, the century byte, NMI mask bit', () => {
  const { rtc, rd, wr } = make(START, 256 * 1024 * 1024);
  const w16 = (i: number): number => rd(i) | (rd(i + 1) << 8);
  assert.equal(w16(0x15), 640);
  assert.equal(w16(0x17), 65535, 'extended memory saturates at 65535 KiB');
  assert.equal(w16(0x30), 65535);
  assert.equal(w16(0x34), (256 - 16) * 16, '64 KiB units above 16 MiB');
  assert.deepEqual([rd(0x5b), rd(0x5c), rd(0x5d)], [0, 0, 0]);
  assert.equal(rd(0x32), 0x20);
  assert.equal(rd(0x14), 0x06);
  const small = make(START, 8 * 1024 * 1024);
  assert.equal(small.rd(0x17) | (small.rd(0x18) << 8), 7 * 1024);
  assert.equal(small.rd(0x34) | (small.rd(0x35) << 8), 0);
  const big = new Rtc(new VirtualClock(), { set() {} }, { ramBelow4g: 3 * 2 ** 30, ramAbove4g: 2 ** 32, startMs: START });
  big.write(0, 1, 0x5c);
  assert.equal(big.read(1, 1), 0x00);
  big.write(0, 1, 0x5d);
  assert.equal(big.read(1, 1), 0x01, '4 GiB above 4G = 0x10000 × 64 KiB');
  rtc.write(0, 1, 0x8f); // NMI masked, index 0x0f
  assert.equal(rtc.nmiMasked, true);
  rtc.write(1, 1, 0x0a);
  assert.equal(rd(0x0f), 0x0a, 'shutdown status is plain CMOS memory');
  assert.equal(rtc.nmiMasked, false);
  assert.equal(rtc.read(0, 1), 0xff, 'the index port reads 0xff');
  wr(0x0c, 0xff);
  wr(0x0d, 0x00);
  assert.equal(rd(0x0d), 0x80, 'C and D are read-only');
});

test('rtc: reset disables interrupts and clears flags but keeps the time and CMOS memory', () => {
  const { clock, rtc, rd, wr, edges } = make();
  wr(0x0f, 0x0a);
  wr(0xb, 0x72);
  clock.advanceTo(S);
  assert.deepEqual(edges, ['up']);
  rtc.reset();
  assert.deepEqual(edges, ['up', 'down']);
  assert.equal(rd(0xb), 0x02);
  assert.equal(rd(0x0f), 0x0a);
  assert.equal(rd(0), 0x59);
  const copy = make();
  copy.clock.advanceTo(S);
  copy.rtc.state = rtc.state;
  assert.equal(copy.rd(0), 0x59, 'snapshot round trip');
});
