/**
 * Just enough ELF to load an executable: the file header and its PT_LOAD program headers,
 * for ELF32 and ELF64, little-endian, x86 (System V gABI, "ELF Header" and "Program
 * Header"). Sections and symbols are not needed to boot.
 *
 *   e_ident[0..3] 7f 'E' 'L' 'F'   [4] class 1=32, 2=64   [5] data 1=LE   [6] version 1
 *   ELF32: e_type@16 e_machine@18 e_entry@24 e_phoff@28 e_phentsize@42 e_phnum@44
 *   ELF64: e_type@16 e_machine@18 e_entry@24 e_phoff@32 e_phentsize@54 e_phnum@56
 *   Phdr32: p_type@0 p_offset@4 p_vaddr@8 p_paddr@12 p_filesz@16 p_memsz@20
 *   Phdr64: p_type@0 p_offset@8 p_vaddr@16 p_paddr@24 p_filesz@32 p_memsz@40
 */
import { BadElfError } from './errors.js';

const PT_LOAD = 1;
const ET_EXEC = 2;
const EM_386 = 3, EM_X86_64 = 62;

export interface ElfSegment {
  /** File offset and size of the bytes to copy. */
  offset: number;
  fileSize: number;
  /** Load address (p_paddr) and size in memory; memSize - fileSize bytes are zeroed (bss). */
  paddr: number;
  vaddr: number;
  memSize: number;
}

export interface ElfImage {
  bits: 32 | 64;
  machine: 'i386' | 'x86-64';
  entry: number;
  segments: ElfSegment[];
}

export function isElf(image: Uint8Array): boolean {
  return image.length >= 4 && image[0] === 0x7f && image[1] === 0x45 && image[2] === 0x4c && image[3] === 0x46;
}

/** Parses an x86 ELF executable. Throws BadElfError with a plain message. */
export function parseElf(image: Uint8Array): ElfImage {
  if (!isElf(image)) throw new BadElfError('not an ELF file');
  const cls = image[4];
  if (cls !== 1 && cls !== 2) throw new BadElfError(`unknown ELF class ${String(cls)}`);
  const bits = cls === 1 ? 32 : 64;
  if (image.length < (bits === 32 ? 52 : 64)) throw new BadElfError('truncated ELF header');
  if (image[5] !== 1) throw new BadElfError('big-endian ELF is not an x86 image');
  const dv = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const type = dv.getUint16(16, true);
  const mach = dv.getUint16(18, true);
  if (type !== ET_EXEC) throw new BadElfError(`ELF type ${type} is not an executable`);
  if (mach !== EM_386 && mach !== EM_X86_64) throw new BadElfError(`ELF machine ${mach} is not x86`);
  const entry = bits === 32 ? dv.getUint32(24, true) : u64(dv, 24);
  const phoff = bits === 32 ? dv.getUint32(28, true) : u64(dv, 32);
  const phentsize = dv.getUint16(bits === 32 ? 42 : 54, true);
  const phnum = dv.getUint16(bits === 32 ? 44 : 56, true);
  if (phnum === 0) throw new BadElfError('no program headers');
  if (phentsize < (bits === 32 ? 32 : 56)) throw new BadElfError(`program header size ${phentsize} is too small`);
  if (phoff + phnum * phentsize > image.length) throw new BadElfError('program headers lie past the end of the file');

  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (dv.getUint32(at, true) !== PT_LOAD) continue;
    const s: ElfSegment = bits === 32
      ? { offset: dv.getUint32(at + 4, true), vaddr: dv.getUint32(at + 8, true), paddr: dv.getUint32(at + 12, true),
          fileSize: dv.getUint32(at + 16, true), memSize: dv.getUint32(at + 20, true) }
      : { offset: u64(dv, at + 8), vaddr: u64(dv, at + 16), paddr: u64(dv, at + 24),
          fileSize: u64(dv, at + 32), memSize: u64(dv, at + 40) };
    if (s.fileSize > s.memSize) throw new BadElfError(`segment ${i}: file size exceeds memory size`);
    if (s.offset + s.fileSize > image.length) throw new BadElfError(`segment ${i} lies past the end of the file`);
    if (s.memSize > 0) segments.push(s);
  }
  if (segments.length === 0) throw new BadElfError('no loadable segments');
  return { bits, machine: mach === EM_386 ? 'i386' : 'x86-64', entry, segments };
}

/**
 * A u64 field as a number. Above 2^53 it is rounded, which is harmless: such a value can
 * be neither a file offset nor a RAM address, and the loader's range checks reject it.
 */
function u64(dv: DataView, at: number): number {
  return dv.getUint32(at + 4, true) * 2 ** 32 + dv.getUint32(at, true);
}
