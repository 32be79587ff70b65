import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from './clock.js';
import { ApicBus } from './apic-bus.js';
import {
  Lapic, LapicHost, APIC_EOI, APIC_ESR, APIC_ICR_HI, APIC_ICR_LO, APIC_ID, APIC_IRR, APIC_ISR, APIC_LDR,
  APIC_LVT_LINT0, APIC_LVT_TIMER, APIC_PPR, APIC_SVR, APIC_TDCR, APIC_TMCCT, APIC_TMICT, APIC_TPR, APIC_VERSION,
} from './lapic.js';

interface Fake { host: LapicHost; pending: boolean; nmis: number; inits: number; sipis: number[]; tsc: number }

function fakeHost(clock: VirtualClock, pic = () => 0x30): Fake {
  const f: Fake = {
    pending: false, nmis: 0, inits: 0, sipis: [], tsc: 0,
    host: {
      setInterruptPending: (p) => { f.pending = p; },
      nmi: () => { f.nmis++; },
      init: () => { f.inits++; },
      startup: (v) => { f.sipis.push(v); },
      tscNow: () => clock.nowNs() * 2,
      tscToNs: (t) => Math.ceil(t / 2),
      extIntAcknowledge: pic,
      mmioChanged: () => {},
    },
  };
  return f;
}

function make(n = 1) {
  const clock = new VirtualClock();
  const bus = new ApicBus();
  const fakes: Fake[] = [];
  const apics: Lapic[] = [];
  for (let i = 0; i < n; i++) {
    const f = fakeHost(clock);
    fakes.push(f);
    apics.push(new Lapic(i, i === 0, clock, bus, f.host));
  }
  return { clock, bus, fakes, apics, a: apics[0]!, f: fakes[0]! };
}

const enable = (a: Lapic): void => a.write(APIC_SVR, 4, 0x1ff);

test('lapic: reset state, version, ID, read-only registers', () => {
  const { a } = make();
  assert.equal(a.read(APIC_VERSION, 4), 0x50014);
  assert.equal(a.read(APIC_ID, 4), 0);
  assert.equal(a.read(APIC_SVR, 4), 0xff);
  assert.equal(a.read(APIC_LVT_TIMER, 4), 0x10000, 'LVTs masked');
  assert.equal(a.read(APIC_LVT_LINT0, 4), 0x700, 'BSP LINT0 in ExtINT mode');
  a.write(APIC_VERSION, 4, 0);
  assert.equal(a.read(APIC_VERSION, 4), 0x50014);
});

test('lapic: IRR → ISR on acknowledge, priority against TPR/PPR, EOI', () => {
  const { a, f } = make();
  enable(a);
  a.setIrr(0x41, false);
  assert.equal(f.pending, true);
  a.write(APIC_TPR, 4, 0x40);
  assert.equal(f.pending, false, 'class 4 is not above TPR class 4');
  a.write(APIC_TPR, 4, 0x30);
  assert.equal(f.pending, true);
  assert.equal(a.acknowledge(), 0x41);
  assert.equal(a.read(APIC_ISR + 0x20, 4), 1 << 1, 'ISR bit 0x41');
  assert.equal(a.read(APIC_IRR + 0x20, 4), 0);
  assert.equal(a.read(APIC_PPR, 4), 0x40);
  a.setIrr(0x42, false);
  assert.equal(f.pending, false, 'same class as the one in service');
  a.setIrr(0x51, false);
  assert.equal(a.acknowledge(), 0x51);
  a.write(APIC_EOI, 4, 0);
  a.write(APIC_EOI, 4, 0);
  assert.equal(a.acknowledge(), 0x42);
  assert.equal(a.readCr8(), 3);
});

test('lapic: software-disabled APIC holds IRR and masks LVT writes', () => {
  const { a, f } = make();
  a.setIrr(0x80, false);
  assert.equal(f.pending, false);
  a.write(APIC_LVT_TIMER, 4, 0x20);
  assert.equal(a.read(APIC_LVT_TIMER, 4), 0x10020);
  enable(a);
  assert.equal(f.pending, true);
});

