/**
 * Multiboot 1 loader (the Multiboot Specification version 0.6.96, "the spec" below).
 *
 * 1. Find the header: a 4-byte aligned magic 0x1BADB002 in the first 8192 bytes whose
 *    magic + flags + checksum is 0 mod 2^32 (§3.1.1, §3.1.2).
 * 2. Load the image: with flags bit 16 the header's own address fields describe it (the
 *    "a.out kludge", §3.1.3, which wins over any ELF header); otherwise it must be ELF and
 *    each PT_LOAD segment goes to its p_paddr, bss zeroed. ELF64 is accepted too (QEMU
 *    refuses it, GRUB 2 does not), so kvm-unit-tests' .elf/.flat files load either way.
 * 3. Load the boot modules (§3.3 mods_*; QEMU's -initrd): each one page-aligned right after
 *    the previous one, the first at the kernel's load address plus its page-aligned size
 *    (bss included), as QEMU's hw/i386/multiboot.c places them. kvm-unit-tests reads its
 *    environment (KEY=VALUE lines) from the one module its scripts pass.
 * 4. Write the Multiboot information (§3.3) in low memory clear of the image and the
 *    modules: mem_lower/mem_upper, the command line, the module list, a memory map (type 1
 *    RAM, type 2 reserved), and the boot loader name "nestvisor".
 * The CPU is then put in the state of §3.2 by the machine (EAX = 0x2BADB002, EBX = info).
 */
import { HIGH_RAM_BASE, PhysicalMemory } from '../memory/physical.js';
import { isElf, parseElf } from './elf.js';
import { ImageTooLargeError, ModuleTooLargeError, MultibootHeaderError, NotMultibootError } from './errors.js';

export const MULTIBOOT_HEADER_MAGIC = 0x1badb002;
export const MULTIBOOT_BOOTLOADER_MAGIC = 0x2badb002;
const SEARCH_LIMIT = 8192;

// Header flags (§3.1.2). Bits 0-15 are requirements: refuse those we do not understand.
const MBH_PAGE_ALIGN = 1 << 0; //  modules page-aligned: always met (loadModules aligns every one)
const MBH_MEMORY_INFO = 1 << 1; // mem_* fields: always provided
const MBH_VIDEO_MODE = 1 << 2; //  graphics: ignored, as QEMU does (there is no display)
const MBH_AOUT_KLUDGE = 1 << 16;
const MBH_UNDERSTOOD = MBH_PAGE_ALIGN | MBH_MEMORY_INFO | MBH_VIDEO_MODE;

/**
 * A raw-code Multiboot image with the a.out kludge (§3.1.3): the 32-byte header gives the
 * load address, and `code` follows it at `loadAddr` + 0x20, which is also the entry point.
 * For small hand-assembled kernels (tests, examples); no ELF needed.
 */
export function aoutKludgeImage(code: readonly number[], loadAddr = 0x100000): Uint8Array {
  const img = new Uint8Array(0x20 + code.length);
  const dv = new DataView(img.buffer);
  const flags = MBH_AOUT_KLUDGE;
  dv.setUint32(0, MULTIBOOT_HEADER_MAGIC, true);
  dv.setUint32(4, flags, true);
  dv.setUint32(8, (-(MULTIBOOT_HEADER_MAGIC + flags)) >>> 0, true);
  dv.setUint32(12, loadAddr, true); // header_addr
  dv.setUint32(16, loadAddr, true); // load_addr
  dv.setUint32(20, 0, true); // load_end_addr: the whole file
  dv.setUint32(24, 0, true); // bss_end_addr: none
  dv.setUint32(28, loadAddr + 0x20, true); // entry_addr
  img.set(code, 0x20);
  return img;
}

// Information flags (§3.3).
const MBI_MEMORY = 1 << 0, MBI_CMDLINE = 1 << 2, MBI_MODS = 1 << 3, MBI_MMAP = 1 << 6, MBI_LOADER_NAME = 1 << 9;
const MBI_SIZE = 88; // through vbe_interface_len; the framebuffer fields are not offered

/** A PC's low memory: 639 KiB of RAM below the EBDA, then reserved areas up to 1 MiB. */
const EBDA_START = 0x9fc00;
const BIOS_START = 0xf0000;
const ONE_MIB = 0x100000;
const PAGE = 0x1000;

