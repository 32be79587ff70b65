/**
 * What the CPU asks of the platform it sits on, as interfaces defined here so that
 * src/cpu never imports src/devices or src/machine (DESIGN.md layer table). The machine
 * installs implementations on the Cpu (`cpu.clock`, `cpu.lapic`); unit tests of the CPU
 * leave them null and get the stand-alone behaviour (TSC from the instruction count, no
 * local APIC: APIC MSRs beyond IA32_APIC_BASE #GP, CPUID.1:EDX.APIC clear).
 */

/** The VM's virtual clock as the running CPU sees it. */
export interface CpuClock {
  /** Virtual nanoseconds since power-on at the current instruction of the running CPU. */
  nowNs(): number;
}

/**
 * A one-shot timer of the board's virtual clock held by the CPU (the VMX-preemption
 * timer): armed at an absolute virtual-ns deadline, so that when every vCPU is halted the
 * board jumps time to it as it does for device timers (src/machine/vcpus.ts).
 */
export interface CpuTimer {
  readonly armed: boolean;
  armAt(ns: number): void;
  cancel(): void;
}

/**
 * The CPU's own local APIC, reached through the architectural doors that are not MMIO:
 * IA32_APIC_BASE (0x1B), IA32_TSC_DEADLINE (0x6E0), the x2APIC MSRs (0x800-0x8FF) and CR8.
 * MSR accessors return false when the access must raise #GP(0) (SDM Vol. 3A §10.12.1.2
 * for x2APIC MSRs, §10.4.4 / §10.12.5 for IA32_APIC_BASE); a read leaves its value in
 * msrLo/msrHi.
 */
export interface LapicPort {
  /** IA32_APIC_BASE.EN: CPUID.1:EDX.APIC follows it (SDM Vol. 3A §10.4.3). */
  readonly hwEnabled: boolean;
  msrLo: number;
  msrHi: number;
  readMsr(index: number): boolean;
  writeMsr(index: number, lo: number, hi: number): boolean;
  /** CR8 = TPR[7:4] (SDM Vol. 3A §10.8.6.1). */
  readCr8(): number;
  /**
   * INTR asserted now, without an acknowledge cycle (VMX external-interrupt exiting without
   * "acknowledge interrupt on exit" must not take the vector; cpu.irqPending may also just
   * mean "poll events" in non-root operation).
   */
  readonly interruptPending?: boolean;
  writeCr8(value: number): void;
}

/** MSRs a local APIC answers when one is attached. */
export const MSR_TSC_DEADLINE = 0x6e0;
export const MSR_X2APIC_FIRST = 0x800, MSR_X2APIC_LAST = 0x8ff;

export function isLapicMsr(index: number): boolean {
  return index === 0x1b || index === MSR_TSC_DEADLINE || (index >= MSR_X2APIC_FIRST && index <= MSR_X2APIC_LAST);
}