test('lapic: ESR is write-before-read; illegal vectors', () => {
  const { a } = make();
  enable(a);
  a.write(APIC_ICR_LO, 4, 0x40005); // fixed, self, vector 5
  assert.equal(a.read(APIC_ESR, 4), 0);
  a.write(APIC_ESR, 4, 0);
  assert.equal(a.read(APIC_ESR, 4), 0x20, 'send illegal vector');
  a.write(APIC_ESR, 4, 0);
  assert.equal(a.read(APIC_ESR, 4), 0);
});

test('lapic: one-shot and periodic timer with divide configuration, driven by the clock', () => {
  const { a, clock } = make();
  enable(a);
  a.write(APIC_TDCR, 4, 0xb); // divide by 1
  a.write(APIC_LVT_TIMER, 4, 0x40);
  a.write(APIC_TMICT, 4, 1000);
  clock.advanceTo(400);
  assert.equal(a.read(APIC_TMCCT, 4), 600);
  clock.advanceTo(1000);
  assert.equal(a.read(APIC_TMCCT, 4), 0);
  assert.equal(a.acknowledge(), 0x40);
  a.write(APIC_EOI, 4, 0);
  a.write(APIC_TDCR, 4, 0x1); // divide by 4
  a.write(APIC_LVT_TIMER, 4, 0x20041); // periodic
  a.write(APIC_TMICT, 4, 10);
  let n = 0;
  for (let t = 1000; t <= 1000 + 400; t += 10) {
    clock.advanceTo(t);
    if (a.acknowledge() === 0x41) { n++; a.write(APIC_EOI, 4, 0); }
  }
  assert.equal(n, 10, 'one tick per 40 ns');
});

test('lapic: one-shot ⇄ periodic keeps the current count; a one-shot count that ran out stays 0 in periodic mode', () => {
  // kvm-unit-tests apic test_apic_change_mode (KVM's TMCCT semantics)
  const { a, clock } = make();
  enable(a);
  a.write(APIC_TDCR, 4, 0xb); // divide by 1: 1 ns per tick
  a.write(APIC_LVT_TIMER, 4, 0x40); // one-shot
  a.write(APIC_TMICT, 4, 1000);
  clock.advanceTo(300);
  a.write(APIC_LVT_TIMER, 4, 0x20040); // → periodic: not reset to TMICT
  assert.equal(a.read(APIC_TMCCT, 4), 700);
  clock.advanceTo(1200);
  assert.equal(a.read(APIC_TMCCT, 4), 800, 'periodic: wrapped around to TMICT at 1000');
  a.write(APIC_LVT_TIMER, 4, 0x40); // → one-shot: counts on down to 0 and stops
  clock.advanceTo(2000);
  assert.equal(a.read(APIC_TMCCT, 4), 0);
  clock.advanceTo(2500);
  assert.equal(a.read(APIC_TMCCT, 4), 0);
  a.write(APIC_LVT_TIMER, 4, 0x20040); // → periodic with the count at 0: stays 0, no more ticks
  assert.equal(a.read(APIC_TMCCT, 4), 0);
  while (a.acknowledge() === 0x40) a.write(APIC_EOI, 4, 0);
  clock.advanceTo(5000);
  assert.equal(a.read(APIC_TMCCT, 4), 0);
  assert.equal(a.acknowledge(), -1, 'no periodic interrupt');
  a.write(APIC_TMICT, 4, 100); // writing TMICT starts it again
  clock.advanceTo(5050);
  assert.equal(a.read(APIC_TMCCT, 4), 50);
  const s = a.state;
  assert.equal(s.timerDone, false);
});

test('lapic: TSC-deadline mode through the MSR, ignored TMICT, clearing on expiry', () => {
  const { a, clock } = make();
  enable(a);
  a.write(APIC_LVT_TIMER, 4, 0x400ef);
  assert.equal(a.writeMsr(0x6e0, 2000, 0), true);
  a.write(APIC_TMICT, 4, 5);
  assert.equal(a.read(APIC_TMICT, 4), 0);
  clock.advanceTo(999);
  assert.equal(a.acknowledge(), -1);
  clock.advanceTo(1000);
  assert.equal(a.acknowledge(), 0xef);
  assert.ok(a.readMsr(0x6e0));
  assert.equal(a.msrLo, 0);
  a.write(APIC_EOI, 4, 0);
  a.writeMsr(0x6e0, 1, 0); // already past: fires at once
  assert.equal(a.acknowledge(), 0xef);
});

