/**
 * The virtio 1.x modern PCI transport (Virtual I/O Device 1.1 §4.1): vendor 0x1AF4, device
 * 0x1040 + virtio device type, revision 1, and four vendor-specific capabilities that point
 * into one memory BAR:
 *
 *   BAR offset 0x0000 common configuration (§4.1.4.3)      cfg_type 1
 *              0x1000 ISR status (§4.1.4.5), read clears    cfg_type 3
 *              0x2000 device-specific configuration         cfg_type 4
 *              0x3000 notifications, 4 bytes per queue      cfg_type 2 (notify_off_multiplier 4)
 *
 *   common:  0x00 device_feature_select | 0x04 device_feature | 0x08 driver_feature_select
 *            0x0c driver_feature | 0x10 msix_config | 0x12 num_queues | 0x14 device_status
 *            0x15 config_generation | 0x16 queue_select | 0x18 queue_size | 0x1a queue_msix_vector
 *            0x1c queue_enable | 0x1e queue_notify_off | 0x20 queue_desc | 0x28 queue_driver
 *            0x30 queue_device
 *
 * Interrupts are legacy INTx (INTA#) through an injected line: the ISR's bit 0 (queue) or
 * bit 1 (configuration change) raises it, reading the ISR lowers it. No MSI-X capability is
 * offered, so msix vectors read as NO_VECTOR (0xFFFF). Features are handled as two 32-bit
 * halves (no BigInt on device paths).
 */
import type { MmioHandler } from '../memory/bus.js';
import type { IrqLine } from './lines.js';
import { PciDevice } from './pci-device.js';
import { Virtqueue, type DmaMemory } from './virtqueue.js';

export const VIRTIO_STATUS_ACKNOWLEDGE = 1, VIRTIO_STATUS_DRIVER = 2, VIRTIO_STATUS_DRIVER_OK = 4,
  VIRTIO_STATUS_FEATURES_OK = 8, VIRTIO_STATUS_NEEDS_RESET = 64, VIRTIO_STATUS_FAILED = 128;
/** VIRTIO_F_VERSION_1 is feature bit 32: bit 0 of the high half. */
export const VIRTIO_F_VERSION_1_HI = 1;
export const VIRTIO_BAR_SIZE = 0x4000;
const COMMON = 0x0000, ISR = 0x1000, DEVICE = 0x2000, NOTIFY = 0x3000;
const COMMON_LEN = 0x38;
const NO_VECTOR = 0xffff;

/** What a virtio device type (net, blk, ...) gives the transport. */
export interface VirtioDeviceModel {
  readonly deviceType: number;
  readonly pciClass: number;
  /** Offered features, low and high 32 bits. */
  readonly features: readonly [number, number];
  readonly queueSizes: readonly number[];
  configRead(offset: number, size: number): number;
  configWrite(offset: number, size: number, value: number): void;
  /** The driver set DRIVER_OK with these features accepted. */
  activate(transport: VirtioPciTransport): void;
  /** The driver kicked queue `index`. */
  notify(index: number): void;
  /** Device reset (status 0): forget in-flight work. */
  reset(): void;
}

export interface VirtioTransportCounters { notifies: number; interrupts: number; resets: number; badQueueSetups: number }

export class VirtioPciTransport extends PciDevice {
  readonly queues: Virtqueue[];
  readonly counters: VirtioTransportCounters = { notifies: 0, interrupts: 0, resets: 0, badQueueSetups: 0 };
  status = 0;
  /** Accepted features (low, high). */
  readonly driverFeatures: [number, number] = [0, 0];
  private deviceFeatureSelect = 0;
  private driverFeatureSelect = 0;
  private queueSelect = 0;
  private configGeneration = 0;
  private isr = 0;
  readonly region: MmioHandler;

