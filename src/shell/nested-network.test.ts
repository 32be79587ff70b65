/**
 * Issue 8, the seed's networking section played *inside* the intermediate VM: L1 is minivisor
 * (guests/minivisor, our VT-x hypervisor) on an L0 switch, and its L2 (minivisor/l2net.c) has
 * minivisor's paravirtual NIC. minivisor is configured by its command line here (net=bridge /
 * net=nat, ip= gw=; l2ip= l2gw= l2fetch=), the way the guest agent's cmdlets set the same state
 * (guests/minivisor/netcfg.h); docs/minivisor.md describes the forwarding.
 *   (a) "usurpation d'adresses MAC": minivisor bridges L2's frames out of L1's NIC with L2's
 *       MAC, so L0's port drops them until Set-VMNetworkAdapter -MacAddressSpoofing On; then L2
 *       fetches a page through L0's NetNat.
 *   (b) "NAT": minivisor is L2's gateway and translates its flows to L1's own address; with
 *       spoofing Off L2 pings its gateway and L0's host, resolves a name through it (forwarded to L1's DNS
 *       server) and fetches the page, and every frame L0's switch carried has L1's MAC, never
 *       L2's.
 * The page comes from an HTTP server this test starts on 127.0.0.1 (src/net/nat.ts maps the
 * vEthernet adapter's own address to it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openService } from '../management/service.js';
import { readPcap } from '../net/pcap.js';
import { BufferHost, createSession } from './index.js';

const minivisor = fileURLToPath(new URL('../../../guests/images/minivisor.elf', import.meta.url));
const L2_MAC = '00155d000202';
/** The page the host serves: several TCP segments (MSS 1460) long. */
const PAGE = 'Hello from L0, fetched by L2.\n' + Array.from({ length: 100 }, (_, i) => `line ${String(i).padStart(3, '0')} of the page served on 127.0.0.1\n`).join('');
const BODY = Buffer.from(PAGE, 'latin1');

function fnv1a(bytes: Uint8Array): string {
  let h = 2166136261;
  for (const b of bytes) h = Math.imul(h ^ b, 16777619) >>> 0;
  return h.toString(16).padStart(8, '0');
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

interface Lab {
  run(script: string): Promise<string>;
  serial(): string;
  waitSerial(pat: RegExp, what: string): Promise<void>;
  clearSerial(): void;
  port: number;
  requests: string[];
  dir: string;
}

/** L0: the seed's NAT (an Internal switch, a NetNat and the vEthernet address) on `prefix`.0/24. */
async function withLab(prefix: string, body: (lab: Lab) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'nestvisor-nested-net-'));
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url} ${req.headers['user-agent']}`);
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end(PAGE);
  });
  const port = await listen(server);
  let serial = '';
  const svc = openService({ home: join(dir, 'home'), serialOut: (_vm, b) => { serial += Buffer.from(b).toString('latin1'); } });
  const host = new BufferHost();
  const shell = createSession(svc.controller, host);
  const run = async (script: string): Promise<string> => {
    host.text = '';
    const r = await shell.run(script, 'nested-net.ps1');
    assert.ok(!r.terminated && shell.lastSuccess, `${script}\n${host.text}`);
    return host.text;
  };
  const waitSerial = async (pat: RegExp, what: string): Promise<void> => {
    const t0 = Date.now();
    while (!pat.test(serial)) {
      if (Date.now() - t0 > 120_000) assert.fail(`timed out waiting for ${what}:\n${serial}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  try {
    await run([
      'New-VMSwitch -Name Outer -SwitchType Internal | Out-Null',
      `New-NetNat -Name OuterNAT -InternalIPInterfaceAddressPrefix "${prefix}.0/24" | Out-Null`,
      `Get-NetAdapter "vEthernet (Outer)" | New-NetIPAddress -IPAddress ${prefix}.1 -AddressFamily IPv4 -PrefixLength 24 | Out-Null`,
      'New-VM -Name L1 -MemoryStartupBytes 64MB -Generation 2 -Version 9.0 -SwitchName Outer | Out-Null',
      'Set-VMProcessor -VMName L1 -ExposeVirtualizationExtensions $true',
    ].join('\n'));
    await body({ run, serial: () => serial, waitSerial, clearSerial: () => { serial = ''; }, port, requests, dir });
  } finally {
    await svc.close();
    server.close();
    if (!process.env.NESTVISOR_KEEP) rmSync(dir, { recursive: true, force: true });
  }
}

