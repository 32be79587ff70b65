/**
 * The VM's virtual processors and the execution model (docs/smp.md): N Cpu objects run
 * round-robin on the VM's thread over one PhysicalMemory, in windows of virtual time.
 * Every vCPU runs the same window [start, end) in turn (vCPU 0 first), then the clock
 * advances to `end` and the timers due fire. A window ends at the next timer deadline, so
 * timers are exact to the instruction; when a device arms an earlier deadline mid-window,
 * the running vCPU stops there and the window shrinks for the vCPUs after it.
 *
 * Everything the guest can observe — interleaving of vCPUs, IPI arrival, timer
 * interrupts, TSC values — depends only on the instruction streams and the window size,
 * never on host timing. Host time enters only in how long an idle VM sleeps.
 *
 * When every vCPU is halted, time jumps to the next deadline; the caller sleeps on the
 * host for that long (idle costs no host CPU). A vCPU halted with IF = 0 and no NMI can
 * only be woken by another vCPU's IPI, so when all are like that the VM is dead ("halt").
 *
 * INIT and SIPI (SDM Vol. 3A §8.4, §10.6.1): INIT resets the core (and its APIC through
 * Lapic.init) and parks it waiting for a start-up IPI; SIPI with vector V starts a parked
 * core in real mode at V×4096 (CS = V×256, IP = 0). APs start parked. An INIT aimed at
 * the running vCPU (self-INIT) is applied after its current instruction.
 */
import { Cpu, STOP_SHUTDOWN, STOP_TRIPLE_FAULT } from '../cpu/cpu.js';
import { CS, IF } from '../cpu/regs.js';
import { NS_PER_INSTRUCTION, VirtualClock } from '../devices/clock.js';
import { preemptionTimerFired } from '../cpu/vmx/events.js';
import { PIN_EXT_INTR } from '../cpu/vmx/capabilities.js';
import { vmxTakesInit, vmxTakesSipi, takeReleasedInit } from '../cpu/vmx/init-sipi.js';
import { mwaitPoll, mwaitIntBreak, monitorReset } from '../cpu/monitor.js';
import { initSignal } from '../cpu/init-signal.js';

/** Smallest window, in instructions, so that a storm of past-due timers still lets the guest progress. */
export const MIN_WINDOW_INSTRUCTIONS = 64;
/**
 * Largest window with several vCPUs: 10,000 instructions (100 µs of virtual time), so
 * vCPUs interleave finely enough for spin-waits, IPIs and cross-CPU time reads.
 */
export const SMP_WINDOW_INSTRUCTIONS = 10_000;
/**
 * With several vCPUs, a vCPU's turn ends at its this-many-th PAUSE in the turn (a
 * spin-wait: let the vCPU it waits for run), like VMX's PAUSE-loop exiting. Counting a
 * few PAUSEs rather than yielding at the first keeps a PAUSE-paced delay loop from
 * costing one window per iteration.
 */
export const PAUSE_YIELD_COUNT = 8;
/**
 * When a vCPU sends an interrupt to another vCPU (IPI, NMI), the sender's turn ends after
 * that instruction and the window's end moves to at most this many instructions after
 * the send: the receiver gets to handle it soon, and the sender sees the answer in the
 * next window instead of spinning through the rest of this one. 250 instructions (2.5 µs
 * of virtual time, about a real IPI round trip) is room for a short handler; kvm-unit-tests
 * apic's nmi-after-sti costs 0.80/1.04/1.52/2.9 cpu-s at 100/250/500/1,000 (docs/smp.md).
 */
export const IPI_WINDOW_INSTRUCTIONS = 250;

export interface WindowResult {
  /** STOP_TRIPLE_FAULT or STOP_SHUTDOWN from some vCPU (with `cpu`), else STOP_BUDGET. */
  stop: number;
  cpu: Cpu | null;
  /** Every started vCPU is halted (or parked) with nothing pending. */
  idle: boolean;
}

export class Vcpus {
  readonly cpus: Cpu[];
  /** Parked in wait-for-SIPI. */
  readonly waitingForSipi: boolean[];
  private readonly pendingInit: boolean[];
  private readonly pendingSipi: number[];
  /** The vCPU executing right now, or null between runs. */
  current: Cpu | null = null;
  private windowStart = 0;
  private windowEnd = Infinity;
  /** Set by stop(): ends the current window early. */
  private stopRequested = false;

  constructor(cpus: Cpu[], readonly clock: VirtualClock) {
    this.cpus = cpus;
    this.waitingForSipi = cpus.map((_, i) => i !== 0);
    this.pendingInit = cpus.map(() => false);
    this.pendingSipi = cpus.map(() => -1);
    cpus.forEach((c, i) => {
      c.apicId = i; c.clock = clock;
      // the VMX-preemption timer's deadline on the VM's clock, so idle time jumps to it
      c.vmx.timer = clock.timer(`vmx-preemption-timer-${i}`, () => preemptionTimerFired(c));
    });
    clock.onEarlierDeadline = (ns) => this.shortenWindow(ns);
  }

