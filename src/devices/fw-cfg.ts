/**
 * A subset of QEMU's firmware configuration device (QEMU docs/specs/fw_cfg.rst), I/O port
 * flavour: offset 0 is the 16-bit selector (port 0x510), offset 1 the 8-bit data register
 * (port 0x511). Writing the selector picks an item and rewinds its read position; each
 * data read returns the next byte, and 0 past the end or for an absent item. The DMA
 * interface (port 0x514) is not offered, so FW_CFG_ID reports the traditional interface
 * only and guests (SeaBIOS, Linux's qemu_fw_cfg) fall back to byte reads.
 *
 * Items are byte strings set by the machine at wiring time; numbers are little-endian
 * except the file directory, which is big-endian as QEMU defines it.
 */

// Selector keys (QEMU include/standard-headers/linux/qemu_fw_cfg.h).
export const FW_CFG_SIGNATURE = 0x00;
export const FW_CFG_ID = 0x01;
export const FW_CFG_UUID = 0x02;
export const FW_CFG_RAM_SIZE = 0x03;
export const FW_CFG_NOGRAPHIC = 0x04;
export const FW_CFG_NB_CPUS = 0x05;
export const FW_CFG_MAX_CPUS = 0x0f;
export const FW_CFG_CMDLINE_SIZE = 0x14;
export const FW_CFG_CMDLINE_DATA = 0x15;
export const FW_CFG_FILE_DIR = 0x19;
/** First selector handed out to named files. */
export const FW_CFG_FILE_FIRST = 0x20;
/** Selector bit 14 once meant "write"; QEMU ignores it since 2.4 and so do we. */
const SELECTOR_WRITE = 0x4000;
/** Directory entry: be32 size, be16 select, be16 reserved, char name[56]. */
const FILE_NAME_MAX = 56;

export interface FwCfgConfig {
  ramBytes: number;
  cpuCount: number;
  cmdline: string;
}

export interface FwCfgState {
  version: 1;
  selector: number;
  position: number;
}

export class FwCfg {
  private readonly items = new Map<number, Uint8Array>();
  private readonly files: { name: string; select: number; size: number }[] = [];
  private selector = 0;
  private position = 0;
  private current: Uint8Array | undefined;

  constructor(cfg: FwCfgConfig) {
    this.setItem(FW_CFG_SIGNATURE, new TextEncoder().encode('QEMU'));
    this.setItem(FW_CFG_ID, le(1, 4)); // bit 0: traditional interface; bit 1 (DMA) clear
    this.setItem(FW_CFG_UUID, new Uint8Array(16));
    this.setItem(FW_CFG_RAM_SIZE, le(cfg.ramBytes, 8));
    this.setItem(FW_CFG_NOGRAPHIC, le(1, 2));
    this.setItem(FW_CFG_NB_CPUS, le(cfg.cpuCount, 2));
    this.setItem(FW_CFG_MAX_CPUS, le(cfg.cpuCount, 2));
    this.setCmdline(cfg.cmdline);
    this.rebuildDirectory();
    this.select(0);
  }

  /** Sets the kernel command line items (the machine calls this when it loads a kernel). */
  setCmdline(cmdline: string): void {
    // QEMU counts and stores the terminating NUL (hw/i386/x86.c, x86_load_linux).
    const cmd = new TextEncoder().encode(cmdline + '\0');
    this.setItem(FW_CFG_CMDLINE_SIZE, le(cmd.length, 4));
    this.setItem(FW_CFG_CMDLINE_DATA, cmd);
  }

  /** Wiring time: places or replaces an item. */
  setItem(key: number, data: Uint8Array): void {
    this.items.set(key & 0x3fff, data);
    if ((key & 0x3fff) === this.selector) this.current = data;
  }

  /** Wiring time: adds a named file ("etc/...") to the directory and returns its selector. */
  addFile(name: string, data: Uint8Array): number {
    if (name.length >= FILE_NAME_MAX) throw new Error(`fw_cfg file name too long: ${name}`);
    const select = FW_CFG_FILE_FIRST + this.files.length;
    this.files.push({ name, select, size: data.length });
    this.setItem(select, data);
    this.rebuildDirectory();
    return select;
  }

  read(offset: number, size: number): number {
    if (offset !== 1) return 0;
    // Wider reads of the data port return consecutive bytes, lowest address first.
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.nextByte() << (8 * i);
    return v >>> 0;
  }

  write(offset: number, size: number, value: number): void {
    if (offset === 0) this.select(size === 1 ? value & 0xff : value & 0xffff);
    // Data-port writes were removed from QEMU in 2.4: ignored.
  }

  private select(key: number): void {
    this.selector = key & ~SELECTOR_WRITE;
    this.position = 0;
    this.current = this.items.get(this.selector);
  }

  private nextByte(): number {
    const c = this.current;
    if (!c || this.position >= c.length) return 0;
    return c[this.position++]!;
  }

  private rebuildDirectory(): void {
    const dir = new Uint8Array(4 + 64 * this.files.length);
    const dv = new DataView(dir.buffer);
    dv.setUint32(0, this.files.length);
    this.files.forEach((f, i) => {
      const at = 4 + 64 * i;
      dv.setUint32(at, f.size);
      dv.setUint16(at + 4, f.select);
      dir.set(new TextEncoder().encode(f.name), at + 8);
    });
    this.setItem(FW_CFG_FILE_DIR, dir);
  }

  get state(): FwCfgState {
    return { version: 1, selector: this.selector, position: this.position };
  }

  set state(s: FwCfgState) {
    if (s.version !== 1) throw new Error(`unsupported FwCfg state version ${String(s.version)}`);
    this.select(s.selector);
    this.position = s.position;
  }
}

/** Little-endian encoding of a non-negative integer below 2^53. */
function le(v: number, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) { out[i] = v % 256; v = Math.floor(v / 256); }
  return out;
}