/** A boot module (§3.3): its bytes and the string the information structure gives it. */
export interface MultibootModule {
  bytes: Uint8Array;
  /** The module's command line; QEMU's -initrd passes the file name (plus any arguments). */
  string: string;
}

/** Where a module landed: [start, end) physical, as mod_start/mod_end say. */
export interface LoadedModule { start: number; end: number; string: string }

export interface MultibootHeader {
  /** File offset of the magic. */
  offset: number;
  flags: number;
  /** Present with flags bit 16. */
  aout?: { headerAddr: number; loadAddr: number; loadEndAddr: number; bssEndAddr: number; entryAddr: number };
}

export interface LoadedKernel {
  format: 'elf32' | 'elf64' | 'aout-kludge' | 'flat';
  entry: number;
  /** Physical address of the Multiboot information structure (EBX at entry). */
  infoAddr: number;
  /** Lowest and one past the highest physical byte the image occupies (bss included). */
  imageStart: number;
  imageEnd: number;
  /** The boot modules, in the order given. */
  modules: LoadedModule[];
}

/** Finds and validates the Multiboot header, or throws NotMultibootError. */
export function findMultibootHeader(image: Uint8Array): MultibootHeader {
  const dv = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const limit = Math.min(SEARCH_LIMIT, image.length) - 12;
  for (let off = 0; off <= limit; off += 4) {
    if (dv.getUint32(off, true) !== MULTIBOOT_HEADER_MAGIC) continue;
    const flags = dv.getUint32(off + 4, true);
    const checksum = dv.getUint32(off + 8, true);
    if (((MULTIBOOT_HEADER_MAGIC + flags + checksum) >>> 0) !== 0) continue;
    const h: MultibootHeader = { offset: off, flags };
    if (flags & MBH_AOUT_KLUDGE) {
      if (off + 32 > image.length) throw new MultibootHeaderError('the Multiboot header is cut off before its address fields');
      h.aout = {
        headerAddr: dv.getUint32(off + 12, true), loadAddr: dv.getUint32(off + 16, true),
        loadEndAddr: dv.getUint32(off + 20, true), bssEndAddr: dv.getUint32(off + 24, true),
        entryAddr: dv.getUint32(off + 28, true),
      };
    }
    return h;
  }
  throw new NotMultibootError('not a Multiboot kernel (no Multiboot header in its first 8 KiB)');
}

/** One piece of the image: copy `bytes` to `addr`, then zero up to `addr + memSize`. */
interface Piece { addr: number; bytes: Uint8Array; memSize: number }

function piecesOf(image: Uint8Array, h: MultibootHeader): { format: 'elf32' | 'elf64' | 'aout-kludge'; entry: number; pieces: Piece[] } {
  const unknown = h.flags & 0xffff & ~MBH_UNDERSTOOD;
  if (unknown) throw new MultibootHeaderError(`the kernel requires Multiboot features this loader lacks (flags 0x${unknown.toString(16)})`);
  if (h.aout) {
    const a = h.aout;
    // §3.1.3: the header's file offset corresponds to header_addr; loading starts at load_addr.
    if (a.headerAddr < a.loadAddr) throw new MultibootHeaderError('header_addr lies below load_addr');
    const start = h.offset - (a.headerAddr - a.loadAddr);
    if (start < 0) throw new MultibootHeaderError('load_addr would start before the beginning of the file');
    const end = a.loadEndAddr === 0 ? image.length : start + (a.loadEndAddr - a.loadAddr);
    if (a.loadEndAddr !== 0 && a.loadEndAddr < a.loadAddr) throw new MultibootHeaderError('load_end_addr lies below load_addr');
    if (end > image.length) throw new MultibootHeaderError('load_end_addr lies past the end of the file');
    const fileSize = end - start;
    const bssEnd = a.bssEndAddr === 0 ? a.loadAddr + fileSize : a.bssEndAddr;
    if (bssEnd < a.loadAddr + fileSize) throw new MultibootHeaderError('bss_end_addr lies below the end of the loaded image');
    return {
      format: 'aout-kludge', entry: a.entryAddr,
      pieces: [{ addr: a.loadAddr, bytes: image.subarray(start, end), memSize: bssEnd - a.loadAddr }],
    };
  }
  if (!isElf(image)) throw new NotMultibootError('the Multiboot header has no address fields and the file is not ELF');
  const elf = parseElf(image);
  let entry = elf.entry;
  // The spec wants a physical entry point. A kernel linked at a higher virtual address
  // gives a virtual one: translate it through the segment that contains it.
  if (!elf.segments.some((s) => entry >= s.paddr && entry < s.paddr + s.memSize)) {
    const s = elf.segments.find((g) => entry >= g.vaddr && entry < g.vaddr + g.memSize);
    if (s) entry = entry - s.vaddr + s.paddr;
  }
  return {
    format: elf.bits === 32 ? 'elf32' : 'elf64', entry,
    pieces: elf.segments.map((s) => ({ addr: s.paddr, bytes: image.subarray(s.offset, s.offset + s.fileSize), memSize: s.memSize })),
  };
}

