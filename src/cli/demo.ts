/**
 * `nestvisor demo`: plays the seed document ("Exécuter Hyper-V dans une machine virtuelle avec
 * la virtualisation imbriquée") with real VMs in a temporary inventory home, in the document's
 * order, printing each cmdlet as `PS> ...` and what the shell writes, and checking every observed
 * outcome (serial lines, error text, switch counters, the HTTP page L2 fetched). L1 runs
 * minivisor (guests/minivisor), our VT-x hypervisor, whose L2 has a NIC; the seed's commands
 * *inside* L1 and L2 go through PowerShell Direct (Invoke-Command -VMName, docs/guest-channel.md).
 * Exit 0 when all matched, 1 when one did not.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openService } from '../management/service.js';
import { BufferHost, createSession } from '../shell/index.js';

/** The package root: the nearest ancestor holding guests/images (works from src/ and dist/). */
export function imagesDir(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const cand = join(d, 'guests', 'images');
    if (existsSync(join(cand, 'minivisor.elf'))) return cand;
    const up = dirname(d);
    if (up === d) throw new Error('guests/images not found next to the nestvisor package');
    d = up;
  }
}

export class DemoFailure extends Error {}

export interface DemoOptions { readonly write?: (s: string) => void }

/** Runs the whole demo; resolves when every outcome matched, throws DemoFailure otherwise. */
export async function runDemo(o: DemoOptions = {}): Promise<void> {
  const out = o.write ?? ((s: string) => { process.stdout.write(s); });
  const images = imagesDir();
  const img = (n: string) => join(images, n);
  const home = mkdtempSync(join(tmpdir(), 'nestvisor-demo-'));
  const serial = new Map<string, string>();
  const text = (vm: string) => serial.get(vm.toLowerCase()) ?? '';
  const svc = openService({
    home, macPrefixByte: 0x0d,
    serialOut: (vm, b) => serial.set(vm.toLowerCase(), text(vm) + Buffer.from(b).toString('latin1')),
  });
  const host = new BufferHost();
  const shell = createSession(svc.controller, host);
  const PAGE = 'Hello from the L0 host, served on 127.0.0.1 and fetched by L2.\n';
  let requests = 0;
  const server = createServer((_req, res) => { requests++; res.writeHead(200, { 'Content-Type': 'text/plain' }); res.end(PAGE); });
  const port = await new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as { port: number }).port)));

  const say = (s: string) => out(`\n${s}\n`);
  const fail = (m: string): never => { throw new DemoFailure(m); };
  /** Runs one command line, prints it and its output; `ok` says whether it must succeed. */
  const ps = async (cmd: string, expect: { ok?: boolean; match?: RegExp; quiet?: boolean } = {}): Promise<string> => {
    out(`PS> ${cmd}\n`);
    host.text = '';
    const r = await shell.run(cmd, 'demo.ps1');
    const got = host.text;
    if (!expect.quiet && got.trim() !== '') out(got.replace(/\n*$/, '\n'));
    const ok = !r.terminated && shell.lastSuccess;
    const consoles = () => [...serial].map(([vm, t]) => `[${vm} COM1, last lines]\n${t.split('\n').slice(-12).join('\n')}`).join('\n');
    if (ok !== (expect.ok ?? true)) fail(`expected ${cmd} to ${expect.ok === false ? 'fail' : 'succeed'}:\n${got}\n${consoles()}`);
    if (expect.match && !expect.match.test(got)) fail(`expected ${cmd} to write ${expect.match}:\n${got}`);
    return got;
  };
  const waitSerial = async (vm: string, pat: RegExp, sec = 60) => {
    const end = Date.now() + sec * 1000;
    while (!pat.test(text(vm))) {
      if (Date.now() > end) fail(`timed out waiting for ${pat} on ${vm}'s COM1; so far:\n${text(vm)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const showSerial = (vm: string, pat: RegExp) => {
    const lines = text(vm).split('\n').filter((l) => pat.test(l));
    for (const l of lines) out(`  [${vm} COM1] ${l}\n`);
  };
  /** Runs a command without printing it (polling). */
  const quiet = async (cmd: string) => {
    host.text = '';
    await shell.run(cmd, 'demo.ps1');
    return host.text;
  };

  try {
    say('== 1. Prerequisites: an Intel CPU with VT-x and EPT, configuration version 8.0 or later');
    await ps('Get-VMHost | Format-List CpuVendor, VtxSupported, EptSupported, NestedVirtualizationSupported',
      { match: /VtxSupported\s+: True[\s\S]*EptSupported\s+: True/ });
    await ps('Get-VMHostSupportedVersion -Default', { match: /\d+\.\d/ });

    say('== 2. Create L1 (version 8.0+) booting minivisor, our VT-x hypervisor; start it without exposure');
    await ps('New-VM -Name L1 -MemoryStartupBytes 64MB -Generation 2 -Version 9.0 | Select-Object Name, State, Version', { match: /L1\s+Off\s+9\.0/ });
    await ps(`Set-NestvisorVMBootImage -VMName L1 -Path '${img('minivisor.elf')}' -CommandLine 'stay'`);
    await ps('Get-NestvisorNestedVirtStatus -VMName L1');
    await ps('Start-VM -Name L1');
    await waitSerial('L1', /VT-x not available.*\n/);
    showSerial('L1', /minivisor/);
    await ps('Get-VM -Name L1 | Select-Object Name, State', { match: /L1\s+Running/ });
    say('minivisor sees CPUID.1:ECX.VMX = 0 and halts; L1 stays Running. The seed: enable nesting\n'
      + '"while the virtual machine is OFF" — Hyper-V refuses it on a running VM:');
    await ps('Set-VMProcessor -VMName L1 -ExposeVirtualizationExtensions $true', { ok: false, match: /is Running\. Turn off the virtual machine/ });
    await ps('Stop-VM -Name L1 -TurnOff -Force');

    say('== 3. Expose the virtualization extensions (L1 is Off), start L1: minivisor launches L2');
    serial.set('l1', '');
    await ps('Set-VMProcessor -VMName L1 -ExposeVirtualizationExtensions $true');
    await ps('(Get-VMProcessor -VMName L1).ExposeVirtualizationExtensions', { match: /True/ });
    await ps('Start-VM -Name L1');
    await waitSerial('L1', /minivisor: staying in VMX operation/);
    showSerial('L1', /minivisor: (VMXON|EPT|launching|L2 halted)|\[L2\]/);
    if (!/\[L2\] Hello from L2/.test(text('L1'))) fail(`L2 did not print on L1's COM1:\n${text('L1')}`);

    say('== 4. Memory: while a hypervisor runs inside L1, its memory cannot change');
    await ps('Get-VM -Name L1 | Select-Object Name, State, NestedHypervisorRunning, @{Name="MemoryAssigned(M)"; Expression={ $_.MemoryAssigned / 1MB }}',
      { match: /L1\s+Running\s+True\s+64/ });
    await ps('Set-VMMemory -VMName L1 -StartupBytes 128MB', { ok: false, match: /hypervisor is running inside it[\s\S]*Turn off the virtual machine to adjust its memory/ });
    await ps('Get-VM -Name L1 | Select-Object Name, @{Name="MemoryAssigned(M)"; Expression={ $_.MemoryAssigned / 1MB }}', { match: /L1\s+64/ });
    await ps('Stop-VM -Name L1 -TurnOff -Force');

    const url = `http://172.16.0.1:${port}/page.txt`;
    say('== 5. Networking. The L0 host\'s network for L1: an Internal switch with a NetNat to this machine\n'
      + `(it plays the physical network; the demo's web server listens on 127.0.0.1:${port}, reached as 172.16.0.1)`);
    await ps('New-VMSwitch -Name Outer -SwitchType Internal | Out-Null');
    await ps('New-NetNat -Name OuterNAT -InternalIPInterfaceAddressPrefix "172.16.0.0/24" | Out-Null');
    await ps('Get-NetAdapter "vEthernet (Outer)" | New-NetIPAddress -IPAddress 172.16.0.1 -AddressFamily IPv4 -PrefixLength 24 | Out-Null');
    await ps('Connect-VMNetworkAdapter -VMName L1 -SwitchName Outer');
    await ps(`Set-NestvisorVMBootImage -VMName L1 -Path '${img('minivisor.elf')}' -CommandLine 'stay l2fetch=${url}'`);

    /** Starts L1, lets L2 fetch the page once its address is set through PowerShell Direct; returns L1's serial. */
    const l2Fetch = async (setup: string[], l2Commands: string, wait = true): Promise<string> => {
      serial.set('l1', '');
      await ps('Start-VM -Name L1');
      await waitSerial('L1', /\[L2\] waiting for an IP configuration/);
      for (const cmd of setup) await ps(cmd);
      await ps(`Invoke-Command -VMName L1 { Invoke-Command -VMName L2 { ${l2Commands} } }`, { match: /PSComputerName +: L2/ });
      if (!wait) return text('L1');
      await waitSerial('L1', /\[L2\] (fetched \d+ bytes.*\n\[L2\] first line: .*|fetch failed: .*)\n/);
      showSerial('L1', /\[L2\] (nic:|status:|fetched|first line|fetch failed)/);
      return text('L1');
    };
    const portStats = 'Get-NestvisorSwitchPortStatistics -SwitchName Outer -VMName L1 | Select-Object PortName, SentFrames, ReceivedFrames, DroppedMacAddressSpoofing';
    const dropped = (s: string) => Number(/L1\/Network Adapter\s+\d+\s+\d+\s+(\d+)/.exec(s)?.[1] ?? NaN);
    const fnv1a = (b: Buffer) => { let h = 2166136261; for (const x of b) h = Math.imul(h ^ x, 16777619) >>> 0; return h.toString(16).padStart(8, '0'); };
    const fetched = new RegExp(`\\[L2\\] fetched ${Buffer.byteLength(PAGE)} bytes, fnv1a ${fnv1a(Buffer.from(PAGE))}\\n`);

    say('== 5a. MAC address spoofing: minivisor bridges L2 to L1\'s adapter (an External switch inside L1),\n'
      + 'so L2\'s frames reach L0 with L2\'s own MAC — dropped at L1\'s port on the L0 switch');
    const bridgeL2 = 'Get-NetAdapter "Ethernet" | New-NetIPAddress -IPAddress 172.16.0.20 -DefaultGateway 172.16.0.1 -AddressFamily IPv4 -PrefixLength 24';
    let l1 = await l2Fetch(['Invoke-Command -VMName L1 -ScriptBlock { New-VMSwitch -Name VmBridge -NetAdapterName "Ethernet" }'], bridgeL2, false);
    const t0 = Date.now();
    while (!(dropped(await quiet(portStats)) >= 1)) {
      if (Date.now() - t0 > 60_000) fail(`no frame was dropped for MAC spoofing:\n${await quiet(portStats)}\n${text('L1')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await ps(portStats, { match: /L1\/Network Adapter/ });
    l1 = text('L1');
    if (/\[L2\] fetched/.test(l1) || requests !== 0) fail(`L2's bridged frames were not stopped at L0:\n${l1}`);
    say('L2 keeps asking (ARP for its gateway 172.16.0.1) and gets no answer: its frames never leave L1\'s port.');
    await ps('Stop-VM -Name L1 -TurnOff -Force');
    say('The seed: MAC address spoofing must be on for L1\'s adapter on the L0 host.');
    await ps('Get-VMNetworkAdapter -VMName L1 | Set-VMNetworkAdapter -MacAddressSpoofing On');
    l1 = await l2Fetch(['Invoke-Command -VMName L1 -ScriptBlock { New-VMSwitch -Name VmBridge -NetAdapterName "Ethernet" }'], bridgeL2);
    if (!fetched.test(l1) || requests !== 1) fail(`the bridged L2 did not get the page (requests ${requests}):\n${l1}`);
    const on = await ps(portStats, { match: /L1\/Network Adapter/ });
    if (dropped(on) !== 0) fail(`frames were dropped with spoofing On:\n${on}`);
    await ps('Stop-VM -Name L1 -TurnOff -Force');

    say('== 5b. NAT inside L1, with MAC address spoofing Off: the seed\'s commands run *inside* the\n'
      + 'intermediate VM and the nested VM through PowerShell Direct (Invoke-Command -VMName)');
    await ps('Get-VMNetworkAdapter -VMName L1 | Set-VMNetworkAdapter -MacAddressSpoofing Off');
    await ps(`Set-NestvisorVMBootImage -VMName L1 -Path '${img('minivisor.elf')}' -CommandLine 'stay ip=172.16.0.10/24 gw=172.16.0.1 l2fetch=${url} l2idle'`);
    l1 = await l2Fetch([
      'Invoke-Command -VMName L1 -ScriptBlock {\n'
        + '  New-VMSwitch -Name VmNAT -SwitchType Internal\n'
        + '  New-NetNat –Name LocalNAT –InternalIPInterfaceAddressPrefix “192.168.100.0/24”\n'
        + '  Get-NetAdapter "vEthernet (VmNat)" | New-NetIPAddress -IPAddress 192.168.100.1 -AddressFamily IPv4 -PrefixLength 24\n'
        + '}',
    ], 'Get-NetAdapter "Ethernet" | New-NetIPAddress -IPAddress 192.168.100.2 -DefaultGateway 192.168.100.1 -AddressFamily IPv4 -PrefixLength 24\n'
      + '  Netsh interface ip add dnsserver “Ethernet” address=192.168.100.1');
    if (!fetched.test(l1) || requests !== 2) fail(`L2 behind L1's NAT did not get the page (requests ${requests}):\n${l1}`);
    out(`  page received by L2: ${JSON.stringify(PAGE)}\n`);
    await ps('Invoke-Command -VMName L1 { Invoke-Command -VMName L2 { Get-DnsClientServerAddress -InterfaceAlias Ethernet } }', { match: /\{192\.168\.100\.1\} L2/ });
    const nat = await ps(portStats, { match: /L1\/Network Adapter/ });
    if (dropped(nat) !== 0) fail(`frames were dropped with NAT:\n${nat}`);
    await ps('Get-VMNetworkAdapter -VMName L1 | Select-Object VMName, MacAddressSpoofing', { match: /L1\s+Off/ });
    await ps('Stop-VM -Name L1 -TurnOff -Force');

    say('== 6. Disable nested virtualization again (L1 is Off)');
    await ps('Set-VMProcessor -VMName L1 -ExposeVirtualizationExtensions $false');
    await ps('(Get-VMProcessor -VMName L1).ExposeVirtualizationExtensions', { match: /False/ });
    say('Demo complete: every outcome above was checked.');
  } finally {
    await svc.close();
    server.close();
    rmSync(home, { recursive: true, force: true });
  }
}

export async function demoCommand(argv: string[]): Promise<number> {
  if (argv.some((a) => /^-(-)?h(elp)?$|^-\?$/.test(a))) {
    process.stdout.write('Usage: nestvisor demo\nPlays the nested-virtualization document with real VMs in a temporary inventory.\n');
    return 0;
  }
  const t0 = Date.now();
  try {
    await runDemo();
    process.stdout.write(`(${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`\nnestvisor demo: FAILED: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
