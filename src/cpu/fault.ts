/**
 * Architectural exceptions unwind the instruction with a throw of one preallocated
 * sentinel (no allocation, no stack capture); the run loop catches it, rolls RIP back to
 * the faulting instruction and delivers the event (SDM Vol. 3A §6.5: faults are
 * restartable). Anything else thrown is a Nestvisor bug and propagates.
 */
export const FAULT: { readonly tag: 'cpu-fault' } = Object.freeze({ tag: 'cpu-fault' as const });

/** Thrown sentinel for "stop the run loop now" requests raised deep inside an instruction. */
export const STOP: { readonly tag: 'cpu-stop' } = Object.freeze({ tag: 'cpu-stop' as const });

/** Exception classes for double-fault decisions (SDM Vol. 3A Table 6-4/6-5). */
export function isContributory(v: number): boolean {
  return v === 0 || (v >= 10 && v <= 13);
}

/** Vectors that push an error code (SDM Vol. 3A Table 6-1). */
export function hasErrorCode(v: number): boolean {
  return v === 8 || (v >= 10 && v <= 14) || v === 17 || v === 21;
}

export const EXCEPTION_NAMES = [
  '#DE', '#DB', 'NMI', '#BP', '#OF', '#BR', '#UD', '#NM', '#DF', 'CSO', '#TS', '#NP', '#SS', '#GP',
  '#PF', 'INT15', '#MF', '#AC', '#MC', '#XM', '#VE', '#CP',
];

export function vectorName(v: number): string {
  return EXCEPTION_NAMES[v] ?? `vector ${v}`;
}
