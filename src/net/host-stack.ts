/**
 * The host side of an Internal switch: the vNIC "vEthernet (NAME)" and a small IPv4 stack
 * behind it (seed: "Get-NetAdapter "vEthernet (VmNat)" | New-NetIPAddress -IPAddress
 * 192.168.100.1 ..."). It answers ARP for its addresses and keeps an ARP cache with
 * timeouts (RFC 826, RFC 1122 2.3.2), answers ICMP echo (so a guest can ping its gateway),
 * delivers UDP to bound ports and TCP to src/net/tcp-stack.ts. IPv4 packets addressed
 * beyond its own addresses go to `forward` (NetNat), which is how NAT sees guest traffic.
 *
 * Everything a guest sends is parsed defensively: malformed packets are counted, never thrown.
 */
import type { NetTimers, TimerHandle } from './clock.js';
import { ArpPacket, ARP_REPLY, ARP_REQUEST } from './arp.js';
import { EthernetFrame, ETHERTYPE_ARP, ETHERTYPE_IPV4 } from './ethernet.js';
import { IcmpMessage, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST } from './icmp.js';
import { Ipv4Packet, PROTO_ICMP, PROTO_TCP, PROTO_UDP } from './ipv4.js';
import { BROADCAST_MAC, isGroupMac, prefixMask, sameSubnet } from './mac.js';
import { isMalformed } from './malformed.js';
import { TcpSegment } from './tcp.js';
import { TcpStack } from './tcp-stack.js';
import type { TcpOptions } from './tcp-conn.js';
import { UdpDatagram } from './udp.js';

export interface HostAddress { ip: number; prefixLength: number }

export interface HostStackOptions {
  mac: number;
  timers: NetTimers;
  /** Puts a frame on the wire (the switch port's send). */
  output(frame: Uint8Array): void;
  /** ARP cache entry lifetime (default 60 s). */
  arpTimeoutMs?: number;
  /** Interval between ARP requests for an unresolved address, and how many are sent. */
  arpRetryMs?: number;
  arpRetries?: number;
  isn?: () => number;
  tcp?: TcpOptions;
}

export interface HostStackCounters {
  framesIn: number;
  framesOut: number;
  malformed: number;
  /** Fragments: not reassembled. */
  fragments: number;
  /** No route, or ARP never answered. */
  unreachable: number;
  /** Not for this host, and nothing forwards it. */
  notForUs: number;
  echoReplies: number;
}

export type UdpHandler = (d: UdpDatagram, srcIp: number, dstIp: number) => void;
export type ForwardHook = (p: Ipv4Packet) => void;

interface ArpEntry { mac: number; expires: number }
interface ArpWait { frames: Array<{ src: number; dst: number; proto: number; payload: Uint8Array }>; tries: number; timer: TimerHandle | null }

const MAX_QUEUED = 64;

export class HostStack {
  readonly addresses: HostAddress[] = [];
  readonly counters: HostStackCounters = { framesIn: 0, framesOut: 0, malformed: 0, fragments: 0, unreachable: 0, notForUs: 0, echoReplies: 0 };
  readonly tcp: TcpStack;
  /** IPv4 packets for addresses that are not ours (NAT installs itself here). */
  forward: ForwardHook | null = null;
  /** Next hop for addresses off every local subnet (a guest-side stack's default gateway). */
  defaultGateway: number | null = null;
  /** Echo replies addressed to this stack (ping()). */
  onEchoReply: ((src: number, identifier: number, sequence: number, data: Uint8Array) => void) | null = null;
  private readonly arp = new Map<number, ArpEntry>();
  private readonly waiting = new Map<number, ArpWait>();
  private readonly udp = new Map<number, UdpHandler>();
  private ipId = 1;
  readonly mac: number;

  constructor(private readonly o: HostStackOptions) {
    this.mac = o.mac;
    this.tcp = new TcpStack({ timers: o.timers, isn: o.isn, connection: o.tcp, send: (s, d, seg) => this.sendIp(s, d, PROTO_TCP, seg.write(s, d)) });
  }

  addAddress(ip: number, prefixLength: number): void {
    if (!this.addresses.some((a) => a.ip === ip)) this.addresses.push({ ip, prefixLength });
  }

