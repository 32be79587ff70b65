import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PhysicalMemory } from '../memory/physical.js';
import { aoutKludgeImage, findMultibootHeader, loadMultiboot, pcMemoryMap } from './multiboot.js';
import { BadElfError, ImageTooLargeError, ModuleTooLargeError, MultibootHeaderError, NotMultibootError } from './errors.js';
import { loadFlat } from './flat.js';

const MB = 1 << 20;
const MAGIC = 0x1badb002;

/** A Multiboot header: magic, flags, checksum and, with bit 16, the five address fields. */
function header(flags: number, aout?: number[]): Uint8Array {
  const h = new Uint8Array(aout ? 32 : 12);
  const dv = new DataView(h.buffer);
  dv.setUint32(0, MAGIC, true);
  dv.setUint32(4, flags >>> 0, true);
  dv.setUint32(8, (-(MAGIC + flags)) >>> 0, true);
  aout?.forEach((v, i) => dv.setUint32(12 + 4 * i, v, true));
  return h;
}

interface Seg { paddr: number; vaddr?: number; data: Uint8Array; memSize?: number }

/** A minimal x86 ELF executable: file header, program headers, then each segment's bytes. */
function elf(bits: 32 | 64, entry: number, segs: Seg[]): Uint8Array {
  const ehsize = bits === 32 ? 52 : 64, phsize = bits === 32 ? 32 : 56;
  let off = ehsize + phsize * segs.length;
  const offsets = segs.map((s) => { const o = off; off += s.data.length; return o; });
  const out = new Uint8Array(off);
  const dv = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, bits === 32 ? 1 : 2, 1, 1]);
  dv.setUint16(16, 2, true);
  dv.setUint16(18, bits === 32 ? 3 : 62, true);
  if (bits === 32) {
    dv.setUint32(24, entry, true); dv.setUint32(28, ehsize, true);
    dv.setUint16(42, phsize, true); dv.setUint16(44, segs.length, true);
  } else {
    dv.setUint32(24, entry, true); dv.setUint32(32, ehsize, true);
    dv.setUint16(54, phsize, true); dv.setUint16(56, segs.length, true);
  }
  segs.forEach((s, i) => {
    const at = ehsize + i * phsize;
    const memSize = s.memSize ?? s.data.length;
    dv.setUint32(at, 1, true);
    if (bits === 32) {
      dv.setUint32(at + 4, offsets[i]!, true); dv.setUint32(at + 8, s.vaddr ?? s.paddr, true);
      dv.setUint32(at + 12, s.paddr, true); dv.setUint32(at + 16, s.data.length, true); dv.setUint32(at + 20, memSize, true);
    } else {
      dv.setUint32(at + 8, offsets[i]!, true); dv.setUint32(at + 16, s.vaddr ?? s.paddr, true);
      dv.setUint32(at + 24, s.paddr, true); dv.setUint32(at + 32, s.data.length, true); dv.setUint32(at + 40, memSize, true);
    }
    out.set(s.data, offsets[i]!);
  });
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

function cstring(mem: PhysicalMemory, at: number): string {
  let s = '';
  while (mem.ram[at] !== 0) s += String.fromCharCode(mem.ram[at++]!);
  return s;
}

for (const bits of [32, 64] as const) {
  test(`ELF${bits}: segments load at p_paddr, bss is zeroed, entry is e_entry`, () => {
    const code = concat(header(2), new Uint8Array([0x90, 0xf4]));
    const image = elf(bits, 0x10000c, [{ paddr: 0x100000, vaddr: 0x100000, data: code, memSize: 0x3000 }]);
    const mem = new PhysicalMemory(4 * MB);
    mem.ram.fill(0xcc, 0x100000, 0x104000);
    const k = loadMultiboot(mem, image, 'k a=1');
    assert.equal(k.format, bits === 32 ? 'elf32' : 'elf64');
    assert.equal(k.entry, 0x10000c);
    assert.deepEqual([...mem.ram.subarray(0x10000c, 0x10000e)], [0x90, 0xf4]);
    assert.equal(mem.ram[0x102fff], 0, 'bss zeroed');
    assert.equal(mem.ram[0x103000], 0xcc, 'nothing past memsz touched');
    assert.equal(k.imageStart, 0x100000);
    assert.equal(k.imageEnd, 0x103000);
  });
}

