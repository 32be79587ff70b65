import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArpPacket, ARP_REQUEST, ARP_REPLY } from './arp.js';
import { ManualTimers } from './clock.js';
import { EthernetFrame, ETHERTYPE_ARP, ETHERTYPE_IPV4 } from './ethernet.js';
import { BROADCAST_MAC } from './mac.js';
import { isMalformed } from './malformed.js';
import { VirtualSwitch } from './switch.js';
import { ip, stackOn } from './testing.js';
import { Ipv4Packet, PROTO_TCP } from './ipv4.js';
import { ACK, FIN, TcpSegment } from './tcp.js';
import type { TcpConnection } from './tcp-conn.js';

const HOST = 0x00155d00aa01, GUEST = 0x00155d000002;

function net(loseGuest?: (f: Uint8Array, n: number) => boolean, loseHost?: (f: Uint8Array, n: number) => boolean) {
  const timers = new ManualTimers();
  const sw = new VirtualSwitch('VmNAT', 'Internal', { timers });
  let seq = 1000;
  const host = stackOn(sw, timers, 'vEthernet (VmNAT)', HOST, '192.168.100.1', 24, 'host', loseHost, () => (seq += 100000));
  const guest = stackOn(sw, timers, 'guest', GUEST, '192.168.100.2', 24, 'vm', loseGuest, () => (seq += 7777777));
  guest.stack.defaultGateway = ip('192.168.100.1');
  return { timers, sw, host, guest };
}

test('ARP: the vNIC answers for its address, caches the asker, and entries time out', () => {
  const timers = new ManualTimers();
  const sw = new VirtualSwitch('S', 'Internal', { timers });
  const host = stackOn(sw, timers, 'h', HOST, '192.168.100.1', 24, 'host');
  const seen: Uint8Array[] = [];
  const g = sw.connect({ name: 'g', kind: 'vm', mac: GUEST, deliver: (f) => seen.push(f) });
  g.send(EthernetFrame.build(BROADCAST_MAC, GUEST, ETHERTYPE_ARP, new ArpPacket(ARP_REQUEST, GUEST, ip('192.168.100.2'), 0, ip('192.168.100.1')).write()));
  assert.equal(seen.length, 1);
  const f = EthernetFrame.parse(seen[0]!);
  assert.ok(!isMalformed(f));
  assert.equal(f.dst, GUEST);
  const a = ArpPacket.parse(f.payload);
  assert.ok(!isMalformed(a));
  assert.equal(a.op, ARP_REPLY);
  assert.equal(a.senderMac, HOST);
  assert.equal(a.senderIp, ip('192.168.100.1'));
  assert.equal(host.stack.arpLookup(ip('192.168.100.2')), GUEST);
  timers.advance(60_001);
  assert.equal(host.stack.arpLookup(ip('192.168.100.2')), null);
  // a request for another address is not answered
  g.send(EthernetFrame.build(BROADCAST_MAC, GUEST, ETHERTYPE_ARP, new ArpPacket(ARP_REQUEST, GUEST, ip('192.168.100.2'), 0, ip('192.168.100.9')).write()));
  assert.equal(seen.length, 1);
});

test('ARP requests for an unresolved address are retried, then the queued packets are dropped as unreachable', () => {
  const timers = new ManualTimers();
  const sw = new VirtualSwitch('S', 'Internal', { timers });
  const host = stackOn(sw, timers, 'h', HOST, '192.168.100.1', 24, 'host');
  let arps = 0;
  sw.connect({ name: 'g', kind: 'vm', mac: GUEST, deliver: (f) => { const e = EthernetFrame.parse(f); if (!isMalformed(e) && e.etherType === ETHERTYPE_ARP) arps++; } });
  host.stack.ping(ip('192.168.100.77'), 1, 1);
  timers.advance(10_000);
  assert.equal(arps, 3);
  assert.equal(host.stack.counters.unreachable, 1);
});

