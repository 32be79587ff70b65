import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakePartitionHost, testService } from './testing.js';
import type { Action } from './actions.js';

const GB = 1024 ** 3;
const MB = 1024 ** 2;

async function setup() {
  const host = new FakePartitionHost();
  const svc = testService(host);
  const run = (a: Action) => svc.controller.apply(a);
  return { host, svc, run };
}

test('nesting: only while Off, $false turns it off again (seed: Configurer / Désactiver)', async () => {
  const { host, svc, run } = await setup();
  try {
    await run({ kind: 'NewVM', name: 'L1', memoryStartupBytes: 4 * GB });
    let r = await run({ kind: 'SetVMProcessor', vm: { names: ['L1'] }, exposeVirtualizationExtensions: true });
    assert.equal(r.errors.length, 0);
    r = await run({ kind: 'SetBootImage', vm: { names: ['L1'] }, path: '/k.elf' });
    r = await run({ kind: 'StartVM', vm: { names: ['L1'] } });
    assert.equal(r.errors.length, 0);
    assert.equal(host.partitions.get('L1')!.config.exposeVirtualizationExtensions, true);
    r = await run({ kind: 'SetVMProcessor', vm: { names: ['L1'] }, exposeVirtualizationExtensions: false });
    assert.match(r.errors[0].message, /^Failed to modify device 'Processor'\./);
    await run({ kind: 'StopVM', vm: { names: ['L1'] }, force: false, turnOff: false, save: false });
    r = await run({ kind: 'SetVMProcessor', vm: { names: ['L1'] }, exposeVirtualizationExtensions: false });
    assert.equal(r.errors.length, 0);
    r = await run({ kind: 'GetVMProcessor', vm: { names: ['L1'] } });
    assert.equal(r.output[0].props.ExposeVirtualizationExtensions, false);
  } finally { await svc.dispose(); }
});

test('nesting refused below version 8.0 and on AMD / no-EPT profiles', async () => {
  const { svc, run } = await setup();
  try {
    await run({ kind: 'NewVM', name: 'Old', version: '7.0' });
    let r = await run({ kind: 'SetVMProcessor', vm: { names: ['Old'] }, exposeVirtualizationExtensions: true });
    assert.match(r.errors[0].message, /requires virtual machine configuration version 8\.0/);
    await run({ kind: 'UpdateVMVersion', vm: { names: ['Old'] } });
    r = await run({ kind: 'SetVMProcessor', vm: { names: ['Old'] }, exposeVirtualizationExtensions: true });
    assert.equal(r.errors.length, 0);
    await run({ kind: 'SetHostCpuProfile', profile: 'AmdSvm' });
    await run({ kind: 'NewVM', name: 'Amd' });
    r = await run({ kind: 'SetVMProcessor', vm: { names: ['Amd'] }, exposeVirtualizationExtensions: true });
    assert.match(r.errors[0].message, /AuthenticAMD/);
    r = await run({ kind: 'StartVM', vm: { names: ['Old'] } });
    assert.match(r.errors[0].message, /this platform does not support nested virtualization\. Consider not exposing/);
    await run({ kind: 'SetHostCpuProfile', profile: 'IntelVtxNoEpt' });
    r = await run({ kind: 'SetVMProcessor', vm: { names: ['Amd'] }, exposeVirtualizationExtensions: true });
    assert.match(r.errors[0].message, /without EPT/);
  } finally { await svc.dispose(); }
});

test('memory cannot change while the guest has VMX on; it can without', async () => {
  const { host, svc, run } = await setup();
  try {
    await run({ kind: 'NewVM', name: 'L1', memoryStartupBytes: 4 * GB });
    await run({ kind: 'SetBootImage', vm: { names: ['L1'] }, path: '/k.elf' });
    await run({ kind: 'StartVM', vm: { names: ['L1'] } });
    let r = await run({ kind: 'SetVMMemory', vm: { names: ['L1'] }, startupBytes: 6 * GB });
    assert.equal(r.errors.length, 0);
    assert.equal(host.partitions.get('L1')!.memoryBytes, 6 * GB);
    host.setVmx('L1', true);
    r = await run({ kind: 'SetVMMemory', vm: { names: ['L1'] }, startupBytes: 8 * GB });
    assert.match(r.errors[0].message, /cannot be changed while a hypervisor is running inside it/);
    assert.equal(host.partitions.get('L1')!.memoryBytes, 6 * GB);
    r = await run({ kind: 'GetVMMemory', vm: { names: ['L1'] } });
    assert.equal(r.output[0].props.Startup, 6 * GB);
  } finally { await svc.dispose(); }
});

