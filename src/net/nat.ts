/**
 * NetNat (seed: "New-NetNat –Name LocalNAT –InternalIPInterfaceAddressPrefix
 * “192.168.100.0/24”"): guests on the internal prefix reach the outside through the host's
 * own sockets, the way WinNAT lets them reach what the host reaches.
 *
 * - TCP: a guest's SYN to an address beyond the prefix is held while the host opens a real
 *   connection (node:net) to that address and port; when it connects, the host stack
 *   answers the SYN and the two are spliced (flow control both ways); a refused connect
 *   becomes a RST, so the guest sees "connection refused" as it would on a wire.
 * - UDP: one host socket (node:dgram) per guest address and port; replies come back
 *   from the remote address and port.
 * - DNS: UDP 53 to the vNIC's address is answered by the host's resolver (node:dns lookup,
 *   which reads /etc/hosts and the system's resolver configuration).
 * - ICMP echo to the vNIC's address is answered by the host stack itself.
 * - Flows idle longer than their timeout are closed.
 * - Static mappings (Add-NetNatStaticMapping): the host listens on 127.0.0.1:PORT and each
 *   connection is forwarded to a guest's IP:PORT.
 *
 * Connections to the vNIC's own address on a port it does not serve go to the host's
 * loopback (127.0.0.1): the vEthernet address is one of the host's addresses, so services
 * of the host are reachable there, as on Windows. Nothing here contacts an address the guest
 * did not ask for.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns/promises';
import { connect as tcpConnect, createServer, type Server, type Socket } from 'node:net';
import type { NetTimers, TimerHandle } from './clock.js';
import { DnsQuery, DNS_CLASS_IN, DNS_TYPE_A, RCODE_NOERROR, RCODE_NOTIMP, RCODE_NXDOMAIN, RCODE_SERVFAIL } from './dns.js';
import type { HostStack } from './host-stack.js';
import { Ipv4Packet, PROTO_TCP, PROTO_UDP } from './ipv4.js';
import { formatIp, parseIp, sameSubnet } from './mac.js';
import { isMalformed } from './malformed.js';
import type { TcpConnection, TcpEvents, TcpOptions, TcpTuple } from './tcp-conn.js';
import { UdpDatagram } from './udp.js';

export interface NatPrefix { network: number; length: number }

export interface NatOptions {
  name: string;
  stack: HostStack;
  prefix: NatPrefix;
  timers: NetTimers;
  /** Closes TCP flows with no traffic for this long (default 2 h, WinNAT's TCP idle timeout is 24 h). */
  tcpIdleMs?: number;
  /** Closes UDP flows with no traffic for this long (default 60 s). */
  udpIdleMs?: number;
  /** Gives up a host connect after this long (default 20 s). */
  connectTimeoutMs?: number;
  /** Resolves a name to IPv4 addresses (default: node:dns lookup, the host's resolver). */
  resolve?: (name: string) => Promise<string[]>;
}

export interface StaticMapping {
  protocol: 'TCP';
  externalPort: number;
  internalIPAddress: string;
  internalPort: number;
}

export interface NatCounters {
  tcpFlows: number;
  udpFlows: number;
  refused: number;
  dnsQueries: number;
  expired: number;
  /** Packets from outside the internal prefix, oversize replies, unsupported protocols. */
  dropped: number;
  inboundConnections: number;
}

interface Flow { lastActive: number; close(): void }

const MAX_UDP_PAYLOAD = 1472;
const LOOPBACK = parseIp('127.0.0.1')!;

export class NetNat {
  readonly counters: NatCounters = { tcpFlows: 0, udpFlows: 0, refused: 0, dnsQueries: 0, expired: 0, dropped: 0, inboundConnections: 0 };
  private readonly flows = new Set<Flow>();
  private readonly udpFlows = new Map<string, { sock: UdpSocket; flow: Flow }>();
  private readonly servers: Server[] = [];
  private readonly byPort = new Map<number, Server>();
  private sweepTimer: TimerHandle | null = null;
  private readonly unbindDns: () => void;
  private closed = false;
  private readonly tcpIdle: number;
  private readonly udpIdle: number;

  constructor(private readonly o: NatOptions) {
    this.tcpIdle = o.tcpIdleMs ?? 2 * 3600_000;
    this.udpIdle = o.udpIdleMs ?? 60_000;
    const st = o.stack;
    st.forward = (p) => this.outbound(p);
    st.tcp.synHook = (t, accept, refuse) => this.tcpSyn(t, accept, refuse);
    this.unbindDns = st.bindUdp(53, (d, src, dst) => this.dns(d, src, dst));
    this.scheduleSweep();
  }

  get name(): string { return this.o.name; }

  inPrefix(ip: number): boolean {
    return sameSubnet(ip, this.o.prefix.network, this.o.prefix.length);
  }

