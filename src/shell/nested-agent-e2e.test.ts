/**
 * Issue 8, PowerShell Direct into the intermediate VM and through it into the nested VM
 * (docs/guest-channel.md "The guest side in minivisor", "The nested hop"): L1 runs minivisor, whose
 * agent (guests/minivisor/agent-l1.c) applies the seed's commands to minivisor's network state,
 * and relays `Invoke-Command -VMName L2` inside the block to the agent in L2
 * (guests/minivisor/l2agent.c) through the VMCALL mailbox. Asserts what the user sees: objects
 * with PSComputerName, PowerShell's error records, and what L2 prints once its address is set.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openService } from '../management/service.js';
import { BufferHost, createSession } from './index.js';

const minivisor = fileURLToPath(new URL('../../../guests/images/minivisor.elf', import.meta.url));

interface Env { run(script: string): Promise<string>; serial(): string; waitSerial(pat: RegExp): Promise<void> }

async function withL1(cmdline: string, body: (e: Env) => Promise<void>, expose = true): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'nestvisor-nested-agent-'));
  let serial = '';
  const svc = openService({ home, guestAgentTimeoutMs: 20_000, macPrefixByte: 0x0b, serialOut: (_vm, b) => { serial += Buffer.from(b).toString('latin1'); } });
  const host = new BufferHost();
  const shell = createSession(svc.controller, host);
  const run = async (script: string) => { host.text = ''; await shell.run(script); return host.text; };
  const waitSerial = async (pat: RegExp) => {
    const t0 = Date.now();
    while (!pat.test(serial)) {
      if (Date.now() - t0 > 60_000) assert.fail(`timed out waiting for ${pat}:\n${serial}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  try {
    await run(['New-VMSwitch -Name Lab -SwitchType Private | Out-Null',
      'New-VM -Name L1 -MemoryStartupBytes 64MB -Generation 2 -Version 9.0 -SwitchName Lab | Out-Null',
      expose ? 'Set-VMProcessor -VMName L1 -ExposeVirtualizationExtensions $true' : '',
      `Set-NestvisorVMBootImage -VMName L1 -Path '${minivisor}' -CommandLine '${cmdline}'`,
      'Start-VM -Name L1'].join('\n'));
    await body({ run, serial: () => serial, waitSerial });
  } finally {
    await svc.close();
    rmSync(home, { recursive: true, force: true });
  }
}

const record = (message: string, category: string, fqid: string, computer: string) =>
  `${message}\n    + CategoryInfo          : ${category}\n    + FullyQualifiedErrorId : ${fqid}\n    + PSComputerName        : ${computer}\n`;

test('PowerShell Direct into minivisor: the seed\'s commands inside L1 and, nested, inside L2', { timeout: 180_000 }, async () => {
  await withL1('stay l2idle', async ({ run, serial, waitSerial }) => {
    await waitSerial(/\[L2\] waiting for an IP configuration/);
    // Get-NetAdapter inside L1: its NIC "Ethernet" carries the MAC L0 gave L1's adapter
    const mac = (await run('(Get-VMNetworkAdapter -VMName L1).MacAddress')).trim();
    const nics = await run('Invoke-Command -VMName L1 -ScriptBlock { Get-NetAdapter }');
    assert.match(nics, new RegExp(`\\nEthernet Microsoft Hyper-V Network Adapter +2 Up +${mac.replace(/(..)(?!$)/g, '$1-')} 10 Gbps +L1\\n`));

    const nat = await run(`Invoke-Command -VMName L1 -ScriptBlock {
New-VMSwitch -Name VmNAT -SwitchType Internal
New-NetNat –Name LocalNAT –InternalIPInterfaceAddressPrefix “192.168.100.0/24”
Get-NetAdapter "vEthernet (VmNat)" | New-NetIPAddress -IPAddress 192.168.100.1 -AddressFamily IPv4 -PrefixLength 24
}`);
    assert.match(nat, /\nVmNAT Internal {34}L1\n/);
    assert.match(nat, /InternalIPInterfaceAddressPrefix : 192\.168\.100\.0\/24\n/);
    assert.match(nat, /IPAddress {9}: 192\.168\.100\.1\nInterfaceIndex {4}: 3\nInterfaceAlias {4}: vEthernet \(VmNAT\)\n/);
    // the state persists in minivisor: "vEthernet (VmNAT)" is now an adapter of L1, with its address
    const after = await run('Invoke-Command -VMName L1 { Get-NetAdapter } | Select-Object Name, ifIndex, PSComputerName');
    assert.match(after, /\nEthernet +2 L1\nvEthernet \(VmNAT\) +3 L1\n/);
    const ip = await run('Invoke-Command -VMName L1 { Get-NetIPAddress -InterfaceAlias "vEthernet (VmNAT)" } | Select-Object IPAddress, PrefixLength, PSComputerName');
    assert.match(ip, /\n192\.168\.100\.1 +24 L1\n/);

    // the cmdlets' own errors, raised in L1
    const errs = await run(`Invoke-Command -VMName L1 -ScriptBlock {
New-VMSwitch -Name VmNAT -SwitchType Internal
New-NetIPAddress -InterfaceAlias "vEthernet (Nope)" -IPAddress 192.168.100.9 -PrefixLength 24
New-NetNat -Name Other -InternalIPInterfaceAddressPrefix 10.1.2.3/33
New-NetIPAddress -InterfaceAlias Ethernet -IPAddress 192.168.100.1 -PrefixLength 24
New-NetIPAddress -InterfaceAlias Ethernet -IPAddress 10.0.0.5 -PrefixLength 24 -DefaultGateway 10.0.1.1
New-NetIPAddress -InterfaceIndex 2 -IPAddress 10.0.0.6 -PrefixLength 33
}`);
    assert.equal(errs, [
      record("Failed while adding virtual Ethernet switch.\nA virtual switch named 'VmNAT' already exists.",
        'ResourceExists: (VmNAT:String) [New-VMSwitch], VirtualizationException', 'ObjectExists,Microsoft.HyperV.PowerShell.Commands.NewVMSwitch', 'L1'),
      record("No MSFT_NetAdapter objects found with property 'InterfaceAlias' equal to 'vEthernet (Nope)'.  Verify the value of the property and retry.",
        'ObjectNotFound: (vEthernet (Nope):String) [New-NetIPAddress], CimJobException', 'CmdletizationQuery_NotFound_InterfaceAlias,New-NetIPAddress', 'L1'),
      record("The parameter is incorrect. '10.1.2.3/33' is not an IPv4 prefix such as 192.168.100.0/24.",
        'InvalidArgument: (MSFT_NetNat:String) [New-NetNat], CimException', 'Windows System Error 87,New-NetNat', 'L1'),
      record('Instance MSFT_NetIPAddress already exists',
        'ResourceExists: (MSFT_NetIPAddress:String) [New-NetIPAddress], CimException', 'Windows System Error 5010,New-NetIPAddress', 'L1'),
      record("The parameter is incorrect. The default gateway '10.0.1.1' is not a valid address on 10.0.0.0/24 other than '10.0.0.5'.",
        'InvalidArgument: (MSFT_NetIPAddress:String) [New-NetIPAddress], CimException', 'Windows System Error 87,New-NetIPAddress', 'L1'),
      record('The parameter is incorrect. The prefix length 33 is not valid for IPv4 (0-32).',
        'InvalidArgument: (MSFT_NetIPAddress:String) [New-NetIPAddress], CimException', 'Windows System Error 87,New-NetIPAddress', 'L1'),
    ].join(''));

    // the nested hop: the seed's commands for the nested VM, run by L2's agent
    const l2 = await run(`Invoke-Command -VMName L1 { Invoke-Command -VMName L2 {
Get-NetAdapter "Ethernet" | New-NetIPAddress -IPAddress 192.168.100.2 -DefaultGateway 192.168.100.1 -AddressFamily IPv4 -PrefixLength 24
Netsh interface ip add dnsserver “Ethernet” address=192.168.100.1
} }`);
    assert.match(l2, /IPAddress {9}: 192\.168\.100\.2\nInterfaceIndex {4}: 2\nInterfaceAlias {4}: Ethernet\n[\s\S]*PSComputerName {4}: L2\n/);
    await waitSerial(/\[L2\] nic: .* ip 192\.168\.100\.2\/24 gw 192\.168\.100\.1/);
    const dns = await run('Invoke-Command -VMName L1 { Invoke-Command -VMName L2 { Get-DnsClientServerAddress } }');
    assert.match(dns, /Ethernet +2 IPv4 +\{192\.168\.100\.1\} L2\n/);
    const l2ip = await run('Invoke-Command -VMName L1 { Invoke-Command -VMName L2 { Get-NetIPAddress } } | Select-Object IPAddress, PrefixLength, PSComputerName');
    assert.match(l2ip, /\n192\.168\.100\.2 +24 L2\n/);
    // errors raised inside L2 come back as L2's records; a name L1 does not run is L1's error
    const l2errs = await run('Invoke-Command -VMName L1 { Invoke-Command -VMName L2 { New-NetIPAddress -InterfaceAlias Wi-Fi -IPAddress 10.0.0.2; New-VMSwitch -Name X -SwitchType Private } }; Invoke-Command -VMName L1 { Invoke-Command -VMName L9 { Get-NetIPAddress } }');
    assert.equal(l2errs, [
      record("No MSFT_NetAdapter objects found with property 'InterfaceAlias' equal to 'Wi-Fi'.  Verify the value of the property and retry.",
        'ObjectNotFound: (Wi-Fi:String) [New-NetIPAddress], CimJobException', 'CmdletizationQuery_NotFound_InterfaceAlias,New-NetIPAddress', 'L2'),
      record("The term 'New-VMSwitch' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.",
        'ObjectNotFound: (New-VMSwitch:String) [], CommandNotFoundException', 'CommandNotFoundException', 'L2'),
      record('The input VMName L9 does not resolve to a single virtual machine.',
        'InvalidArgument: (:) [Invoke-Command], ArgumentException', 'InvalidVMNameNotSingle,Microsoft.PowerShell.Commands.InvokeCommandCommand', 'L9'),
    ].join(''));
    assert.doesNotMatch(serial(), /unexpected VM exit|failed/);
  });
});

test('Nested Invoke-Command to an L2 that has halted: PowerShell\'s "remote session might have ended" for it, and L1 still answers', { timeout: 180_000 }, async () => {
  await withL1('stay l2vmname=Nested', async ({ run, waitSerial }) => {
    await waitSerial(/minivisor: staying in VMX operation/);
    const out = await run('Invoke-Command -VMName L1 { Invoke-Command -VMName Nested { Get-NetIPAddress } }');
    assert.equal(out, record('An error has occurred which Windows PowerShell cannot handle. A remote session might have ended.',
      'InvalidOperation: (:) [Invoke-Command], PSRemotingDataStructureException', 'CreateRemoteRunspaceForVMFailed,Microsoft.PowerShell.Commands.InvokeCommandCommand', 'Nested'));
    // minivisor's L2 is called Nested here (l2vmname=), so "L2" names no VM of L1
    assert.match(await run('Invoke-Command -VMName L1 { Invoke-Command -VMName L2 { Get-NetIPAddress } }'),
      /^The input VMName L2 does not resolve to a single virtual machine\.\n[^]*InvalidVMNameNotSingle/);
    const l1 = await run('Invoke-Command -VMName L1 { New-VMSwitch -Name VmNAT -SwitchType Internal }');
    assert.match(l1, /\nVmNAT Internal {34}L1\n/);
  });
});

test('minivisor without VT-x and "stay": L1 stays Running (halted) until turned off, as on Hyper-V', { timeout: 60_000 }, async () => {
  await withL1('stay', async ({ run, waitSerial }) => {
    await waitSerial(/minivisor: VT-x not available.*\n/);
    await new Promise((r) => setTimeout(r, 300));
    assert.match(await run('Get-VM -Name L1 | Select-Object Name, State'), /L1 +Running/);
    const refused = await run('Set-VMProcessor -VMName L1 -ExposeVirtualizationExtensions $true');
    assert.match(refused, /'L1' is Running\. Turn off the virtual machine and try again\./);
    await run('Stop-VM -Name L1 -TurnOff -Force');
    assert.match(await run('Get-VM -Name L1 | Select-Object Name, State'), /L1 +Off/);
  }, false);
});

test('minivisor without VT-x and "stay": PowerShell Direct still reaches L1 (Get-NetAdapter), and a nested request to L2 ends as for a silent VM', { timeout: 120_000 }, async () => {
  await withL1('stay', async ({ run, serial, waitSerial }) => {
    await waitSerial(/minivisor: staying up without VT-x \(serving the balloon\)\n/);
    assert.match(serial(), /minivisor: PowerShell Direct agent on vsock port 5985/);
    assert.match(serial(), /minivisor: VT-x not available \(CPUID\.1:ECX\.VMX = 0\)\n/);
    assert.doesNotMatch(serial(), /\[L2\]/);
    const mac = (await run('(Get-VMNetworkAdapter -VMName L1).MacAddress')).trim();
    assert.match(mac, /^[0-9A-F]{12}$/);
    const fields = await run('Invoke-Command -VMName L1 { Get-NetAdapter } | Select-Object Name, InterfaceDescription, ifIndex, Status, MacAddress, LinkSpeed, PSComputerName | Format-List');
    assert.match(fields, new RegExp(['Name +: Ethernet', 'InterfaceDescription +: Microsoft Hyper-V Network Adapter', 'ifIndex +: 2', 'Status +: Up',
      `MacAddress +: ${mac.replace(/(..)(?!$)/g, '$1-')}`, 'LinkSpeed +: 10 Gbps', 'PSComputerName +: L1'].join('\n')));
    assert.equal(await run('Invoke-Command -VMName L1 { Invoke-Command -VMName L2 { Get-NetAdapter } }'),
      record('An error has occurred which Windows PowerShell cannot handle. A remote session might have ended.',
        'InvalidOperation: (:) [Invoke-Command], PSRemotingDataStructureException', 'CreateRemoteRunspaceForVMFailed,Microsoft.PowerShell.Commands.InvokeCommandCommand', 'L2'));
    // L1 keeps answering and stays Running
    assert.match(await run('Invoke-Command -VMName L1 { Get-NetAdapter "Ethernet" }'), /\nEthernet Microsoft Hyper-V Network Adapter +2 Up .* L1\n/);
    assert.match(await run('Get-VM -Name L1 | Select-Object Name, State'), /L1 +Running/);
  }, false);
});

test('A misbehaving L2 agent: minivisor refuses bad mailbox calls and a malformed answer, the host sees "remote session might have ended" for L2, and the next request works', { timeout: 180_000 }, async () => {
  await withL1('stay l2idle l2agentcheck', async ({ run, serial, waitSerial }) => {
    await waitSerial(/\[L2\] waiting for an IP configuration/);
    const nic = /Ethernet Microsoft Hyper-V Network Adapter +2 Up +00-15-5D-00-02-02 10 Gbps +L2\n/;
    assert.match(await run('Invoke-Command -VMName L1 { Invoke-Command -VMName L2 { Get-NetAdapter } }'), nic);
    assert.match(serial(), /\[L2\] agent check: request 1: 6 bad mailbox calls of 6 refused; the RESPONSE relayed\n/);
    assert.equal(await run('Invoke-Command -VMName L1 { Invoke-Command -VMName L2 { Get-NetAdapter } }'),
      record('An error has occurred which Windows PowerShell cannot handle. A remote session might have ended.',
        'InvalidOperation: (:) [Invoke-Command], PSRemotingDataStructureException', 'CreateRemoteRunspaceForVMFailed,Microsoft.PowerShell.Commands.InvokeCommandCommand', 'L2'));
    await waitSerial(/\[L2\] agent check: request 2: 7 bad mailbox calls of 7 refused; a malformed RESPONSE refused\n/);
    // L1's own session and the mailbox are intact
    assert.match(await run('Invoke-Command -VMName L1 { Invoke-Command -VMName L2 { Get-NetAdapter } }'), nic);
    assert.match(await run('Invoke-Command -VMName L1 { Get-NetAdapter "Ethernet" }'), /Ethernet Microsoft Hyper-V Network Adapter +2 Up .* L1\n/);
  });
});