/** Loads a Multiboot kernel (and its boot modules) into RAM and writes its information structure. */
export function loadMultiboot(mem: PhysicalMemory, image: Uint8Array, cmdline: string, modules: readonly MultibootModule[] = []): LoadedKernel {
  const h = findMultibootHeader(image);
  const { format, entry, pieces } = piecesOf(image, h);
  const mib = (n: number): string => `${(n / ONE_MIB).toFixed(n % ONE_MIB ? 1 : 0)} MiB`;
  let imageStart = Infinity, imageEnd = 0;
  for (const p of pieces) {
    if (!mem.isRam(p.addr, p.memSize)) {
      throw new ImageTooLargeError(`the kernel needs memory up to ${mib(p.addr + p.memSize)} but the machine has ${mib(mem.size)} of RAM`);
    }
    imageStart = Math.min(imageStart, p.addr);
    imageEnd = Math.max(imageEnd, p.addr + p.memSize);
  }
  if (entry >= 2 ** 32) throw new MultibootHeaderError(`entry point 0x${entry.toString(16)} is above 4 GiB`);
  const mods = placeModules(mem, modules, imageStart, imageEnd);
  for (const p of pieces) {
    mem.ram.fill(0, p.addr, p.addr + p.memSize);
    mem.load(p.addr, p.bytes);
  }
  for (let i = 0; i < modules.length; i++) mem.load(mods[i]!.start, modules[i]!.bytes);
  const taken = pieces.concat(mods.map((m) => ({ addr: m.start, bytes: new Uint8Array(0), memSize: m.end - m.start })));
  const infoAddr = writeInfo(mem, cmdline, taken, mods);
  return { format, entry, infoAddr, imageStart, imageEnd, modules: mods };
}

/**
 * Where each module goes: QEMU puts the first at load address + the image size rounded up
 * to a page, and each next one at the previous end rounded up to a page (so every module
 * is page-aligned, header flag bit 0). mod_start/mod_end are 32-bit, so modules must fit
 * in RAM below 4 GiB; checked before anything is written.
 */
function placeModules(mem: PhysicalMemory, modules: readonly MultibootModule[], imageStart: number, imageEnd: number): LoadedModule[] {
  const out: LoadedModule[] = [];
  let at = imageStart + Math.ceil((imageEnd - imageStart) / PAGE) * PAGE;
  for (const m of modules) {
    const len = m.bytes.length;
    if (!mem.isRam(at, Math.max(1, len)) || at + len > 2 ** 32) {
      const kib = (n: number): string => n >= ONE_MIB ? `${(n / ONE_MIB).toFixed(1)} MiB` : `${Math.ceil(n / 1024)} KiB`;
      throw new ModuleTooLargeError(`the module '${m.string}' (${kib(len)}) does not fit in RAM after the kernel ` +
        `(it would end at ${kib(at + len)}; the machine has ${kib(mem.lowSize)} below 4 GiB)`);
    }
    out.push({ start: at, end: at + len, string: m.string });
    at = Math.ceil((at + len) / PAGE) * PAGE;
  }
  return out;
}

