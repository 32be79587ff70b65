/**
 * issue 7's NAT "done when", end to end through the cmdlets: the seed's NAT commands
 * (New-VMSwitch -SwitchType Internal, New-NetNat, New-NetIPAddress on "vEthernet (VmNat)"),
 * then a VM running guests/net-http.c at 192.168.100.2 with gateway and DNS 192.168.100.1:
 * it pings the gateway, resolves `localhost` through the NAT's DNS, and fetches a page from
 * an HTTP server this test starts on 127.0.0.1.
 *
 * Address mapping (src/net/nat.ts): the guest connects to http://192.168.100.1:PORT/ — the
 * vEthernet adapter's own address. That address is one of the host's, so the NAT connects to
 * the host's service on 127.0.0.1:PORT, as a Windows host's services answer on its vEthernet
 * address. The whole switch is captured with Start-NestvisorCapture; when tshark is
 * installed, it reads the pcap and must see the ARP, ICMP, DNS and TCP exchange.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openService } from '../management/service.js';
import { readPcap } from '../net/pcap.js';
import { BufferHost, createSession } from './index.js';

const image = fileURLToPath(new URL('../../../guests/images/net-http.elf', import.meta.url));

/** The page the host serves: long enough to take several TCP segments (MSS 1460). */
export const PAGE = 'Hello from the host, through LocalNAT.\n' + Array.from({ length: 120 }, (_, i) => `line ${String(i).padStart(3, '0')} of the page served on 127.0.0.1\n`).join('');

export function fnv1a(bytes: Uint8Array): string {
  let h = 2166136261;
  for (const b of bytes) h = Math.imul(h ^ b, 16777619) >>> 0;
  return h.toString(16).padStart(8, '0');
}

function tsharkAvailable(): boolean {
  return spawnSync('tshark', ['--version'], { encoding: 'utf8' }).status === 0;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

test('a VM behind New-NetNat pings its gateway, resolves a name and fetches a page from 127.0.0.1', { timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nestvisor-nat-'));
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url} ${req.headers['user-agent']}`);
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end(PAGE);
  });
  const port = await listen(server);
  let serial = '';
  let sawSummary!: () => void;
  const summary = new Promise<void>((r) => { sawSummary = r; });
  const svc = openService({ home: join(dir, 'home'), serialOut: (_vm, b) => { serial += Buffer.from(b).toString('latin1'); if (/SUMMARY: .*\n/.test(serial)) sawSummary(); } });
  const host = new BufferHost();
  const shell = createSession(svc.controller, host);
  const pcap = join(dir, 'nat.pcap');
  try {
    const run = async (script: string) => {
      const r = await shell.run(script, 'nat-test.ps1');
      assert.ok(!r.terminated && shell.lastSuccess, `${script}\n${host.text}`);
    };
    // the seed's commands, byte for byte (en dashes and curly quotes included)
    await run([
      'New-VMSwitch -Name VmNAT -SwitchType Internal',
      'New-NetNat –Name LocalNAT –InternalIPInterfaceAddressPrefix “192.168.100.0/24”',
      'Get-NetAdapter "vEthernet (VmNat)" | New-NetIPAddress -IPAddress 192.168.100.1 -AddressFamily IPv4 -PrefixLength 24',
    ].join('\n'));
    await run([
      'New-VM -Name L2 -MemoryStartupBytes 32MB -SwitchName VmNAT | Out-Null',
      `Set-NestvisorVMBootImage -VMName L2 -Path '${image}' -CommandLine 'ip=192.168.100.2 gw=192.168.100.1 dns=192.168.100.1 name=localhost url=http://192.168.100.1:${port}/page.txt stay=1'`,
      `Start-NestvisorCapture -SwitchName VmNAT -Path '${pcap}' | Out-Null`,
      'Start-VM -Name L2',
    ].join('\n'));
    await summary;
    host.text = '';
    await run('Get-NestvisorSwitchPortStatistics -SwitchName VmNAT | Format-List *\nStop-NestvisorCapture | Format-List *');
    const stats = host.text;
    await run('Stop-VM -Name L2 -TurnOff -Force');

    assert.match(serial, /PASS: the gateway answers ARP/, serial);
    assert.match(serial, /1\/1 echo replies from the gateway/, serial);
    assert.match(serial, /resolved localhost to 127\.0\.0\.1\n/, serial);
    assert.match(serial, /status: HTTP\/1\.1 200 OK\n/, serial);
    const body = Buffer.from(PAGE, 'latin1');
    assert.match(serial, new RegExp(`body ${body.length} bytes fnv1a ${fnv1a(body)} `), serial);
    const shown = /BODY<<([\s\S]*)>>BODY/.exec(serial)?.[1];
    assert.equal(shown, PAGE);
    assert.match(serial, /SUMMARY: \d+ tests, 0 failures/, serial);
    assert.deepEqual(requests, ['GET /page.txt nestvisor-net-http']);
    // the counters saw it: the VM's port sent and received, nothing was dropped for spoofing
    assert.match(stats, /PortName\s+: L2\/Network Adapter[\s\S]*?SentFrames\s+: [1-9]\d*[\s\S]*?DroppedMacAddressSpoofing : 0/, stats);

    const frames = readPcap(readFileSync(pcap)).frames;
    assert.ok(frames.length >= 10, `${frames.length} frames captured`);
    await t.test('tshark reads the capture: ARP, ICMP, DNS and TCP (HTTP) frames', { skip: !tsharkAvailable() && 'tshark is not installed (Debian: apt-get install tshark)' }, () => {
      const r = spawnSync('tshark', ['-r', pcap, '-T', 'fields', '-e', 'frame.protocols'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const lines = r.stdout.trim().split('\n');
      assert.equal(lines.length, frames.length);
      assert.ok(lines.some((l) => l === 'eth:ethertype:arp'), r.stdout);
      assert.ok(lines.some((l) => l === 'eth:ethertype:ip:icmp:data'), r.stdout);
      assert.ok(lines.some((l) => l === 'eth:ethertype:ip:udp:dns'), r.stdout);
      assert.ok(lines.some((l) => l === 'eth:ethertype:ip:tcp'), r.stdout);
      assert.ok(lines.some((l) => /^eth:ethertype:ip:tcp:http/.test(l)), r.stdout);
      // and the HTTP request it decodes is the guest's
      const http = spawnSync('tshark', ['-r', pcap, '-Y', 'http.request', '-T', 'fields', '-e', 'http.request.method', '-e', 'http.request.uri', '-e', 'ip.src'], { encoding: 'utf8' });
      assert.equal(http.stdout.trim(), 'GET\t/page.txt\t192.168.100.2');
    });
  } finally {
    await svc.close();
    server.close();
    if (!process.env.NESTVISOR_KEEP) rmSync(dir, { recursive: true, force: true });
  }
});
