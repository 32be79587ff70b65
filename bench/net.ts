/**
 * Network throughput (issue 7), guest to guest, with two real VMs running
 * guests/images/net-http.elf (TCP of guests/lib/tcpip.c over virtio-net, MSS 1460, a
 * 6-segment window, an ACK per segment):
 *   - VM→VM over a Private switch: one VM sends BYTES to the other (serve=PORT);
 *   - VM→host through NAT: a VM on an Internal switch with NetNat sends BYTES to a TCP sink
 *     on 127.0.0.1 (through http://192.168.100.1:PORT, which the NAT maps to the host).
 * The clock is the host's: from the first frame the switch forwards (ARP, then the SYN) to
 * the last (the final ACK), as a tap on the whole switch sees them. Frames/s counts every frame the switch forwarded
 * for the connection (both directions, ACKs included); Mbit/s is the payload delivered.
 * Both VMs run on the main thread (one Node event loop), so VM→VM is bounded by two
 * emulated CPUs sharing it.
 *
 *   node dist/bench/net.js [BYTES]        (default 1000000)
 */
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { CPU_PROFILES } from '../src/hypervisor/cpu-profile.js';
import { MachinePartitionHost, type MachineFactory } from '../src/hypervisor/machine-host.js';
import { PcMachine } from '../src/machine/pc.js';
import { addVirtioNet } from '../src/machine/virtio-net-board.js';
import { L0Network, type AdapterConfig, type NetworkSnapshot } from '../src/hypervisor/network.js';
import type { PartitionExit } from '../src/hypervisor/partition.js';

/**
 * The PC board of machine-factory.ts with shorter run slices: both VMs share one event loop,
 * and a guest waiting for its peer spins to the end of its slice (the polling driver never
 * halts), so each round trip costs two slices. SLICE instructions per turn keeps turns short.
 */
const SLICE = Number(process.env.NESTVISOR_BENCH_SLICE ?? 20_000);
const factory: MachineFactory = (o) => {
  const pc = new PcMachine({ memoryBytes: o.memoryBytes, cpuCount: o.cpuCount, serialOut: o.serialOut, sliceInstructions: SLICE });
  const nics = (o.networkAdapters ?? []).map((a) => addVirtioNet(pc, parseInt(a.macAddress, 16)));
  return Object.assign(pc, { nics });
};

const image = fileURLToPath(new URL('../../guests/images/net-http.elf', import.meta.url));

function fmt(n: number, digits = 1): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

interface Vm { exited: Promise<PartitionExit>; out: () => string }

function start(host: MachinePartitionHost, snap: NetworkSnapshot, name: string, cmd: string, nic: AdapterConfig): Promise<Vm> {
  let out = '';
  let done!: (e: PartitionExit) => void;
  const exited = new Promise<PartitionExit>((r) => { done = r; });
  return host.start({
    id: name, name, processorCount: 1, memoryBytes: 32 << 20, exposeVirtualizationExtensions: false,
    bootImage: { path: image, commandLine: cmd }, hostCpu: CPU_PROFILES[0]!, networkAdapters: [nic], network: snap,
  }, { onExit: done, serialOut: (b) => { out += Buffer.from(b).toString('latin1'); } }).then(() => ({ exited, out: () => out }));
}

/** Times what crosses a switch: first frame to last, frames forwarded (attached before the VMs start). */
function meter(network: L0Network, switchName: string) {
  const sw = network.switchOf(switchName)!;
  let first = 0, last = 0, frames = 0;
  const off = sw.addTap(() => {
    const t = performance.now();
    if (frames++ === 0) first = t;
    last = t;
  });
  return { stop: () => { off(); return { seconds: (last - first) / 1000, frames }; } };
}

const nic = (id: string, mac: string, sw: string): AdapterConfig => ({ id, name: 'Network Adapter', macAddress: mac, switchName: sw, macAddressSpoofing: 'Off' });

