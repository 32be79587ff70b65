/**
 * The one place where the management service learns how to build a machine: the PC board
 * of src/machine. A partition is a PcMachine running its boot image; the hypervisor layer
 * reports VMX activity and refuses what the board cannot do.
 */
import type { MachineFactory } from './machine-host.js';
import { PcMachine } from '../machine/pc.js';

export const defaultMachineFactory: MachineFactory | null = (o) => new PcMachine({
  memoryBytes: o.memoryBytes,
  cpuCount: o.cpuCount,
  exposeVirtualizationExtensions: o.exposeVirtualizationExtensions,
  serialOut: o.serialOut,
});
