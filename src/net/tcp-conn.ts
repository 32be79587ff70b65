/**
 * One TCP connection (RFC 793 §3.9 "Event Processing", RFC 6298 for the retransmission
 * timer), as small as NAT and the host vNIC need and no smaller: three-way handshake
 * (active and passive), in-order data both ways bounded by the peer's window, immediate
 * ACKs, go-back-N retransmission on timeout with exponential backoff, zero-window probes,
 * FIN in both directions with every closing state, RST both ways, TIME_WAIT.
 * Out-of-order segments are not queued: they are acknowledged (a duplicate ACK) and
 * dropped, and the peer retransmits. No window scaling, SACK or timestamps.
 *
 * Sequence numbers are uint32s; comparisons go through `lt`/`le` (mod 2^32).
 */
import type { NetTimers, TimerHandle } from './clock.js';
import { ACK, FIN, PSH, RST, SYN, TcpSegment } from './tcp.js';

export type TcpState = 'SYN_SENT' | 'SYN_RECEIVED' | 'ESTABLISHED' | 'FIN_WAIT_1' | 'FIN_WAIT_2' | 'CLOSING'
  | 'TIME_WAIT' | 'CLOSE_WAIT' | 'LAST_ACK' | 'CLOSED';

export interface TcpTuple {
  readonly localIp: number;
  readonly localPort: number;
  readonly remoteIp: number;
  readonly remotePort: number;
}

export interface TcpEvents {
  /** The handshake completed (it may complete inside connect(), so the connection is passed in). */
  onConnect?(conn: TcpConnection): void;
  /** In-order bytes from the peer (the view is only valid during the call). */
  onData?(data: Uint8Array, conn: TcpConnection): void;
  /** The peer sent FIN: no more data will come. */
  onEnd?(conn: TcpConnection): void;
  /** The connection is gone: closed normally (no error), reset by the peer, refused, or timed out. */
  onClose?(error: 'reset' | 'refused' | 'timeout' | undefined, conn: TcpConnection): void;
  /** Unacknowledged + unsent bytes fell below the high-water mark after write() returned false. */
  onDrain?(conn: TcpConnection): void;
}

export interface TcpOptions {
  /** Largest segment payload we send (the peer's MSS option lowers it). */
  mss?: number;
  /** Receive buffer: the window we advertise is this minus bytes delivered but not consume()d. */
  receiveBuffer?: number;
  /** write() returns false past this many buffered bytes. */
  sendHighWater?: number;
  initialRtoMs?: number;
  maxRtoMs?: number;
  /** Retransmissions of one segment before the connection is abandoned. */
  maxRetries?: number;
  /** TIME_WAIT lasts 2 × this. */
  mslMs?: number;
  /** When false, the application calls consume(n) as it processes data (flow control). */
  autoConsume?: boolean;
}

const lt = (a: number, b: number) => ((a - b) | 0) < 0;
const le = (a: number, b: number) => ((a - b) | 0) <= 0;
const add = (a: number, n: number) => (a + n) >>> 0;
const diff = (a: number, b: number) => (a - b) | 0;

export class TcpConnection {
  state: TcpState;
  events: TcpEvents = {};
  /** Retransmissions sent, for tests and statistics. */
  retransmissions = 0;
  private readonly iss: number;
  private sndUna: number;
  private sndNxt: number;
  private sndWnd = 0;
  private rcvNxt = 0;
  /** Data from bufSeq on: unacknowledged then unsent. */
  private sndBuf = new Uint8Array(0);
  private sndLen = 0;
  private bufSeq: number;
  private finQueued = false;
  private finSeq = -1;
  private rcvBuffered = 0;
  private rto: number;
  private retries = 0;
  private timer: TimerHandle | null = null;
  private drainWanted = false;
  private mss: number;
  private readonly o: Required<TcpOptions>;

  constructor(readonly tuple: TcpTuple, private readonly output: (seg: TcpSegment) => void,
    private readonly timers: NetTimers, iss: number, opts: TcpOptions = {}, private readonly onGone: () => void = () => {}) {
    this.o = {
      mss: opts.mss ?? 1460, receiveBuffer: opts.receiveBuffer ?? 65535, sendHighWater: opts.sendHighWater ?? 256 * 1024,
      initialRtoMs: opts.initialRtoMs ?? 1000, maxRtoMs: opts.maxRtoMs ?? 60_000, maxRetries: opts.maxRetries ?? 8,
      mslMs: opts.mslMs ?? 1000, autoConsume: opts.autoConsume ?? true,
    };
    this.mss = this.o.mss;
    this.rto = this.o.initialRtoMs;
    this.iss = iss >>> 0;
    this.sndUna = this.iss;
    this.sndNxt = this.iss;
    this.bufSeq = add(this.iss, 1);
    this.state = 'CLOSED';
  }

