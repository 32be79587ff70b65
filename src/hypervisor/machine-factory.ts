/**
 * The one place where the management service learns how to build a machine. It stays null
 * until the PC board (src/machine/pc.ts) is wired in; until then Start-VM refuses with
 * "No machine emulator is available" instead of pretending a VM runs.
 * To wire: `export const defaultMachineFactory: MachineFactory = (o) => new PcMachine(o);`
 */
import type { MachineFactory } from './machine-host.js';

export const defaultMachineFactory: MachineFactory | null = null;
