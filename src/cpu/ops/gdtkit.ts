/**
 * Test support for the control-transfer family: builds a GDT, IDT and TSS in test RAM
 * and puts a testing.ts CPU at a chosen privilege level with real event delivery.
 *
 * GDT layout (the same in every mode; index → selector):
 *   1 0x08 code DPL0 (32-bit in prot32, 64-bit in long64)   2 0x10 data DPL0
 *   3 0x1b code32 DPL3    4 0x23 data DPL3    5 0x2b code64 DPL3
 *   6 0x30 TSS (32-bit: 8 bytes; 64-bit: 16 bytes, index 6-7)
 *   8 0x40 code32 DPL0 (for compatibility-mode and conforming variations)
 */
import type { PhysicalMemory } from '../../memory/physical.js';
import { makeCpu, type TestCpu, type Mode } from '../testing.js';
import { defaultHooks } from '../interrupts.js';
import { loadSegment, loadTr } from '../segments.js';
import { CS, DS, ES, FS, GS, SS } from '../regs.js';

export const GDT = 0x1000, IDT = 0x2000, TSS = 0x3000, HANDLER = 0x20000, KSTACK = 0x70000, UCODE = 0x10000;

/** Writes descriptor `index`: access byte (P DPL S type) and flags nibble (G D/B L AVL). */
export function setDesc(mem: PhysicalMemory, index: number, base: number, limit: number, access: number, flags: number): void {
  const lo = (limit & 0xffff) | ((base & 0xffff) << 16);
  const hi = ((base >>> 16) & 0xff) | (access << 8) | (limit & 0xf0000) | (flags << 20) | (base & 0xff000000);
  mem.write32(GDT + index * 8, lo | 0);
  mem.write32(GDT + index * 8 + 4, hi | 0);
}

/** A 16/32-bit IDT gate (type 5 task, 6/7 16-bit int/trap, 0xe/0xf 32-bit int/trap). */
export function setGate32(mem: PhysicalMemory, vector: number, sel: number, offset: number, type: number, dpl: number, present = true): void {
  mem.write32(IDT + vector * 8, ((offset & 0xffff) | (sel << 16)) | 0);
  mem.write32(IDT + vector * 8 + 4, ((offset & 0xffff0000) | (present ? 0x8000 : 0) | (dpl << 13) | (type << 8)) | 0);
}

/** A 64-bit IDT gate (16 bytes). */
export function setGate64(mem: PhysicalMemory, vector: number, sel: number, offset: number, type: number, dpl: number, ist = 0, present = true): void {
  const a = IDT + vector * 16;
  mem.write32(a, ((offset & 0xffff) | (sel << 16)) | 0);
  mem.write32(a + 4, ((offset & 0xffff0000) | (present ? 0x8000 : 0) | (dpl << 13) | (type << 8) | ist) | 0);
  mem.write32(a + 8, Math.floor(offset / 4294967296) | 0);
  mem.write32(a + 12, 0);
}

/** A CPU in `mode` with the standard GDT/IDT/TSS, at `cpl`, delivering events through the IDT. */
export function makeSystem(mode: Mode, cpl: number): TestCpu {
  const t = makeCpu(mode);
  const { cpu, mem } = t;
  cpu.hooks = defaultHooks();
  if (mode === 'real') return t;
  const long = mode === 'long64';
  setDesc(mem, 1, 0, 0xfffff, 0x9b, long ? 0xa : 0xc);
  setDesc(mem, 2, 0, 0xfffff, 0x93, 0xc);
  setDesc(mem, 3, 0, 0xfffff, 0xfb, 0xc);
  setDesc(mem, 4, 0, 0xfffff, 0xf3, 0xc);
  setDesc(mem, 5, 0, 0xfffff, 0xfb, 0xa);
  setDesc(mem, 6, TSS, long ? 0x67 : 0x67, 0x89, 0);
  if (long) { mem.write32(GDT + 7 * 8, 0); mem.write32(GDT + 7 * 8 + 4, 0); }
  setDesc(mem, 8, 0, 0xfffff, 0x9b, 0xc);
  cpu.gdtBase = GDT; cpu.gdtLimit = 0x7f;
  cpu.idtBase = IDT; cpu.idtLimit = long ? 0xfff : 0x7ff;
  if (long) { mem.write32(TSS + 4, KSTACK); mem.write32(TSS + 8, 0); }
  else { mem.write32(TSS + 4, KSTACK); mem.write32(TSS + 8, 0x10); }
  loadTr(cpu, 0x30);
  if (cpl === 0) {
    cpu.setSegCache(CS, 0x08, 0, 0xffffffff, long ? 0xa09b : 0xc09b);
    for (const s of [SS, DS, ES, FS, GS]) loadSegment(cpu, s, 0x10);
  } else {
    cpu.setSegCache(CS, long ? 0x2b : 0x1b, 0, 0xffffffff, long ? 0xa0fb : 0xc0fb);
    for (const s of [SS, DS, ES, FS, GS]) loadSegment(cpu, s, 0x23);
  }
  cpu.updateMode();
  return t;
}

/** Loads `code` at `addr` (no HLT appended). */
export function place(t: TestCpu, addr: number, code: number[]): void {
  t.mem.load(addr, Uint8Array.from(code));
}

/** Runs exactly `n` instructions from `rip` (or fewer if the CPU halts or stops). */
export function step(t: TestCpu, n: number, rip?: number): number {
  if (rip !== undefined) t.cpu.rip = rip;
  t.cpu.halted = false;
  return t.cpu.run(n);
}