  /** Instructions retired by all vCPUs. */
  get instructionsRetired(): number {
    let n = 0;
    for (const c of this.cpus) n += c.instructionCount;
    return n;
  }

  /** INIT to vCPU `i` (from its local APIC). */
  init(i: number): void {
    const c = this.cpus[i]!;
    if (c === this.current) { this.pendingInit[i] = true; c.requestStop(); return; }
    this.applyInit(i);
  }

  /** Start-up IPI to vCPU `i`. */
  startup(i: number, vector: number): void {
    if (this.cpus[i] === this.current) { this.pendingSipi[i] = vector; this.cpus[i]!.requestStop(); return; }
    this.applyStartup(i, vector);
  }

  /** The host hooks a Lapic needs for INIT. Set by the interrupt wiring. */
  onInit: ((i: number) => void) | null = null;

  private applyInit(i: number): void {
    // in VMX operation INIT is held (root) or a VM exit (non-root) (SDM Vol. 3C §23.8, §25.2)
    if (vmxTakesInit(this.cpus[i]!)) return;
    this.resetCpu(i, true);
    if (this.onInit) this.onInit(i);
  }

  /**
   * INIT (`init`) or RESET of vCPU `i` (SDM Vol. 3A §9.1): the register state of Table 9-1,
   * whose INIT column keeps the x87/SSE/AVX state, XCR0, CR0.CD/NW and the MSRs
   * (cpu/init-signal.ts). An AP then waits for a SIPI; the BSP (vCPU 0) fetches from the
   * reset vector, which the board aliases to the BIOS shadow at F000:FFF0 (physical
   * 0xFFFF0) as chipsets alias the top of 4 GiB to the BIOS ROM.
   */
  resetCpu(i: number, init = false): void {
    const c = this.cpus[i]!;
    if (init) initSignal(c);
    else c.reset();
    monitorReset(c);
    c.irqPending = false;
    c.nmiPending = false;
    this.pendingInit[i] = false;
    this.pendingSipi[i] = -1;
    this.waitingForSipi[i] = i !== 0;
    if (i === 0) { c.setSegReal(CS, 0xf000); c.rip = 0xfff0; }
  }

  private applyStartup(i: number, vector: number): void {
    const c = this.cpus[i]!;
    // a guest in the wait-for-SIPI activity state exits on it (SDM Vol. 3C §25.2)
    if (vmxTakesSipi(c, vector)) return;
    if (!this.waitingForSipi[i]) return; // a SIPI to a running core is ignored (SDM §8.4.4.1)
    this.waitingForSipi[i] = false;
    c.setSegReal(CS, (vector & 0xff) << 8);
    c.rip = 0;
    c.halted = false;
    c.updateMode();
    c.flushTlb();
  }

  private shortenWindow(ns: number): void {
    if (ns >= this.windowEnd) return;
    const cur = this.current;
    const now = this.clock.nowNs();
    let end = ns < now ? now : ns;
    const min = this.windowStart + MIN_WINDOW_INSTRUCTIONS * NS_PER_INSTRUCTION;
    if (end < min) end = min;
    if (end >= this.windowEnd) return;
    this.windowEnd = end;
    if (cur !== null && end <= now) cur.requestStop();
    this.clock.windowEnd = end;
  }

  /**
   * An interrupt (IPI, NMI, or a device's through the I/O APIC) reached vCPU `target` while
   * another vCPU runs: the running one's turn ends after this instruction, and the window
   * ends at most IPI_WINDOW_INSTRUCTIONS later for the vCPUs after it (docs/smp.md). Both
   * depend only on the instruction streams.
   */
  interruptArrived(target: Cpu): void {
    const cur = this.current;
    if (cur === null || cur === target) return;
    cur.requestYield();
    const end = this.clock.nowNs() + IPI_WINDOW_INSTRUCTIONS * NS_PER_INSTRUCTION;
    if (end < this.windowEnd) { this.windowEnd = end; this.clock.windowEnd = end; }
  }

  /** Ends the current window as soon as the running vCPU finishes its instruction. */
  requestStop(): void {
    this.stopRequested = true;
    if (this.current !== null) this.current.requestStop();
  }