  removeAddress(ip: number): void {
    const i = this.addresses.findIndex((a) => a.ip === ip);
    if (i >= 0) this.addresses.splice(i, 1);
  }

  isLocal(ip: number): boolean {
    return this.addresses.some((a) => a.ip === ip);
  }

  /** The address the stack uses toward `dst`: one on the same subnet, else the first. */
  sourceFor(dst: number): number | null {
    const a = this.addresses.find((x) => sameSubnet(x.ip, dst, x.prefixLength)) ?? this.addresses[0];
    return a ? a.ip : null;
  }

  bindUdp(port: number, h: UdpHandler): () => void {
    if (this.udp.has(port)) throw new Error(`UDP port ${port} is already bound`);
    this.udp.set(port, h);
    return () => { this.udp.delete(port); };
  }

  /** The resolved MAC of ip, if cached and fresh. */
  arpLookup(ip: number): number | null {
    const e = this.arp.get(ip);
    if (!e) return null;
    if (this.o.timers.now() >= e.expires) { this.arp.delete(ip); return null; }
    return e.mac;
  }

  /** A frame from the switch. */
  receive(bytes: Uint8Array): void {
    this.counters.framesIn++;
    const f = EthernetFrame.parse(bytes);
    if (isMalformed(f)) { this.counters.malformed++; return; }
    if (f.dst !== this.mac && !isGroupMac(f.dst)) return; // unknown unicast flooded to the host port
    if (f.etherType === ETHERTYPE_ARP) this.receiveArp(f);
    else if (f.etherType === ETHERTYPE_IPV4) this.receiveIp(f);
  }

  private receiveArp(f: EthernetFrame): void {
    const a = ArpPacket.parse(f.payload);
    if (isMalformed(a)) { this.counters.malformed++; return; }
    const forMe = this.isLocal(a.targetIp);
    // RFC 826 merge: refresh a known sender; add it when the packet is for us
    if (a.senderIp !== 0 && !isGroupMac(a.senderMac) && (forMe || this.arp.has(a.senderIp))) this.learn(a.senderIp, a.senderMac);
    if (forMe && a.op === ARP_REQUEST) {
      const reply = new ArpPacket(ARP_REPLY, this.mac, a.targetIp, a.senderMac, a.senderIp);
      this.emit(a.senderMac, ETHERTYPE_ARP, reply.write());
    }
  }

  private learn(ip: number, mac: number): void {
    this.arp.set(ip, { mac, expires: this.o.timers.now() + (this.o.arpTimeoutMs ?? 60_000) });
    const w = this.waiting.get(ip);
    if (!w) return;
    this.waiting.delete(ip);
    this.o.timers.clearTimeout(w.timer);
    for (const q of w.frames) this.transmit(q.src, q.dst, q.proto, q.payload, mac);
  }

  private receiveIp(f: EthernetFrame): void {
    const p = Ipv4Packet.parse(f.payload);
    if (isMalformed(p)) { this.counters.malformed++; return; }
    if (p.isFragment) { this.counters.fragments++; return; }
    const local = this.isLocal(p.dst);
    const bcast = p.dst === 0xffffffff || this.addresses.some((a) => p.dst === ((a.ip | ~prefixMask(a.prefixLength)) >>> 0));
    if (!local && !bcast) {
      if (this.forward) this.forward(p); else this.counters.notForUs++;
      return;
    }
    switch (p.protocol) {
      case PROTO_ICMP: {
        const m = IcmpMessage.parse(p.payload);
        if (isMalformed(m)) { this.counters.malformed++; return; }
        if (m.type === ICMP_ECHO_REPLY && local) { this.onEchoReply?.(p.src, m.identifier, m.sequence, m.data); return; }
        if (m.type === ICMP_ECHO_REQUEST && local) {
          this.counters.echoReplies++;
          this.sendIp(p.dst, p.src, PROTO_ICMP, new IcmpMessage(ICMP_ECHO_REPLY, 0, m.rest, m.data).write());
        }
        return;
      }
      case PROTO_UDP: {
        const d = UdpDatagram.parse(p.payload, p.src, p.dst);
        if (isMalformed(d)) { this.counters.malformed++; return; }
        const h = this.udp.get(d.dstPort);
        if (h) h(d, p.src, p.dst);
        return;
      }
      case PROTO_TCP: {
        if (!local) return;
        const s = TcpSegment.parse(p.payload, p.src, p.dst);
        if (isMalformed(s)) { this.counters.malformed++; return; }
        this.tcp.receive(p.src, p.dst, s);
        return;
      }
      default:
    }
  }

