/**
 * Dynamic memory: the balance loop that moves running VMs' assigned memory between their
 * Minimum and Maximum (Hyper-V's Dynamic Memory, on a virtio-balloon with hot-add).
 *
 * - Demand is what the guest says it uses (balloon statistics, or its own report through
 *   Controller.reportMemoryDemand). A VM wants demand + Buffer% headroom, rounded up to
 *   2 MB, within [Minimum, Maximum].
 * - The host has a memory budget (its memory capacity). VMs that cannot move — static
 *   memory, no demand known yet, or a hypervisor running inside — keep what they have and
 *   count against it. When the rest want more than remains, lower-Priority VMs give first:
 *   first their buffer (down to their demand), then below demand down to Minimum.
 * - seed "Mémoire dynamique et redimensionnement de la mémoire d'exécution": while the guest
 *   has VMX on, "même si la mémoire dynamique est activée, la quantité de mémoire ne varie
 *   pas" — such a VM is held where it is.
 *
 * planBalance is pure; MemoryBalancer runs it on a timer that tests replace with a fake clock.
 */

export const MEMORY_UNIT = 2 * 1024 * 1024;

export interface MemoryPolicy {
  readonly dynamic: boolean;
  readonly minimumBytes: number;
  readonly maximumBytes: number;
  /** Percent of demand kept as headroom (5–2000). */
  readonly buffer: number;
  /** 0–100: higher keeps its memory longer under pressure. */
  readonly priority: number;
}

export interface VmMemorySample {
  readonly id: string;
  readonly policy: MemoryPolicy;
  readonly assignedBytes: number;
  /** What the guest uses, or null when it never said. */
  readonly demandBytes: number | null;
  /** A hypervisor runs inside (VMX on): the amount must not vary. */
  readonly held: boolean;
}

const up = (n: number): number => Math.ceil(n / MEMORY_UNIT) * MEMORY_UNIT;
const clamp = (n: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, n));

/** What a movable VM wants: demand plus its buffer, in 2 MB units, within [min, max]. */
export function wantedBytes(policy: MemoryPolicy, demandBytes: number): number {
  return clamp(up(demandBytes * (1 + policy.buffer / 100)), policy.minimumBytes, policy.maximumBytes);
}

/**
 * The target of every VM whose memory may move now (dynamic, demand known, not held),
 * given the host's budget. VMs absent from the result keep what they have.
 */
export function planBalance(vms: readonly VmMemorySample[], budgetBytes: number): Map<string, number> {
  const movable = vms.filter((v) => v.policy.dynamic && !v.held && v.demandBytes !== null);
  const fixed = vms.filter((v) => !movable.includes(v)).reduce((n, v) => n + v.assignedBytes, 0);
  const target = new Map(movable.map((v) => [v.id, wantedBytes(v.policy, v.demandBytes!)]));
  let excess = [...target.values()].reduce((n, x) => n + x, 0) - Math.max(0, budgetBytes - fixed);
  if (excess <= 0) return target;
  // lowest priority gives first; ties in a stable order (id)
  const order = [...movable].sort((a, b) => a.policy.priority - b.policy.priority || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const floors: Array<(v: VmMemorySample) => number> = [
    (v) => clamp(up(v.demandBytes!), v.policy.minimumBytes, v.policy.maximumBytes), // the buffer goes first
    (v) => v.policy.minimumBytes,                                                    // then down to Minimum
  ];
  for (const floor of floors) {
    for (const v of order) {
      if (excess <= 0) return target;
      const t = target.get(v.id)!;
      const cut = Math.min(up(excess), Math.max(0, t - floor(v)));
      target.set(v.id, t - cut);
      excess -= cut;
    }
  }
  return target;
}

/** What the balancer needs of a running VM. */
export interface BalancedVm {
  readonly id: string;
  /** The VM's memory settings now (they can change while it runs). */
  policy(): MemoryPolicy;
  assignedBytes(): number;
  demandBytes(): number | null;
  /** Live: a vCPU is in VMX operation. */
  vmxActive(): boolean;
  /** Moves the VM's memory (balloon/hot-add); may throw when the guest cannot. */
  resize(bytes: number): void | Promise<void>;
}

export interface BalancerTimers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export interface MemoryBalancerOptions {
  /** The host's memory budget in bytes (read at every tick). */
  readonly budgetBytes: () => number;
  readonly intervalMs?: number;
  readonly timers?: BalancerTimers;
}

export class MemoryBalancer {
  private readonly vms = new Map<string, BalancedVm>();
  /** The last target set per VM, so that a guest still on its way is not asked again. */
  private readonly targets = new Map<string, number>();
  private timer: unknown = null;
  private busy = false;
  /** Resizes the guest refused (no driver, above its ceiling): counted, retried next tick. */
  failures = 0;

  constructor(private readonly opts: MemoryBalancerOptions) {}

  add(vm: BalancedVm): void {
    this.vms.set(vm.id, vm);
    this.ensureTimer();
  }

  remove(id: string): void {
    this.vms.delete(id);
    this.targets.delete(id);
    if (this.vms.size === 0) this.stop();
  }

  /** The target last set for a VM, if any. */
  targetOf(id: string): number | undefined { return this.targets.get(id); }

  /** One pass: sample every VM, plan, and move those whose target changed. */
  async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const list = [...this.vms.values()];
      const samples: VmMemorySample[] = list.map((v) => ({
        id: v.id, policy: v.policy(), assignedBytes: v.assignedBytes(), demandBytes: v.demandBytes(), held: v.vmxActive(),
      }));
      const plan = planBalance(samples, this.opts.budgetBytes());
      for (const v of list) {
        const t = plan.get(v.id);
        if (t === undefined || t === (this.targets.get(v.id) ?? v.assignedBytes())) continue;
        if (v.vmxActive()) continue; // checked again right before acting: the guest may have just run VMXON
        try {
          await v.resize(t);
          this.targets.set(v.id, t);
        } catch {
          this.failures++;
        }
      }
    } finally {
      this.busy = false;
    }
  }

  stop(): void {
    if (this.timer !== null) (this.opts.timers ?? realTimers).clearInterval(this.timer);
    this.timer = null;
  }

  private ensureTimer(): void {
    if (this.timer !== null) return;
    const t = this.opts.timers ?? realTimers;
    this.timer = t.setInterval(() => { void this.tick(); }, this.opts.intervalMs ?? 500);
    (this.timer as { unref?: () => void }).unref?.();
  }
}

const realTimers: BalancerTimers = {
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => clearInterval(h as ReturnType<typeof setInterval>),
};
