/**
 * `nestvisor demo` end to end (issue 8): runs the whole narration with real VMs and checks the
 * lines a user sees, one group per section of the seed document; runDemo itself throws when an
 * observed outcome (serial line, error record, switch counter, page fetched by L2) is not the
 * expected one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runDemo } from './demo.js';

test('nestvisor demo plays the seed document and every outcome matches', { timeout: 240_000 }, async () => {
  let out = '';
  await runDemo({ write: (s) => { out += s; } });
  // prerequisites
  assert.match(out, /PS> Get-VMHost \| Format-List CpuVendor, VtxSupported, EptSupported/);
  assert.match(out, /VtxSupported\s+: True/);
  // enabling nesting: only while Off; L1 without exposure keeps running with minivisor halted
  assert.match(out, /\[L1 COM1\] minivisor: VT-x not available \(CPUID\.1:ECX\.VMX = 0\)/);
  assert.match(out, /PS> Get-VM -Name L1 \| Select-Object Name, State\n\nName State\n---- -----\nL1 {3}Running\n/);
  assert.match(out, /PS> Set-VMProcessor -VMName L1 -ExposeVirtualizationExtensions \$true\nSet-VMProcessor : [^\n]*\n[^\n]*'L1' is Running\. Turn off the virtual machine and try again\./);
  assert.match(out, /PS> Set-VMProcessor -VMName L1 -ExposeVirtualizationExtensions \$true\nPS> \(Get-VMProcessor -VMName L1\)\.ExposeVirtualizationExtensions\nTrue\n/);
  assert.match(out, /\[L1 COM1\] \[L2\] Hello from L2/);
  // memory
  assert.match(out, /PS> Set-VMMemory -VMName L1 -StartupBytes 128MB\nSet-VMMemory : Failed to modify device 'Memory'\.\nThe memory of 'L1' cannot be changed while a hypervisor is running inside it/);
  // MAC address spoofing: L2 bridged by minivisor, dropped at L0, then fetching the page
  assert.match(out, /PS> Invoke-Command -VMName L1 -ScriptBlock \{ New-VMSwitch -Name VmBridge -NetAdapterName "Ethernet" \}\n\nName {5}SwitchType[^\n]*\n[^\n]*\nVmBridge External {3}Microsoft Hyper-V Network Adapter L1\n/);
  assert.match(out, /L1\/Network Adapter +\d+ +0 +[1-9]\d*\n/);
  assert.match(out, /PS> Get-VMNetworkAdapter -VMName L1 \| Set-VMNetworkAdapter -MacAddressSpoofing On\n/);
  // NAT inside L1 with the seed's exact commands, through PowerShell Direct, spoofing Off
  assert.match(out, /New-NetNat –Name LocalNAT –InternalIPInterfaceAddressPrefix “192\.168\.100\.0\/24”\n/);
  assert.match(out, /InterfaceAlias {4}: vEthernet \(VmNAT\)\n[\s\S]*PSComputerName {4}: L1\n/);
  assert.match(out, /PS> Invoke-Command -VMName L1 \{ Invoke-Command -VMName L2 \{ Get-NetAdapter "Ethernet" \| New-NetIPAddress -IPAddress 192\.168\.100\.2 -DefaultGateway 192\.168\.100\.1 -AddressFamily IPv4 -PrefixLength 24\n {2}Netsh interface ip add dnsserver “Ethernet” address=192\.168\.100\.1 \} \}\n/);
  assert.match(out, /IPAddress {9}: 192\.168\.100\.2\n[\s\S]*PSComputerName {4}: L2\n/);
  assert.equal(out.match(/\[L1 COM1\] \[L2\] status: HTTP\/1\.1 200 OK/g)?.length, 2);
  assert.match(out, /page received by L2: "Hello from the L0 host/);
  assert.match(out, /Ethernet +2 IPv4 +\{192\.168\.100\.1\} L2\n/);
  assert.match(out, /VMName MacAddressSpoofing\n------ ------------------\nL1 {5}Off\n/);
  // disabling nesting
  assert.match(out, /PS> \(Get-VMProcessor -VMName L1\)\.ExposeVirtualizationExtensions\nFalse\n/);
  assert.match(out, /Demo complete/);
});
