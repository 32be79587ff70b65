/**
 * MONITOR (0F 01 C8) and MWAIT (0F 01 C9): SDM Vol. 2B MONITOR/MWAIT, Vol. 3A §9.10.4
 * (§10.10.4 in older editions), Vol. 3C §25.1.3 / §28.2.1 for their VM exits.
 *
 * MONITOR arms the address-monitoring hardware on the 64-byte line holding DS:rAX
 * (CPUID.5: smallest = largest monitor line = 64). MWAIT then waits — as HLT does, with
 * cpu.halted — until a store to that line by any processor or a device, or an interrupt,
 * NMI, SMI or INIT. Stores are seen through the decode cache's write watch: MONITOR marks
 * the line's 4K page in PhysicalMemory.codePages, so every store to it (TLB fast path,
 * PhysicalMemory, DMA) reports the page (DecodeCache.onPageWrite). A store elsewhere in
 * the page wakes too — an early wake-up the SDM allows ("implementation-dependent
 * events"); the idle loop re-checks and waits again. The line's bytes are also compared
 * with MONITOR's copy, for writers that bypass the watch.
 * The run loop wakes MWAIT like HLT (an interrupt with IF = 1, an NMI); mwaitPoll(),
 * called by the board between vCPU turns (machine/vcpus.ts), adds the store and the
 * "interrupt as break event with IF = 0" (ECX bit 0) wake-ups.
 *
 * The state lives in a WeakMap beside the Cpu so that neither instruction touches the
 * Cpu class (the run loop is shared); MONITOR/MWAIT are rare, the lookup is cheap.
 */
import type { Cpu } from './cpu.js';
import { RAX, RCX, DS, IF } from './regs.js';
import { isAmd } from './profile.js';
import { msrGet64, MSR_MISC_ENABLE, MISC_ENABLE_DEFAULT } from './msr.js';
import { interceptMonitor, interceptMwait } from './vmx/intercepts.js';
import type { DecodeCache } from './decode-cache.js';

/** Monitor line size reported by CPUID.5:EAX/EBX (SDM Vol. 2A CPUID leaf 05H). */
export const MONITOR_LINE = 64;
/** IA32_MISC_ENABLE bit 18 "ENABLE MONITOR FSM" (SDM Vol. 4 Table 2-2): clear → #UD. */
export const MISC_MONITOR_FSM = 1 << 18;
/** MWAIT ECX bit 0: interrupts are break events even when masked (CPUID.5:ECX[1]). */
export const MWAIT_ECX_INT_BREAK = 1;

class MonitorState {
  /** Physical address of the armed line (a multiple of 64), -1 when disarmed. */
  line = -1;
  /** RAM page (RAM index >>> 12) of the line, -1 when it is not RAM. */
  page = -1;
  /** A store hit the line's page since MONITOR (DecodeCache.onPageWrite). */
  hit = false;
  /** The line's bytes when MONITOR armed it. */
  readonly copy = new Uint8Array(MONITOR_LINE);
  /** MWAIT put the CPU to sleep: instructionCount at that MWAIT, -1 when not waiting. */
  waitAt = -1;
  /** ECX bit 0 of the waiting MWAIT. */
  intBreak = false;
}

const states = new WeakMap<Cpu, MonitorState>();
/** The monitors of the CPUs sharing one decode cache (one PhysicalMemory). */
const watchers = new WeakMap<DecodeCache, MonitorState[]>();

/** Marks the line's page so stores to it are reported, hooking the cache once. */
function watch(cpu: Cpu, s: MonitorState): void {
  const dc = cpu.dc;
  let list = watchers.get(dc);
  if (list === undefined) {
    const l: MonitorState[] = [];
    list = l;
    watchers.set(dc, l);
    dc.onPageWrite = (page: number): void => {
      for (let k = 0; k < l.length; k++) if (l[k]!.page === page) l[k]!.hit = true;
    };
  }
  if (list.indexOf(s) < 0) list.push(s);
  cpu.mem.codePages[s.page] = 1;
}

function stateOf(cpu: Cpu): MonitorState {
  let s = states.get(cpu);
  if (s === undefined) { s = new MonitorState(); states.set(cpu, s); }
  return s;
}

/** Whether a store may have hit the armed line since MONITOR (watched page, or changed bytes). */
function triggered(cpu: Cpu, s: MonitorState): boolean {
  if (s.hit) return true;
  if (s.page < 0) return false; // MMIO: no store through RAM can trigger it; interrupts still do
  const ram = cpu.mem.ram, copy = s.copy, i = s.page * 4096 + (s.line % 4096);
  for (let k = 0; k < MONITOR_LINE; k++) if (ram[i + k] !== copy[k]) return true;
  return false;
}

/**
 * Whether the monitor hardware is armed: MONITOR ran, no store has hit the line since and
 * no MWAIT has consumed it (the MWAIT VM exit's qualification bit 0, SDM Vol. 3C §28.2.1, Table 28-1 under "MWAIT").
 */
export function monitorArmed(cpu: Cpu): boolean {
  const s = states.get(cpu);
  if (s === undefined) return false;
  if (s.waitAt >= 0) inMwait(cpu); // a wait the run loop ended (interrupt, NMI) consumed the monitor
  if (s.line < 0) return false;
  if (triggered(cpu, s)) { s.line = -1; return false; }
  return true;
}

/**
 * The checks MONITOR and MWAIT share, in the SDM's order: #UD when the profile lacks
 * CPUID.1:ECX.MONITOR, when IA32_MISC_ENABLE.MONITOR_FSM is clear (Intel), in virtual-8086
 * mode, and at CPL > 0 (these #UDs take priority over the VM exit, Vol. 3C §25.1.1).
 */
