/**
 * Time as the network core sees it: injected, never Date.now (STYLE habit 7). MAC ageing,
 * ARP cache timeouts, TCP retransmission and NAT flow expiry all read `now()` and arm
 * timers through this interface, so tests drive them with ManualTimers.
 */

export interface TimerHandle { readonly id: number }

export interface NetTimers {
  /** Milliseconds on a monotonic clock. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(h: TimerHandle | null): void;
}

/** Host time: performance.now() and unref'd timers (a network never keeps Node alive by itself). */
export function realTimers(): NetTimers {
  let next = 1;
  const live = new Map<number, NodeJS.Timeout>();
  return {
    now: () => performance.now(),
    setTimeout(fn, ms) {
      const id = next++;
      const t = setTimeout(() => { live.delete(id); fn(); }, Math.max(0, ms));
      t.unref();
      live.set(id, t);
      return { id };
    },
    clearTimeout(h) {
      if (!h) return;
      const t = live.get(h.id);
      if (t) { clearTimeout(t); live.delete(h.id); }
    },
  };
}

/** A clock that moves only when told: `advance(ms)` fires due timers in deadline order. */
export class ManualTimers implements NetTimers {
  private t = 0;
  private nextId = 1;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();

  now(): number { return this.t; }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.pending.set(id, { at: this.t + Math.max(0, ms), fn });
    return { id };
  }

  clearTimeout(h: TimerHandle | null): void {
    if (h) this.pending.delete(h.id);
  }

  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let best: [number, { at: number; fn: () => void }] | null = null;
      for (const e of this.pending) if (e[1].at <= end && (!best || e[1].at < best[1].at || (e[1].at === best[1].at && e[0] < best[0]))) best = e;
      if (!best) break;
      this.pending.delete(best[0]);
      this.t = Math.max(this.t, best[1].at);
      best[1].fn();
    }
    this.t = end;
  }

  get timerCount(): number { return this.pending.size; }
}