test('a virtual entry point is translated through its segment (higher-half kernels)', () => {
  const image = elf(64, 0xc0100010, [{ paddr: 0x100000, vaddr: 0xc0100000, data: concat(header(0), new Uint8Array(16)) }]);
  const k = loadMultiboot(new PhysicalMemory(4 * MB), image, '');
  assert.equal(k.entry, 0x100010);
});

test('the information structure: flags, memory, command line, mmap, loader name', () => {
  const image = elf(32, 0x100000, [{ paddr: 0x100000, data: header(2) }]);
  const mem = new PhysicalMemory(64 * MB);
  const k = loadMultiboot(mem, image, 'kernel.elf 7 x=y');
  const dv = mem.view, b = k.infoAddr;
  assert.ok(b + 88 <= 0x9fc00, 'info in conventional memory');
  assert.equal(dv.getUint32(b, true), 0x24d, 'mem, cmdline, mods, mmap, loader name');
  assert.equal(dv.getUint32(b + 4, true), 639);
  assert.equal(dv.getUint32(b + 8, true), 63 * 1024);
  assert.equal(cstring(mem, dv.getUint32(b + 16, true)), 'kernel.elf 7 x=y');
  assert.equal(dv.getUint32(b + 20, true), 0, 'no modules');
  assert.equal(cstring(mem, dv.getUint32(b + 64, true)), 'nestvisor');
  const len = dv.getUint32(b + 44, true), at = dv.getUint32(b + 48, true);
  const entries: [number, number, number][] = [];
  for (let p = at; p < at + len; p += dv.getUint32(p, true) + 4) {
    entries.push([dv.getUint32(p + 4, true), dv.getUint32(p + 12, true), dv.getUint32(p + 20, true)]);
  }
  assert.deepEqual(entries, [[0, 0x9fc00, 1], [0x9fc00, 0x400, 2], [0xf0000, 0x10000, 2], [0x100000, 63 * MB, 1]]);
});

test('the information structure moves out of the way of a low-memory image', () => {
  const image = elf(32, 0x1000, [{ paddr: 0x1000, data: header(0), memSize: 0x100000 - 0x1000 }]);
  const mem = new PhysicalMemory(4 * MB);
  const k = loadMultiboot(mem, image, '');
  assert.ok(k.infoAddr >= 0x100000, `info at 0x${k.infoAddr.toString(16)} clear of the image`);
});

test('a.out kludge: header address fields place the file, bss and entry', () => {
  // File: 16 bytes of padding, the header (at file offset 16), then code. Loaded at 0x200000.
  const hdr = header(0x10002, [0x200010, 0x200000, 0x200040, 0x201000, 0x200030]);
  const file = concat(new Uint8Array(16), hdr, new Uint8Array(16).fill(0x90), new Uint8Array(64).fill(0xee));
  const mem = new PhysicalMemory(4 * MB);
  mem.ram.fill(0xcc, 0x200000, 0x202000);
  const k = loadMultiboot(mem, file, '');
  assert.equal(k.format, 'aout-kludge');
  assert.equal(k.entry, 0x200030);
  assert.equal(mem.ram[0x200030], 0x90);
  assert.equal(mem.ram[0x200040], 0, 'past load_end_addr: bss');
  assert.equal(mem.ram[0x200fff], 0);
  assert.equal(mem.ram[0x201000], 0xcc);
});

test('aoutKludgeImage: raw code loads at the given address + 0x20, which is the entry', () => {
  const img = aoutKludgeImage([0xfa, 0xf4], 0x300000);
  const mem = new PhysicalMemory(4 * MB);
  const k = loadMultiboot(mem, img, '');
  assert.equal(k.format, 'aout-kludge');
  assert.equal(k.entry, 0x300020);
  assert.deepEqual([...mem.ram.subarray(0x300020, 0x300022)], [0xfa, 0xf4]);
});