  /** Handles a TCP segment addressed beyond the stack (NAT hands them back here). */
  receiveForeignTcp(p: Ipv4Packet): void {
    const s = TcpSegment.parse(p.payload, p.src, p.dst);
    if (isMalformed(s)) { this.counters.malformed++; return; }
    this.tcp.receive(p.src, p.dst, s);
  }

  /** Sends an ICMP echo request. */
  ping(dst: number, identifier: number, sequence: number, data: Uint8Array = new Uint8Array(32)): void {
    const src = this.sourceFor(dst);
    if (src === null) { this.counters.unreachable++; return; }
    this.sendIp(src, dst, PROTO_ICMP, IcmpMessage.echo(ICMP_ECHO_REQUEST, identifier, sequence, data).write());
  }

  /** Sends a UDP datagram from the address facing `dst`. */
  sendUdp(srcPort: number, dst: number, dstPort: number, data: Uint8Array, src = this.sourceFor(dst) ?? 0): void {
    this.sendIp(src, dst, PROTO_UDP, new UdpDatagram(srcPort, dstPort, data).write(src, dst));
  }

  /**
   * Sends an IPv4 packet from `src` (any address: NAT answers as the remote host) to `dst`,
   * on-link or through the default gateway.
   */
  sendIp(src: number, dst: number, proto: number, payload: Uint8Array): void {
    if (dst === 0xffffffff) { this.transmit(src, dst, proto, payload, BROADCAST_MAC); return; }
    const onLink = (ip: number) => this.addresses.some((a) => sameSubnet(a.ip, ip, a.prefixLength));
    const hop = onLink(dst) ? dst : this.defaultGateway !== null && onLink(this.defaultGateway) ? this.defaultGateway : null;
    if (hop === null) { this.counters.unreachable++; return; }
    const mac = this.arpLookup(hop);
    if (mac !== null) { this.transmit(src, dst, proto, payload, mac); return; }
    const w = this.waiting.get(hop);
    if (w) {
      if (w.frames.length < MAX_QUEUED) w.frames.push({ src, dst, proto, payload }); else this.counters.unreachable++;
      return;
    }
    // queued before the request: the answer may come back synchronously through the switch
    const nw: ArpWait = { frames: [{ src, dst, proto, payload }], tries: 0, timer: null };
    this.waiting.set(hop, nw);
    this.arpRequest(hop, nw);
  }

  private arpRequest(dst: number, w: ArpWait): void {
    w.tries++;
    const src = this.sourceFor(dst) ?? 0;
    this.emit(BROADCAST_MAC, ETHERTYPE_ARP, new ArpPacket(ARP_REQUEST, this.mac, src, 0, dst).write());
    if (this.waiting.get(dst) !== w) return; // answered already
    w.timer = this.o.timers.setTimeout(() => {
      if (this.waiting.get(dst) !== w) return;
      if (w.tries >= (this.o.arpRetries ?? 3)) {
        this.waiting.delete(dst);
        this.counters.unreachable += w.frames.length;
        return;
      }
      this.arpRequest(dst, w);
    }, this.o.arpRetryMs ?? 1000);
  }

  private transmit(src: number, dst: number, proto: number, payload: Uint8Array, mac: number): void {
    const ip = new Ipv4Packet(src, dst, proto, payload, 64, this.ipId);
    this.ipId = (this.ipId + 1) & 0xffff;
    this.emit(mac, ETHERTYPE_IPV4, ip.write());
  }

  private emit(dstMac: number, type: number, payload: Uint8Array): void {
    this.counters.framesOut++;
    this.o.output(EthernetFrame.build(dstMac, this.mac, type, payload));
  }
}