function commonChecks(cpu: Cpu): void {
  if ((cpu.profile.leaf1Ecx & (1 << 3)) === 0) cpu.ud();
  if (!isAmd(cpu.profile) && (msrGet64(cpu, MSR_MISC_ENABLE, MISC_ENABLE_DEFAULT, 0) & MISC_MONITOR_FSM) === 0) cpu.ud();
  if (cpu.v86 || cpu.cpl !== 0) cpu.ud();
}

/**
 * 0F 01 C8 MONITOR: DS:rAX (rAX by address size, DS overridable) is checked as a byte read
 * would be (segment #GP/#SS, canonical, #PF, EPT) — SDM Vol. 2B MONITOR. ECX = extensions,
 * none supported → any nonzero value is #GP(0). EDX hints are ignored.
 */
export function monitor(cpu: Cpu): void {
  commonChecks(cpu);
  if (cpu.vmx.nonRoot) interceptMonitor(cpu); // "MONITOR exiting" (Vol. 3C §25.1.3)
  if (cpu.r[RCX << 1] !== 0) cpu.gp(0);
  const asz = cpu.asz;
  let lo = cpu.r[RAX << 1]!, hi = 0;
  if (asz === 2) lo &= 0xffff;
  else if (asz === 8) hi = cpu.r[(RAX << 1) + 1]!;
  const seg = cpu.segOvr >= 0 ? cpu.segOvr : DS;
  const pa = cpu.translateData(cpu.linear(seg, lo, hi, 1, false), false);
  const s = stateOf(cpu);
  s.line = pa - (pa % MONITOR_LINE);
  s.hit = false;
  const i = cpu.mem.ramIndex(s.line, MONITOR_LINE);
  s.page = i < 0 ? -1 : Math.floor(i / 4096);
  if (i >= 0) { s.copy.set(cpu.mem.ram.subarray(i, i + MONITOR_LINE)); watch(cpu, s); }
}

/**
 * 0F 01 C9 MWAIT: EAX hints (C-state) are accepted whatever they say; ECX bit 0 makes
 * interrupts break events even with IF = 0; other ECX bits are reserved → #GP(0).
 * Without an armed monitor, or when the line was written after MONITOR, it is a no-op
 * (SDM Vol. 2B MWAIT: "the processor will not enter the implementation-dependent
 * optimized state"). Otherwise the CPU sleeps like HLT; RIP is already past MWAIT.
 */
export function mwait(cpu: Cpu): void {
  commonChecks(cpu);
  if (cpu.vmx.nonRoot) interceptMwait(cpu, monitorArmed(cpu)); // "MWAIT exiting" (Vol. 3C §25.1.3)
  const ecx = cpu.r[RCX << 1]!;
  if ((ecx & ~MWAIT_ECX_INT_BREAK) !== 0) cpu.gp(0);
  if (!monitorArmed(cpu)) return;
  const s = stateOf(cpu);
  s.intBreak = (ecx & MWAIT_ECX_INT_BREAK) !== 0;
  // ECX bit 0 with a masked interrupt already pending: it is a break event right away
  if (s.intBreak && cpu.irqPending && (cpu.flags & IF) === 0) { s.line = -1; return; }
  s.waitAt = cpu.instructionCount;
  cpu.halted = true;
}

/**
 * Whether `cpu` sleeps in MWAIT (and not in a later HLT): halted, and no instruction has
 * retired since that MWAIT (instructionCount counts the MWAIT itself once it retires).
 */
export function inMwait(cpu: Cpu): boolean {
  const s = states.get(cpu);
  if (s === undefined || s.waitAt < 0) return false;
  if (!cpu.halted || cpu.instructionCount > s.waitAt + 1) { s.waitAt = -1; s.line = -1; return false; }
  return true;
}

/**
 * Whether the CPU's last wait was MWAIT's and no instruction has retired since, whether or
 * not it still waits: a VM exit then saves activity state "active", as the VMCS never shows
 * MWAIT's inactive state (SDM Vol. 3C §24.4.2 footnote on the activity-state field, §27.1).
 */
export function mwaitWasLastWait(cpu: Cpu): boolean {
  const s = states.get(cpu);
  return s !== undefined && s.waitAt >= 0 && cpu.instructionCount <= s.waitAt + 1;
}

/** Whether the waiting MWAIT takes masked interrupts as break events (ECX bit 0). */
export function mwaitIntBreak(cpu: Cpu): boolean {
  return inMwait(cpu) && stateOf(cpu).intBreak;
}

/**
 * The wake-ups the run loop does not know (called between vCPU turns): a store to the
 * monitored line, or with ECX bit 0 an interrupt pending while IF = 0. Ends the wait
 * (cpu.halted = false, the monitor disarmed) and returns true when one happened; the
 * interrupt stays pending and is taken when IF allows (SDM Vol. 2B MWAIT).
 */
export function mwaitPoll(cpu: Cpu): boolean {
  if (!inMwait(cpu)) return false;
  const s = stateOf(cpu);
  const wake = triggered(cpu, s) || (s.intBreak && cpu.irqPending);
  if (!wake) return false;
  s.waitAt = -1;
  s.line = -1;
  cpu.halted = false;
  return true;
}

/** INIT/RESET disarm the monitor and end any wait (SDM Vol. 3A Table 9-1 leaves no state). */
export function monitorReset(cpu: Cpu): void {
  const s = states.get(cpu);
  if (s !== undefined) { s.line = -1; s.waitAt = -1; }
}
