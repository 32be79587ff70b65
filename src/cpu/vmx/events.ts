/**
 * Events in VMX non-root operation (SDM Vol. 3C §25.2, §25.3, §25.5, §26.7): which
 * exceptions, interrupts and NMIs cause VM exits, the window exits, the monitor trap flag
 * and the VMX-preemption timer. cpu.ts calls in here only while cpu.vmx.nonRoot:
 *   exceptionExits     from raiseException, before delivery (exception bitmap, §25.2)
 *   softwareException  from softwareInterrupt for INT3/INTO (types 6, bitmap bits 3/4)
 *   tripleFaultExits   from tripleFault (exit reason 2 instead of a shutdown)
 *   checkEvents        from checkInterrupts: the whole event priority order of non-root
 *   wakeGuest          from wakeFromHalt: what ends the guest's HLT (or wait-for-SIPI) state
 * INIT and SIPI arrive through init-sipi.ts and are taken first by checkEvents.
 * Polling: the run loop looks at events only while cpu.irqPending/nmiPending, so while a
 * window exit, the MTF or the timer is armed, armEventPolling keeps irqPending set.
 */
import type { Cpu } from '../cpu.js';
import { IF, NMI, PF_, DB } from '../regs.js';
import {
  PIN_EXT_INTR, PIN_NMI, PIN_VIRTUAL_NMIS, PIN_PREEMPT_TIMER, PROC_INTR_WINDOW, PROC_NMI_WINDOW, PROC_MTF,
  EXIT_ACK_INTR,
} from './capabilities.js';
import {
  vmExit, exitWithInterruption, exitWithLength, EXIT, INTR_VALID, INTR_ERROR_VALID, INTR_TYPE_EXT, INTR_TYPE_NMI,
  INTR_TYPE_HW_EXC, INTR_TYPE_SW_EXC, INTR_TYPE_SW_INT, INTR_TYPE_PRIV_SW_EXC, deliveringSoftwareEvent,
} from './vmexit.js';
import { tscValue } from '../tsc.js';
import { MTF_INJECTED, ACT_WAIT_SIPI } from './vmx-state.js';

/** Keeps the run loop checking events while something in non-root needs it. */
export function armEventPolling(cpu: Cpu): void {
  if (needsPolling(cpu)) cpu.irqPending = true;
}

/** Whether exception `vector` with error code `err` exits (§25.2, #PF mask/match rule). */
function bitmapExits(cpu: Cpu, vector: number, err: number): boolean {
  const st = cpu.vmx;
  const bit = (st.exceptionBitmap >>> vector) & 1;
  if (vector !== PF_) return bit !== 0;
  const match = (err & st.pfecMask) === st.pfecMatch;
  return bit !== 0 ? match : !match;
}

/**
 * A hardware exception about to be delivered to the guest: exits when the bitmap says so
 * (interruption info type 3 with the error code; qualification CR2 for #PF, DR6 bits for
 * #DB). Otherwise it records the event as the one being delivered (IDT-vectoring info).
 * NMIs come through checkEvents and never consult the bitmap.
 */
export function exceptionExits(cpu: Cpu, vector: number, err: number, hasErr: boolean): void {
  const st = cpu.vmx;
  // an event delivered through the guest IDT leaves an MTF VM exit pending before the
  // handler's first instruction, even when the faulting instruction never retired (§25.5.2)
  if ((st.proc & PROC_MTF) !== 0) st.mtfArmedAt = -1;
  if (vector === NMI) {
    st.vectoring = INTR_VALID | INTR_TYPE_NMI | NMI;
    return;
  }
  const info = INTR_VALID | INTR_TYPE_HW_EXC | vector | (hasErr ? INTR_ERROR_VALID : 0);
  if (vector < 32 && bitmapExits(cpu, vector, err)) {
    exitWithInterruption(info, err);
    let qual = 0;
    // §27.1: the faulting address goes to the qualification, CR2 keeps its old value
    if (vector === PF_) { qual = cpu.cr2; cpu.cr2 = cpu.cr2Before; }
    else if (vector === DB) qual = cpu.dr[6]! & 0x600f;
    vmExit(cpu, EXIT.EXCEPTION_NMI, qual);
  }
  st.vectoring = info;
  st.vectoringError = err;
}