  /**
   * Runs one window of at most `budget` instructions per vCPU, then advances the clock to
   * the window's end (unless everything went idle: then the caller sleeps and calls
   * advanceIdle()).
   */
  runWindow(budget: number): WindowResult {
    this.stopRequested = false;
    if (this.cpus.length > 1 && budget > SMP_WINDOW_INSTRUCTIONS) budget = SMP_WINDOW_INSTRUCTIONS;
    const clock = this.clock;
    const start = clock.nowNs();
    let end = Math.min(start + Math.max(1, budget) * NS_PER_INSTRUCTION, clock.nextDeadline());
    const min = start + MIN_WINDOW_INSTRUCTIONS * NS_PER_INSTRUCTION;
    if (end < min) end = Math.min(min, start + Math.max(1, budget) * NS_PER_INSTRUCTION);
    this.windowStart = start;
    this.windowEnd = end;
    let result: WindowResult = { stop: 0, cpu: null, idle: false };
    let reached = start;
    for (let i = 0; i < this.cpus.length && !this.stopRequested; i++) {
      if (this.pendingInit[i]) { this.pendingInit[i] = false; this.applyInit(i); }
      if (takeReleasedInit(this.cpus[i]!)) this.applyInit(i); // held in VMX root, released by VMXOFF
      if (this.pendingSipi[i]! >= 0) { const v = this.pendingSipi[i]!; this.pendingSipi[i] = -1; this.applyStartup(i, v); }
      if (this.waitingForSipi[i]) continue;
      const c = this.cpus[i]!;
      const n = Math.ceil((this.windowEnd - start) / NS_PER_INSTRUCTION);
      if (n <= 0) continue;
      // MWAIT's wake-ups the run loop does not see: a store to the monitored line by another
      // vCPU or a device, or a masked interrupt with ECX bit 0 (src/cpu/monitor.ts)
      if (c.halted) mwaitPoll(c);
      this.current = c;
      // several vCPUs: a spin-wait on PAUSE gives the turn away (one vCPU: never)
      if (this.cpus.length > 1) c.pauseYieldCountdown = PAUSE_YIELD_COUNT;
      clock.beginRun(c, start, this.windowEnd);
      let why: number;
      try {
        why = c.run(n);
      } catch (e) {
        // a triple fault raised while delivering a fault can escape Cpu.run() as its stop signal
        if (!c.tripleFaultReport) { this.current = null; clock.endRun(start); throw e; }
        why = STOP_TRIPLE_FAULT;
      }
      const t = clock.nowNs();
      if (t > reached) reached = t;
      this.current = null;
      clock.endRun(start);
      if (this.pendingInit[i]) { this.pendingInit[i] = false; this.applyInit(i); }
      if (takeReleasedInit(this.cpus[i]!)) this.applyInit(i); // held in VMX root, released by VMXOFF
      if (this.pendingSipi[i]! >= 0) { const v = this.pendingSipi[i]!; this.pendingSipi[i] = -1; this.applyStartup(i, v); }
      if (why === STOP_TRIPLE_FAULT || why === STOP_SHUTDOWN) { result = { stop: why, cpu: c, idle: false }; break; }
    }
    // time never runs backwards for a vCPU: the clock ends at least where the furthest one got
    if (result.stop !== 0 || this.stopRequested) { clock.advanceTo(reached); return result; }
    if (this.allIdle()) { clock.advanceTo(reached); result.idle = true; return result; }
    clock.advanceTo(Math.max(this.windowEnd, reached));
    return result;
  }

  /** Whether no vCPU can make progress before some event (timer, IPI). */
  allIdle(): boolean {
    for (let i = 0; i < this.cpus.length; i++) {
      if (this.waitingForSipi[i]) continue;
      const c = this.cpus[i]!;
      if (!c.halted || mwaitPoll(c)) return false;
      if ((c.nmiPending && !c.nmiBlocked) || (c.irqPending && (c.flags & IF) !== 0)) return false;
    }
    return true;
  }

  /**
   * With every vCPU idle: can anything still wake one? A halted vCPU with IF = 1 waits for
   * an interrupt (a timer, or a host event); one with IF = 0 only for an NMI or INIT — unless
   * it is a VMX guest with external-interrupt exiting, where IF does not mask interrupts and
   * one ends the HLT with a VM exit (SDM Vol. 3C §25.2, §25.3).
   */
  canWake(): boolean {
    for (let i = 0; i < this.cpus.length; i++) {
      if (this.waitingForSipi[i]) continue;
      if ((this.cpus[i]!.flags & IF) !== 0) return true;
      if (mwaitIntBreak(this.cpus[i]!)) return true; // MWAIT with ECX bit 0: interrupts wake it with IF = 0
      if (this.cpus[i]!.vmx.nonRoot && (this.cpus[i]!.vmx.pin & PIN_EXT_INTR) !== 0) return true;
      if (this.cpus[i]!.vmx.timer?.armed === true) return true; // a guest's VMX-preemption timer
    }
    return false;
  }

  /** After an idle sleep: jump virtual time to the next deadline and fire it. */
  advanceIdle(): void {
    const d = this.clock.nextDeadline();
    if (d !== Infinity) this.clock.advanceTo(d);
  }
}
