/**
 * Guest loops that store once per page, as the "virtual" passes of kvm-unit-tests sieve.flat
 * do (strides above 4 KiB through 100 MB): the software TLB's reach and the cost of a 4-level
 * page walk per miss (docs/cpu-design.md "Memory path", "Page walks and address wraps").
 * 64-bit mode, 4 KiB pages at a kernel-half linear address (negative as a number, so the
 * walk's index arithmetic sees both signs). Two working sets: 16,384 pages (64 MiB, within
 * the TLB's 32,768 entries) and 131,072 pages (512 MiB of linear space aliased onto 64
 * physical pages, so nearly every store walks). Interpreter and translator.
 *
 *   node dist/bench/paging.js [PASSES]     (default 400)
 *
 * Prints MIPS per CPU second (process.cpuUsage) and ns per store; asserts nothing.
 */
import { makeCpu, setReg64, hex, CODE } from '../src/cpu/testing.js';
import { RAX, RBX, RCX, RSI } from '../src/cpu/regs.js';

/** Physical base of the data pages, and of the page tables (PML4, PDPT, PD, PTs). */
const PHYS = 16 << 20, TABLES = 8 << 20;
/** Linear base: PML4 index 256, the first kernel-half slot. */
const LIN = -(2 ** 47);
/** Stride of the stores: one page and a cache line, so consecutive stores never share a page. */
const STRIDE = 4096 + 64;

/** `pages` linear pages from LIN onto `physPages` physical pages (round robin). */
function run(jit: boolean, passes: number, pages: number, physPages: number): void {
  const t = makeCpu('long64', 96 << 20);
  const m = t.mem;
  // PML4[256] -> PDPT, PDPT[k] -> PD k, PD entries -> PTs (P|W, A/D already set: no write-backs)
  const pml4 = TABLES, pdpt = TABLES + 0x1000;
  const pts = pages / 512, pds = Math.ceil(pts / 512);
  const pd0 = TABLES + 0x2000, pt0 = pd0 + pds * 0x1000;
  for (let a = pdpt; a < pt0; a += 4) m.write32(a, 0);
  // keep the identity map of testing.ts (code, stack) in PML4[0]
  m.write32(pml4, m.read32(t.cpu.cr3)); m.write32(pml4 + 4, 0);
  m.write32(pml4 + 256 * 8, pdpt | 0x23); m.write32(pml4 + 256 * 8 + 4, 0);
  for (let k = 0; k < pds; k++) m.write32(pdpt + k * 8, (pd0 + k * 0x1000) | 0x23);
  for (let i = 0; i < pts; i++) {
    m.write32(pd0 + i * 8, (pt0 + i * 0x1000) | 0x23); m.write32(pd0 + i * 8 + 4, 0);
    for (let j = 0; j < 512; j++) {
      m.write32(pt0 + i * 0x1000 + j * 8, (PHYS + ((i * 512 + j) % physPages) * 4096) | 0x63);
      m.write32(pt0 + i * 0x1000 + j * 8 + 4, 0);
    }
  }
  t.cpu.cr3 = pml4;
  t.cpu.flushTlb();
  t.cpu.jit = jit;
  const code = hex(`
    48 89 da                ; 0x00 mov rdx, rbx
    c6 02 01                ; 0x03 mov byte [rdx], 1
    48 81 c2 40 10 00 00    ; 0x06 add rdx, 0x1040
    48 39 ca                ; 0x0d cmp rdx, rcx
    72 f1                   ; 0x10 jb 0x03
    48 ff ce                ; 0x12 dec rsi
    75 e9                   ; 0x15 jnz 0x00
    f4                      ; 0x17 hlt
  `);
  m.load(CODE, Uint8Array.from(code));
  const bytes = pages * 4096;
  setReg64(t.cpu, RBX, BigInt(LIN));
  setReg64(t.cpu, RCX, BigInt(LIN + bytes - STRIDE));
  setReg64(t.cpu, RSI, BigInt(passes));
  setReg64(t.cpu, RAX, 0n);
  t.cpu.rip = CODE;
  const c0 = process.cpuUsage();
  t.cpu.run(1e11);
  const cu = process.cpuUsage(c0);
  const s = (cu.user + cu.system) / 1e6;
  const n = t.cpu.instructionCount;
  const stores = passes * Math.ceil((bytes - STRIDE) / STRIDE);
  if (t.exceptions.length !== 0 || !t.cpu.halted) throw new Error(`the loop did not run to HLT: ${JSON.stringify(t.exceptions)}`);
  console.log(`stores to ${String(pages).padStart(6)} pages, ${jit ? 'translator ' : 'interpreter'}: ${(n / s / 1e6).toFixed(1).padStart(6)} MIPS per CPU s, ${(s * 1e9 / stores).toFixed(0).padStart(4)} ns per store (${stores} stores, ${s.toFixed(2)} CPU s)`);
}

const passes = Number(process.argv[2] ?? '400');
for (const [pages, physPages] of [[16384, 16384], [131072, 64]] as const) {
  for (const jit of [false, true]) run(jit, pages === 16384 ? passes : Math.max(1, passes >> 3), pages, physPages);
}
