/**
 * NetNat against real sockets on 127.0.0.1 that each test starts itself; the guest is a
 * pure-TS host stack on the Internal switch (the virtio path is tested elsewhere). No other
 * address is ever contacted: the resolver is injected except for "localhost".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer, type AddressInfo } from 'node:net';
import { realTimers } from './clock.js';
import { DnsQuery, parseDnsAnswers, RCODE_NXDOMAIN } from './dns.js';
import { NetNat } from './nat.js';
import { VirtualSwitch } from './switch.js';
import { ip, stackOn } from './testing.js';

const HOST = 0x00155d00aa01, GUEST = 0x00155d000002;

function setup(opts: { udpIdleMs?: number; resolve?: (n: string) => Promise<string[]> } = {}) {
  const timers = realTimers();
  const sw = new VirtualSwitch('VmNAT', 'Internal', { timers });
  const host = stackOn(sw, timers, 'vEthernet (VmNAT)', HOST, '192.168.100.1', 24, 'host');
  const guest = stackOn(sw, timers, 'guest', GUEST, '192.168.100.2', 24, 'vm');
  guest.stack.defaultGateway = ip('192.168.100.1');
  const nat = new NetNat({ name: 'LocalNAT', stack: host.stack, prefix: { network: ip('192.168.100.0'), length: 24 }, timers, ...opts });
  return { timers, sw, host, guest, nat };
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A guest-side HTTP/1.0 GET over the guest stack; resolves to the raw response. */
function guestGet(g: ReturnType<typeof setup>['guest'], dst: string, port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    g.stack.tcp.connect(ip('192.168.100.2'), 0, ip(dst), port, {
      onConnect: (c) => { c.write(Buffer.from(`GET ${path} HTTP/1.0\r\nHost: test\r\n\r\n`)); },
      onData: (d) => parts.push(Buffer.from(d)),
      onEnd: (c) => c.end(),
      onClose: (e) => (e ? reject(new Error(`connection ${e}`)) : resolve(Buffer.concat(parts).toString())),
    });
  });
}

test('NAT: a guest fetches a page from an HTTP server on 127.0.0.1 (and via the gateway address)', async () => {
  const body = 'hello from the host\n'.repeat(5000); // 100 KB: several windows
  const http = createHttpServer((req, res) => { res.setHeader('content-type', 'text/plain'); res.end(req.url === '/big' ? body : 'small'); });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const port = (http.address() as AddressInfo).port;
  const env = setup();
  try {
    const r = await guestGet(env.guest, '127.0.0.1', port, '/big');
    assert.match(r, /^HTTP\/1\.1 200 OK/);
    assert.ok(r.endsWith(body), `body of ${r.length} bytes`);
    const viaGw = await guestGet(env.guest, '192.168.100.1', port, '/');
    assert.match(viaGw, /\r\n\r\nsmall$/);
    assert.equal(env.nat.counters.tcpFlows, 2);
    assert.equal(env.sw.endpointErrors, 0, String(env.sw.lastEndpointError));
  } finally { await env.nat.close(); http.close(); }
});

test('NAT: a refused host connection reaches the guest as a RST', async () => {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  const env = setup();
  try {
    await assert.rejects(guestGet(env.guest, '127.0.0.1', port, '/'), /refused/);
    assert.equal(env.nat.counters.refused, 1);
  } finally { await env.nat.close(); }
});

test('NAT: UDP to a host socket and back; idle UDP flows expire', async () => {
  const echo = createSocket('udp4');
  echo.on('message', (m, r) => echo.send(Buffer.concat([Buffer.from('echo:'), m]), r.port, r.address));
  await new Promise<void>((r) => echo.bind(0, '127.0.0.1', r));
  const port = (echo.address() as AddressInfo).port;
  const env = setup({ udpIdleMs: 100 });
  const got: string[] = [];
  env.guest.stack.bindUdp(5000, (d, src) => got.push(`${src === ip('127.0.0.1')}:${d.srcPort === port}:${Buffer.from(d.data).toString()}`));
  try {
    env.guest.stack.sendUdp(5000, ip('127.0.0.1'), port, Buffer.from('ping'));
    await until(() => got.length === 1, 'the UDP reply');
    assert.deepEqual(got, ['true:true:echo:ping']);
    assert.equal(env.nat.counters.udpFlows, 1);
    await until(() => env.nat.counters.expired === 1, 'the UDP flow to expire', 5000);
  } finally { await env.nat.close(); echo.close(); }
});