test('a guest pings the gateway address New-NetIPAddress gave the vNIC', () => {
  const { host, guest } = net();
  const replies: number[] = [];
  guest.stack.onEchoReply = (src, id, seqNo) => replies.push(src, id, seqNo);
  guest.stack.ping(ip('192.168.100.1'), 0x42, 1);
  guest.stack.ping(ip('192.168.100.1'), 0x42, 2);
  assert.deepEqual(replies, [ip('192.168.100.1'), 0x42, 1, ip('192.168.100.1'), 0x42, 2]);
  assert.equal(host.stack.counters.echoReplies, 2);
});

test('malformed IPv4 to the vNIC is counted, fragments too', () => {
  const { host, guest } = net();
  guest.stack.ping(ip('192.168.100.1'), 1, 1); // resolves ARP both ways
  const good = new Ipv4Packet(ip('192.168.100.2'), ip('192.168.100.1'), 1, new Uint8Array(8)).write();
  const bad = good.slice(); bad[10] ^= 0xff;
  guest.port.send(EthernetFrame.build(HOST, GUEST, ETHERTYPE_IPV4, bad));
  guest.port.send(EthernetFrame.build(HOST, GUEST, ETHERTYPE_IPV4, new Ipv4Packet(ip('192.168.100.2'), ip('192.168.100.1'), 1, new Uint8Array(8), 64, 0, 0, 0x2000).write()));
  assert.equal(host.stack.counters.malformed, 1);
  assert.equal(host.stack.counters.fragments, 1);
});

function pattern(n: number, salt = 0): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + salt + (i >>> 8)) & 0xff;
  return b;
}