  constructor(readonly model: VirtioDeviceModel, readonly memory: DmaMemory, private readonly irq: IrqLine) {
    super({
      vendorId: 0x1af4, deviceId: 0x1040 + model.deviceType, revision: 1, classCode: model.pciClass,
      subsystemVendorId: 0x1af4, subsystemId: 0x40 + model.deviceType, interruptPin: 1,
    });
    this.queues = model.queueSizes.map((n) => new Virtqueue(memory, n));
    this.region = { read: (o, s) => this.barRead(o, s), write: (o, s, v) => this.barWrite(o, s, v) };
    this.addMemoryBar(4, VIRTIO_BAR_SIZE, true, this.region);
    const cap = (cfgType: number, offset: number, length: number, extra: number[] = []) => {
      // virtio_pci_cap: cap_len, cfg_type, bar, id, padding[2], offset le32, length le32 (after cap_vndr, cap_next)
      const b = new Uint8Array(14 + extra.length);
      const v = new DataView(b.buffer);
      b[0] = 16 + extra.length; b[1] = cfgType; b[2] = 4;
      v.setUint32(6, offset, true);
      v.setUint32(10, length, true);
      b.set(extra, 14);
      this.addCapability(0x09, b);
    };
    cap(1, COMMON, 0x1000);
    cap(2, NOTIFY, 0x1000, [4, 0, 0, 0]); // notify_off_multiplier = 4
    cap(3, ISR, 0x1000);
    cap(4, DEVICE, 0x1000);
  }

  /** Whether the driver accepted feature bit `bit` (0..63). */
  hasFeature(bit: number): boolean {
    return ((this.driverFeatures[bit >= 32 ? 1 : 0] >>> (bit & 31)) & 1) === 1;
  }

  get driverOk(): boolean {
    return (this.status & VIRTIO_STATUS_DRIVER_OK) !== 0 && (this.status & VIRTIO_STATUS_NEEDS_RESET) === 0;
  }

  /** Device may touch guest memory: DRIVER_OK and bus mastering on. */
  get canDma(): boolean {
    return this.driverOk && this.busMaster;
  }

  /** Used buffers: ISR bit 0 and INTx, unless the driver suppressed it for this queue. */
  interruptQueue(q: Virtqueue): void {
    if (q.interruptSuppressed()) return;
    this.raise(1);
  }

  /** Device configuration changed (link status): ISR bit 1. */
  configChanged(): void {
    this.configGeneration = (this.configGeneration + 1) & 0xff;
    if (this.driverOk) this.raise(2);
  }

  /** A queue broke (driver bug): DEVICE_NEEDS_RESET and a configuration interrupt (§2.1.2). */
  needsReset(): void {
    if (this.status & VIRTIO_STATUS_NEEDS_RESET) return;
    this.status |= VIRTIO_STATUS_NEEDS_RESET;
    if (this.status & VIRTIO_STATUS_DRIVER_OK) this.raise(2);
  }

  private raise(bits: number): void {
    this.isr |= bits;
    this.counters.interrupts++;
    this.updateLine();
  }

  private updateLine(): void {
    const level = this.isr !== 0;
    this.setInterruptStatus(level);
    this.irq.set(level && !this.intxDisabled);
  }

  override configWrite(offset: number, size: number, value: number): void {
    super.configWrite(offset, size, value);
    if (offset <= 0x05 && offset + size > 0x04) this.updateLine(); // INTx disable toggled
  }

  private reset(): void {
    this.status = 0;
    this.driverFeatures[0] = 0; this.driverFeatures[1] = 0;
    this.deviceFeatureSelect = 0; this.driverFeatureSelect = 0; this.queueSelect = 0;
    for (const q of this.queues) q.reset();
    this.isr = 0;
    this.updateLine();
    this.counters.resets++;
    this.model.reset();
  }

  private barRead(off: number, size: number): number {
    if (size === 8) return this.barRead(off, 4); // two dwords: the bus splits them
    if (off < COMMON + COMMON_LEN) return readBytes(this.commonBytes(), off - COMMON, size);
    if (off >= ISR && off < ISR + 4) {
      const v = off === ISR ? this.isr : 0;
      if (off === ISR) { this.isr = 0; this.updateLine(); }
      return v;
    }
    if (off >= DEVICE && off < DEVICE + 0x1000) return this.model.configRead(off - DEVICE, size);
    return 0;
  }

  private barWrite(off: number, size: number, value: number): void {
    if (off < COMMON + COMMON_LEN) { this.commonWrite(off - COMMON, size, value); return; }
    if (off >= DEVICE && off < DEVICE + 0x1000) { this.model.configWrite(off - DEVICE, size, value); return; }
    if (off >= NOTIFY && off < NOTIFY + 4 * this.queues.length) {
      this.counters.notifies++;
      if (this.canDma) this.model.notify((off - NOTIFY) >>> 2);
    }
  }

  private selected(): Virtqueue | null {
    return this.queues[this.queueSelect] ?? null;
  }

