/**
 * The PC board's I/O port map: where each device's registers sit on the port bus (STYLE
 * habit 1: the devices know offsets, this table knows ports). Addresses follow the IBM PC
 * and QEMU "pc" machine: COM1 at 0x3f8, POST at 0x80, port A at 0x92, isa-debug-exit at
 * 0xf4 (QEMU's usual iobase=0xf4,iosize=0x4), PCI mechanism #1 at 0xcf8..0xcff, fw_cfg at
 * 0x510 (selector) and 0x511 (data).
 */
import { MmioBus, PortBus, PortHandler } from '../memory/bus.js';
import {
  PcTestdev, PC_TESTDEV_FLUSH_PORT, PC_TESTDEV_IOMEM_BASE, PC_TESTDEV_IOMEM_LEN, PC_TESTDEV_IRQ_PORT,
  PC_TESTDEV_IRQ_PORTS, PC_TESTDEV_SCRATCH_BYTE_PORT, PC_TESTDEV_SCRATCH_PORT,
} from '../devices/pc-testdev.js';

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

/**
 * Places QEMU's pc-testdev (kvm-unit-tests' x86/run always adds it) where QEMU does:
 * ports 0xE0-0xE3, 0xE4, 0xE8-0xEB, 0x2000-0x2017 and 64 KiB of MMIO at 0xFF000000.
 */
export function wirePcTestdev(ports: PortBus, mmio: MmioBus, dev: PcTestdev): void {
  ports.register(PC_TESTDEV_SCRATCH_PORT, 4, dev.scratchPorts, 'pc-testdev scratch');
  ports.register(PC_TESTDEV_FLUSH_PORT, 4, dev.flushPort, 'pc-testdev flush page');
  ports.register(PC_TESTDEV_SCRATCH_BYTE_PORT, 4, dev.scratchPorts, 'pc-testdev scratch (byte)');
  ports.register(PC_TESTDEV_IRQ_PORT, PC_TESTDEV_IRQ_PORTS, dev.irqPorts, 'pc-testdev irq lines');
  mmio.register(PC_TESTDEV_IOMEM_BASE, PC_TESTDEV_IOMEM_LEN, dev.iomemRegion, 'pc-testdev iomem');
}