test('lapic: IA32_APIC_BASE state machine, disable resets, x2APIC MSR rules', () => {
  const { a } = make();
  enable(a);
  a.write(APIC_TPR, 4, 0x20);
  assert.ok(a.readMsr(0x1b));
  assert.equal(a.msrLo >>> 0, 0xfee00900);
  assert.equal(a.readMsr(0x802), false, 'x2APIC MSRs #GP in xAPIC mode');
  assert.equal(a.writeMsr(0x1b, 0xfee00000 | 0x900 | 0x400, 0), true, 'xAPIC → x2APIC');
  assert.ok(a.readMsr(0x802)); assert.equal(a.msrLo, 0);
  assert.ok(a.readMsr(0x80d)); assert.equal(a.msrLo, 1, 'LDR from the ID');
  assert.equal(a.read(APIC_VERSION, 4), 0xffffffff, 'MMIO off in x2APIC mode');
  assert.equal(a.readMsr(0x80b), false, 'EOI is write-only');
  assert.equal(a.writeMsr(0x802, 0, 0), false, 'ID is read-only');
  assert.equal(a.writeMsr(0x808, 0x100, 0), false, 'TPR reserved bits');
  assert.equal(a.writeMsr(0x80b, 1, 0), false, 'EOI must write 0');
  assert.equal(a.writeMsr(0x1b, 0xfee00900, 0), false, 'x2APIC → xAPIC #GP');
  assert.equal(a.writeMsr(0x1b, 0xfee00000 | 0x500, 0), false, 'invalid state');
  assert.equal(a.writeMsr(0x1b, 0xfee00100, 0), true, 'x2APIC → disabled');
  assert.equal(a.hwEnabled, false);
  assert.equal(a.writeMsr(0x1b, 0xfee00d00, 0), false, 'disabled → x2APIC #GP');
  assert.equal(a.writeMsr(0x1b, 0xfee00900, 0), true, 'disabled → xAPIC');
  assert.equal(a.read(APIC_SVR, 4), 0xff, 'state reset by the disable');
  assert.equal(a.read(APIC_TPR, 4), 0);
  assert.equal(a.read(APIC_VERSION, 4), 0x50014, 're-enable works (unlike Bochs 2.7)');
  assert.equal(a.writeMsr(0x1b, 0xfee00901, 0), false, 'reserved low bits');
});

test('lapic: x2APIC self-IPI, ICR and 64-bit destinations', () => {
  const { apics, fakes } = make(2);
  const [a, b] = apics as [Lapic, Lapic];
  for (const x of apics) { enable(x); x.writeMsr(0x1b, 0xfee00c00 | (x === a ? 0x100 : 0), 0); }
  a.writeMsr(0x83f, 0x55, 0);
  assert.equal(a.acknowledge(), 0x55);
  assert.equal(a.writeMsr(0x830, 0x66, 1), true, 'fixed IPI to x2APIC ID 1');
  assert.equal(b.acknowledge(), 0x66);
  assert.equal(fakes[0]!.pending, false);
  a.writeMsr(0x830, 0x4400, 1); // NMI
  assert.equal(fakes[1]!.nmis, 1);
  assert.equal(a.writeMsr(0x830, 0x2000, 0), false, 'ICR reserved bit 13');
});

