import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ArpPacket, ARP_REQUEST } from './arp.js';
import { checksum, finish, pseudoHeaderSum, sumBytes } from './checksum.js';
import { EthernetFrame, ETHERTYPE_IPV4 } from './ethernet.js';
import { IcmpMessage, ICMP_ECHO_REQUEST } from './icmp.js';
import { Ipv4Packet, PROTO_TCP, PROTO_UDP } from './ipv4.js';
import { formatIp, formatMac, isGroupMac, parseIp, parseMac } from './mac.js';
import { isMalformed, Malformed } from './malformed.js';
import { ACK, SYN, TcpSegment } from './tcp.js';
import { UdpDatagram } from './udp.js';
import { DnsQuery, DNS_TYPE_A, parseDnsAnswers } from './dns.js';

const A = 0x00155d000001, B = 0x00155d000002;
const ip = (s: string) => parseIp(s)!;

test('MAC and IPv4 text forms round-trip; the group bit is the low bit of the first octet', () => {
  assert.equal(formatMac(parseMac('00-15-5D-0A-0B-01')!), '00-15-5D-0A-0B-01');
  assert.equal(parseMac('00155d0a0b01'), 0x00155d0a0b01);
  assert.equal(parseMac('00155d0a0b0'), null);
  assert.equal(formatIp(ip('192.168.100.1')), '192.168.100.1');
  assert.equal(parseIp('256.1.1.1'), null);
  assert.ok(isGroupMac(0xffffffffffff));
  assert.ok(isGroupMac(0x01005e000001));
  assert.ok(!isGroupMac(A));
});

test('RFC 1071 example checksum', () => {
  // RFC 1071 §3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2, checksum 220d
  assert.equal(checksum(new Uint8Array([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7])), 0x220d);
});

test('Ethernet: build/parse pair, runt, oversize and bad 802.3 lengths are malformed', () => {
  const f = EthernetFrame.build(B, A, ETHERTYPE_IPV4, new Uint8Array([1, 2, 3]));
  const p = EthernetFrame.parse(f);
  assert.ok(!isMalformed(p));
  assert.equal(p.dst, B); assert.equal(p.src, A); assert.equal(p.etherType, ETHERTYPE_IPV4);
  assert.deepEqual([...p.payload], [1, 2, 3]);
  assert.equal((EthernetFrame.parse(new Uint8Array(13)) as Malformed).reason, 'runt');
  assert.equal((EthernetFrame.parse(new Uint8Array(1519)) as Malformed).reason, 'oversize');
  const llc = EthernetFrame.build(B, A, 10, new Uint8Array(5)); // says 10 bytes, carries 5
  assert.equal((EthernetFrame.parse(llc) as Malformed).reason, 'bad-length');
  const reserved = EthernetFrame.build(B, A, 0x05ff, new Uint8Array(46));
  assert.equal((EthernetFrame.parse(reserved) as Malformed).reason, 'bad-length');
  assert.ok(!isMalformed(EthernetFrame.parse(EthernetFrame.build(B, A, 46, new Uint8Array(46)))));
});

test('ARP: write/parse pair; other hardware types are refused', () => {
  const a = new ArpPacket(ARP_REQUEST, A, ip('192.168.100.2'), 0, ip('192.168.100.1'));
  const b = ArpPacket.parse(a.write());
  assert.deepEqual(b, a);
  const bad = a.write(); bad[1] = 6;
  assert.ok(isMalformed(ArpPacket.parse(bad)));
  assert.ok(isMalformed(ArpPacket.parse(a.write().subarray(0, 27))));
});

test('IPv4: header checksum written and verified, padding trimmed, lengths and version checked', () => {
  const p = new Ipv4Packet(ip('10.0.0.1'), ip('10.0.0.2'), PROTO_UDP, new Uint8Array([9, 8, 7]), 64, 0x1234);
  const bytes = p.write();
  assert.equal(checksum(bytes, 0, 20), 0);
  const padded = new Uint8Array(46); padded.set(bytes);
  const q = Ipv4Packet.parse(padded);
  assert.ok(!isMalformed(q));
  assert.deepEqual([...q.payload], [9, 8, 7]);
  assert.equal(q.id, 0x1234);
  assert.ok(!q.isFragment);
  const corrupt = bytes.slice(); corrupt[8] = 1;
  assert.equal((Ipv4Packet.parse(corrupt) as Malformed).reason, 'ip-checksum');
  const v6 = bytes.slice(); v6[0] = 0x65;
  assert.equal((Ipv4Packet.parse(v6) as Malformed).reason, 'ip-version');
  assert.equal((Ipv4Packet.parse(bytes.subarray(0, 22)) as Malformed).reason, 'ip-length');
  assert.ok(new Ipv4Packet(1, 2, 17, new Uint8Array(0), 64, 0, 0, 0x2000).isFragment);
});

