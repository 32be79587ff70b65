/**
 * virtio-net (Virtual I/O Device 1.1 §5.1) as a pure state machine: receive queue 0,
 * transmit queue 1, no control queue. Features offered: VIRTIO_NET_F_MAC (5),
 * VIRTIO_NET_F_STATUS (16), VIRTIO_F_VERSION_1 (32). Without MRG_RXBUF each receive chain
 * holds one whole packet behind the 12-byte header:
 *
 *   struct virtio_net_hdr { u8 flags; u8 gso_type; le16 hdr_len; le16 gso_size;
 *                           le16 csum_start; le16 csum_offset; le16 num_buffers; }
 *
 *   device config: 0 mac[6] | 6 status le16 (LINK_UP 1)
 *
 * Frames leave through an injected sink (a switch port) and arrive through receive().
 * Bad chains, runt or oversize frames and frames with no receive buffer are dropped and
 * counted — never a host exception.
 */
import type { IrqLine } from './lines.js';
import { VirtioPciTransport, type VirtioDeviceModel } from './virtio-pci.js';
import type { DmaMemory } from './virtqueue.js';

export const VIRTIO_NET_F_MAC = 5, VIRTIO_NET_F_STATUS = 16;
export const VIRTIO_NET_HDR_LEN = 12;
export const VIRTIO_NET_S_LINK_UP = 1;
const RX = 0, TX = 1;
const MAX_FRAME = 1518;
const QUEUE_SIZE = 256;

export interface VirtioNetCounters {
  txFrames: number;
  txBytes: number;
  rxFrames: number;
  rxBytes: number;
  /** Transmit chains that were not a frame: shorter than the header, runt or oversize, or written buffers. */
  txDropped: number;
  /** Frames for the guest with no receive buffer posted (or the driver not ready). */
  rxNoBuffer: number;
  /** Receive buffers too small for the frame. */
  rxTooSmall: number;
}

export interface VirtioNetState { version: 1; mac: number; linkUp: boolean }

export class VirtioNet implements VirtioDeviceModel {
  readonly deviceType = 1;
  readonly pciClass = 0x020000;
  readonly features: readonly [number, number] = [(1 << VIRTIO_NET_F_MAC) | (1 << VIRTIO_NET_F_STATUS), 1];
  readonly queueSizes = [QUEUE_SIZE, QUEUE_SIZE];
  readonly counters: VirtioNetCounters = { txFrames: 0, txBytes: 0, rxFrames: 0, rxBytes: 0, txDropped: 0, rxNoBuffer: 0, rxTooSmall: 0 };
  readonly transport: VirtioPciTransport;
  /** Where transmitted frames go (the switch port); replaceable when the adapter is reconnected. */
  sink: (frame: Uint8Array) => void;
  private linkUp = true;

  constructor(private mac: number, memory: DmaMemory, irq: IrqLine, sink: (frame: Uint8Array) => void = () => {}) {
    this.sink = sink;
    this.transport = new VirtioPciTransport(this, memory, irq);
  }

  get macAddress(): number { return this.mac; }

  configRead(offset: number, size: number): number {
    const b = new Uint8Array(8);
    for (let i = 0; i < 6; i++) b[i] = Math.floor(this.mac / 2 ** (8 * (5 - i))) & 0xff;
    b[6] = this.linkUp ? VIRTIO_NET_S_LINK_UP : 0;
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + (b[offset + i] ?? 0);
    return v >>> 0;
  }

  configWrite(): void { /* the MAC is read-only once VERSION_1 is negotiated (§5.1.4.2) */ }

  activate(): void {
    this.drainTx();
  }

  reset(): void { /* the transport resets the queues; nothing is in flight between calls */ }

  notify(index: number): void {
    if (index === TX) this.drainTx();
    // RX kicks only say buffers were added; receive() uses them when frames come
  }

  /** Link status change: the driver sees it in the config space and through a config interrupt. */
  setLink(up: boolean): void {
    if (this.linkUp === up) return;
    this.linkUp = up;
    this.transport.configChanged();
  }

  /** Sends every available transmit chain to the sink. */
  drainTx(): void {
    const t = this.transport;
    if (!t.canDma) return;
    const q = t.queues[TX]!;
    let any = false;
    for (let c = q.pop(); c; c = q.pop()) {
      any = true;
      const total = c.readable;
      if (c.writable > 0 || total < VIRTIO_NET_HDR_LEN + 14 || total > VIRTIO_NET_HDR_LEN + MAX_FRAME) {
        this.counters.txDropped++;
        q.push(c.head, 0);
        continue;
      }
      const frame = q.read(c).subarray(VIRTIO_NET_HDR_LEN);
      q.push(c.head, 0);
      this.counters.txFrames++;
      this.counters.txBytes += frame.length;
      this.sink(frame);
    }
    if (q.broken) t.needsReset();
    if (any) t.interruptQueue(q);
  }

  /** A frame from the switch for this guest. */
  receive(frame: Uint8Array): void {
    const t = this.transport;
    const q = t.queues[RX]!;
    if (!t.canDma || !this.linkUp || !q.ready) { this.counters.rxNoBuffer++; return; }
    const c = q.pop();
    if (q.broken) t.needsReset();
    if (!c) { this.counters.rxNoBuffer++; return; }
    if (c.writable < VIRTIO_NET_HDR_LEN + frame.length) {
      this.counters.rxTooSmall++;
      q.push(c.head, 0);
      t.interruptQueue(q);
      return;
    }
    const buf = new Uint8Array(VIRTIO_NET_HDR_LEN + frame.length);
    buf[10] = 1; // num_buffers = 1
    buf.set(frame, VIRTIO_NET_HDR_LEN);
    const n = q.write(c, buf);
    q.push(c.head, n);
    this.counters.rxFrames++;
    this.counters.rxBytes += frame.length;
    t.interruptQueue(q);
  }

  get state(): VirtioNetState {
    return { version: 1, mac: this.mac, linkUp: this.linkUp };
  }
}