  /** Forwards 127.0.0.1:externalPort (0 = any free port) to internalIPAddress:internalPort; resolves to the port listened on. */
  async addStaticMapping(m: StaticMapping): Promise<number> {
    const target = parseIp(m.internalIPAddress);
    if (target === null || !this.inPrefix(target)) throw new Error(`${m.internalIPAddress} is not inside the NAT's internal prefix`);
    const server = createServer((sock) => this.inbound(sock, target, m.internalPort));
    this.servers.push(server);
    await new Promise<void>((resolve, reject) => {
      const fail = (e: Error) => { this.servers.splice(this.servers.indexOf(server), 1); reject(e); };
      server.once('error', fail);
      server.listen(m.externalPort, '127.0.0.1', () => { server.off('error', fail); server.on('error', () => {}); resolve(); });
    });
    const a = server.address();
    const port = typeof a === 'object' && a ? a.port : m.externalPort;
    if (this.closed) { server.close(); return port; }
    this.byPort.set(port, server);
    return port;
  }

  /** Stops listening for a static mapping (connections already forwarded carry on); false when none listens there. */
  async removeStaticMapping(externalPort: number): Promise<boolean> {
    const server = this.byPort.get(externalPort);
    if (!server) return false;
    this.byPort.delete(externalPort);
    const i = this.servers.indexOf(server);
    if (i >= 0) this.servers.splice(i, 1);
    await new Promise<void>((r) => server.close(() => r()));
    return true;
  }

  /** The ports static mappings listen on (127.0.0.1). */
  get staticMappingPorts(): number[] { return [...this.byPort.keys()]; }

  /** Stops everything: mappings, flows, timers; the host stack forgets the NAT. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.o.timers.clearTimeout(this.sweepTimer);
    for (const f of [...this.flows]) f.close();
    this.unbindDns();
    if (this.o.stack.forward) this.o.stack.forward = null;
    this.o.stack.tcp.synHook = null;
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }

  /** IPv4 packets the host stack does not own. */
  private outbound(p: Ipv4Packet): void {
    if (!this.inPrefix(p.src) || this.inPrefix(p.dst) && !this.o.stack.isLocal(p.dst)) { this.counters.dropped++; return; }
    if (p.protocol === PROTO_TCP) this.o.stack.receiveForeignTcp(p);
    else if (p.protocol === PROTO_UDP) this.udpOut(p);
    else this.counters.dropped++; // ICMP beyond the gateway: WinNAT does not translate echo either
  }

  /** Where a guest's destination is reached from the host. */
  private hostTarget(dst: number): string {
    return this.o.stack.isLocal(dst) ? formatIp(LOOPBACK) : formatIp(dst);
  }

  private tcpSyn(t: TcpTuple, accept: (e: TcpEvents, o?: TcpOptions) => TcpConnection | null, refuse: () => void): boolean {
    if (this.closed || !this.inPrefix(t.remoteIp)) return false;
    if (this.inPrefix(t.localIp) && !this.o.stack.isLocal(t.localIp)) return false;
    const sock = tcpConnect({ host: this.hostTarget(t.localIp), port: t.localPort });
    sock.setTimeout(this.o.connectTimeoutMs ?? 20_000);
    const fail = () => { sock.destroy(); this.counters.refused++; refuse(); };
    sock.once('timeout', fail);
    sock.once('error', fail);
    sock.once('connect', () => {
      sock.off('timeout', fail); sock.off('error', fail);
      sock.setTimeout(0);
      this.counters.tcpFlows++;
      if (!accept(this.splice(sock), { autoConsume: false })) sock.destroy();
    });
    return true;
  }

  /**
   * Events joining a host socket and the guest-facing TCP connection they are given to,
   * with flow control both ways: guest data is consumed (the window reopens) once the host
   * socket has flushed it; host data pauses the socket while the guest's window is full.
   */
  private splice(sock: Socket): TcpEvents {
    let conn: TcpConnection | null = null;
    const flow: Flow = {
      lastActive: this.o.timers.now(),
      close: () => { conn?.abort(); sock.destroy(); this.flows.delete(flow); },
    };
    this.flows.add(flow);
    const touch = () => { flow.lastActive = this.o.timers.now(); };
    // error and close listeners from the start: an unhandled socket error would end the process
    sock.on('error', () => { this.flows.delete(flow); conn?.abort(); });
    sock.on('close', () => { this.flows.delete(flow); if (conn && !conn.isClosed() && conn.state !== 'TIME_WAIT') conn.end(); });
    const attach = (c: TcpConnection) => {
      if (conn) return;
      conn = c;
      sock.on('data', (b: Buffer) => {
        touch();
        if (!c.write(b)) sock.pause();
      });
      sock.on('end', () => { touch(); c.end(); });
      sock.resume();
    };
    return {
      onConnect: (c) => attach(c),
      onData: (d, c) => {
        touch();
        const n = d.length;
        sock.write(Buffer.from(d), () => c.consume(n));
      },
      onEnd: () => { touch(); sock.end(); },
      onClose: (err) => {
        this.flows.delete(flow);
        if (err) sock.destroy(); else sock.end();
      },
      onDrain: () => sock.resume(),
    };
  }

