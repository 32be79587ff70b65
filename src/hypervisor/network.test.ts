/**
 * issue 7's first "done when": test kernels in VMs on a Private switch exchange frames; a
 * third VM bridging frames that carry another MAC is dropped at its switch port until
 * MacAddressSpoofing is On, then delivered — the counts asserted. The VMs are real
 * partitions (PcMachine + virtio-net) started through the MachinePartitionHost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { CPU_PROFILES } from './cpu-profile.js';
import { defaultMachineFactory } from './machine-factory.js';
import { MachinePartitionHost } from './machine-host.js';
import { L0Network, type AdapterConfig, type NetworkSnapshot } from './network.js';
import type { PartitionExit } from './partition.js';

const images = fileURLToPath(new URL('../../../guests/images/', import.meta.url));
const SNAP: NetworkSnapshot = {
  switches: [{ name: 'Lab', switchType: 'Private', netAdapterName: null, allowManagementOS: false }],
  hostAdapters: [], ipAddresses: [], nats: [], adapters: [],
};

function vm(host: MachinePartitionHost, name: string, image: string, cmd: string, nic: AdapterConfig) {
  let out = '';
  let resolveExit!: (e: PartitionExit) => void;
  const exited = new Promise<PartitionExit>((r) => { resolveExit = r; });
  const handle = host.start({
    id: name, name, processorCount: 1, memoryBytes: 32 << 20, exposeVirtualizationExtensions: false,
    bootImage: { path: images + image, commandLine: cmd }, hostCpu: CPU_PROFILES[0]!, networkAdapters: [nic], network: SNAP,
  }, { onExit: resolveExit, serialOut: (b) => { out += Buffer.from(b).toString(); } });
  return { handle, exited, out: () => out };
}

const nic = (id: string, mac: string, spoof: 'On' | 'Off' = 'Off'): AdapterConfig =>
  ({ id, name: 'Network Adapter', macAddress: mac, switchName: 'Lab', macAddressSpoofing: spoof });

test('two VMs ping over a Private switch; a bridging VM is dropped until MacAddressSpoofing On', { timeout: 240_000 }, async () => {
  const network = new L0Network();
  const host = new MachinePartitionHost({ factory: defaultMachineFactory, network });
  try {
    const b = vm(host, 'B', 'net-ping.elf', 'ip=10.0.0.2 serve=6', nic('nic-b', '00155D000002'));
    await b.handle;
    const a = vm(host, 'A', 'net-ping.elf', 'ip=10.0.0.1 target=10.0.0.2 count=3', nic('nic-a', '00155D000001'));
    const ea = await a.exited;
    assert.equal(ea.exitCode, 1, a.out());
    assert.match(a.out(), /3\/3 echo replies/);

    // L1 bridges L2 (MAC 00:15:5d:00:00:a2): its own adapter is 00155D000003, spoofing Off
    const c = vm(host, 'C', 'net-bridge.elf', 'mac=00:15:5d:00:00:a2 ip=10.0.0.42 target=10.0.0.2 expect=none', nic('nic-c', '00155D000003'));
    const ec = await c.exited;
    assert.equal(ec.exitCode, 1, c.out());
    assert.match(c.out(), /bridged ARP unanswered/);
    assert.equal(network.statistics().find((p) => p.adapterId === 'nic-c'), undefined, 'an Off VM has no port');

    const c2 = vm(host, 'C', 'net-bridge.elf', 'mac=00:15:5d:00:00:a2 ip=10.0.0.42 target=10.0.0.2 expect=reply count=3', nic('nic-c', '00155D000003'));
    await c2.handle;
    // dropped until spoofing is switched on while C runs (Set-VMNetworkAdapter works on a running VM)
    const port = () => network.statistics().find((p) => p.adapterId === 'nic-c')!;
    const t0 = Date.now();
    while (port().counters.dropped.macSpoofing < 2 && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 20));
    const dropped = port().counters.dropped.macSpoofing;
    assert.ok(dropped >= 2, `spoofed frames dropped: ${dropped}`);
    network.sync({ ...SNAP, adapters: [{ id: 'nic-c', macAddressSpoofing: 'On' }] });
    const ec2 = await c2.exited;
    assert.equal(ec2.exitCode, 1, c2.out());
    assert.match(c2.out(), /3\/3 echo replies to the bridged MAC/);
    const eb = await b.exited;
    assert.equal(eb.exitCode, 1, b.out());
    assert.match(b.out(), /served 6 echo requests/);
  } finally {
    await network.close();
  }
});
