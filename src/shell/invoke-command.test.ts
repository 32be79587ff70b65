/**
 * PowerShell Direct end to end: the shell binds Invoke-Command's script block on the host,
 * management sends it over the VM's virtio-vsock guest channel, guests/agent-demo answers
 * from its own model, and the results come back as objects with PSComputerName and as
 * remote error records. Plus PowerShell's errors for a VM that is not running, an unknown VM,
 * and a guest without an agent (docs/guest-channel.md).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openService } from '../management/service.js';
import { BufferHost, createSession } from './index.js';

const AGENT_DEMO = fileURLToPath(new URL('../../../guests/images/agent-demo.elf', import.meta.url));

async function withShell(timeoutMs: number, f: (run: (script: string) => Promise<string>) => Promise<void>): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'nestvisor-psdirect-'));
  const svc = openService({ home, guestAgentTimeoutMs: timeoutMs, macPrefixByte: 0x0a });
  try {
    const host = new BufferHost();
    const session = createSession(svc.controller, host);
    await f(async (script) => { host.text = ''; await session.run(script); return host.text; });
  } finally {
    await svc.close();
    rmSync(home, { recursive: true, force: true });
  }
}

const NEW_VM = (name: string, cmdline = '') => `New-VM -Name ${name} -MemoryStartupBytes 128MB | Out-Null
Set-NestvisorVMBootImage -VMName ${name} -Path "${AGENT_DEMO}" -CommandLine "${cmdline}"
`;

test('Invoke-Command -VMName runs the seed\'s intermediate-VM commands in agent-demo and renders the results', async () => {
  await withShell(20_000, async (run) => {
    await run(NEW_VM('L1') + 'Start-VM -Name L1');
    const out = await run(`Invoke-Command -VMName L1 -ScriptBlock {
New-VMSwitch -Name VmNAT -SwitchType Internal
New-NetNat –Name LocalNAT –InternalIPInterfaceAddressPrefix “192.168.100.0/24”
Get-NetAdapter "vEthernet (VmNat)" | New-NetIPAddress -IPAddress 192.168.100.1 -AddressFamily IPv4 -PrefixLength 24
Netsh interface ip add dnsserver “Ethernet” address=192.168.100.1
}`);
    assert.match(out, /\nName {2}SwitchType NetAdapterInterfaceDescription PSComputerName\n-{4} {2}-{10} -{30} -{14}\nVmNAT Internal {34}L1\n/);
    assert.match(out, /InternalIPInterfaceAddressPrefix : 192\.168\.100\.0\/24/);
    assert.match(out, /IPAddress {9}: 192\.168\.100\.1\nInterfaceIndex {4}: 3\nInterfaceAlias {4}: vEthernet \(VmNAT\)/);
    assert.match(out, /PSComputerName {4}: L1/);
    // the guest kept the state: a second session sees it
    const check = await run('Invoke-Command -VMName L1 { Get-DnsClientServerAddress -InterfaceAlias Ethernet }');
    assert.match(check, /Ethernet +2 IPv4 +\{192\.168\.100\.1\} L1/);
    // errors happen in the guest and come back as remote records; the rest of the block goes on
    const errs = await run(`Invoke-Command -VMName L1 -ScriptBlock {
Get-VMSwitch -Name Nope
New-NetNat -Name Other -InternalIPInterfaceAddressPrefix 192.168.100.0/25
Get-NetAdapter -Name Nope
New-VMSwitch -Name X -SwitchTyp Internal -Bogus 1
Get-ChildItem
Netsh interface ip add dnsserver “Ethernet” address=192.168.100.1
Get-VMSwitch
}`);
    assert.equal(errs, [
      'Hyper-V was unable to find a virtual switch with name "Nope".',
      '    + CategoryInfo          : InvalidArgument: (Nope:String) [Get-VMSwitch], VirtualizationException',
      '    + FullyQualifiedErrorId : InvalidParameter,Microsoft.HyperV.PowerShell.Commands.GetVMSwitch',
      '    + PSComputerName        : L1',
      "The parameter is incorrect. The internal prefix 192.168.100.0/25 overlaps 192.168.100.0/24 of NAT 'LocalNAT'; NAT prefixes may not overlap.",
      '    + CategoryInfo          : InvalidArgument: (MSFT_NetNat:String) [New-NetNat], CimException',
      '    + FullyQualifiedErrorId : Windows System Error 87,New-NetNat',
      '    + PSComputerName        : L1',
      "No MSFT_NetAdapter objects found with property 'Name' equal to 'Nope'.  Verify the value of the property and retry.",
      '    + CategoryInfo          : ObjectNotFound: (Nope:String) [Get-NetAdapter], CimJobException',
      '    + FullyQualifiedErrorId : CmdletizationQuery_NotFound_Name,Get-NetAdapter',
      '    + PSComputerName        : L1',
      "A parameter cannot be found that matches parameter name 'Bogus'.",
      '    + CategoryInfo          : InvalidArgument: (:) [New-VMSwitch], ParameterBindingException',
      '    + FullyQualifiedErrorId : NamedParameterNotFound,Microsoft.HyperV.PowerShell.Commands.NewVMSwitch',
      '    + PSComputerName        : L1',
      "The term 'Get-ChildItem' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.",
      '    + CategoryInfo          : ObjectNotFound: (Get-ChildItem:String) [], CommandNotFoundException',
      '    + FullyQualifiedErrorId : CommandNotFoundException',
      '    + PSComputerName        : L1',
      'The object is already in the list.',
      '',
      'Name  SwitchType NetAdapterInterfaceDescription PSComputerName',
      '----  ---------- ------------------------------ --------------',
      'VmNAT Internal                                  L1',
      '', '',
    ].join('\n'));
    // the nested hop: agent-demo runs no VMs, so L2 does not resolve there
    const nested = await run('Invoke-Command -VMName L1 -ScriptBlock { Invoke-Command -VMName L2 -ScriptBlock { Get-NetIPAddress } }');
    assert.equal(nested, [
      'The input VMName L2 does not resolve to a single virtual machine.',
      '    + CategoryInfo          : InvalidArgument: (:) [Invoke-Command], ArgumentException',
      '    + FullyQualifiedErrorId : InvalidVMNameNotSingle,Microsoft.PowerShell.Commands.InvokeCommandCommand',
      '    + PSComputerName        : L2', ''].join('\n'));
  });
});

test('Invoke-Command: PowerShell\'s errors for a VM that is off, an unknown VM, and a guest without an agent', async () => {
  await withShell(400, async (run) => {
    await run(NEW_VM('Off1') + NEW_VM('Mute', 'no-agent') + 'Start-VM -Name Mute');
    const off = await run('Invoke-Command -VMName Off1 -ScriptBlock { Get-VMSwitch } -Credential $null');
    assert.equal(off, [
      'Invoke-Command : The virtual machine Off1 is not in running state.',
      'At line:1 char:1',
      '+ Invoke-Command -VMName Off1 -ScriptBlock { Get-VMSwitch } -Credential $null',
      `+ ${'~'.repeat('Invoke-Command -VMName Off1 -ScriptBlock { Get-VMSwitch } -Credential $null'.length)}`,
      '    + CategoryInfo          : InvalidArgument: (:) [Invoke-Command], ArgumentException',
      '    + FullyQualifiedErrorId : InvalidVMState,Microsoft.PowerShell.Commands.InvokeCommandCommand', ''].join('\n'));
    const unknown = await run('Invoke-Command -VMName Nobody { Get-VMSwitch }');
    assert.match(unknown, /^Invoke-Command : The input VMName Nobody does not resolve to a single virtual machine\.\n[^]*FullyQualifiedErrorId : InvalidVMNameNotSingle,Microsoft\.PowerShell\.Commands\.InvokeCommandCommand\n$/);
    const mute = await run('Invoke-Command -VMName Mute { Get-VMSwitch }');
    assert.equal(mute, [
      'Invoke-Command : An error has occurred which Windows PowerShell cannot handle. A remote session might have ended.',
      'At line:1 char:1',
      '+ Invoke-Command -VMName Mute { Get-VMSwitch }',
      `+ ${'~'.repeat('Invoke-Command -VMName Mute { Get-VMSwitch }'.length)}`,
      '    + CategoryInfo          : InvalidOperation: (:) [Invoke-Command], PSRemotingDataStructureException',
      '    + FullyQualifiedErrorId : CreateRemoteRunspaceForVMFailed,Microsoft.PowerShell.Commands.InvokeCommandCommand', ''].join('\n'));
  });
});