  /** Active open: sends SYN. */
  open(): void {
    this.state = 'SYN_SENT';
    this.sendSyn();
  }

  /** Passive open from a received SYN: sends SYN-ACK. */
  accept(syn: TcpSegment): void {
    this.rcvNxt = add(syn.seq, 1);
    this.sndWnd = syn.window;
    if (syn.mss !== null) this.mss = Math.max(64, Math.min(this.mss, syn.mss));
    this.state = 'SYN_RECEIVED';
    this.sendSyn();
  }

  /** Bytes queued and not yet acknowledged. */
  get buffered(): number { return this.sndLen; }

  /** The window we advertise now. */
  get receiveWindow(): number { return Math.max(0, Math.min(0xffff, this.o.receiveBuffer - this.rcvBuffered)); }

  /** Queues data; false when the send buffer is past its high-water mark (wait for onDrain). */
  write(data: Uint8Array): boolean {
    if (this.finQueued || this.state === 'CLOSED' || this.state === 'TIME_WAIT') return false;
    if (data.length) {
      if (this.sndLen + data.length > this.sndBuf.length) {
        const nb = new Uint8Array(Math.max(this.sndBuf.length * 2, this.sndLen + data.length, 4096));
        nb.set(this.sndBuf.subarray(0, this.sndLen));
        this.sndBuf = nb;
      }
      this.sndBuf.set(data, this.sndLen);
      this.sndLen += data.length;
      this.pump();
    }
    const ok = this.sndLen < this.o.sendHighWater;
    if (!ok) this.drainWanted = true;
    return ok;
  }

  /** From now on the application calls consume(n) for the data it has processed (flow control). */
  manualConsume(): void { this.o.autoConsume = false; }

  /** The application processed n delivered bytes (with autoConsume false): the window reopens. */
  consume(n: number): void {
    const before = this.receiveWindow;
    this.rcvBuffered = Math.max(0, this.rcvBuffered - n);
    // announce a window that reopened from below one MSS (RFC 1122 4.2.3.3's receiver SWS rule)
    if (before < this.mss && this.receiveWindow >= this.mss && this.synchronized()) this.sendAck();
  }

  /** Sends FIN after the queued data. */
  end(): void {
    if (this.finQueued) return;
    if (this.state === 'SYN_SENT') { this.destroy(); return; }
    if (this.state === 'CLOSED' || this.state === 'TIME_WAIT') return;
    this.finQueued = true;
    this.pump();
  }

  /** Sends RST and forgets the connection (onClose reports `error`, none for a local abort). */
  abort(error?: 'reset' | 'timeout'): void {
    if (this.state === 'CLOSED') return;
    if (this.state !== 'SYN_SENT' && this.state !== 'TIME_WAIT') this.emit(RST | ACK, this.sndNxt, null);
    this.destroy(error);
  }

  /** A segment for this connection arrived. */
  receive(seg: TcpSegment): void {
    switch (this.state) {
      case 'CLOSED': return;
      case 'SYN_SENT': this.receiveSynSent(seg); return;
      default: this.receiveSynchronized(seg);
    }
  }

  private receiveSynSent(seg: TcpSegment): void {
    if (seg.has(ACK) && (le(seg.ack, this.iss) || lt(this.sndNxt, seg.ack))) {
      if (!seg.has(RST)) this.emit(RST, seg.ack, null, true);
      return;
    }
    if (seg.has(RST)) {
      if (seg.has(ACK)) this.destroy('refused');
      return;
    }
    if (!seg.has(SYN)) return;
    this.rcvNxt = add(seg.seq, 1);
    if (seg.mss !== null) this.mss = Math.max(64, Math.min(this.mss, seg.mss));
    if (!seg.has(ACK)) return; // simultaneous open: not supported, the peer's retransmission or RST ends it
    this.sndUna = seg.ack;
    this.sndWnd = seg.window;
    this.state = 'ESTABLISHED';
    this.clearTimer();
    this.retries = 0;
    this.rto = this.o.initialRtoMs;
    this.sendAck();
    this.events.onConnect?.(this);
    this.pump();
  }