test('memory rules: 2 MB multiple, min <= startup <= max, buffer, priority', async () => {
  const { svc, run } = await setup();
  try {
    await run({ kind: 'NewVM', name: 'V' });
    const bad: Array<[Action, RegExp]> = [
      [{ kind: 'SetVMMemory', vm: { names: ['V'] }, startupBytes: 1023 * MB }, /multiple of 2 MB/],
      [{ kind: 'SetVMMemory', vm: { names: ['V'] }, dynamicMemoryEnabled: true, minimumBytes: 2 * GB }, /minimum amount of memory/],
      [{ kind: 'SetVMMemory', vm: { names: ['V'] }, buffer: 4 }, /between 5 and 2000/],
      [{ kind: 'SetVMMemory', vm: { names: ['V'] }, priority: 101 }, /between 0 and 100/],
      [{ kind: 'SetVMMemory', vm: { names: ['V'] }, startupBytes: 64 * GB }, /exceeds the memory available/],
    ];
    for (const [a, re] of bad) {
      const r = await run(a);
      assert.match(r.errors[0]?.message ?? '', re);
    }
    const r = await run({ kind: 'GetVMMemory', vm: { names: ['V'] } });
    assert.deepEqual([r.output[0].props.Startup, r.output[0].props.DynamicMemoryEnabled, r.output[0].props.Buffer], [GB, false, 20]);
  } finally { await svc.dispose(); }
});

test('network: MAC pool 00155D, internal switch vEthernet, NAT overlap, duplicate IP, switch in use', async () => {
  const { svc, run } = await setup();
  try {
    await run({ kind: 'NewVMSwitch', name: 'VmNAT', switchType: 'Internal' });
    const vm = await run({ kind: 'NewVM', name: 'V', switchName: 'VmNAT' });
    const nic = (vm.output[0].props.NetworkAdapters as Array<{ props: Record<string, unknown> }>)[0];
    assert.match(String(nic.props.MacAddress), /^00155D0A0001$/);
    const ad = await run({ kind: 'GetNetAdapter', names: ['vEthernet (VmNat)'] });
    assert.equal(ad.output[0].props.InterfaceDescription, 'Hyper-V Virtual Ethernet Adapter');
    assert.equal((await run({ kind: 'NewNetNat', name: 'LocalNAT', internalIPInterfaceAddressPrefix: '192.168.100.0/24' })).errors.length, 0);
    assert.match((await run({ kind: 'NewNetNat', name: 'Other', internalIPInterfaceAddressPrefix: '192.168.0.0/16' })).errors[0].message, /overlaps/);
    assert.equal((await run({ kind: 'NewNetIPAddress', interfaceAlias: 'vEthernet (VmNat)', ipAddress: '192.168.100.1', prefixLength: 24 })).errors.length, 0);
    assert.equal((await run({ kind: 'NewNetIPAddress', interfaceAlias: 'vEthernet (VmNat)', ipAddress: '192.168.100.1', prefixLength: 24 })).errors[0].message,
      'Instance MSFT_NetIPAddress already exists');
    assert.match((await run({ kind: 'RemoveVMSwitch', names: ['VmNAT'] })).errors[0].message, /in use/);
    await run({ kind: 'DisconnectVMNetworkAdapter', nics: { vm: { names: ['V'] } } });
    assert.equal((await run({ kind: 'RemoveVMSwitch', names: ['VmNAT'] })).errors.length, 0);
    assert.equal((await run({ kind: 'GetNetIPAddress' })).output.length, 0);
  } finally { await svc.dispose(); }
});

