/**
 * PCI configuration mechanism #1 (PCI Local Bus Specification 3.0, §3.2.2.3.2): a
 * CONFIG_ADDRESS dword (offsets 0..3 here, port 0xcf8 on a PC) selects bus/device/
 * function/register, and CONFIG_DATA (offsets 4..7, ports 0xcfc..0xcff) reads or writes
 * that register. Only dword accesses reach CONFIG_ADDRESS; narrower ones at 0xcf8..0xcfb
 * belong to other chipset registers (PIIX's reset control at 0xcf9), not modelled yet.
 *
 *   CONFIG_ADDRESS  31 enable | 30..24 reserved (0) | 23..16 bus | 15..11 device |
 *                   10..8 function | 7..2 register | 1..0 read as 0
 */
import { allOnes } from './lines.js';
import { PciFunction } from './pci-config.js';

const ENABLE = 0x80000000;
/** Bits the guest can set: the spec makes 30..24 and 1..0 read-only zero. */
const ADDRESS_MASK = 0x80fffffc;

export interface PciHostState {
  version: 1;
  configAddress: number;
}

export class PciHost {
  private configAddress = 0;
  /** Functions on bus 0, indexed by devfn (device << 3 | function). */
  private readonly bus0: (PciFunction | undefined)[] = new Array(256).fill(undefined);

  /** Wiring time only: a second function at the same address is a Nestvisor bug. */
  attach(device: number, fn: number, f: PciFunction): void {
    const devfn = ((device & 0x1f) << 3) | (fn & 7);
    if (this.bus0[devfn]) throw new Error(`PCI 00:${device.toString(16).padStart(2, '0')}.${fn} is taken`);
    this.bus0[devfn] = f;
  }

  read(offset: number, size: number): number {
    if (offset < 4) return offset === 0 && size === 4 ? this.configAddress : allOnes(size);
    const f = this.selected();
    if (!f) return allOnes(size);
    const reg = (this.configAddress & 0xfc) + (offset - 4);
    return f.configRead(reg, Math.min(size, 256 - reg));
  }

  write(offset: number, size: number, value: number): void {
    if (offset < 4) {
      if (offset === 0 && size === 4) this.configAddress = (value & ADDRESS_MASK) >>> 0;
      return;
    }
    const f = this.selected();
    if (!f) return; // master abort: writes vanish
    const reg = (this.configAddress & 0xfc) + (offset - 4);
    f.configWrite(reg, Math.min(size, 256 - reg), value);
  }

  /** The addressed function, or undefined when disabled, on another bus, or absent. */
  private selected(): PciFunction | undefined {
    const a = this.configAddress;
    if (!(a & ENABLE) || ((a >>> 16) & 0xff) !== 0) return undefined;
    return this.bus0[(a >>> 8) & 0xff];
  }

  get state(): PciHostState {
    return { version: 1, configAddress: this.configAddress };
  }

  set state(s: PciHostState) {
    if (s.version !== 1) throw new Error(`unsupported PciHost state version ${String(s.version)}`);
    this.configAddress = (s.configAddress & ADDRESS_MASK) >>> 0;
  }
}
