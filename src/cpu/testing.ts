/**
 * Test support for instruction-family unit tests: a CPU with RAM and no devices, code
 * placed at CODE, and the three modes set up directly (no boot code to go wrong).
 * Exceptions are recorded instead of delivered, so a test can assert vector and error code.
 */
import { PhysicalMemory } from '../memory/physical.js';
import { PortBus } from '../memory/bus.js';
import { Cpu, STOP_HALT } from './cpu.js';
import { defaultProfile } from './profile.js';
import { buildTable } from './ops/table.js';
import { CS, DS, ES, FS, GS, SS, CR0_PE, CR0_PG, CR4_PAE, EFER_LME, EFER_LMA, EFER_NXE } from './regs.js';

export const CODE = 0x10000;
export const STACK_TOP = 0x80000;
export const PT_BASE = 0x200000; // page tables for long mode (identity, 2M pages, first 1 GiB)

export interface TestCpu {
  cpu: Cpu;
  mem: PhysicalMemory;
  io: PortBus;
  /** Exceptions raised, in order: [vector, errorCode]. Delivery is replaced by recording + halt. */
  exceptions: Array<[number, number]>;
}

export type Mode = 'real' | 'prot32' | 'long64';

export function makeCpu(mode: Mode = 'long64', memBytes = 4 << 20): TestCpu {
  const mem = new PhysicalMemory(memBytes);
  const io = new PortBus();
  const exceptions: Array<[number, number]> = [];
  const cpu = new Cpu(mem, io, defaultProfile(), buildTable(), {
    deliver(c, vector, err) { exceptions.push([vector, err]); c.halted = true; },
    acknowledgeInterrupt: () => -1,
  });
  setMode(cpu, mode);
  return { cpu, mem, io, exceptions };
}

export function setMode(cpu: Cpu, mode: Mode): void {
  cpu.reset();
  if (mode === 'real') {
    for (const s of [CS, DS, ES, FS, GS, SS]) cpu.setSegReal(s, 0);
    cpu.updateMode();
    cpu.rip = CODE;
    cpu.setReg16(4, 0xfff0);
    return;
  }
  cpu.setupFlat32(CODE);
  cpu.setReg32(4, STACK_TOP);
  if (mode === 'long64') {
    const mem = cpu.mem;
    // PML4[0] -> PDPT, PDPT[0] -> PD, PD[i] = 2M pages identity for 1 GiB
    mem.write32(PT_BASE, (PT_BASE + 0x1000) | 7);
    mem.write32(PT_BASE + 0x1000, (PT_BASE + 0x2000) | 7);
    for (let i = 0; i < 512; i++) { mem.write32(PT_BASE + 0x2000 + i * 8, (i * 0x200000) | 0x87); mem.write32(PT_BASE + 0x2000 + i * 8 + 4, 0); }
    cpu.cr3 = PT_BASE;
    cpu.cr4 |= CR4_PAE;
    cpu.efer = EFER_LME | EFER_LMA | EFER_NXE;
    cpu.cr0 |= CR0_PE | CR0_PG;
    cpu.setSegCache(CS, 0x08, 0, 0xffffffff, 0xa09b); // L=1, D=0
    for (const s of [DS, ES, FS, GS, SS]) cpu.setSegCache(s, 0x10, 0, 0xffffffff, 0xc093);
    cpu.updateMode();
    cpu.flushTlb();
  }
}

/** Parses "48 01 d8" style hex (comments after ';' per line are allowed). */
export function hex(s: string): number[] {
  return s.split('\n').map((l) => l.replace(/;.*$/, '')).join(' ').trim().split(/\s+/).filter(Boolean).map((b) => parseInt(b, 16));
}

/**
 * Places `code` at CODE followed by HLT, runs until HLT (or `max` instructions) and
 * returns the CPU. Code is given as bytes or a hex string.
 */
export function run(t: TestCpu, code: number[] | string, max = 10000): Cpu {
  const bytes = typeof code === 'string' ? hex(code) : code;
  t.mem.load(CODE, Uint8Array.from([...bytes, 0xf4]));
  t.cpu.rip = CODE;
  t.cpu.halted = false;
  const why = t.cpu.run(max);
  if (why !== STOP_HALT && why !== 0) throw new Error(`unexpected stop ${why}: ${t.cpu.tripleFaultReport}`);
  return t.cpu;
}

/** RAX etc. as a BigInt for assertions only (tests may use BigInt; the CPU never does). */
export function reg64(cpu: Cpu, n: number): bigint {
  return (BigInt(cpu.r[2 * n + 1]! >>> 0) << 32n) | BigInt(cpu.r[2 * n]! >>> 0);
}
export function setReg64(cpu: Cpu, n: number, v: bigint): void {
  const u = BigInt.asUintN(64, v);
  cpu.r[2 * n] = Number(u & 0xffffffffn) | 0;
  cpu.r[2 * n + 1] = Number(u >> 32n) | 0;
}