test('the a.out kludge wins over an ELF header (spec §3.1.3)', () => {
  const elfImage = elf(32, 0x100000, [{ paddr: 0x100000, data: new Uint8Array(64) }]);
  const hdrAt = elfImage.length;
  const hdr = header(0x10000, [0x300000 + hdrAt, 0x300000, 0, 0, 0x300000]);
  const k = loadMultiboot(new PhysicalMemory(4 * MB), concat(elfImage, hdr), '');
  assert.equal(k.format, 'aout-kludge');
  assert.equal(k.entry, 0x300000);
});

test('not Multiboot: no header, a bad checksum, or a header beyond 8 KiB', () => {
  const mem = new PhysicalMemory(4 * MB);
  assert.throws(() => loadMultiboot(mem, new Uint8Array(100), ''), NotMultibootError);
  const bad = header(0); bad[8]! ^= 1;
  assert.throws(() => loadMultiboot(mem, concat(bad, new Uint8Array(16)), ''), NotMultibootError);
  assert.throws(() => findMultibootHeader(concat(new Uint8Array(8192), header(0))), /no Multiboot header in its first 8 KiB/);
  assert.equal(findMultibootHeader(concat(new Uint8Array(8176), header(0))).offset, 8176);
  assert.throws(() => loadMultiboot(mem, concat(header(0), new Uint8Array(16)), ''), NotMultibootError, 'no ELF, no address fields');
});

test('boot modules: page-aligned after the kernel (bss included), listed with their strings (QEMU -initrd)', () => {
  // kernel [0x100000, 0x102800): the first module starts at the next page, the second at the page after the first's end
  const image = elf(32, 0x100000, [{ paddr: 0x100000, data: header(1), memSize: 0x2800 }]);
  const mem = new PhysicalMemory(8 * MB);
  mem.ram.fill(0xcc, 0x100000, 0x110000);
  const env = new TextEncoder().encode('TEST_DEVICE=0\nNR_CPUS=2\n');
  const blob = new Uint8Array(0x1001).fill(0x5a);
  const k = loadMultiboot(mem, image, 'k', [{ bytes: env, string: '/tmp/env' }, { bytes: blob, string: 'blob.bin x=1' }]);
  assert.deepEqual(k.modules, [
    { start: 0x103000, end: 0x103000 + env.length, string: '/tmp/env' },
    { start: 0x104000, end: 0x105001, string: 'blob.bin x=1' },
  ]);
  const dv = mem.view, b = k.infoAddr;
  assert.ok(dv.getUint32(b, true) & 8, 'MBI_MODS');
  assert.equal(dv.getUint32(b + 20, true), 2, 'mods_count');
  const mods = dv.getUint32(b + 24, true);
  assert.deepEqual([dv.getUint32(mods, true), dv.getUint32(mods + 4, true)], [0x103000, 0x103000 + env.length]);
  assert.equal(cstring(mem, dv.getUint32(mods + 8, true)), '/tmp/env');
  assert.equal(dv.getUint32(mods + 12, true), 0, 'reserved');
  assert.deepEqual([dv.getUint32(mods + 16, true), dv.getUint32(mods + 20, true)], [0x104000, 0x105001]);
  assert.equal(cstring(mem, dv.getUint32(mods + 24, true)), 'blob.bin x=1');
  assert.deepEqual([...mem.ram.subarray(0x103000, 0x103000 + env.length)], [...env]);
  assert.equal(mem.ram[0x105000], 0x5a);
  assert.equal(mem.ram[0x105001], 0xcc, 'nothing past the last module touched');
  assert.equal(mem.ram[0x1027ff], 0, 'bss still zeroed');
  assert.equal(cstring(mem, dv.getUint32(b + 16, true)), 'k', 'command line intact');
});