  private receiveSynchronized(seg: TcpSegment): void {
    // 1. sequence check (RFC 793 p.69): the segment must overlap the receive window
    const len = seg.seqLength;
    const wnd = Math.max(1, this.receiveWindow);
    const off = diff(seg.seq, this.rcvNxt);
    const acceptable = len === 0 ? off >= 0 && off < wnd || off === 0 : off < wnd && off + len > 0;
    if (!acceptable) {
      if (seg.has(SYN) && this.state === 'SYN_RECEIVED' && add(seg.seq, 1) === this.rcvNxt) { this.sendSyn(); return; }
      if (!seg.has(RST)) this.sendAck();
      return;
    }
    // 2. RST
    if (seg.has(RST)) { this.destroy(this.state === 'SYN_RECEIVED' ? 'refused' : 'reset'); return; }
    // 4. SYN in the window is an error: reset (RFC 793 p.71)
    if (seg.has(SYN)) { this.abort('reset'); return; }
    // 5. ACK
    if (!seg.has(ACK)) return;
    if (this.state === 'SYN_RECEIVED') {
      if (lt(this.sndUna, seg.ack) && le(seg.ack, this.sndNxt)) {
        this.state = 'ESTABLISHED';
        this.events.onConnect?.(this);
      } else { this.emit(RST, seg.ack, null, true); return; }
    }
    if (lt(this.sndNxt, seg.ack)) { this.sendAck(); return; }
    if (lt(this.sndUna, seg.ack)) this.acknowledge(seg.ack);
    if (le(this.sndUna, seg.ack)) this.sndWnd = seg.window;
    if (this.state === 'CLOSED') return;
    const finAcked = this.finSeq >= 0 && lt(this.finSeq, this.sndUna);
    if (finAcked) {
      if (this.state === 'FIN_WAIT_1') this.state = 'FIN_WAIT_2';
      else if (this.state === 'CLOSING') { this.enterTimeWait(); return; }
      else if (this.state === 'LAST_ACK') { this.destroy(); return; }
    }
    // 7. data, trimmed to what is new and fits the window
    let ackNow = false;
    let data = seg.data;
    let start = off;
    if (start < 0) { data = data.subarray(Math.min(data.length, -start)); start = 0; }
    if (data.length && start === 0 && this.receiving()) {
      const take = Math.min(data.length, this.receiveWindow);
      if (take > 0) {
        const chunk = data.subarray(0, take);
        this.rcvNxt = add(this.rcvNxt, take);
        if (!this.o.autoConsume) this.rcvBuffered += take;
        this.events.onData?.(chunk, this);
        if (this.isClosed()) return;
      }
      ackNow = true;
      if (take < data.length) { this.sendAck(); this.pump(); return; } // FIN beyond the window waits
    } else if (seg.data.length) ackNow = true;
    // 8. FIN, only when everything before it has arrived
    if (seg.has(FIN) && add(seg.seq, seg.data.length) === this.rcvNxt) {
      this.rcvNxt = add(this.rcvNxt, 1);
      ackNow = true;
      const st = this.state;
      if (st === 'ESTABLISHED') this.state = 'CLOSE_WAIT';
      else if (st === 'FIN_WAIT_1') this.state = 'CLOSING';
      if (st === 'FIN_WAIT_2') { this.sendAck(); this.events.onEnd?.(this); this.enterTimeWait(); return; }
      this.sendAck();
      this.events.onEnd?.(this);
      ackNow = false;
    } else if (seg.has(FIN)) ackNow = true;
    if (this.state === 'TIME_WAIT' && seg.has(FIN)) { this.sendAck(); this.enterTimeWait(); return; }
    if (ackNow) this.sendAck();
    this.pump();
  }

  /** Read through a method so that state checks after callbacks are not narrowed away. */
  isClosed(): boolean { return this.state === 'CLOSED'; }

  private receiving(): boolean {
    return this.state === 'ESTABLISHED' || this.state === 'FIN_WAIT_1' || this.state === 'FIN_WAIT_2';
  }

  private synchronized(): boolean {
    return this.state !== 'SYN_SENT' && this.state !== 'SYN_RECEIVED' && this.state !== 'CLOSED';
  }

  private acknowledge(ack: number): void {
    const dataAcked = Math.max(0, Math.min(this.sndLen, diff(ack, this.bufSeq)));
    if (dataAcked > 0) {
      this.sndBuf.copyWithin(0, dataAcked, this.sndLen);
      this.sndLen -= dataAcked;
      this.bufSeq = add(this.bufSeq, dataAcked);
    }
    this.sndUna = ack;
    if (lt(this.sndNxt, this.sndUna)) this.sndNxt = this.sndUna;
    this.retries = 0;
    this.rto = this.o.initialRtoMs;
    this.clearTimer();
    if (lt(this.sndUna, this.sndNxt)) this.armTimer();
    if (this.drainWanted && this.sndLen < this.o.sendHighWater) {
      this.drainWanted = false;
      this.events.onDrain?.(this);
    }
  }

