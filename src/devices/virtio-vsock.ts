/**
 * virtio-vsock (Virtual I/O Device 1.2 §5.10) as a pure state machine: the guest channel of
 * PowerShell Direct (docs/guest-channel.md). Queues: 0 receive (host → guest), 1 transmit
 * (guest → host), 2 event (buffers are accepted and never used: no live migration, so no
 * TRANSPORT_RESET events). Only stream sockets (type 1), no features beyond VERSION_1.
 *
 *   struct virtio_vsock_hdr {             (44 bytes, little-endian)
 *     0 le64 src_cid;   8 le64 dst_cid;  16 le32 src_port; 20 le32 dst_port;
 *    24 le32 len;      28 le16 type;     30 le16 op;       32 le32 flags;
 *    36 le32 buf_alloc; 40 le32 fwd_cnt; }
 *
 *   device config: 0 le64 guest_cid
 *
 * The device only moves packets: what the guest transmits reaches `onPacket` after the header
 * is checked (length, addresses, type); what the host sends waits in a bounded queue until
 * the driver posts receive buffers. Connections, credit and ports are the host endpoint's
 * business (src/hypervisor/vsock-host.ts), as vhost-vsock leaves them to the host kernel.
 * Malformed chains and packets are dropped and counted — never a host exception.
 */
import type { IrqLine } from './lines.js';
import { VirtioPciTransport, type VirtioDeviceModel } from './virtio-pci.js';
import type { DmaMemory } from './virtqueue.js';

export const VSOCK_HDR_LEN = 44;
export const VSOCK_HOST_CID = 2;
export const VSOCK_TYPE_STREAM = 1;
export const VSOCK_OP = { REQUEST: 1, RESPONSE: 2, RST: 3, SHUTDOWN: 4, RW: 5, CREDIT_UPDATE: 6, CREDIT_REQUEST: 7 } as const;
export const VSOCK_SHUTDOWN_RCV = 1, VSOCK_SHUTDOWN_SEND = 2;
/** Largest payload accepted in one packet (Linux uses 64 KiB receive buffers at most). */
export const VSOCK_MAX_PAYLOAD = 65536;
const RX = 0, TX = 1;
const QUEUE_SIZE = 128;
/** Host → guest packets waiting for receive buffers; beyond this new ones are dropped (counted). */
const MAX_PENDING = 1024;

export interface VsockHeader {
  srcCid: number; dstCid: number; srcPort: number; dstPort: number;
  len: number; type: number; op: number; flags: number; bufAlloc: number; fwdCnt: number;
}

export function encodeVsockHeader(h: VsockHeader): Uint8Array {
  const b = new Uint8Array(VSOCK_HDR_LEN);
  const v = new DataView(b.buffer);
  v.setUint32(0, h.srcCid >>> 0, true); v.setUint32(4, Math.floor(h.srcCid / 2 ** 32), true);
  v.setUint32(8, h.dstCid >>> 0, true); v.setUint32(12, Math.floor(h.dstCid / 2 ** 32), true);
  v.setUint32(16, h.srcPort >>> 0, true); v.setUint32(20, h.dstPort >>> 0, true);
  v.setUint32(24, h.len >>> 0, true); v.setUint16(28, h.type, true); v.setUint16(30, h.op, true);
  v.setUint32(32, h.flags >>> 0, true); v.setUint32(36, h.bufAlloc >>> 0, true); v.setUint32(40, h.fwdCnt >>> 0, true);
  return b;
}

/** Decodes a header; null when the bytes are too short. */
export function decodeVsockHeader(b: Uint8Array): VsockHeader | null {
  if (b.length < VSOCK_HDR_LEN) return null;
  const v = new DataView(b.buffer, b.byteOffset, VSOCK_HDR_LEN);
  return {
    srcCid: v.getUint32(4, true) * 2 ** 32 + v.getUint32(0, true),
    dstCid: v.getUint32(12, true) * 2 ** 32 + v.getUint32(8, true),
    srcPort: v.getUint32(16, true), dstPort: v.getUint32(20, true), len: v.getUint32(24, true),
    type: v.getUint16(28, true), op: v.getUint16(30, true), flags: v.getUint32(32, true),
    bufAlloc: v.getUint32(36, true), fwdCnt: v.getUint32(40, true),
  };
}

export interface VirtioVsockCounters {
  /** Packets the guest sent that passed the checks. */
  txPackets: number;
  /** Packets delivered into receive buffers. */
  rxPackets: number;
  /** Guest packets dropped: short chain, len disagreeing with the chain, wrong CIDs or type, op out of range, too big. */
  txDropped: number;
  /** Host packets dropped: the pending queue was full, or the receive buffer could not hold the header. */
  rxDropped: number;
}

export interface VirtioVsockState { version: 1; guestCid: number }

/** Where validated guest packets go: the host endpoint. */
export interface VsockPacketSink {
  packet(h: VsockHeader, payload: Uint8Array): void;
  /** The driver reset the device (or it was never ready): every connection is gone. */
  reset(): void;
}

