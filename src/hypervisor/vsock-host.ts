/**
 * The host end of a VM's virtio-vsock device (src/devices/virtio-vsock.ts): stream
 * connections from the host (CID 2) to ports in the guest, with the virtio-vsock connection
 * handshake (REQUEST → RESPONSE or RST), SHUTDOWN/RST teardown and credit-based flow control
 * (Virtual I/O Device 1.2 §5.10.6.3: the sender may have at most peer buf_alloc − (tx_cnt −
 * peer fwd_cnt) bytes in flight). The host never listens: a guest REQUEST is answered with
 * RST, as Hyper-V's hv_sock host side answers a guest connecting to a service nobody offers.
 *
 * Connection attempts made before the guest driver is up stay queued in the device and are
 * sent again after a device reset (drivers reset the device as they start). Giving up after a
 * time-out is the caller's decision (cancel()).
 */
import {
  VSOCK_HOST_CID, VSOCK_OP, VSOCK_SHUTDOWN_RCV, VSOCK_SHUTDOWN_SEND, VSOCK_TYPE_STREAM,
  type VirtioVsock, type VsockHeader, type VsockPacketSink,
} from '../devices/virtio-vsock.js';

/** The host's receive buffer: data is handed on at once, so this only bounds what the guest may send ahead. */
const HOST_BUF_ALLOC = 1 << 20;
const CHUNK = 4096;
const FIRST_EPHEMERAL = 49152;

export class VsockConnectError extends Error {
  constructor(readonly reason: 'refused' | 'reset' | 'cancelled') {
    super(reason === 'refused' ? 'the guest refused the connection (nothing listens on that port)' : `connection ${reason}`);
    this.name = 'VsockConnectError';
  }
}

export interface VsockCounters { connects: number; refused: number; resets: number; strayPackets: number }

export class VsockStream {
  onData: (data: Uint8Array) => void = () => {};
  onClose: (reason: 'shutdown' | 'reset') => void = () => {};
  state: 'connecting' | 'open' | 'closed' = 'connecting';
  peerBufAlloc = 0;
  peerFwdCnt = 0;
  txCnt = 0;
  fwdCnt = 0;
  readonly queued: Uint8Array[] = [];
  settle: { resolve: (s: VsockStream) => void; reject: (e: Error) => void } | null = null;

  constructor(private readonly host: VsockHost, readonly localPort: number, readonly guestPort: number) {}

  /** Sends bytes to the guest, as credit allows; the rest waits for CREDIT_UPDATEs. */
  write(data: Uint8Array): void {
    if (this.state !== 'open') return;
    for (let o = 0; o < data.length; o += CHUNK) this.queued.push(data.subarray(o, Math.min(data.length, o + CHUNK)));
    this.host.flush(this);
  }

  /** Ends the connection (SHUTDOWN both ways; the guest answers RST). */
  close(): void {
    if (this.state === 'closed') return;
    if (this.state === 'connecting') { this.host.cancel(this); return; }
    this.host.sendOp(this, VSOCK_OP.SHUTDOWN, VSOCK_SHUTDOWN_RCV | VSOCK_SHUTDOWN_SEND);
    this.host.forget(this, 'shutdown');
  }
}

export class VsockHost implements VsockPacketSink {
  readonly counters: VsockCounters = { connects: 0, refused: 0, resets: 0, strayPackets: 0 };
  private readonly conns = new Map<number, VsockStream>();
  private nextPort = FIRST_EPHEMERAL;

  constructor(readonly device: VirtioVsock) {
    device.sink = this;
  }

  /** Opens a stream to `port` in the guest; resolves on RESPONSE, rejects on RST or cancel(). */
  connect(port: number): { stream: VsockStream; opened: Promise<VsockStream> } {
    let local = this.nextPort;
    while (this.conns.has(local)) local = local >= 0xfffffff0 ? FIRST_EPHEMERAL : local + 1;
    this.nextPort = local + 1;
    const s = new VsockStream(this, local, port);
    this.conns.set(local, s);
    this.counters.connects++;
    const opened = new Promise<VsockStream>((resolve, reject) => { s.settle = { resolve, reject }; });
    opened.catch(() => undefined); // the caller may never await a failed attempt
    this.sendOp(s, VSOCK_OP.REQUEST);
    return { stream: s, opened };
  }