test('start is honest: no boot image and no machine factory both refuse', async () => {
  const { MachinePartitionHost } = await import('../hypervisor/machine-host.js');
  const svc = testService(new MachinePartitionHost({ factory: null }));
  try {
    await svc.controller.apply({ kind: 'NewVM', name: 'V' });
    let r = await svc.controller.apply({ kind: 'StartVM', vm: { names: ['V'] } });
    assert.match(r.errors[0].message, /'V' failed to start\.\nThe virtual machine 'V' has no boot image/);
    await svc.controller.apply({ kind: 'SetBootImage', vm: { names: ['V'] }, path: '/nonexistent' });
    r = await svc.controller.apply({ kind: 'StartVM', vm: { names: ['V'] } });
    assert.match(r.errors[0].message, /No machine emulator is available/);
    r = await svc.controller.apply({ kind: 'GetVM', vm: { names: ['V'] } });
    assert.equal(r.output[0].props.State, 'Off');
  } finally { await svc.dispose(); }
});

test('a VM running in another live process counts as Running here; a dead owner is ignored', async () => {
  const { svc, run } = await setup();
  try {
    const created = await run({ kind: 'NewVM', name: 'Shared' });
    const id = String(created.output[0].props.Id);
    svc.inventory.transact((s) => { s.runtime.push({ vmId: id, pid: process.ppid, startedAt: 0 }); });
    let r = await run({ kind: 'GetVM', vm: { names: ['Shared'] } });
    assert.equal(r.output[0].props.State, 'Running');
    r = await run({ kind: 'SetVMProcessor', vm: { names: ['Shared'] }, exposeVirtualizationExtensions: true });
    assert.match(r.errors[0].message, /'Shared' is Running/);
    r = await run({ kind: 'StartVM', vm: { names: ['Shared'] } });
    assert.match(r.errors[0].message, /running in another Nestvisor process \(pid \d+\)/);
    svc.inventory.transact((s) => { s.runtime = [{ vmId: id, pid: 2 ** 22 + 12345, startedAt: 0 }]; });
    r = await run({ kind: 'GetVM', vm: { names: ['Shared'] } });
    assert.equal(r.output[0].props.State, 'Off');
  } finally { await svc.dispose(); }
});

test('machine factory contract: the board gets the VM\'s configuration and kernel; a guest power-off turns the VM Off', async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { MachinePartitionHost } = await import('../hypervisor/machine-host.js');
  const { FakeMachines } = await import('./testing.js');
  const dir = mkdtempSync(join(tmpdir(), 'nestvisor-k-'));
  const machines = new FakeMachines();
  const svc = testService(new MachinePartitionHost({ factory: machines.factory }));
  try {
    const kernel = join(dir, 'k.elf');
    writeFileSync(kernel, Buffer.from([1, 2, 3]));
    await svc.controller.apply({ kind: 'NewVM', name: 'L1', memoryStartupBytes: 4 * GB });
    await svc.controller.apply({ kind: 'SetVMProcessor', vm: { names: ['L1'] }, count: 2, exposeVirtualizationExtensions: true });
    await svc.controller.apply({ kind: 'SetBootImage', vm: { names: ['L1'] }, path: kernel, commandLine: 'console=ttyS0' });
    const r = await svc.controller.apply({ kind: 'StartVM', vm: { names: ['L1'] } });
    assert.equal(r.errors.length, 0);
    const m = machines.get('L1')!;
    assert.deepEqual([m.options.memoryBytes, m.options.cpuCount, m.options.exposeVirtualizationExtensions], [4 * GB, 2, true]);
    assert.deepEqual([...m.kernel!], [1, 2, 3]);
    assert.equal(m.cmdline, 'console=ttyS0');
    assert.equal((await svc.controller.apply({ kind: 'GetVM' })).output[0].props.State, 'Running');
    assert.equal(svc.inventory.read().runtime.length, 1);
    m.powerOff();
    await new Promise((res) => setImmediate(res));
    assert.equal((await svc.controller.apply({ kind: 'GetVM' })).output[0].props.State, 'Off');
    assert.equal(svc.inventory.read().runtime.length, 0);
  } finally {
    await svc.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