/** The memory map a PC with `ram` bytes reports (QEMU's layout minus the BIOS ROM it lacks here). */
export function pcMemoryMap(ram: number, highRam = 0): { base: number; length: number; type: 1 | 2 }[] {
  const map: { base: number; length: number; type: 1 | 2 }[] = [];
  map.push({ base: 0, length: Math.min(ram, EBDA_START), type: 1 });
  map.push({ base: EBDA_START, length: 0xa0000 - EBDA_START, type: 2 });
  map.push({ base: BIOS_START, length: ONE_MIB - BIOS_START, type: 2 });
  if (ram > ONE_MIB) map.push({ base: ONE_MIB, length: ram - ONE_MIB, type: 1 });
  // RAM beyond 3 GiB sits above the 4 GiB line (PhysicalMemory's layout)
  if (highRam > 0) map.push({ base: HIGH_RAM_BASE, length: highRam, type: 1 });
  return map;
}

function writeInfo(mem: PhysicalMemory, cmdline: string, pieces: Piece[], mods: LoadedModule[]): number {
  const enc = new TextEncoder();
  const cmd = enc.encode(cmdline + '\0');
  const name = enc.encode('nestvisor\0');
  const modStrings = mods.map((m) => enc.encode(m.string + '\0'));
  const map = pcMemoryMap(mem.lowSize, mem.highSize);
  const mmapBytes = map.length * 24;
  const modBytes = mods.length * 16; // mod_start, mod_end, string, reserved (§3.3)
  const stringBytes = modStrings.reduce((n, s) => n + s.length, 0);
  const size = MBI_SIZE + mmapBytes + modBytes + cmd.length + name.length + stringBytes;
  const base = placeInfo(mem.lowSize, size, pieces);

  const dv = mem.view;
  mem.ram.fill(0, base, base + size);
  const mmapAt = base + MBI_SIZE, modsAt = mmapAt + mmapBytes, cmdAt = modsAt + modBytes, nameAt = cmdAt + cmd.length;
  let stringAt = nameAt + name.length;
  mods.forEach((m, i) => {
    const at = modsAt + 16 * i;
    dv.setUint32(at, m.start, true);
    dv.setUint32(at + 4, m.end, true);
    dv.setUint32(at + 8, stringAt, true);
    mem.ram.set(modStrings[i]!, stringAt);
    stringAt += modStrings[i]!.length;
  });
  dv.setUint32(base + 0, MBI_MEMORY | MBI_CMDLINE | MBI_MODS | MBI_MMAP | MBI_LOADER_NAME, true);
  dv.setUint32(base + 4, Math.floor(Math.min(mem.lowSize, EBDA_START) / 1024), true); // mem_lower, KiB from 0
  dv.setUint32(base + 8, Math.floor(Math.max(0, mem.lowSize - ONE_MIB) / 1024), true); // mem_upper, KiB from 1 MiB
  dv.setUint32(base + 16, cmdAt, true);
  dv.setUint32(base + 20, mods.length, true); // mods_count
  dv.setUint32(base + 24, mods.length > 0 ? modsAt : 0, true); // mods_addr
  dv.setUint32(base + 44, mmapBytes, true);
  dv.setUint32(base + 48, mmapAt, true);
  dv.setUint32(base + 64, nameAt, true);
  // mmap entries (§3.3): u32 size (of the rest: 20), u64 base_addr, u64 length, u32 type.
  map.forEach((e, i) => {
    const at = mmapAt + 24 * i;
    dv.setUint32(at, 20, true);
    setU64(dv, at + 4, e.base);
    setU64(dv, at + 12, e.length);
    dv.setUint32(at + 20, e.type, true);
  });
  mem.ram.set(cmd, cmdAt);
  mem.ram.set(name, nameAt);
  return base;
}

/**
 * Chooses where the information goes: from 0x8000 in conventional memory (clear of the
 * real-mode IVT/BDA at 0-0x500 and below the EBDA), else right after the image.
 */
function placeInfo(ram: number, size: number, pieces: Piece[]): number {
  const clear = (at: number): boolean =>
    at + size <= ram && pieces.every((p) => at + size <= p.addr || at >= p.addr + p.memSize);
  for (let at = 0x8000; at + size <= EBDA_START; at += 0x1000) if (clear(at)) return at;
  const end = Math.max(...pieces.map((p) => p.addr + p.memSize));
  const after = Math.ceil(end / 0x1000) * 0x1000;
  if (clear(after)) return after;
  throw new ImageTooLargeError('no room in RAM for the Multiboot information next to the kernel');
}

function setU64(dv: DataView, at: number, v: number): void {
  dv.setUint32(at, v % 2 ** 32, true);
  dv.setUint32(at + 4, Math.floor(v / 2 ** 32), true);
}