/** INT3 (CC) / INTO (CE) are software exceptions (type 6) for the bitmap; INT n is not. */
export function softwareException(cpu: Cpu, vector: number): void {
  if ((cpu.opcode !== 0xcc && cpu.opcode !== 0xce) || ((cpu.vmx.exceptionBitmap >>> vector) & 1) === 0) return;
  exitWithInterruption(INTR_VALID | INTR_TYPE_SW_EXC | vector, 0);
  exitWithLength(cpu.rip - cpu.startRip);
  cpu.rip = cpu.startRip;
  vmExit(cpu, EXIT.EXCEPTION_NMI, 0);
}

/**
 * INT1 (F1, ICEBP) in non-root operation: a privileged software exception (type 5) for the
 * exception bitmap (bit 1 = #DB); its exit saves the instruction length and the RIP of the
 * INT1, like INT3 (§27.2.2, §27.2.5). DR6 is not involved: qualification 0.
 */
export function privilegedSoftwareException(cpu: Cpu): void {
  if (((cpu.vmx.exceptionBitmap >>> DB) & 1) === 0) return;
  exitWithInterruption(INTR_VALID | INTR_TYPE_PRIV_SW_EXC | DB, 0);
  exitWithLength(cpu.rip - cpu.startRip);
  cpu.rip = cpu.startRip;
  vmExit(cpu, EXIT.EXCEPTION_NMI, 0);
}

/**
 * Around the delivery of INT n / INT3 / INTO in non-root operation (cpu.softwareInterrupt):
 * an exit while it is delivered (an EPT violation on the IDT, the stack...) reports it in
 * the IDT-vectoring information — type 6 software exception for INT3/INTO, 4 software
 * interrupt for INT n — with the instruction length, RIP staying at the instruction
 * (§27.2.4, §27.2.5, §27.3.3). softwareEventEnd() after the delivery.
 */
export function softwareEventStart(cpu: Cpu, vector: number): void {
  const type = cpu.opcode === 0xcc || cpu.opcode === 0xce ? INTR_TYPE_SW_EXC : INTR_TYPE_SW_INT;
  deliveringSoftwareEvent(INTR_VALID | type | vector, cpu.rip - cpu.startRip);
}
export function softwareEventEnd(): void { deliveringSoftwareEvent(0, 0); }

/** A triple fault in non-root operation is a VM exit, not a shutdown (§25.2). */
export function tripleFaultExits(cpu: Cpu): never {
  cpu.delivering = -1;
  cpu.halted = false;
  return vmExit(cpu, EXIT.TRIPLE_FAULT, 0);
}

/**
 * Debug traps (single-step BS, data breakpoints B0-B3) after a guest instruction while the
 * monitor trap flag is set: the MTF VM exit takes priority over debug-trap exceptions
 * (SDM Vol. 3C §25.5.2); the #DB is not delivered but saved in the guest's pending debug
 * exceptions field (§27.3.4: bit 12 "enabled breakpoint" with any B0-B3), DR6 left alone.
 * VM entry delivers it on resume (vmentry.ts pendingDebugExceptions). Returns without
 * exiting when MTF is off; the caller then delivers the #DB. The VMX-preemption timer does
 * not do this: debug traps take priority over its exit (§25.5.1), so the #DB is delivered
 * and the timer exits at the next boundary.
 */
export function mtfBeforeDebugTrap(cpu: Cpu, bits: number): void {
  const st = cpu.vmx;
  if ((st.proc & PROC_MTF) === 0 || cpu.instructionCount === st.mtfArmedAt) return;
  st.pendingDbg = (bits & 0x400f) | ((bits & 0xf) !== 0 ? 0x1000 : 0);
  vmExit(cpu, EXIT.MTF, 0);
}

/**
 * A debug trap (single-step, data breakpoints) that the exception bitmap turns into a VM
 * exit: the bits are the exit qualification and DR6 is left unchanged (SDM Vol. 3C
 * §27.1, Table 27-1; kvm-unit-tests vmx_db_test). Returns when #DB does not exit; the
 * caller then updates DR6 and delivers the #DB through the guest IDT.
 */
export function debugTrapExits(cpu: Cpu, bits: number): void {
  if (((cpu.vmx.exceptionBitmap >>> DB) & 1) === 0) return;
  exitWithInterruption(INTR_VALID | INTR_TYPE_HW_EXC | DB, 0);
  vmExit(cpu, EXIT.EXCEPTION_NMI, bits & 0x400f);
}

