/**
 * The one place where the management service learns how to build a machine: the PC board
 * of src/machine. A partition is a PcMachine running its boot image; the hypervisor layer
 * reports VMX activity and refuses what the board cannot do.
 */
import type { MachineFactory } from './machine-host.js';
import { PcMachine } from '../machine/pc.js';
import { addVirtioNet } from '../machine/virtio-net-board.js';

export const defaultMachineFactory: MachineFactory | null = (o) => {
  const pc = new PcMachine({
    memoryBytes: o.memoryBytes,
    cpuCount: o.cpuCount,
    // dynamic memory and runtime resize: a virtio-balloon, and RAM reserved up to the ceiling for hot-add
    maxMemoryBytes: o.maxMemoryBytes,
    balloon: true,
    exposeVirtualizationExtensions: o.exposeVirtualizationExtensions,
    serialOut: o.serialOut,
  });
  // each VMNetworkAdapter is a virtio-net function on the board's PCI bus (00:03.0 up)
  const nics = (o.networkAdapters ?? []).map((a) => addVirtioNet(pc, parseInt(a.macAddress.replace(/[^0-9a-fA-F]/g, ''), 16)));
  return Object.assign(pc, { nics });
};