async function vmToVm(bytes: number): Promise<void> {
  const snap: NetworkSnapshot = {
    switches: [{ name: 'Bench', switchType: 'Private', netAdapterName: null, allowManagementOS: false }],
    hostAdapters: [], ipAddresses: [], nats: [], adapters: [],
  };
  const network = new L0Network();
  const host = new MachinePartitionHost({ factory, network });
  try {
    network.sync(snap);
    const m = meter(network, 'Bench');
    const rx = await start(host, snap, 'RX', 'ip=10.0.0.2 serve=5001', nic('rx', '00155D0000B2', 'Bench'));
    const tx = await start(host, snap, 'TX', `ip=10.0.0.1 url=http://10.0.0.2:5001/ sink=${bytes}`, nic('tx', '00155D0000B1', 'Bench'));
    await tx.exited;
    await rx.exited;
    const r = m.stop();
    const got = /received (\d+) bytes/.exec(rx.out())?.[1];
    if (Number(got) !== bytes) throw new Error(`VM→VM: the receiver got ${got ?? 'nothing'} of ${bytes} bytes\n${tx.out()}\n${rx.out()}`);
    console.log(`VM→VM over a Private switch (guest TCP, net-http sink=${bytes} → serve): ${fmt(r.frames / r.seconds, 0)} frames/s, ` +
      `${fmt(bytes * 8 / r.seconds / 1e6, 2)} Mbit/s payload (${r.frames} frames in ${fmt(r.seconds, 2)} s)`);
  } finally {
    await network.close();
  }
}

async function vmToHost(bytes: number): Promise<void> {
  let received = 0;
  let firstByte = 0, lastByte = 0;
  const sink = createServer((s) => s.on('data', (d: Buffer) => { const t = performance.now(); if (received === 0) firstByte = t; received += d.length; lastByte = t; }));
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', () => r()));
  const port = (sink.address() as { port: number }).port;
  const snap: NetworkSnapshot = {
    switches: [{ name: 'VmNAT', switchType: 'Internal', netAdapterName: null, allowManagementOS: true }],
    hostAdapters: [{ name: 'vEthernet (VmNAT)', macAddress: '00-15-5D-00-00-01', switchName: 'VmNAT' }],
    ipAddresses: [{ ipAddress: '192.168.100.1', interfaceAlias: 'vEthernet (VmNAT)', prefixLength: 24, addressFamily: 'IPv4' }],
    nats: [{ name: 'LocalNAT', internalIPInterfaceAddressPrefix: '192.168.100.0/24' }], adapters: [],
  };
  const network = new L0Network();
  network.sync(snap);
  const host = new MachinePartitionHost({ factory, network });
  try {
    const m = meter(network, 'VmNAT');
    const vm = await start(host, snap, 'L2', `ip=192.168.100.2 gw=192.168.100.1 ping=0 url=http://192.168.100.1:${port}/ sink=${bytes}`, nic('l2', '00155D0000C2', 'VmNAT'));
    await vm.exited;
    const r = m.stop();
    await new Promise((res) => setTimeout(res, 50));
    if (received !== bytes) throw new Error(`VM→host: the sink got ${received} of ${bytes} bytes\n${vm.out()}`);
    console.log(`VM→host through NAT (guest TCP → NetNat → 127.0.0.1 sink): ${fmt(bytes * 8 / r.seconds / 1e6, 2)} Mbit/s payload, ` +
      `${fmt(r.frames / r.seconds, 0)} frames/s (${r.frames} frames in ${fmt(r.seconds, 2)} s; sink saw data for ${fmt((lastByte - firstByte) / 1000, 2)} s)`);
  } finally {
    await network.close();
    sink.close();
  }
}

export async function benchNet(bytes = 1_000_000): Promise<number> {
  try {
    await vmToVm(bytes);
    await vmToHost(bytes);
    return 0;
  } catch (e) {
    process.stderr.write(`bench net: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  benchNet(process.argv[2] ? Number(process.argv[2]) : undefined).then((c) => { process.exitCode = c; });
}
