/**
 * The dynamic-memory balance: demand + buffer within [min, max]; under host pressure the
 * lower Priority gives first (buffer, then down to Minimum); VMs with VMX on are held.
 * The loop runs on a fake clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBalancer, planBalance, wantedBytes, type BalancedVm, type BalancerTimers, type MemoryPolicy, type VmMemorySample } from './dynamic-memory.js';

const MB = 1024 * 1024;
const pol = (p: Partial<MemoryPolicy> = {}): MemoryPolicy => ({ dynamic: true, minimumBytes: 512 * MB, maximumBytes: 8192 * MB, buffer: 20, priority: 50, ...p });
const vm = (id: string, demandMb: number | null, p: Partial<MemoryPolicy> = {}, assignedMb = 1024, held = false): VmMemorySample =>
  ({ id, policy: pol(p), assignedBytes: assignedMb * MB, demandBytes: demandMb === null ? null : demandMb * MB, held });
const mb = (m: Map<string, number>) => Object.fromEntries([...m].map(([k, v]) => [k, v / MB]));

test('a VM wants demand plus its buffer, in 2 MB units, within min and max', () => {
  assert.equal(wantedBytes(pol(), 1000 * MB) / MB, 1200);
  assert.equal(wantedBytes(pol({ buffer: 5 }), 1001 * MB) / MB, 1052); // 1051.05 rounded up to 2 MB
  assert.equal(wantedBytes(pol(), 100 * MB) / MB, 512);
  assert.equal(wantedBytes(pol(), 9000 * MB) / MB, 8192);
});

test('plenty of host memory: every movable VM gets what it wants; the others are left alone', () => {
  const plan = planBalance([
    vm('a', 1000), vm('static', 500, { dynamic: false }), vm('unknown', null), vm('nested', 100, {}, 4096, true),
  ], 64 * 1024 * MB);
  assert.deepEqual(mb(plan), { a: 1200 });
});

test('pressure: the lower priority loses its buffer first, then goes down toward Minimum', () => {
  const vms = [vm('low', 2000, { priority: 10 }), vm('high', 2000, { priority: 90 })];
  // both want 2400; the budget has 4400: 400 MB short -> taken from low's buffer
  assert.deepEqual(mb(planBalance(vms, 4400 * MB)), { low: 2000, high: 2400 });
  // 1400 short: low's buffer (400), high's buffer (400), then low below demand (600)
  assert.deepEqual(mb(planBalance(vms, 3400 * MB)), { low: 1400, high: 2000 });
  // far too little: both at Minimum, never below
  assert.deepEqual(mb(planBalance(vms, 100 * MB)), { low: 512, high: 512 });
});

test('static and held VMs count against the budget', () => {
  const vms = [vm('s', null, { dynamic: false }, 3000), vm('n', 10, {}, 2000, true), vm('d', 2000)];
  assert.deepEqual(mb(planBalance(vms, 7000 * MB)), { d: 2000 }); // 7000 - 5000 fixed leaves 2000: buffer gone
});

class FakeTimers implements BalancerTimers {
  fns = new Map<number, { fn: () => void; ms: number; next: number }>();
  now = 0;
  private id = 0;
  setInterval(fn: () => void, ms: number): unknown { this.fns.set(++this.id, { fn, ms, next: this.now + ms }); return this.id; }
  clearInterval(h: unknown): void { this.fns.delete(h as number); }
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (;;) {
      const due = [...this.fns.values()].filter((t) => t.next <= end).sort((a, b) => a.next - b.next)[0];
      if (!due) break;
      this.now = due.next;
      due.next += due.ms;
      due.fn();
      await new Promise((r) => setImmediate(r));
    }
    this.now = end;
  }
}

class FakeVm implements BalancedVm {
  assigned: number;
  demand: number | null;
  vmx = false;
  resizes: number[] = [];
  refuse = false;
  constructor(readonly id: string, readonly p: MemoryPolicy, assignedMb: number, demandMb: number | null) {
    this.assigned = assignedMb * MB;
    this.demand = demandMb === null ? null : demandMb * MB;
  }
  policy(): MemoryPolicy { return this.p; }
  assignedBytes(): number { return this.assigned; }
  demandBytes(): number | null { return this.demand; }
  vmxActive(): boolean { return this.vmx; }
  resize(bytes: number): void {
    if (this.refuse) throw new Error('no driver');
    this.resizes.push(bytes / MB);
    this.assigned = bytes; // a guest that follows at once
  }
}

test('the loop follows demand on its interval, holds a VM while VMX is on, and stops when empty', async () => {
  const timers = new FakeTimers();
  let budget = 64 * 1024 * MB;
  const b = new MemoryBalancer({ budgetBytes: () => budget, intervalMs: 1000, timers });
  const v = new FakeVm('v', pol(), 1024, 2000);
  b.add(v);
  await timers.advance(999);
  assert.deepEqual(v.resizes, []);
  await timers.advance(1);
  assert.deepEqual(v.resizes, [2400]);
  await timers.advance(5000);
  assert.deepEqual(v.resizes, [2400], 'no change, no new request');
  v.vmx = true; // the guest ran VMXON: the amount must not vary, whatever the demand
  v.demand = 100 * MB;
  await timers.advance(3000);
  assert.deepEqual(v.resizes, [2400]);
  v.vmx = false;
  await timers.advance(1000);
  assert.deepEqual(v.resizes, [2400, 512]);
  budget = 0;
  v.demand = 4000 * MB;
  await timers.advance(1000);
  assert.deepEqual(v.resizes, [2400, 512], 'no room on the host: stays at Minimum');
  b.remove('v');
  assert.equal(timers.fns.size, 0);
});

test('a refused resize is counted and tried again', async () => {
  const timers = new FakeTimers();
  const b = new MemoryBalancer({ budgetBytes: () => 1e12, intervalMs: 100, timers });
  const v = new FakeVm('v', pol(), 1024, 2000);
  v.refuse = true;
  b.add(v);
  await timers.advance(300);
  assert.equal(b.failures, 3);
  v.refuse = false;
  await timers.advance(100);
  assert.deepEqual(v.resizes, [2400]);
  b.stop();
});