  /** The common configuration structure as bytes, for reads of any width. */
  private commonBytes(): Uint8Array {
    const b = new Uint8Array(COMMON_LEN);
    const v = new DataView(b.buffer);
    v.setUint32(0x00, this.deviceFeatureSelect, true);
    v.setUint32(0x04, this.deviceFeatureSelect < 2 ? this.model.features[this.deviceFeatureSelect]! : 0, true);
    v.setUint32(0x08, this.driverFeatureSelect, true);
    v.setUint32(0x0c, this.driverFeatureSelect < 2 ? this.driverFeatures[this.driverFeatureSelect]! : 0, true);
    v.setUint16(0x10, NO_VECTOR, true);
    v.setUint16(0x12, this.queues.length, true);
    b[0x14] = this.status;
    b[0x15] = this.configGeneration;
    v.setUint16(0x16, this.queueSelect, true);
    const q = this.selected();
    if (q) {
      v.setUint16(0x18, q.enabled ? q.size : q.size || q.maxSize, true);
      v.setUint16(0x1a, NO_VECTOR, true);
      v.setUint16(0x1c, q.enabled ? 1 : 0, true);
      v.setUint16(0x1e, this.queueSelect, true);
      setU64(v, 0x20, q.descAddr);
      setU64(v, 0x28, q.availAddr);
      setU64(v, 0x30, q.usedAddr);
    }
    return b;
  }

  private commonWrite(off: number, size: number, value: number): void {
    const b = this.commonBytes();
    const v = new DataView(b.buffer);
    for (let i = 0; i < size && off + i < COMMON_LEN; i++) b[off + i] = (value >>> (8 * i)) & 0xff;
    const hit = (start: number, len: number) => off < start + len && off + size > start;
    if (hit(0x00, 4)) this.deviceFeatureSelect = v.getUint32(0x00, true);
    if (hit(0x08, 4)) this.driverFeatureSelect = v.getUint32(0x08, true);
    if (hit(0x0c, 4) && this.driverFeatureSelect < 2 && !(this.status & VIRTIO_STATUS_FEATURES_OK)) {
      // only offered features can be accepted
      this.driverFeatures[this.driverFeatureSelect] = (v.getUint32(0x0c, true) & this.model.features[this.driverFeatureSelect]!) >>> 0;
    }
    if (hit(0x14, 1)) this.writeStatus(b[0x14]!);
    if (hit(0x16, 2)) this.queueSelect = v.getUint16(0x16, true);
    const q = this.selected();
    if (!q || q.enabled) return; // queue fields are read-only once enabled (§4.1.4.3.2)
    if (hit(0x18, 2)) q.size = v.getUint16(0x18, true);
    if (hit(0x20, 8)) q.descAddr = getU64(v, 0x20);
    if (hit(0x28, 8)) q.availAddr = getU64(v, 0x28);
    if (hit(0x30, 8)) q.usedAddr = getU64(v, 0x30);
    if (hit(0x1c, 2) && v.getUint16(0x1c, true) === 1) {
      if (!q.enable()) this.counters.badQueueSetups++;
    }
  }

  private writeStatus(s: number): void {
    if (s === 0) { this.reset(); return; }
    let next = s & 0xff;
    if ((next & VIRTIO_STATUS_FEATURES_OK) && !(this.status & VIRTIO_STATUS_FEATURES_OK)) {
      // §3.1.1: a modern driver must accept VERSION_1; otherwise FEATURES_OK does not stick
      if (!(this.driverFeatures[1] & VIRTIO_F_VERSION_1_HI)) next &= ~VIRTIO_STATUS_FEATURES_OK;
    }
    if ((next & VIRTIO_STATUS_DRIVER_OK) && !(next & VIRTIO_STATUS_FEATURES_OK)) next &= ~VIRTIO_STATUS_DRIVER_OK;
    const becameOk = (next & VIRTIO_STATUS_DRIVER_OK) !== 0 && !(this.status & VIRTIO_STATUS_DRIVER_OK);
    this.status = next | (this.status & VIRTIO_STATUS_NEEDS_RESET);
    if (becameOk) this.model.activate(this);
  }
}

function readBytes(b: Uint8Array, off: number, size: number): number {
  let v = 0;
  for (let i = size - 1; i >= 0; i--) v = (v * 256) + (b[off + i] ?? 0);
  return v >>> 0;
}

function setU64(v: DataView, off: number, x: number): void {
  v.setUint32(off, x >>> 0, true);
  v.setUint32(off + 4, Math.floor(x / 2 ** 32), true);
}

function getU64(v: DataView, off: number): number {
  return v.getUint32(off + 4, true) * 2 ** 32 + v.getUint32(off, true);
}