  /** Sends what the window allows, then FIN when queued and all data is out. */
  private pump(): void {
    const st = this.state;
    if (st !== 'ESTABLISHED' && st !== 'CLOSE_WAIT' && st !== 'FIN_WAIT_1' && st !== 'CLOSING' && st !== 'LAST_ACK') return;
    for (;;) {
      const sentOff = diff(this.sndNxt, this.bufSeq);
      const unsent = this.sndLen - sentOff;
      if (unsent <= 0) break;
      const inflight = diff(this.sndNxt, this.sndUna);
      const usable = this.sndWnd - inflight;
      if (usable <= 0) {
        if (this.sndWnd === 0 && inflight === 0) this.armTimer(); // persist: probe on timeout
        break;
      }
      const n = Math.min(unsent, usable, this.mss);
      const last = n === unsent;
      // state first, then output: the peer's answer may arrive inside output()
      const seq = this.sndNxt;
      this.sndNxt = add(seq, n);
      this.armTimer();
      this.emit(ACK | (last ? PSH : 0), seq, this.sndBuf.slice(sentOff, sentOff + n));
      if (this.isClosed()) return;
    }
    if (this.finQueued && diff(this.sndNxt, this.bufSeq) === this.sndLen && (this.finSeq < 0 || this.sndNxt === this.finSeq)) {
      const seq = this.sndNxt;
      this.finSeq = seq;
      this.sndNxt = add(seq, 1);
      if (this.state === 'ESTABLISHED') this.state = 'FIN_WAIT_1';
      else if (this.state === 'CLOSE_WAIT') this.state = 'LAST_ACK';
      this.armTimer();
      this.emit(FIN | ACK, seq, null);
    }
  }

  private onTimeout(): void {
    this.timer = null;
    if (this.state === 'CLOSED' || this.state === 'TIME_WAIT') return;
    const inflight = diff(this.sndNxt, this.sndUna);
    if (inflight === 0 && this.sndWnd === 0 && this.sndLen > 0) {
      // zero-window probe: one byte past the window (RFC 793 p.42)
      const off = diff(this.sndNxt, this.bufSeq);
      this.rto = Math.min(this.rto * 2, this.o.maxRtoMs);
      this.armTimer();
      this.emit(ACK, this.sndNxt, this.sndBuf.slice(off, off + 1));
      return;
    }
    if (inflight === 0) return;
    if (++this.retries > this.o.maxRetries) {
      this.abort('timeout');
      return;
    }
    this.retransmissions++;
    this.rto = Math.min(this.rto * 2, this.o.maxRtoMs);
    // go back N: resend from the oldest unacknowledged byte
    this.sndNxt = this.sndUna;
    if (this.state === 'SYN_SENT' || this.state === 'SYN_RECEIVED') { this.sendSyn(); return; }
    this.pump();
  }

  private sendSyn(): void {
    this.sndNxt = add(this.iss, 1);
    const flags = this.state === 'SYN_RECEIVED' ? SYN | ACK : SYN;
    this.armTimer();
    this.output(new TcpSegment(this.tuple.localPort, this.tuple.remotePort, this.iss, flags & ACK ? this.rcvNxt : 0,
      flags, this.receiveWindow, new Uint8Array(0), this.o.mss));
  }

  private sendAck(): void {
    this.emit(ACK, this.sndNxt, null);
  }

  private emit(flags: number, seq: number, data: Uint8Array | null, noAck = false): void {
    this.output(new TcpSegment(this.tuple.localPort, this.tuple.remotePort, seq, noAck ? 0 : this.rcvNxt, flags, this.receiveWindow, data ?? new Uint8Array(0)));
  }

  private armTimer(): void {
    if (this.timer) return;
    this.timer = this.timers.setTimeout(() => this.onTimeout(), this.rto);
  }

  private clearTimer(): void {
    this.timers.clearTimeout(this.timer);
    this.timer = null;
  }

  private enterTimeWait(): void {
    this.clearTimer();
    this.state = 'TIME_WAIT';
    this.timer = this.timers.setTimeout(() => { this.timer = null; this.destroy(); }, 2 * this.o.mslMs);
    this.events.onClose?.(undefined, this);
    this.closedReported = true;
  }

  private closedReported = false;

  private destroy(error?: 'reset' | 'refused' | 'timeout'): void {
    if (this.state === 'CLOSED') return;
    this.state = 'CLOSED';
    this.clearTimer();
    this.onGone();
    if (!this.closedReported) { this.closedReported = true; this.events.onClose?.(error, this); }
  }
}