  /** Gives up a connection attempt (time-out): an RST tells the guest, in case it answers late. */
  cancel(s: VsockStream): void {
    if (s.state !== 'connecting') return;
    this.sendOp(s, VSOCK_OP.RST);
    this.fail(s, new VsockConnectError('cancelled'));
  }

  // ---- VsockPacketSink ----

  packet(h: VsockHeader, payload: Uint8Array): void {
    const s = this.conns.get(h.dstPort);
    if (!s || s.guestPort !== h.srcPort) {
      this.counters.strayPackets++;
      if (h.op !== VSOCK_OP.RST) this.reply(h, VSOCK_OP.RST);
      return;
    }
    s.peerBufAlloc = h.bufAlloc;
    s.peerFwdCnt = h.fwdCnt;
    switch (h.op) {
      case VSOCK_OP.RESPONSE:
        if (s.state === 'connecting') { s.state = 'open'; s.settle?.resolve(s); s.settle = null; }
        break;
      case VSOCK_OP.RST:
        if (s.state === 'connecting') { this.counters.refused++; this.fail(s, new VsockConnectError('refused')); } else this.forget(s, 'reset');
        break;
      case VSOCK_OP.SHUTDOWN:
        this.sendOp(s, VSOCK_OP.RST);
        this.forget(s, 'shutdown');
        break;
      case VSOCK_OP.RW:
        if (s.state !== 'open') { this.sendOp(s, VSOCK_OP.RST); this.forget(s, 'reset'); break; }
        s.fwdCnt = (s.fwdCnt + payload.length) >>> 0;
        s.onData(payload.slice());
        break;
      case VSOCK_OP.CREDIT_REQUEST:
        this.sendOp(s, VSOCK_OP.CREDIT_UPDATE);
        break;
      case VSOCK_OP.REQUEST:
        this.sendOp(s, VSOCK_OP.RST);
        this.forget(s, 'reset');
        return;
      default: break; // CREDIT_UPDATE: the credit fields were taken above
    }
    this.flush(s);
  }

  /** The driver reset the device: open streams are gone, attempts are made again. */
  reset(): void {
    this.counters.resets++;
    for (const s of [...this.conns.values()]) {
      if (s.state === 'connecting') this.sendOp(s, VSOCK_OP.REQUEST);
      else this.forget(s, 'reset');
    }
  }

  // ---- internals used by VsockStream ----

  flush(s: VsockStream): void {
    while (s.state === 'open' && s.queued.length > 0) {
      const credit = s.peerBufAlloc - ((s.txCnt - s.peerFwdCnt) >>> 0);
      if (credit <= 0) return; // the guest sends CREDIT_UPDATE as it consumes (no CREDIT_REQUEST ping-pong)
      let chunk = s.queued[0]!;
      if (chunk.length > credit) { s.queued[0] = chunk.subarray(credit); chunk = chunk.subarray(0, credit); } else s.queued.shift();
      s.txCnt = (s.txCnt + chunk.length) >>> 0;
      this.device.send(this.header(s, VSOCK_OP.RW), chunk);
    }
  }

  sendOp(s: VsockStream, op: number, flags = 0): void {
    this.device.send({ ...this.header(s, op), flags });
  }

  forget(s: VsockStream, why: 'shutdown' | 'reset'): void {
    if (s.state === 'closed') return;
    const wasOpen = s.state === 'open';
    s.state = 'closed';
    this.conns.delete(s.localPort);
    if (wasOpen) s.onClose(why);
  }

  private fail(s: VsockStream, e: Error): void {
    s.state = 'closed';
    this.conns.delete(s.localPort);
    s.settle?.reject(e);
    s.settle = null;
  }

  private header(s: VsockStream, op: number): VsockHeader {
    return { srcCid: VSOCK_HOST_CID, dstCid: this.device.guestCid, srcPort: s.localPort, dstPort: s.guestPort, len: 0,
      type: VSOCK_TYPE_STREAM, op, flags: 0, bufAlloc: HOST_BUF_ALLOC, fwdCnt: s.fwdCnt };
  }

  private reply(h: VsockHeader, op: number): void {
    this.device.send({ srcCid: VSOCK_HOST_CID, dstCid: this.device.guestCid, srcPort: h.dstPort, dstPort: h.srcPort, len: 0,
      type: VSOCK_TYPE_STREAM, op, flags: 0, bufAlloc: 0, fwdCnt: 0 });
  }
}