test('ICMP echo: write/parse pair and checksum', () => {
  const m = IcmpMessage.echo(ICMP_ECHO_REQUEST, 0xbeef, 7, new Uint8Array([1, 2, 3, 4, 5]));
  const b = m.write();
  const n = IcmpMessage.parse(b);
  assert.ok(!isMalformed(n));
  assert.equal(n.identifier, 0xbeef); assert.equal(n.sequence, 7); assert.deepEqual([...n.data], [1, 2, 3, 4, 5]);
  b[9] ^= 1;
  assert.equal((IcmpMessage.parse(b) as Malformed).reason, 'icmp-checksum');
});

test('UDP: pseudo-header checksum, zero checksum accepted, bad length refused', () => {
  const s = ip('192.168.100.2'), d = ip('192.168.100.1');
  const b = new UdpDatagram(5353, 53, new Uint8Array([1, 2, 3])).write(s, d);
  const u = UdpDatagram.parse(b, s, d);
  assert.ok(!isMalformed(u));
  assert.equal(u.srcPort, 5353); assert.equal(u.dstPort, 53); assert.deepEqual([...u.data], [1, 2, 3]);
  assert.equal((UdpDatagram.parse(b, s, d + 1) as Malformed).reason, 'udp-checksum');
  const none = b.slice(); none[6] = 0; none[7] = 0; none[8] ^= 0xff;
  assert.ok(!isMalformed(UdpDatagram.parse(none, s, d)));
  const long = b.slice(); long[5] = 200;
  assert.equal((UdpDatagram.parse(long, s, d) as Malformed).reason, 'udp-length');
});

test('TCP: write/parse pair with MSS, checksum and option validation', () => {
  const s = ip('10.0.0.1'), d = ip('10.0.0.2');
  const seg = new TcpSegment(40000, 80, 0xfffffff0, 5, SYN | ACK, 65535, new Uint8Array([7]), 1460);
  const b = seg.write(s, d);
  const t = TcpSegment.parse(b, s, d);
  assert.ok(!isMalformed(t));
  assert.equal(t.seq, 0xfffffff0); assert.equal(t.ack, 5); assert.equal(t.mss, 1460);
  assert.ok(t.has(SYN) && t.has(ACK));
  assert.equal(t.seqLength, 2);
  assert.deepEqual([...t.data], [7]);
  assert.equal((TcpSegment.parse(b, s, d ^ 1) as Malformed).reason, 'tcp-checksum');
  const off = b.slice(); off[12] = 0x40;
  assert.ok(isMalformed(TcpSegment.parse(off, s, d)));
});

test('codecs never throw on random bytes (fuzz)', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 1600 }), (b) => {
    EthernetFrame.parse(b); ArpPacket.parse(b); Ipv4Packet.parse(b); IcmpMessage.parse(b);
    UdpDatagram.parse(b, 1, 2); TcpSegment.parse(b, 1, 2);
  }), { numRuns: 3000 });
});

test('TCP options parser handles truncated and zero-length options without looping', () => {
  const s = 1, d = 2;
  const seg = new TcpSegment(1, 2, 0, 0, SYN, 100, new Uint8Array(0), 1460).write(s, d);
  const b = new Uint8Array(24); b.set(seg.subarray(0, 20)); b[12] = 0x60; b[20] = 3; b[21] = 0; // len 0
  const v = new DataView(b.buffer); v.setUint16(16, 0);
  v.setUint16(16, finish(sumBytes(b, 0, b.length, pseudoHeaderSum(s, d, PROTO_TCP, b.length))));
  assert.equal((TcpSegment.parse(b, s, d) as Malformed).reason, 'tcp-options');
});

test('DNS: query parse/respond pair; pointer in a question and truncated names are malformed', () => {
  const q = DnsQuery.parse(DnsQuery.build(0x1234, 'www.example.test'));
  assert.ok(!isMalformed(q));
  assert.equal(q.name, 'www.example.test');
  assert.equal(q.qtype, DNS_TYPE_A);
  assert.ok(q.recursionDesired);
  const r = parseDnsAnswers(q.respond(0, [ip('10.1.2.3'), ip('10.1.2.4')]));
  assert.deepEqual(r, { id: 0x1234, rcode: 0, addresses: [ip('10.1.2.3'), ip('10.1.2.4')] });
  const ptr = DnsQuery.build(1, 'a'); ptr[12] = 0xc0;
  assert.ok(isMalformed(DnsQuery.parse(ptr)));
  assert.ok(isMalformed(DnsQuery.parse(DnsQuery.build(1, 'abc').subarray(0, 15))));
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => { DnsQuery.parse(b); }), { numRuns: 2000 });
});
