/**
 * The VM's one virtual clock (issue 3): nanoseconds since power-on, read by the TSC, the
 * local APIC timer, the PIT, the HPET and the RTC, so they all agree.
 *
 * Virtual time is a function of the instruction stream, never of host time:
 *  - while a vCPU runs, time advances NS_PER_INSTRUCTION per retired instruction (the
 *    nominal rate of src/cpu/tsc.ts: 100 M instructions per virtual second);
 *  - when every vCPU is halted, the machine jumps time to the next timer deadline (and
 *    sleeps on the host meanwhile, so an idle guest costs no host CPU).
 * Hence a guest's observations depend only on its own instructions and its timers.
 *
 * Execution is organised in *windows* (src/machine/vcpus.ts): every vCPU runs the same
 * window [start, end) in turn; while one runs, nowNs() is start + its instructions in the
 * window × NS_PER_INSTRUCTION. A window never crosses a timer deadline: when a device arms
 * a timer that falls inside the current window, `onEarlierDeadline` lets the machine
 * shorten it. Timers fire between windows, in deadline order, with nowNs() equal to their
 * deadline, so a periodic device re-arming from "now" keeps an exact period.
 *
 * This file knows no CPU: the running "counter" is anything with an instructionCount.
 */

/** The clock as devices see it. */
export interface TimeSource {
  nowNs(): number;
}

/** Nanoseconds of virtual time per retired instruction (matches tsc.ts NOMINAL_IPS). */
export const NS_PER_INSTRUCTION = 10;

/** Something whose progress drives time: a Cpu (structurally). */
export interface InstructionCounter {
  instructionCount: number;
}

/** A one-shot timer owned by a device; re-arm it from its callback for periodic behaviour. */
export class Timer {
  /** Absolute virtual ns of the next expiry, Infinity when disarmed. */
  deadline = Infinity;
  /** advanceTo() generation in which this timer last fired (at most once per call). */
  firedIn = 0;
  constructor(private readonly clock: VirtualClock, private readonly fire: () => void, readonly name: string) {}

  get armed(): boolean { return this.deadline !== Infinity; }

  /** Arms (or re-arms) at absolute virtual time `ns`. A deadline in the past fires at the next window boundary. */
  armAt(ns: number): void {
    this.deadline = Number.isFinite(ns) ? ns : Infinity;
    if (this.deadline !== Infinity) this.clock.noteDeadline(this.deadline);
  }

  cancel(): void { this.deadline = Infinity; }

  /** Called by the clock only. */
  expire(): void { this.deadline = Infinity; this.fire(); }
}

export class VirtualClock implements TimeSource {
  private baseNs = 0;
  /** The latest time any reader saw. */
  private observed = 0;
  private counter: InstructionCounter | null = null;
  private baseCount = 0;
  /** End of the current window (Infinity outside one). */
  windowEnd = Infinity;
  private readonly timers: Timer[] = [];
  private generation = 0;
  /** Called when a timer is armed before the current window's end (the machine shortens the window). */
  onEarlierDeadline: ((ns: number) => void) | null = null;

  nowNs(): number {
    const c = this.counter;
    const v = c === null ? this.baseNs : this.baseNs + (c.instructionCount - this.baseCount) * NS_PER_INSTRUCTION;
    // Time is monotonic across vCPUs too: a vCPU that runs a window after another one
    // never reads a time earlier than one already observed (kvm-unit-tests' HPET torture
    // test reads the counter on every CPU). Still a function of the instruction streams.
    if (v < this.observed) return this.observed;
    this.observed = v;
    return v;
  }

  /** Creates a timer (at wiring time; timers are never created per event). */
  timer(name: string, fire: () => void): Timer {
    const t = new Timer(this, fire, name);
    this.timers.push(t);
    return t;
  }

  /** The earliest armed deadline, or Infinity. */
  nextDeadline(): number {
    let d = Infinity;
    for (const t of this.timers) if (t.deadline < d) d = t.deadline;
    return d;
  }

  /** The window [now, end) begins; `counter` runs in it starting at its current count. */
  beginRun(counter: InstructionCounter, startNs: number, endNs: number): void {
    this.counter = counter;
    this.baseNs = startNs;
    this.baseCount = counter.instructionCount;
    this.windowEnd = endNs;
  }

  /** The running counter stops; time stays at the window start until advanceTo(). */
  endRun(startNs: number): void {
    this.counter = null;
    this.baseNs = startNs;
  }

  /** Moves time forward to `ns` (never backwards), firing due timers in deadline order. */
  advanceTo(ns: number): void {
    this.counter = null;
    this.windowEnd = Infinity;
    if (ns < this.baseNs) ns = this.baseNs;
    // Each timer fires at most once per call: a periodic device re-arms after "now", so a
    // guest programming a period shorter than a window gets coalesced ticks, as an IRR bit
    // coalesces them on hardware, instead of a host busy loop.
    const gen = ++this.generation;
    for (;;) {
      let next: Timer | null = null;
      for (const t of this.timers) {
        if (t.deadline <= ns && t.firedIn !== gen && (next === null || t.deadline < next.deadline)) next = t;
      }
      if (next === null) break;
      if (next.deadline > this.baseNs) this.baseNs = next.deadline;
      next.firedIn = gen;
      next.expire();
    }
    this.baseNs = ns;
  }

  /** Timer bookkeeping: a deadline inside the running window asks the machine to cut it short. */
  noteDeadline(ns: number): void {
    if (ns < this.windowEnd && this.onEarlierDeadline !== null) this.onEarlierDeadline(ns);
  }
}
