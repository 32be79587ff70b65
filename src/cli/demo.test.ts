/**
 * `nestvisor demo` end to end (issue 8): runs the whole narration with real VMs and checks the
 * lines a user sees; runDemo itself throws when an observed outcome is not the expected one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runDemo } from './demo.js';

test('nestvisor demo plays the seed document and every outcome matches', { timeout: 120_000 }, async () => {
  let out = '';
  const t0 = Date.now();
  await runDemo({ write: (s) => { out += s; } });
  const secs = (Date.now() - t0) / 1000;
  assert.ok(secs < 90, `demo took ${secs} s`);
  assert.match(out, /PS> Get-VMHost \| Format-List CpuVendor, VtxSupported, EptSupported/);
  assert.match(out, /VtxSupported\s+: True/);
  assert.match(out, /\[L1 COM1\] minivisor: VT-x not available \(CPUID\.1:ECX\.VMX = 0\)/);
  assert.match(out, /PS> Set-VMProcessor -VMName L1 -ExposeVirtualizationExtensions \$true\n/);
  assert.match(out, /\[L1 COM1\] \[L2\] Hello from L2/);
  assert.match(out, /'L1' is Running\. Turn off the virtual machine and try again\./);
  assert.match(out, /PS> Set-VMMemory -VMName L1 -StartupBytes 128MB\nSet-VMMemory : Failed to modify device 'Memory'\.\nThe memory of 'L1' cannot be changed while a hypervisor is running inside it/);
  assert.match(out, /Bridge\/Network Adapter\s+\d+\s+[1-9]\d*\n/);
  assert.match(out, /PS> Get-VMNetworkAdapter -VMName Bridge \| Set-VMNetworkAdapter -MacAddressSpoofing On/);
  assert.match(out, /\[Bridge COM1\] 3\/3 echo replies to the bridged MAC/);
  assert.match(out, /PS> New-NetNat –Name LocalNAT –InternalIPInterfaceAddressPrefix “192\.168\.100\.0\/24”/);
  assert.match(out, /\[Web COM1\] status: HTTP\/1\.1 200 OK/);
  assert.match(out, /page received by the VM: "Hello from the L0 host/);
  assert.match(out, /Not built yet \(issue 8\)/);
  assert.match(out, /PS> \(Get-VMProcessor -VMName L1\)\.ExposeVirtualizationExtensions\nFalse\n/);
  assert.match(out, /Demo complete/);
});