export class VirtioVsock implements VirtioDeviceModel {
  readonly deviceType = 19;
  /** PCI class 0x0780: communication controller, other (as QEMU's vhost-vsock-pci). */
  readonly pciClass = 0x078000;
  readonly features: readonly [number, number] = [0, 1];
  readonly queueSizes = [QUEUE_SIZE, QUEUE_SIZE, QUEUE_SIZE];
  readonly counters: VirtioVsockCounters = { txPackets: 0, rxPackets: 0, txDropped: 0, rxDropped: 0 };
  readonly transport: VirtioPciTransport;
  sink: VsockPacketSink | null = null;
  private readonly pending: Uint8Array[] = [];

  constructor(readonly guestCid: number, memory: DmaMemory, irq: IrqLine) {
    this.transport = new VirtioPciTransport(this, memory, irq);
  }

  /** The driver is up and has receive buffers: a packet sent now reaches the guest. */
  get ready(): boolean {
    return this.transport.canDma && this.transport.queues[RX]!.ready;
  }

  configRead(offset: number, size: number): number {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setUint32(0, this.guestCid >>> 0, true);
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + (b[offset + i] ?? 0);
    return v >>> 0;
  }

  configWrite(): void { /* guest_cid is read-only */ }

  activate(): void {
    this.drainTx();
    this.deliver();
  }

  reset(): void {
    this.pending.length = 0;
    this.sink?.reset();
  }

  notify(index: number): void {
    if (index === TX) this.drainTx();
    else if (index === RX) this.deliver();
  }

  /** Queues one packet for the guest (header fields are the caller's) and delivers what fits. */
  send(h: VsockHeader, payload: Uint8Array = new Uint8Array(0)): boolean {
    if (this.pending.length >= MAX_PENDING) { this.counters.rxDropped++; return false; }
    const pkt = new Uint8Array(VSOCK_HDR_LEN + payload.length);
    pkt.set(encodeVsockHeader({ ...h, len: payload.length }));
    pkt.set(payload, VSOCK_HDR_LEN);
    this.pending.push(pkt);
    this.deliver();
    return true;
  }

  /** Packets waiting for receive buffers. */
  get pendingPackets(): number { return this.pending.length; }

  /** Moves pending packets into posted receive buffers, one packet per chain. */
  deliver(): void {
    const t = this.transport;
    if (!t.canDma) return;
    const q = t.queues[RX]!;
    let any = false;
    while (this.pending.length > 0 && q.ready) {
      const c = q.pop();
      if (q.broken) { t.needsReset(); break; }
      if (!c) break;
      const pkt = this.pending[0]!;
      if (c.writable < VSOCK_HDR_LEN) {
        // a buffer too small for any packet: give it back empty, keep the packet
        q.push(c.head, 0); any = true; this.counters.rxDropped++;
        continue;
      }
      if (c.writable < pkt.length) {
        // split an RW payload over several buffers; other packets carry no payload
        const h = decodeVsockHeader(pkt)!;
        const room = c.writable - VSOCK_HDR_LEN;
        const head = encodeVsockHeader({ ...h, len: room });
        const part = new Uint8Array(c.writable);
        part.set(head); part.set(pkt.subarray(VSOCK_HDR_LEN, VSOCK_HDR_LEN + room), VSOCK_HDR_LEN);
        q.push(c.head, q.write(c, part));
        const rest = new Uint8Array(pkt.length - room);
        rest.set(encodeVsockHeader({ ...h, len: pkt.length - VSOCK_HDR_LEN - room }));
        rest.set(pkt.subarray(VSOCK_HDR_LEN + room), VSOCK_HDR_LEN);
        this.pending[0] = rest;
      } else {
        q.push(c.head, q.write(c, pkt));
        this.pending.shift();
      }
      this.counters.rxPackets++;
      any = true;
    }
    if (any) t.interruptQueue(q);
  }

  /** Takes every transmitted packet, checks it and hands it to the sink. */
  drainTx(): void {
    const t = this.transport;
    if (!t.canDma) return;
    const q = t.queues[TX]!;
    let any = false;
    for (let c = q.pop(); c; c = q.pop()) {
      any = true;
      const bytes = c.writable === 0 && c.readable >= VSOCK_HDR_LEN && c.readable <= VSOCK_HDR_LEN + VSOCK_MAX_PAYLOAD
        ? q.read(c) : null;
      q.push(c.head, 0);
      const h = bytes ? decodeVsockHeader(bytes) : null;
      if (!bytes || !h || h.len !== bytes.length - VSOCK_HDR_LEN || h.srcCid !== this.guestCid || h.dstCid !== VSOCK_HOST_CID
        || h.type !== VSOCK_TYPE_STREAM || h.op < VSOCK_OP.REQUEST || h.op > VSOCK_OP.CREDIT_REQUEST) {
        this.counters.txDropped++;
        continue;
      }
      this.counters.txPackets++;
      this.sink?.packet(h, bytes.subarray(VSOCK_HDR_LEN));
    }
    if (q.broken) t.needsReset();
    if (any) t.interruptQueue(q);
  }

  get state(): VirtioVsockState {
    return { version: 1, guestCid: this.guestCid };
  }
}
