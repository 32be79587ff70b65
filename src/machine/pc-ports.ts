/**
 * The PC board's I/O port map: where each device's registers sit on the port bus (STYLE
 * habit 1: the devices know offsets, this table knows ports). Addresses follow the IBM PC
 * and QEMU "pc" machine: COM1 at 0x3f8, POST at 0x80, port A at 0x92, isa-debug-exit at
 * 0xf4 (QEMU's usual iobase=0xf4,iosize=0x4), PCI mechanism #1 at 0xcf8..0xcff, fw_cfg at
 * 0x510 (selector) and 0x511 (data).
 */
import { PortBus, PortHandler } from '../memory/bus.js';

export const COM1_BASE = 0x3f8;
export const POST_PORT = 0x80;
export const SYSTEM_CONTROL_A_PORT = 0x92;
export const DEBUG_EXIT_BASE = 0xf4;
export const PCI_CONFIG_BASE = 0xcf8;
export const FW_CFG_BASE = 0x510;

export interface PcPortDevices {
  com1: PortHandler;
  post: PortHandler;
  systemControlA: PortHandler;
  debugExit: PortHandler;
  pciHost: PortHandler;
  fwCfg: PortHandler;
}

/** Registers every device at its ports. Overlaps throw (a wiring bug, caught by tests). */
export function wirePcPorts(bus: PortBus, d: PcPortDevices): void {
  bus.register(COM1_BASE, 8, d.com1, 'COM1 (16550 UART)');
  bus.register(POST_PORT, 1, d.post, 'POST diagnostic port');
  bus.register(SYSTEM_CONTROL_A_PORT, 1, d.systemControlA, 'system control port A');
  bus.register(DEBUG_EXIT_BASE, 4, d.debugExit, 'isa-debug-exit');
  bus.register(PCI_CONFIG_BASE, 8, d.pciHost, 'PCI configuration mechanism #1');
  bus.register(FW_CFG_BASE, 2, d.fwCfg, 'fw_cfg');
}
