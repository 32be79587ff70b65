/**
 * The TCP layer of a host stack: connections by 4-tuple, listeners, active opens, and a
 * SYN hook through which NAT accepts connections to any address (the host terminates the
 * guest's TCP and opens its own toward the destination, as slirp does). Segments for no
 * connection get a RST (RFC 793 p.65 "If the connection does not exist").
 */
import type { NetTimers } from './clock.js';
import { formatIp } from './mac.js';
import { ACK, RST, SYN, TcpSegment } from './tcp.js';
import { TcpConnection, type TcpEvents, type TcpOptions, type TcpTuple } from './tcp-conn.js';

/**
 * Decides about a SYN no listener takes. Call `accept(events)` (now or later, e.g. once a
 * host socket connected) to answer SYN-ACK, or `refuse()` to answer RST.
 */
export type SynHook = (tuple: TcpTuple, accept: (events: TcpEvents, opts?: TcpOptions) => TcpConnection | null, refuse: () => void) => boolean;

export interface TcpStackOptions {
  timers: NetTimers;
  /** Sends a segment from srcIp to dstIp (the IP layer routes it). */
  send(srcIp: number, dstIp: number, seg: TcpSegment): void;
  /** Initial sequence numbers; tests pin them. */
  isn?: () => number;
  connection?: TcpOptions;
}

const key = (t: TcpTuple) => `${t.localIp}:${t.localPort}:${t.remoteIp}:${t.remotePort}`;

export class TcpStack {
  private readonly conns = new Map<string, TcpConnection>();
  private readonly listeners = new Map<string, (c: TcpConnection) => void>();
  /** SYNs handed to the hook and not yet answered (retransmitted SYNs are ignored meanwhile). */
  private readonly pending = new Set<string>();
  synHook: SynHook | null = null;
  resetsSent = 0;
  private nextEphemeral = 49152;

  constructor(private readonly o: TcpStackOptions) {}

  get connections(): IterableIterator<TcpConnection> { return this.conns.values(); }

  /** Accepts connections to ip:port (ip 0 = any of the stack's addresses). */
  listen(ip: number, port: number, onAccept: (c: TcpConnection) => void): () => void {
    const k = `${ip}:${port}`;
    if (this.listeners.has(k)) throw new Error(`TCP port ${formatIp(ip)}:${port} is already listening`);
    this.listeners.set(k, onAccept);
    return () => { this.listeners.delete(k); };
  }

  /** Active open from localIp (an ephemeral port when localPort is 0). */
  connect(localIp: number, localPort: number, remoteIp: number, remotePort: number, events: TcpEvents, opts?: TcpOptions): TcpConnection {
    let port = localPort;
    if (port === 0) {
      for (let i = 0; i < 16384; i++) {
        const p = this.nextEphemeral;
        this.nextEphemeral = p >= 65535 ? 49152 : p + 1;
        if (!this.conns.has(key({ localIp, localPort: p, remoteIp, remotePort }))) { port = p; break; }
      }
      if (port === 0) throw new Error('no free ephemeral TCP port');
    }
    const c = this.create({ localIp, localPort: port, remoteIp, remotePort }, opts);
    c.events = events;
    c.open();
    return c;
  }

  receive(srcIp: number, dstIp: number, seg: TcpSegment): void {
    const tuple: TcpTuple = { localIp: dstIp, localPort: seg.dstPort, remoteIp: srcIp, remotePort: seg.srcPort };
    const k = key(tuple);
    const c = this.conns.get(k);
    if (c) { c.receive(seg); return; }
    if (seg.has(RST)) return;
    if (seg.has(SYN) && !seg.has(ACK)) {
      const l = this.listeners.get(`${dstIp}:${seg.dstPort}`) ?? this.listeners.get(`0:${seg.dstPort}`);
      if (l) {
        const n = this.create(tuple);
        n.accept(seg);
        l(n);
        return;
      }
      if (this.pending.has(k)) return;
      if (this.synHook) {
        this.pending.add(k);
        let answered = false;
        const accept = (events: TcpEvents, opts?: TcpOptions): TcpConnection | null => {
          if (answered) return null;
          answered = true;
          this.pending.delete(k);
          const n = this.create(tuple, opts);
          n.events = events;
          n.accept(seg);
          return n;
        };
        const refuse = () => {
          if (answered) return;
          answered = true;
          this.pending.delete(k);
          this.reset(tuple, seg);
        };
        if (this.synHook(tuple, accept, refuse)) return;
        this.pending.delete(k);
        answered = true;
      }
    }
    this.reset(tuple, seg);
  }

  /** RST for a segment that belongs to no connection (RFC 793 p.36). */
  private reset(t: TcpTuple, seg: TcpSegment): void {
    this.resetsSent++;
    const r = seg.has(ACK)
      ? new TcpSegment(t.localPort, t.remotePort, seg.ack, 0, RST, 0, new Uint8Array(0))
      : new TcpSegment(t.localPort, t.remotePort, 0, (seg.seq + seg.seqLength) >>> 0, RST | ACK, 0, new Uint8Array(0));
    this.o.send(t.localIp, t.remoteIp, r);
  }

  private create(t: TcpTuple, opts?: TcpOptions): TcpConnection {
    const k = key(t);
    const isn = this.o.isn ? this.o.isn() : Math.floor(Math.random() * 2 ** 32);
    const c = new TcpConnection(t, (seg) => this.o.send(t.localIp, t.remoteIp, seg), this.o.timers, isn, { ...this.o.connection, ...opts },
      () => { if (this.conns.get(k) === c) this.conns.delete(k); });
    this.conns.set(k, c);
    return c;
  }
}