/**
 * The board's clock reached the VMX-preemption timer deadline (the clock timer armed at VM
 * entry, vmentry.ts): the timer is at zero even if TSC rounding says a tick is left, and
 * the CPU looks at events again (a halted guest wakes and exits, §25.5.1).
 */
export function preemptionTimerFired(cpu: Cpu): void {
  const st = cpu.vmx;
  if (!st.nonRoot || (st.pin & PIN_PREEMPT_TIMER) === 0) return;
  st.preemptDeadline = -Infinity;
  cpu.irqPending = true;
}

function timerExpired(cpu: Cpu): boolean {
  const st = cpu.vmx;
  return (st.pin & PIN_PREEMPT_TIMER) !== 0 && tscValue(cpu) - st.tscOffset >= st.preemptDeadline;
}

/**
 * The event check at an instruction boundary in non-root operation. Priority (SDM §26.7 and
 * Table 6-2 as VMX orders them): monitor trap flag, preemption timer, NMI (exit with NMI
 * exiting, else delivery), NMI window, external interrupt exiting, interrupt window,
 * external interrupt delivery. Blocking by STI/MOV SS holds back the interrupt-like events
 * for one instruction. Returns true when an event was delivered (cpu.ts continues).
 */
export function checkEvents(cpu: Cpu): boolean {
  const st = cpu.vmx;
  // the shadow is aged by cpu.ts after the instruction it covers; it stays set meanwhile so
  // that an exit from that instruction saves it in the interruptibility state (§27.3.4)
  const shadow = cpu.inhibitIrq;
  // INIT (held since root operation or arrived now) exits before everything below; it is
  // consumed by the exit (SDM Vol. 3C §25.2, init-sipi.ts)
  if (st.initPending) { st.initPending = false; vmExit(cpu, EXIT.INIT, 0); }
  if (st.activity === ACT_WAIT_SIPI) {
    // wait-for-SIPI (§24.4.2): only INIT and SIPI end it; a SIPI exits with its vector
    if (st.sipiVector >= 0) { const v = st.sipiVector; st.sipiVector = -1; vmExit(cpu, EXIT.SIPI, v); }
    cpu.irqPending = false;
    cpu.halted = true;
    return true;
  }
  if (((st.proc & PROC_MTF) !== 0 && cpu.instructionCount !== st.mtfArmedAt) || st.mtfArmedAt === MTF_INJECTED) vmExit(cpu, EXIT.MTF, 0);
  if (timerExpired(cpu)) vmExit(cpu, EXIT.PREEMPTION_TIMER, 0);
  armEventPolling(cpu);
  if (!shadow) {
    const virt = (st.pin & PIN_VIRTUAL_NMIS) !== 0;
    if (cpu.nmiPending && !cpu.nmiBlocked) {
      cpu.nmiPending = false;
      if ((st.pin & PIN_NMI) !== 0) {
        exitWithInterruption(INTR_VALID | INTR_TYPE_NMI | NMI, 0);
        // with NMI exiting the NMI is blocked for the host after the exit (§27.5.5)
        if (!virt) cpu.nmiBlocked = true;
        vmExit(cpu, EXIT.EXCEPTION_NMI, 0);
      }
      cpu.nmiBlocked = true;
      leaveHlt(cpu);
      cpu.raiseException(NMI, 0, false);
      return true;
    }
    if ((st.proc & PROC_NMI_WINDOW) !== 0 && !st.virtualNmiBlocked) vmExit(cpu, EXIT.NMI_WINDOW, 0);
    const ifSet = (cpu.flags & IF) !== 0;
    if (cpu.irqPending && (st.pin & PIN_EXT_INTR) !== 0) {
      if ((st.exitCtls & EXIT_ACK_INTR) !== 0) {
        const v = cpu.hooks.acknowledgeInterrupt(cpu);
        if (v >= 0) { exitWithInterruption(INTR_VALID | INTR_TYPE_EXT | v, 0); vmExit(cpu, EXIT.EXTERNAL_INTERRUPT, 0); }
        cpu.irqPending = false;
        armEventPolling(cpu);
      } else if (intrAsserted(cpu)) {
        // without acknowledge-on-exit the interrupt stays pending in the controller; an
        // irqPending that only means "poll" (window/MTF/timer armed, or set at the last VM
        // exit for the host) is not an interrupt
        vmExit(cpu, EXIT.EXTERNAL_INTERRUPT, 0);
      } else {
        // nothing asserted: a stale "poll" flag must not keep waking a halted guest
        cpu.irqPending = false;
        armEventPolling(cpu);
      }
    }
    if ((st.proc & PROC_INTR_WINDOW) !== 0 && ifSet) vmExit(cpu, EXIT.INTERRUPT_WINDOW, 0);
    if (cpu.irqPending && ifSet && (st.pin & PIN_EXT_INTR) === 0) {
      const v = cpu.hooks.acknowledgeInterrupt(cpu);
      if (v >= 0) {
        leaveHlt(cpu);
        st.vectoring = INTR_VALID | INTR_TYPE_EXT | v;
        cpu.delivering = v;
        cpu.hooks.deliver(cpu, v, 0, false, false, cpu.rip);
        cpu.delivering = -1;
        return true;
      }
      cpu.irqPending = false;
      armEventPolling(cpu);
    }
  }
  if (st.wokeFromHlt) {
    // woken for nothing that happened: back to the HLT state
    st.wokeFromHlt = false;
    cpu.halted = true;
    return true;
  }
  return false;
}