test('lapic: xAPIC INIT/SIPI, shorthands and logical flat destinations', () => {
  const { apics, fakes } = make(3);
  for (const x of apics) enable(x);
  const a = apics[0]!;
  a.write(APIC_ICR_HI, 4, 0x01000000);
  a.write(APIC_ICR_LO, 4, 0x4500); // INIT assert to APIC 1
  assert.deepEqual(fakes.map((f) => f.inits), [0, 1, 0]);
  a.write(APIC_ICR_LO, 4, 0x8500); // INIT level de-assert: no effect
  assert.deepEqual(fakes.map((f) => f.inits), [0, 1, 0]);
  a.write(APIC_ICR_LO, 4, 0xc4608); // SIPI vector 8 to all excluding self
  assert.deepEqual(fakes.map((f) => f.sipis), [[], [8], [8]]);
  apics[1]!.write(APIC_LDR, 4, 0x02000000);
  apics[2]!.write(APIC_LDR, 4, 0x04000000);
  a.write(APIC_ICR_HI, 4, 0x06000000);
  a.write(APIC_ICR_LO, 4, 0x0877); // fixed, logical, vector 0x77
  assert.equal(apics[1]!.acknowledge(), 0x77);
  assert.equal(apics[2]!.acknowledge(), 0x77);
  a.write(APIC_ICR_HI, 4, 0x05000000);
  a.write(APIC_ICR_LO, 4, 0x4066); // fixed, physical, to absent APIC 5: lost, no error
  assert.equal(a.read(APIC_ICR_LO, 4) & 0x1000, 0, 'delivery status idle');
});

test('lapic: ExtINT from LINT0 is acknowledged through the PIC, also with the APIC disabled', () => {
  const { a, f } = make();
  a.setLint0(true);
  assert.equal(f.pending, true);
  assert.equal(a.acknowledge(), 0x30);
  a.writeMsr(0x1b, 0xfee00100, 0);
  assert.equal(f.pending, true, 'no APIC: INTR straight from the 8259');
  a.setLint0(false);
  assert.equal(f.pending, false);
});

test('lapic: snapshot round trip', () => {
  const { a, clock } = make();
  enable(a);
  a.write(APIC_TPR, 4, 0x10);
  a.setIrr(0x99, true);
  a.write(APIC_LVT_TIMER, 4, 0x50);
  a.write(APIC_TMICT, 4, 100);
  const s = JSON.parse(JSON.stringify(a.state));
  const { a: b } = make();
  b.state = s;
  assert.deepEqual(b.state, a.state);
  clock.advanceTo(10);
});

test('lapic: the LVT timer mask bit is writable (xAPIC page and x2APIC MSR 0x832)', () => {
  const { a } = make();
  enable(a);
  a.write(APIC_LVT_TIMER, 4, 0x200ee);
  assert.equal(a.read(APIC_LVT_TIMER, 4), 0x200ee);
  a.write(APIC_LVT_TIMER, 4, 0x100ee);
  assert.equal(a.read(APIC_LVT_TIMER, 4), 0x100ee, 'mask set again');
  // kvm-unit-tests msr.c writes back the reset value 0x10000 through the x2APIC MSR
  assert.ok(a.writeMsr(0x1b, 0xfee00c00, 0), 'enable x2APIC');
  assert.equal(a.writeMsr(0x832, 0x10000, 0), true);
  assert.ok(a.readMsr(0x832));
  assert.equal(a.msrLo, 0x10000);
});

test('lapic: LINT1 as NMI delivers an NMI on a rising edge; masked or fixed LINT1; LVT timer mask bit is writable', () => {
  const { a, f } = make();
  enable(a);
  a.write(0x360, 4, 0x400); // LVT LINT1: NMI, unmasked
  a.setLint1(true);
  assert.equal(f.nmis, 1);
  a.setLint1(true);
  assert.equal(f.nmis, 1, 'level held: no new edge');
  a.setLint1(false); a.setLint1(true);
  assert.equal(f.nmis, 2);
  a.setLint1(false);
  a.write(0x360, 4, 0x10400); // masked
  a.setLint1(true); a.setLint1(false);
  assert.equal(f.nmis, 2);
  a.write(0x360, 4, 0x45); // fixed vector 0x45
  a.setLint1(true);
  assert.equal(a.acknowledge(), 0x45);
  a.write(APIC_LVT_TIMER, 4, 0x10040);
  assert.equal(a.read(APIC_LVT_TIMER, 4), 0x10040, 'timer mask bit 16 sticks');
  a.write(APIC_LVT_TIMER, 4, 0x20040);
  assert.equal(a.read(APIC_LVT_TIMER, 4), 0x20040, 'periodic, unmasked');
});

test('lapic: a hardware-disabled APIC passes LINT1 straight through as the NMI pin', () => {
  const { a, f } = make();
  a.writeMsr(0x1b, 0xfee00100, 0); // EN clear
  a.setLint1(true);
  assert.equal(f.nmis, 1);
});
