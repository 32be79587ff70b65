/**
 * The APIC bus (on modern parts, system-bus messages): how interrupt messages from a local
 * APIC's ICR or from the I/O APIC reach local APICs (SDM Vol. 3A §10.6.2 destination
 * modes, §10.6.2.4 lowest priority, §10.12.9/§10.12.10 x2APIC destinations), and how an
 * EOI for a level-triggered vector is broadcast back to the I/O APICs (§10.8.5).
 *
 * Delivery is synchronous and deterministic: a message reaches every target before the
 * sending instruction retires, targets are visited in APIC-ID order, and the
 * lowest-priority choice breaks ties by the lowest APIC ID.
 */

/** Delivery modes (ICR/LVT/redirection-entry bits 10:8). */
export const DM_FIXED = 0, DM_LOWEST = 1, DM_SMI = 2, DM_NMI = 4, DM_INIT = 5, DM_STARTUP = 6, DM_EXTINT = 7;
/** Destination shorthands (ICR bits 19:18). */
export const SH_NONE = 0, SH_SELF = 1, SH_ALL = 2, SH_OTHERS = 3;

/** What the bus needs from a local APIC. */
export interface ApicEndpoint {
  /** Whether this APIC takes a message for `dest` (SDM §10.6.2). `wide`: 32-bit x2APIC destination. */
  matches(logical: boolean, dest: number, wide: boolean): boolean;
  /** Accepts an interrupt message. */
  accept(mode: number, vector: number, level: boolean, assert: boolean): void;
  /** Arbitration priority for lowest-priority delivery (SDM §10.6.2.4). */
  arbitrationPriority(): number;
  /** Hardware-enabled (IA32_APIC_BASE.EN): a disabled APIC takes no messages. */
  readonly hwEnabled: boolean;
  readonly apicId: number;
}

export class ApicBus {
  private readonly apics: ApicEndpoint[] = [];
  private readonly eoiListeners: ((vector: number) => void)[] = [];

  attach(a: ApicEndpoint): void {
    this.apics.push(a);
    this.apics.sort((x, y) => x.apicId - y.apicId);
  }

  /** I/O APICs listen for EOIs of level-triggered vectors. */
  onEoi(listener: (vector: number) => void): void {
    this.eoiListeners.push(listener);
  }

  broadcastEoi(vector: number): void {
    for (const l of this.eoiListeners) l(vector);
  }

  /**
   * Sends one interrupt message. `src` is the sending APIC for shorthands (null from the
   * I/O APIC). Returns how many APICs accepted it (0: nobody home, which is not an error
   * on the bus: the message is simply lost, SDM §10.6.1).
   */
  deliver(src: ApicEndpoint | null, shorthand: number, logical: boolean, dest: number, wide: boolean,
    mode: number, vector: number, level: boolean, assert: boolean): number {
    let n = 0;
    if (mode === DM_LOWEST && shorthand === SH_NONE) {
      let best: ApicEndpoint | null = null;
      for (const a of this.apics) {
        if (!a.hwEnabled || !a.matches(logical, dest, wide)) continue;
        if (best === null || a.arbitrationPriority() < best.arbitrationPriority()) best = a;
      }
      if (best !== null) { best.accept(DM_FIXED, vector, level, assert); n = 1; }
      return n;
    }
    const m = mode === DM_LOWEST ? DM_FIXED : mode;
    for (const a of this.apics) {
      if (!a.hwEnabled) continue;
      let take: boolean;
      switch (shorthand) {
        case SH_SELF: take = a === src; break;
        case SH_ALL: take = true; break;
        case SH_OTHERS: take = a !== src; break;
        default: take = a.matches(logical, dest, wide); break;
      }
      if (take) { a.accept(m, vector, level, assert); n++; }
    }
    return n;
  }
}