function leaveHlt(cpu: Cpu): void {
  cpu.vmx.wokeFromHlt = false;
  cpu.halted = false;
  cpu.startRip = cpu.rip;
}

/** INTR really asserted: the local APIC says so when there is one (cpu.irqPending may only mean "poll"). */
export function intrAsserted(cpu: Cpu): boolean {
  const l = cpu.lapic;
  if (l !== null && l.interruptPending !== undefined) return l.interruptPending;
  return !needsPolling(cpu);
}

function needsPolling(cpu: Cpu): boolean {
  const st = cpu.vmx;
  return (st.proc & (PROC_INTR_WINDOW | PROC_NMI_WINDOW | PROC_MTF)) !== 0 || (st.pin & PIN_PREEMPT_TIMER) !== 0 ||
    st.initPending || st.sipiVector >= 0;
}

/**
 * Whether something may end the guest's HLT state (cpu.wakeFromHalt in non-root): an NMI,
 * an interrupt the guest takes or that exits, an open window with window exiting, the MTF,
 * or the preemption timer — which, since a halted CPU retires no instructions, is taken to
 * run out at once (the halted guest skips ahead in time, as an idle processor would).
 * checkEvents then decides; if nothing happens the guest halts again. Never exits itself
 * (it runs outside the run loop's exception handling).
 */
export function wakeGuest(cpu: Cpu): boolean {
  const st = cpu.vmx;
  cpu.inhibitIrq = false; // the STI/MOV SS shadow covered the HLT itself ("sti; hlt")
  // INIT exits from any activity state; in wait-for-SIPI nothing else but a SIPI counts
  if (st.initPending || (st.activity === ACT_WAIT_SIPI && st.sipiVector >= 0)) {
    if (st.activity !== ACT_WAIT_SIPI) st.wokeFromHlt = true; // an exit from HLT saves activity state HLT
    cpu.irqPending = true;
    return true;
  }
  if (st.activity === ACT_WAIT_SIPI) return false;
  let wake = false;
  if ((st.pin & PIN_PREEMPT_TIMER) !== 0) {
    // on a board the timer counts down in virtual time while the guest is halted: the
    // board jumps the clock to its deadline (st.timer, preemptionTimerFired); stand-alone
    // there is no time to jump, so it runs out at once
    if (st.timer === null || cpu.clock === null) st.preemptDeadline = -Infinity;
    if (timerExpired(cpu)) wake = true;
  }
  if (cpu.nmiPending) wake = true;
  const ifSet = (cpu.flags & IF) !== 0;
  if ((st.proc & PROC_INTR_WINDOW) !== 0 && ifSet) wake = true;
  if ((st.proc & PROC_NMI_WINDOW) !== 0 && !st.virtualNmiBlocked) wake = true;
  if (((st.proc & PROC_MTF) !== 0 && cpu.instructionCount !== st.mtfArmedAt) || st.mtfArmedAt === MTF_INJECTED) wake = true;
  if (cpu.irqPending && (ifSet || (st.pin & PIN_EXT_INTR) !== 0) && intrAsserted(cpu)) wake = true;
  if (wake) { st.wokeFromHlt = true; cpu.irqPending = true; }
  return wake;
}
