/**
 * virtio-balloon (Virtual I/O Device 1.1 §5.5) as a pure state machine: inflate queue 0,
 * deflate queue 1, statistics queue 2 (VIRTIO_BALLOON_F_STATS_VQ). The host sets a target
 * (num_pages); the driver gives pages (inflate) or takes them back (deflate) by page frame
 * number, 4 KiB each, as arrays of le32 in device-readable buffers.
 *
 *   device config: 0 num_pages le32 (device) | 4 actual le32 (driver)
 *                  8 free_page_hint_cmd_id | 12 poison_val   (features not offered: read 0)
 *                  16 ram_pages le32 — Nestvisor extension, with NV_HOT_ADD: the pages of RAM
 *                     the guest has now, boot RAM plus what was hot-added (hv_balloon's
 *                     hot-add message, as a config field)
 *
 *   stats buffer: { le16 tag; le64 val; } packed, 10 bytes each (§5.5.6.3); tags used here:
 *                 4 MEMFREE, 5 MEMTOT, 6 AVAIL (bytes)
 *
 * Pages the guest gives are really released: each is zeroed and counted, and the board
 * subtracts them from the memory the VM is assigned; a page deflated is zeroed again and is
 * ordinary RAM. A page frame outside the VM's RAM (MMIO, the hole, beyond RAM — host memory
 * is never addressable), one given twice or taken back without having been given is
 * ignored and counted, never a host exception. The balloon is cooperative, as on every
 * hypervisor with virtio-balloon: a device reset (reboot) returns every page to the guest.
 */
import type { IrqLine } from './lines.js';
import { VirtioPciTransport, type VirtioDeviceModel } from './virtio-pci.js';
import type { Chain, DmaMemory } from './virtqueue.js';

export const VIRTIO_BALLOON_F_STATS_VQ = 1;
/** Nestvisor's extension (a device-specific bit no virtio version assigns): memory hot-add through ram_pages. */
export const VIRTIO_BALLOON_F_NV_HOT_ADD = 23;
export const BALLOON_PAGE = 4096;
export const VIRTIO_BALLOON_S_MEMFREE = 4, VIRTIO_BALLOON_S_MEMTOT = 5, VIRTIO_BALLOON_S_AVAIL = 6;
const INFLATE = 0, DEFLATE = 1, STATS = 2;
const QUEUE_SIZE = 128;

/** The guest RAM the balloon works on (PhysicalMemory has this shape). */
export interface BalloonRam extends DmaMemory {
  /** RAM index of [pa, pa+len) when it lies wholly in RAM, else -1. */
  ramIndex(pa: number, len: number): number;
  /** Bytes the host buffer holds (the largest RAM index + 1 the VM may ever have). */
  readonly reserveBytes?: number;
}

export interface BalloonCounters {
  inflated: number;
  deflated: number;
  /** Page numbers outside RAM, given twice, or taken back without having been given. */
  badPages: number;
  /** Chains that were not a page list: device-writable buffers or a length not a multiple of 4. */
  badChains: number;
  statsReports: number;
}

/** What the guest said in its last statistics buffer, in bytes (undefined: not reported). */
export interface BalloonStats { memFree?: number; memTotal?: number; available?: number; atNs?: number }

export interface VirtioBalloonState { version: 1; targetPages: number; actual: number; pages: number[] }

export class VirtioBalloon implements VirtioDeviceModel {
  readonly deviceType = 5;
  readonly pciClass = 0x050000; // memory controller, RAM
  readonly features: readonly [number, number] = [(1 << VIRTIO_BALLOON_F_STATS_VQ) | (1 << VIRTIO_BALLOON_F_NV_HOT_ADD), 1];
  readonly queueSizes = [QUEUE_SIZE, QUEUE_SIZE, QUEUE_SIZE];
  readonly counters: BalloonCounters = { inflated: 0, deflated: 0, badPages: 0, badChains: 0, statsReports: 0 };
  readonly transport: VirtioPciTransport;
  /** One bit per 4 KiB page of RAM (by RAM index): the page is in the balloon. */
  private readonly held: Uint8Array;
  private heldCount = 0;
  private target = 0;
  private actualPages = 0;
  private statsHead: number | null = null;
  stats: BalloonStats = {};

  constructor(private readonly ram: BalloonRam, irq: IrqLine, private readonly now: () => number = () => 0) {
    this.transport = new VirtioPciTransport(this, ram, irq);
    this.held = new Uint8Array(Math.ceil((ram.reserveBytes ?? ram.size) / BALLOON_PAGE / 8));
  }

  /** Pages in the balloon now (given by the guest and not taken back). */
  get pages(): number { return this.heldCount; }
  /** The target the host set (num_pages). */
  get targetPages(): number { return this.target; }
  /** What the driver last wrote to `actual`. */
  get actual(): number { return this.actualPages; }
  /** The driver is up (DRIVER_OK) and accepted hot-add. */
  get hotAddAccepted(): boolean { return this.transport.driverOk && this.transport.hasFeature(VIRTIO_BALLOON_F_NV_HOT_ADD); }
  get driverReady(): boolean { return this.transport.driverOk; }

  /** The host's new target: the driver sees num_pages change and a configuration interrupt. */
  setTarget(pages: number): void {
    const p = Math.max(0, Math.floor(pages));
    if (p === this.target) return;
    this.target = p;
    this.transport.configChanged();
  }

  /** RAM grew (hot-add): the driver learns the new ram_pages through a configuration interrupt. */
  ramChanged(): void {
    this.transport.configChanged();
  }