test('NAT: DNS on the gateway resolves through the host resolver; unknown names are NXDOMAIN', async () => {
  const env = setup({ resolve: async (n) => { if (n === 'example.test') return ['127.0.0.7']; const e = new Error('nx') as NodeJS.ErrnoException; e.code = 'ENOTFOUND'; throw e; } });
  const answers: Array<ReturnType<typeof parseDnsAnswers>> = [];
  env.guest.stack.bindUdp(3333, (d) => answers.push(parseDnsAnswers(d.data)));
  try {
    env.guest.stack.sendUdp(3333, ip('192.168.100.1'), 53, DnsQuery.build(1, 'example.test'));
    env.guest.stack.sendUdp(3333, ip('192.168.100.1'), 53, DnsQuery.build(2, 'nope.test'));
    await until(() => answers.length === 2, 'two DNS answers');
    answers.sort((a, b) => a.id - b.id);
    assert.deepEqual(answers[0]!.addresses, [ip('127.0.0.7')]);
    assert.equal(answers[1]!.rcode, RCODE_NXDOMAIN);
  } finally { await env.nat.close(); }
  // the default resolver (node:dns lookup): localhost comes from the host's own configuration
  const real = setup();
  const got: number[][] = [];
  real.guest.stack.bindUdp(3333, (d) => got.push(parseDnsAnswers(d.data).addresses));
  try {
    real.guest.stack.sendUdp(3333, ip('192.168.100.1'), 53, DnsQuery.build(3, 'localhost'));
    await until(() => got.length === 1, 'the localhost answer');
    assert.ok(got[0]!.includes(ip('127.0.0.1')), JSON.stringify(got));
  } finally { await real.nat.close(); }
});

test('NAT: ICMP echo to the gateway is answered locally; traffic from outside the prefix is dropped', async () => {
  const env = setup();
  try {
    let replies = 0;
    env.guest.stack.onEchoReply = () => { replies++; };
    env.guest.stack.ping(ip('192.168.100.1'), 9, 1);
    assert.equal(replies, 1);
    env.guest.stack.addAddress(ip('10.9.9.9'), 8);
    env.guest.stack.sendUdp(1, ip('127.0.0.1'), 9, new Uint8Array(4), ip('10.9.9.9'));
    assert.equal(env.nat.counters.dropped, 1);
  } finally { await env.nat.close(); }
});

test('NAT: a static mapping forwards a host connection on 127.0.0.1 to the guest', async () => {
  const env = setup();
  env.guest.stack.tcp.listen(0, 8080, (c) => {
    c.events = { onData: (d, conn) => { conn.write(Buffer.concat([Buffer.from('guest says: '), Buffer.from(d)])); conn.end(); } };
  });
  try {
    const port = await env.nat.addStaticMapping({ protocol: 'TCP', externalPort: 0, internalIPAddress: '192.168.100.2', internalPort: 8080 });
    const reply = await new Promise<string>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => s.write('hi'));
      const parts: Buffer[] = [];
      s.on('data', (b) => parts.push(b));
      s.on('end', () => { resolve(Buffer.concat(parts).toString()); s.end(); });
      s.on('error', reject);
    });
    assert.equal(reply, 'guest says: hi');
    assert.equal(env.nat.counters.inboundConnections, 1);
    await assert.rejects(env.nat.addStaticMapping({ protocol: 'TCP', externalPort: 0, internalIPAddress: '10.0.0.1', internalPort: 1 }), /internal prefix/);
  } finally { await env.nat.close(); }
});