test('boot modules follow an a.out-kludge image at an unaligned load address page by page from it', () => {
  const code = concat(header(0x10001, [0x200100, 0x200100, 0, 0x200900, 0x200100]));
  const mem = new PhysicalMemory(4 * MB);
  const k = loadMultiboot(mem, code, '', [{ bytes: new Uint8Array([1, 2, 3]), string: 'm' }]);
  assert.equal(k.modules[0]!.start, 0x201100, 'load address + the image size rounded up to a page (QEMU)');
});

test('a module too big for RAM is refused before anything is written', () => {
  const image = elf(32, 0x100000, [{ paddr: 0x100000, data: header(0) }]);
  const mem = new PhysicalMemory(2 * MB);
  assert.throws(() => loadMultiboot(mem, image, '', [{ bytes: new Uint8Array(MB), string: 'big.img' }]), (e: unknown) =>
    e instanceof ModuleTooLargeError && e instanceof ImageTooLargeError && /the module 'big.img' \(1.0 MiB\) does not fit in RAM after the kernel/.test(e.message));
  assert.equal(mem.view.getUint32(0x100000, true), 0, 'the kernel was not loaded either');
  // exactly filling RAM is fine
  const k = loadMultiboot(mem, image, '', [{ bytes: new Uint8Array(MB - 0x1000), string: 'fits' }]);
  assert.equal(k.modules[0]!.end, 2 * MB);
});

test('unknown required header flags are refused', () => {
  const image = elf(32, 0x100000, [{ paddr: 0x100000, data: header(0x8) }]);
  assert.throws(() => loadMultiboot(new PhysicalMemory(4 * MB), image, ''), MultibootHeaderError);
});

test('too little RAM for the image', () => {
  const image = elf(32, 0x100000, [{ paddr: 0x100000, data: header(0), memSize: 8 * MB }]);
  assert.throws(() => loadMultiboot(new PhysicalMemory(4 * MB), image, ''), (e: unknown) =>
    e instanceof ImageTooLargeError && /needs memory up to 9 MiB but the machine has 4 MiB/.test(e.message));
});

test('bad ELF: truncated program headers, filesz > memsz, no loadable segments', () => {
  const mem = new PhysicalMemory(4 * MB);
  const good = elf(64, 0x100000, [{ paddr: 0x100000, data: header(0) }]);
  const truncated = good.slice();
  new DataView(truncated.buffer).setUint16(56, 200, true); // e_phnum past the end of the file
  assert.throws(() => loadMultiboot(mem, truncated, ''), (e: unknown) => e instanceof BadElfError && /past the end/.test(e.message));
  const shrunk = good.slice();
  new DataView(shrunk.buffer).setUint32(64 + 40, 4, true); // memsz < filesz
  assert.throws(() => loadMultiboot(mem, shrunk, ''), /file size exceeds memory size/);
  const noLoad = good.slice();
  new DataView(noLoad.buffer).setUint32(64, 4, true); // PT_NOTE
  assert.throws(() => loadMultiboot(mem, noLoad, ''), /no loadable segments/);
});

test('memory map of a small machine has no RAM above 1 MiB', () => {
  assert.deepEqual(pcMemoryMap(512 * 1024).filter((e) => e.type === 1), [{ base: 0, length: 512 * 1024, type: 1 }]);
});

test('the committed guest images load (ELF32 made from ELF64 by objcopy)', () => {
  for (const name of ['hello', 'sieve', 'cpu-basic']) {
    const image = new Uint8Array(readFileSync(new URL(`../../../guests/images/${name}.elf`, import.meta.url)));
    const mem = new PhysicalMemory(64 * MB);
    const k = loadMultiboot(mem, image, name);
    assert.equal(k.format, 'elf32');
    assert.equal(k.imageStart, 0x100000);
    assert.equal(mem.view.getUint32(0x100000, true), MAGIC, `${name}: header first`);
  }
});

test('flat images load at 1 MiB and refuse to overflow RAM', () => {
  const mem = new PhysicalMemory(2 * MB);
  assert.equal(loadFlat(mem, new Uint8Array([0xf4])).entry, 0x100000);
  assert.equal(mem.ram[0x100000], 0xf4);
  assert.throws(() => loadFlat(mem, new Uint8Array(MB + 1)), ImageTooLargeError);
});