  /** True when the page at RAM index `index` is in the balloon. */
  isHeld(index: number): boolean {
    const p = Math.floor(index / BALLOON_PAGE);
    return ((this.held[p >>> 3] ?? 0) >>> (p & 7) & 1) === 1;
  }

  configRead(offset: number, size: number): number {
    const b = new Uint8Array(20);
    const v = new DataView(b.buffer);
    v.setUint32(0, this.target, true);
    v.setUint32(4, this.actualPages, true);
    v.setUint32(16, Math.floor(this.ram.size / BALLOON_PAGE), true);
    let x = 0;
    for (let i = size - 1; i >= 0; i--) x = x * 256 + (b[offset + i] ?? 0);
    return x >>> 0;
  }

  configWrite(offset: number, size: number, value: number): void {
    // only `actual` is driver-writable (§5.5.4); a partial write changes only its bytes
    if (offset >= 8 || offset + size <= 4) return;
    const b = new Uint8Array(8);
    const v = new DataView(b.buffer);
    v.setUint32(4, this.actualPages, true);
    for (let i = 0; i < size; i++) if (offset + i >= 4 && offset + i < 8) b[offset + i] = (value >>> (8 * i)) & 0xff;
    this.actualPages = v.getUint32(4, true);
  }

  activate(): void {
    for (const q of [INFLATE, DEFLATE, STATS]) this.notify(q);
  }

  /** Device reset (the driver went away, the guest rebooted): every page is the guest's again. */
  reset(): void {
    this.held.fill(0);
    this.heldCount = 0;
    this.actualPages = 0;
    this.statsHead = null;
  }

  notify(index: number): void {
    const t = this.transport;
    if (!t.canDma) return;
    const q = t.queues[index];
    if (!q) return;
    let any = false;
    for (let c = q.pop(); c; c = q.pop()) {
      any = true;
      if (index === STATS) {
        if (!t.hasFeature(VIRTIO_BALLOON_F_STATS_VQ)) { this.counters.badChains++; q.push(c.head, 0); continue; }
        this.readStats(c);
        // the device keeps the buffer until it wants fresh numbers (requestStats)
        if (this.statsHead !== null) q.push(this.statsHead, 0);
        this.statsHead = c.head;
        continue;
      }
      if (c.writable > 0 || c.readable % 4 !== 0) { this.counters.badChains++; q.push(c.head, 0); continue; }
      const list = q.read(c);
      const dv = new DataView(list.buffer, list.byteOffset, list.byteLength);
      for (let o = 0; o < list.length; o += 4) {
        const pfn = dv.getUint32(o, true);
        if (index === INFLATE) this.give(pfn); else if (index === DEFLATE) this.take(pfn);
      }
      q.push(c.head, 0);
    }
    if (q.broken) t.needsReset();
    if (any && index !== STATS) t.interruptQueue(q);
  }

  /** Asks the driver for fresh statistics by returning the buffer it left (§5.5.6.3). */
  requestStats(): boolean {
    const t = this.transport;
    const q = t.queues[STATS]!;
    if (this.statsHead === null || !t.canDma || !q.ready) return false;
    q.push(this.statsHead, 0);
    this.statsHead = null;
    t.interruptQueue(q);
    return true;
  }

  private give(pfn: number): void {
    const i = this.ram.ramIndex(pfn * BALLOON_PAGE, BALLOON_PAGE);
    if (i < 0 || this.isHeld(i)) { this.counters.badPages++; return; }
    const p = i / BALLOON_PAGE;
    this.held[p >>> 3]! |= 1 << (p & 7);
    this.heldCount++;
    this.counters.inflated++;
    this.zero(i);
  }

  private take(pfn: number): void {
    const i = this.ram.ramIndex(pfn * BALLOON_PAGE, BALLOON_PAGE);
    if (i < 0 || !this.isHeld(i)) { this.counters.badPages++; return; }
    const p = i / BALLOON_PAGE;
    this.held[p >>> 3]! &= ~(1 << (p & 7));
    this.heldCount--;
    this.counters.deflated++;
    this.zero(i); // whatever the guest wrote while the page was not its own is gone
  }

  private zero(index: number): void {
    this.ram.ram.fill(0, index, index + BALLOON_PAGE);
    const p = index / BALLOON_PAGE;
    if (this.ram.codePages?.[p] && this.ram.onCodeWrite) this.ram.onCodeWrite(p);
  }

  private readStats(c: Chain): void {
    const b = this.transport.queues[STATS]!.read(c, 10 * 16);
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const s: BalloonStats = { atNs: this.now() };
    for (let o = 0; o + 10 <= b.length; o += 10) {
      const tag = v.getUint16(o, true);
      const val = v.getUint32(o + 2, true) + v.getUint32(o + 6, true) * 2 ** 32;
      if (tag === VIRTIO_BALLOON_S_MEMFREE) s.memFree = val;
      else if (tag === VIRTIO_BALLOON_S_MEMTOT) s.memTotal = val;
      else if (tag === VIRTIO_BALLOON_S_AVAIL) s.available = val;
    }
    this.stats = s;
    this.counters.statsReports++;
  }

  get state(): VirtioBalloonState {
    const pages: number[] = [];
    for (let p = 0; p < this.held.length * 8; p++) if ((this.held[p >>> 3]! >>> (p & 7)) & 1) pages.push(p);
    return { version: 1, targetPages: this.target, actual: this.actualPages, pages };
  }
}