  /** A host client connected to a static mapping: open a TCP connection to the guest. */
  private inbound(sock: Socket, target: number, port: number): void {
    const src = this.o.stack.sourceFor(target);
    if (src === null || this.closed) { sock.destroy(); return; }
    this.counters.inboundConnections++;
    sock.pause();
    try {
      this.o.stack.tcp.connect(src, 0, target, port, this.splice(sock), { autoConsume: false });
    } catch {
      sock.destroy();
    }
  }

  private udpOut(p: Ipv4Packet): void {
    const d = UdpDatagram.parse(p.payload, p.src, p.dst);
    if (isMalformed(d)) { this.counters.dropped++; return; }
    const key = `${p.src}:${d.srcPort}`;
    let f = this.udpFlows.get(key);
    if (!f) {
      const guestIp = p.src, guestPort = d.srcPort;
      const sock = createSocket('udp4');
      const flow: Flow = {
        lastActive: this.o.timers.now(),
        close: () => { this.udpFlows.delete(key); this.flows.delete(flow); try { sock.close(); } catch { /* already closed */ } },
      };
      sock.on('message', (msg, rinfo) => {
        const from = parseIp(rinfo.address);
        if (from === null) return;
        if (msg.length > MAX_UDP_PAYLOAD) { this.counters.dropped++; return; }
        flow.lastActive = this.o.timers.now();
        const src = this.o.stack.isLocal(p.dst) && from === LOOPBACK ? p.dst : from;
        this.o.stack.sendIp(src, guestIp, PROTO_UDP, new UdpDatagram(rinfo.port, guestPort, new Uint8Array(msg)).write(src, guestIp));
      });
      sock.on('error', () => flow.close());
      f = { sock, flow };
      this.udpFlows.set(key, f);
      this.flows.add(flow);
      this.counters.udpFlows++;
    }
    f.flow.lastActive = this.o.timers.now();
    f.sock.send(d.data, d.dstPort, this.hostTarget(p.dst));
  }

  private dns(d: UdpDatagram, src: number, dst: number): void {
    if (!this.inPrefix(src)) { this.counters.dropped++; return; }
    const q = DnsQuery.parse(d.data);
    if (isMalformed(q)) { this.counters.dropped++; return; }
    this.counters.dnsQueries++;
    const reply = (bytes: Uint8Array) => {
      if (this.closed) return;
      this.o.stack.sendIp(dst, src, PROTO_UDP, new UdpDatagram(53, d.srcPort, bytes).write(dst, src));
    };
    if (q.qclass !== DNS_CLASS_IN || (q.flags & 0x7800) !== 0) { reply(q.respond(RCODE_NOTIMP)); return; }
    if (q.qtype !== DNS_TYPE_A) { reply(q.respond(RCODE_NOERROR)); return; } // no AAAA etc.: an empty answer
    const resolve = this.o.resolve ?? (async (name: string) => (await dnsLookup(name, { all: true, family: 4 })).map((a) => a.address));
    resolve(q.name).then(
      (addrs) => {
        const ips = addrs.map(parseIp).filter((x): x is number => x !== null);
        reply(q.respond(RCODE_NOERROR, ips));
      },
      (e: NodeJS.ErrnoException) => reply(q.respond(e.code === 'ENOTFOUND' || e.code === 'ENODATA' ? RCODE_NXDOMAIN : RCODE_SERVFAIL)),
    );
  }

  private scheduleSweep(): void {
    const every = Math.max(1000, Math.min(this.tcpIdle, this.udpIdle) / 4);
    this.sweepTimer = this.o.timers.setTimeout(() => {
      if (this.closed) return;
      const now = this.o.timers.now();
      for (const f of [...this.flows]) {
        const udp = [...this.udpFlows.values()].some((x) => x.flow === f);
        if (now - f.lastActive > (udp ? this.udpIdle : this.tcpIdle)) { this.counters.expired++; f.close(); }
      }
      this.scheduleSweep();
    }, every);
  }
}

/** Parses "192.168.100.0/24". */
export function parseNatPrefix(text: string): NatPrefix | null {
  const m = /^(.+)\/(\d{1,2})$/.exec(text.trim());
  if (!m) return null;
  const network = parseIp(m[1]!);
  const length = Number(m[2]);
  if (network === null || length > 32) return null;
  return { network, length };
}