const stat = (text: string, name: string): number => Number(new RegExp(`${name}\\s*:\\s*(\\d+)`).exec(text)?.[1] ?? NaN);
const netStats = (serial: string) => {
  const m = /minivisor: net: tx (\d+) rx (\d+) dropped (\d+) nat (\d+) refused (\d+)/.exec(serial);
  assert.ok(m, serial);
  return { tx: Number(m[1]), rx: Number(m[2]), dropped: Number(m[3]), nat: Number(m[4]), refused: Number(m[5]) };
};

function assertFetched(serial: string): void {
  assert.match(serial, /\[L2\] status: HTTP\/1\.1 200 OK\n/, serial);
  assert.match(serial, new RegExp(`\\[L2\\] fetched ${BODY.length} bytes, fnv1a ${fnv1a(BODY)}\\n`), serial);
  assert.match(serial, new RegExp(`\\[L2\\] first line: ${PAGE.split('\n')[0]!.replace(/[.()]/g, '\\$&')}\\n`), serial);
}

test('NAT inside L1: L2 behind minivisor\'s NetNat fetches a page with MAC spoofing Off; L0 sees only L1\'s MAC', { timeout: 300_000 }, async () => {
  await withLab('172.16.0', async (lab) => {
    const pcap = join(lab.dir, 'outer.pcap');
    await lab.run([
      `Set-NestvisorVMBootImage -VMName L1 -Path '${minivisor}' -CommandLine 'stay net=nat ip=172.16.0.10/24 gw=172.16.0.1 `
        + `l2ip=192.168.100.2/24 l2gw=192.168.100.1 l2dns=192.168.100.1 l2ping=192.168.100.1,172.16.0.1 l2name=localhost `
        + `l2fetch=http://172.16.0.1:${lab.port}/page.txt'`,
      `Start-NestvisorCapture -SwitchName Outer -Path '${pcap}' | Out-Null`,
      'Start-VM -Name L1',
    ].join('\n'));
    await lab.waitSerial(/minivisor: net: tx \d+.*\n/, 'L2 to halt');
    const ports = await lab.run('Get-NestvisorSwitchPortStatistics -SwitchName Outer -VMName L1 | Format-List *\nStop-NestvisorCapture | Out-Null');
    const mac = (await lab.run('(Get-VMNetworkAdapter -VMName L1).MacAddress')).trim().toLowerCase();
    await lab.run('Stop-VM -Name L1 -TurnOff -Force');
    const serial = lab.serial();
    if (process.env.NESTVISOR_VERBOSE) process.stdout.write(serial);

    assert.match(serial, /\[L2\] ping 192\.168\.100\.1: 3\/3 replies\n/, serial);
    assert.match(serial, /\[L2\] ping 172\.16\.0\.1: 3\/3 replies\n/, serial); // ICMP echo through the NAPT
    // DNS to the gateway, forwarded by minivisor to L1's DNS server (dns= defaults to gw=: L0's NAT)
    assert.match(serial, /\[L2\] resolved localhost to 127\.0\.0\.1\n/, serial);
    assertFetched(serial);
    assert.deepEqual(lab.requests, ['GET /page.txt nestvisor-l2']);
    const s = netStats(serial);
    assert.ok(s.nat > 0 && s.tx > 0 && s.rx > 0, serial);
    assert.equal(s.refused, 0, serial);
    assert.equal(stat(ports, 'DroppedMacAddressSpoofing'), 0, ports);
    assert.ok(stat(ports, 'SentFrames') > 0, ports);

    // every frame on L0's switch is L1's or the host vEthernet's: L2's MAC never leaves L1
    const frames = readPcap(readFileSync(pcap)).frames;
    const hexMac = (b: Uint8Array, at: number) => Buffer.from(b.subarray(at, at + 6)).toString('hex');
    const fromL1 = frames.filter((f) => hexMac(f.data, 6) === mac);
    assert.ok(fromL1.length >= 5, `${frames.length} frames, ${fromL1.length} from L1 (${mac})`);
    for (const f of frames) {
      assert.notEqual(hexMac(f.data, 6), L2_MAC, 'a frame with L2\'s source MAC reached L0');
      assert.notEqual(hexMac(f.data, 0), L2_MAC, 'a frame addressed to L2\'s MAC crossed L0');
    }
  });
});

