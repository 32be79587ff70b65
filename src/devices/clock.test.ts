import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NS_PER_INSTRUCTION, VirtualClock } from './clock.js';

test('clock: time follows the running counter inside a window and stops outside', () => {
  const c = new VirtualClock();
  const cpu = { instructionCount: 100 };
  c.beginRun(cpu, 0, 1000);
  cpu.instructionCount += 7;
  assert.equal(c.nowNs(), 7 * NS_PER_INSTRUCTION);
  c.endRun(0);
  assert.equal(c.nowNs(), 70, 'never below a time already observed');
  c.advanceTo(500);
  assert.equal(c.nowNs(), 500);
  c.advanceTo(100); // never backwards
  assert.equal(c.nowNs(), 500);
});

test('clock: timers fire in deadline order with now = their deadline; a periodic re-arm fires once per advance', () => {
  const c = new VirtualClock();
  const log: string[] = [];
  const a = c.timer('a', () => log.push(`a@${c.nowNs()}`));
  const p = c.timer('p', () => { log.push(`p@${c.nowNs()}`); p.armAt(c.nowNs() + 10); });
  a.armAt(300);
  p.armAt(100);
  assert.equal(c.nextDeadline(), 100);
  c.advanceTo(400);
  assert.deepEqual(log, ['p@100', 'a@300']);
  assert.equal(p.deadline, 110, 'the periodic timer waits for the next advance');
  assert.equal(a.armed, false);
});

test('clock: arming inside the running window asks for a shorter window', () => {
  const c = new VirtualClock();
  const asked: number[] = [];
  c.onEarlierDeadline = (ns) => asked.push(ns);
  const t = c.timer('t', () => {});
  c.beginRun({ instructionCount: 0 }, 0, 1000);
  t.armAt(2000);
  t.armAt(400);
  assert.deepEqual(asked, [400]);
});