function concat(parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/** Opens guest → host:80, the host echoes with a prefix; returns everything observed. */
function tcpSession(env: ReturnType<typeof net>, upload: Uint8Array) {
  const { timers, host, guest } = env;
  const serverGot: Uint8Array[] = [];
  const clientGot: Uint8Array[] = [];
  const log: string[] = [];
  host.stack.tcp.listen(0, 80, (c) => {
    c.events = {
      onData: (d) => serverGot.push(d.slice()),
      onEnd: () => { log.push('server:end'); c.write(concat(serverGot)); c.end(); },
      onClose: (e) => log.push(`server:close:${e ?? 'ok'}`),
    };
  });
  const client: TcpConnection = guest.stack.tcp.connect(ip('192.168.100.2'), 0, ip('192.168.100.1'), 80, {
    onConnect: (c) => { log.push('client:connect'); c.write(upload); c.end(); },
    onData: (d) => clientGot.push(d.slice()),
    onEnd: () => log.push('client:end'),
    onClose: (e) => log.push(`client:close:${e ?? 'ok'}`),
  });
  for (let i = 0; i < 400 && !(log.includes('client:close:ok') && log.includes('server:close:ok')); i++) timers.advance(500);
  timers.advance(10_000); // TIME_WAIT
  assert.equal(env.sw.endpointErrors, 0, String(env.sw.lastEndpointError));
  return { serverGot: concat(serverGot), clientGot: concat(clientGot), log, client };
}

test('TCP: handshake, 200 KB each way bounded by the window, FIN both ways, TIME_WAIT ends', () => {
  const env = net();
  const data = pattern(200_000);
  const r = tcpSession(env, data);
  assert.deepEqual(r.log.slice(0, 2), ['client:connect', 'server:end']);
  assert.ok(Buffer.from(r.serverGot).equals(Buffer.from(data)));
  assert.ok(Buffer.from(r.clientGot).equals(Buffer.from(data)));
  assert.ok(r.log.includes('client:end'));
  assert.ok(r.log.includes('client:close:ok') && r.log.includes('server:close:ok'));
  assert.equal([...env.host.stack.tcp.connections].length, 0);
  assert.equal([...env.guest.stack.tcp.connections].length, 0);
  assert.equal(r.client.retransmissions, 0);
});

test('TCP: lost segments in both directions are retransmitted on timeout and the data arrives intact', () => {
  const dropTcp = (every: number) => (f: Uint8Array, n: number) => {
    const e = EthernetFrame.parse(f);
    return !isMalformed(e) && e.etherType === ETHERTYPE_IPV4 && f[14 + 9] === PROTO_TCP && n % every === 0;
  };
  const env = net(dropTcp(7), dropTcp(5));
  const data = pattern(50_000, 3);
  const r = tcpSession(env, data);
  assert.ok(Buffer.from(r.serverGot).equals(Buffer.from(data)), `server got ${r.serverGot.length}`);
  assert.ok(Buffer.from(r.clientGot).equals(Buffer.from(data)), `client got ${r.clientGot.length}`);
  assert.ok(r.client.retransmissions > 0);
});

test('TCP: a closed port answers RST and the connect reports refused', () => {
  const { timers, host, guest } = net();
  let err: string | undefined = 'none';
  guest.stack.tcp.connect(ip('192.168.100.2'), 0, ip('192.168.100.1'), 81, { onClose: (e) => { err = e; } });
  timers.advance(10);
  assert.equal(err, 'refused');
  assert.equal(host.stack.tcp.resetsSent, 1);
});

test('TCP: an unanswered SYN times out after its retries', () => {
  const { timers, guest } = net(undefined, () => true); // the host never gets a frame out
  let err: string | undefined = 'none';
  guest.stack.tcp.connect(ip('192.168.100.2'), 0, ip('192.168.100.1'), 80, { onClose: (e) => { err = e; } });
  timers.advance(400_000);
  assert.equal(err, 'timeout');
});

test('TCP: a zero window stops the sender, probes keep it alive, consume() reopens it', () => {
  const { timers, host, guest } = net();
  let server: TcpConnection | null = null;
  const got: number[] = [];
  host.stack.tcp.listen(0, 80, (c) => { server = c; c.events = { onData: (d) => got.push(d.length) }; });
  const client = guest.stack.tcp.connect(ip('192.168.100.2'), 0, ip('192.168.100.1'), 80, {});
  timers.advance(1);
  // rebuild the server side without auto-consume: replace its options by a small buffer
  assert.ok(server);
  (server as unknown as { o: { autoConsume: boolean; receiveBuffer: number } }).o.autoConsume = false;
  (server as unknown as { o: { autoConsume: boolean; receiveBuffer: number } }).o.receiveBuffer = 4000;
  client.write(pattern(20_000));
  timers.advance(5);
  const total = () => got.reduce((a, b) => a + b, 0);
  assert.equal(total(), 4000);
  timers.advance(30_000); // probes, answered with a zero window
  assert.equal(total(), 4000);
  assert.equal(client.state, 'ESTABLISHED');
  (server as TcpConnection).consume(4000);
  timers.advance(5);
  assert.equal(total(), 8000);
});

test('TCP: RST from the peer closes with reset; a stray segment gets RST', () => {
  const { timers, host, guest } = net();
  let server: TcpConnection | null = null;
  host.stack.tcp.listen(0, 80, (c) => { server = c; });
  let err: string | undefined = 'none';
  guest.stack.tcp.connect(ip('192.168.100.2'), 0, ip('192.168.100.1'), 80, { onClose: (e) => { err = e; } });
  timers.advance(1);
  (server as unknown as TcpConnection).abort();
  timers.advance(1);
  assert.equal(err, 'reset');
  const before = host.stack.tcp.resetsSent;
  const stray = new TcpSegment(5555, 80, 1, 1, ACK | FIN, 100, new Uint8Array(0)).write(ip('192.168.100.2'), ip('192.168.100.1'));
  guest.port.send(EthernetFrame.build(HOST, GUEST, ETHERTYPE_IPV4, new Ipv4Packet(ip('192.168.100.2'), ip('192.168.100.1'), PROTO_TCP, stray).write()));
  assert.equal(host.stack.tcp.resetsSent, before + 1);
});