test('bridge in L1: L2\'s frames (its own MAC) are dropped at L0 with spoofing Off and its fetch fails; with spoofing On it fetches the page through L0\'s NAT', { timeout: 300_000 }, async () => {
  await withLab('172.17.0', async (lab) => {
    await lab.run(`Set-NestvisorVMBootImage -VMName L1 -Path '${minivisor}' -CommandLine 'stay net=bridge `
      + `l2ip=172.17.0.3/24 l2gw=172.17.0.1 l2fetch=http://172.17.0.1:${lab.port}/page.txt'`);

    // spoofing Off (the default): L0's port drops every frame L1 sends with L2's source MAC
    await lab.run('Start-VM -Name L1');
    await lab.waitSerial(/minivisor: net: tx \d+.*\n/, 'L2 to halt (spoofing Off)');
    let ports = await lab.run('Get-NestvisorSwitchPortStatistics -SwitchName Outer -VMName L1 | Format-List *');
    await lab.run('Stop-VM -Name L1 -TurnOff -Force');
    let serial = lab.serial();
    if (process.env.NESTVISOR_VERBOSE) process.stdout.write(serial);
    assert.match(serial, /\[L2\] fetch failed: no ARP answer from the next hop\n/, serial);
    assert.doesNotMatch(serial, /\[L2\] fetched/, serial);
    let s = netStats(serial);
    assert.ok(s.tx >= 5, serial); // L1 did bridge L2's ARP requests out of its NIC ...
    assert.ok(stat(ports, 'DroppedMacAddressSpoofing') >= s.tx, ports); // ... and L0 dropped them all
    assert.deepEqual(lab.requests, []);

    // the seed's command on the L0 host, then the same L2 again
    await lab.run('Get-VMNetworkAdapter -VMName L1 | Set-VMNetworkAdapter -MacAddressSpoofing On');
    lab.clearSerial();
    await lab.run('Start-VM -Name L1');
    await lab.waitSerial(/minivisor: net: tx \d+.*\n/, 'L2 to halt (spoofing On)');
    ports = await lab.run('Get-NestvisorSwitchPortStatistics -SwitchName Outer -VMName L1 | Format-List *');
    const nat = await lab.run('Get-NestvisorNatStatistics -Name OuterNAT | Format-List *');
    await lab.run('Stop-VM -Name L1 -TurnOff -Force');
    serial = lab.serial();
    if (process.env.NESTVISOR_VERBOSE) process.stdout.write(serial);
    assertFetched(serial);
    assert.deepEqual(lab.requests, ['GET /page.txt nestvisor-l2']);
    s = netStats(serial);
    assert.ok(s.tx >= 4 && s.rx >= 4, serial);
    assert.equal(s.nat, 0, serial); // a bridge translates nothing
    assert.equal(stat(ports, 'DroppedMacAddressSpoofing'), 0, ports);
    assert.ok(stat(ports, 'SentFrames') >= s.tx, ports);
    assert.ok(stat(nat, 'TcpFlows') >= 1, nat); // L0's NetNat carried L2's connection
  });
});
