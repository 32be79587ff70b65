/**
 * A CPU for decoder fuzzing: one machine per mode, reused across cases (building a CPU
 * costs ~14 ms here), restored to the same state before every case so that a seed
 * reproduces its run exactly.
 *
 * Layout (all modes): the case's bytes end at GUARD, the first byte of a page that is
 * not present in the paged modes (SDM Vol. 3A §4.5 PTE.P = 0), so fetching a 16th byte
 * of an instruction placed at CODE_AT shows up as a #PF on GUARD (it must be #GP(0): SDM
 * Vol. 2 §2.3.11). Real mode has no paging: the page after is HLT-filled instead.
 * Protected modes use PAE paging with EFER.NXE (the I/D bit of a #PF error code then tells
 * a fetch from a data access); all other memory is identity-mapped, user-accessible.
 *
 * Exceptions are recorded, not delivered through an IDT: the hook checks the vector and
 * error code the CPU hands to delivery and halts the CPU, which ends the case.
 */
import { PhysicalMemory } from '../../memory/physical.js';
import { PortBus } from '../../memory/bus.js';
import { Cpu } from '../cpu.js';
import { defaultProfile, withAvx, F7B_AVX2 } from '../profile.js';
import { buildTable } from '../ops/table.js';
import { setMode, STACK_TOP } from '../testing.js';
import { loadPdptes } from '../mmu.js';
import { deliver as deliverIdt } from '../interrupts.js';
import { CS, SS, TR, CR0_PE, CR0_PG, CR4_PAE, CR4_OSFXSR, CR4_OSXMMEXCPT, CR4_OSXSAVE, EFER_NXE, RSP } from '../regs.js';

export type FuzzMode = 'real' | 'prot32' | 'prot32-cpl3' | 'long64' | 'long64-cpl3' | 'compat' | 'compat-cpl3';
export const FUZZ_MODES: readonly FuzzMode[] = ['real', 'prot32', 'prot32-cpl3', 'long64', 'long64-cpl3', 'compat', 'compat-cpl3'];

export const GUARD = 0x11000;
export const CODE_AT = GUARD - 15;
/** A second place for the same bytes, mid-page: fetches there take the CPU's fast path (no page end near). */
export const CODE_MID = GUARD - 0x800;
/** Registers that look like pointers point here (mapped, writable, outside code and tables). */
export const DATA = 0x20000;
const MEM = 4 << 20;
const PD = 0x202000, PT = 0x203000, PDPT_PAE = 0x206000;
/** idt machines: descriptor tables, the TSS, the handler (a HLT) and the CPL 0 stack. */
const GDT = 0x5000, IDT = 0x6000, HANDLER = 0x7000, TSS = 0x8000, KSTACK = 0x90000;

/**
 * `retired`: instructions the case had completed when the event came (cpu.instructionCount;
 * a REP string instruction counts one per slice of iterations, string.ts REP_CAP, since it
 * restarts at the same RIP after each slice).
 */
export interface FuzzEvent { vector: number; err: number; hasErr: boolean; soft: boolean; rip: number; cr2: number; retired: number }

export class FuzzCpu {
  readonly cpu: Cpu;
  readonly mem: PhysicalMemory;
  readonly events: FuzzEvent[] = [];
  private readonly pristine: Uint8Array;
  private readonly codePage = new Uint8Array(4096);

  /**
   * `idt`: deliver events through a real IVT/IDT (interrupts.ts) to a handler that is a HLT,
   * with a GDT and a TSS for the CPL 3 stack switch, instead of only recording them.
   */
  /**
   * `avx`: the profile advertises AVX and AVX2 and every case starts with CR4.OSXSAVE set
   * and XCR0 = 7, so VEX instructions run instead of raising #UD (src/cpu/avx).
   */
  constructor(readonly mode: FuzzMode, readonly idt = false, readonly avx = false) {
    this.mem = new PhysicalMemory(MEM);
    const events = this.events;
    const base = defaultProfile();
    const profile = avx ? { ...withAvx(base), leaf7Ebx: base.leaf7Ebx | F7B_AVX2 } : base;
    this.cpu = new Cpu(this.mem, new PortBus(), profile, buildTable(), {
      deliver(c, vector, err, hasErr, soft, nextRip) {
        events.push({ vector, err, hasErr, soft, rip: c.rip, cr2: c.cr2, retired: c.instructionCount });
        if (idt) deliverIdt(c, vector, err, hasErr, soft, nextRip);
        else c.halted = true;
      },
      acknowledgeInterrupt: () => -1,
    });
    this.setCpuState();
    if (idt) this.writeTables();
    // page tables on top of what setMode wrote: PD[0] maps 0-2M with 4K pages, GUARD absent
    const m = this.mem;
    m.write32(PD, PT | 7); m.write32(PD + 4, 0);
    for (let i = 0; i < 512; i++) { m.write32(PT + i * 8, i === GUARD >> 12 ? 0 : (i << 12) | 7); m.write32(PT + i * 8 + 4, 0); }
    // PAE's four PDPTEs (bits 1, 2 reserved): every GiB aliases the first
    for (let i = 0; i < 4; i++) { m.write32(PDPT_PAE + i * 8, PD | 1); m.write32(PDPT_PAE + i * 8 + 4, 0); }
    this.pristine = Uint8Array.from(this.mem.ram.subarray(0, MEM));
    this.pristine.fill(0xf4, CODE_AT & ~0xfff, GUARD);
    this.pristine[HANDLER] = 0xf4;
    if (mode === 'real') this.pristine.fill(0xf4, GUARD, GUARD + 0x1000);
  }

  /**
   * GDT, TSS and IVT/IDT for `idt` machines: every vector goes to HANDLER (a HLT) through a
   * DPL 3 interrupt gate (so INT n works at CPL 3); the TSS gives the CPL 0 stack
   * (SDM Vol. 3A §6.11, §6.12.1, §6.14.1, §7.7).
   */
  private writeTables(): void {
    const m = this.mem;
    const desc = (sel: number, lo: number, hi: number): void => { m.write32(GDT + sel, lo); m.write32(GDT + sel + 4, hi); };
    if (this.mode === 'real') {
      for (let v = 0; v < 256; v++) m.write32(v * 4, HANDLER); // 0000:HANDLER
      return;
    }
    const long = !this.mode.startsWith('prot32');
    if (long) { desc(0x08, 0x0000ffff, 0x00af9b00); desc(0x10, 0x0000ffff, 0x00cf9300); }
    else { desc(0x10, 0x0000ffff, 0x00cf9b00); desc(0x18, 0x0000ffff, 0x00cf9300); }
    if (long) { m.write32(TSS + 4, KSTACK); m.write32(TSS + 8, 0); } // RSP0
    else { m.write32(TSS + 4, KSTACK); m.write32(TSS + 8, 0x18); }  // ESP0, SS0
    const gate = long ? 16 : 8;
    for (let v = 0; v < 256; v++) {
      const g = IDT + v * gate;
      m.write32(g, (HANDLER & 0xffff) | ((long ? 0x08 : 0x10) << 16));
      m.write32(g + 4, (HANDLER & 0xffff0000) | 0xee00); // P, DPL 3, 32/64-bit interrupt gate
      if (long) { m.write32(g + 8, 0); m.write32(g + 12, 0); }
    }
  }

  private setIdtRegisters(): void {
    const cpu = this.cpu;
    if (this.mode === 'real') { cpu.idtBase = 0; cpu.idtLimit = 0x3ff; return; }
    const long = !this.mode.startsWith('prot32');
    cpu.gdtBase = GDT; cpu.gdtLimit = 0x3f;
    cpu.idtBase = IDT; cpu.idtLimit = 256 * (long ? 16 : 8) - 1;
    cpu.setSystemSeg(TR, 0x28, TSS, 0x67, 0x8b); // busy 32-bit / 64-bit TSS
  }

  private setCpuState(): void {
    const cpu = this.cpu, mode = this.mode;
    setMode(cpu, mode === 'real' ? 'real' : mode.startsWith('prot32') ? 'prot32' : 'long64');
    const cpl3 = mode.endsWith('cpl3');
    if (mode.startsWith('prot32')) {
      cpu.cr3 = PDPT_PAE;
      cpu.cr4 |= CR4_PAE;
      cpu.efer = EFER_NXE;
      cpu.cr0 |= CR0_PE | CR0_PG;
      if (cpl3) { cpu.setSegCache(SS, 0x23, 0, 0xffffffff, 0xc0f3); cpu.setSegCache(CS, 0x1b, 0, 0xffffffff, 0xc0fb); }
    } else if (mode !== 'real') {
      const l = mode.startsWith('long64') ? 0xa000 : 0xc000; // L=1,D=0 or L=0,D=1 (compatibility mode)
      if (cpl3) cpu.setSegCache(SS, 0x23, 0, 0xffffffff, 0xc0f3);
      cpu.setSegCache(CS, cpl3 ? 0x2b : 0x08, 0, 0xffffffff, l | (cpl3 ? 0xfb : 0x9b));
    }
    // SSE enabled as an OS would (CR4.OSFXSR, OSXMMEXCPT): otherwise every SSE form is #UD
    // (SDM Vol. 3A §13.1.4)
    cpu.cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
    if (this.avx) { cpu.cr4 |= CR4_OSXSAVE; cpu.xcr0 = 7; }
    if (this.idt) this.setIdtRegisters();
    cpu.updateMode();
    cpu.flushTlb();
  }

  /**
   * Restores memory and CPU state, places `code` (up to 15 bytes at CODE_AT, to end at GUARD;
   * up to the page end elsewhere) and sets
   * the GPRs (lo, hi pairs; RSP stays STACK_TOP) and the arithmetic flags and DF.
   * The code page is rewritten only when it differs, so translated blocks survive reruns.
   */
  load(code: Uint8Array, regs: Int32Array, flags: number, at = CODE_AT): void {
    const mem = this.mem;
    this.setCpuState();
    this.events.length = 0;
    const page = CODE_AT & ~0xfff;
    mem.load(0, this.pristine.subarray(0, page));
    mem.load(page + 0x1000, this.pristine.subarray(page + 0x1000));
    const want = this.codePage;
    want.set(this.pristine.subarray(page, page + 0x1000));
    want.set(code.subarray(0, at === CODE_AT ? 15 : GUARD - at), at - page); // longer code only mid-page
    const ram = mem.ram;
    for (let i = 0; i < 4096; i++) if (ram[page + i] !== want[i]) { mem.load(page, want); break; }
    const cpu = this.cpu;
    // PAE's PDPTE registers are loaded with CR3 (SDM Vol. 3A §4.4.1), after memory holds them
    if (this.mode.startsWith('prot32') && !loadPdptes(cpu, PDPT_PAE)) throw new Error('PDPTEs');
    cpu.r.set(regs.subarray(0, 32));
    cpu.r[2 * RSP] = STACK_TOP; cpu.r[2 * RSP + 1] = 0;
    cpu.setFlags(flags & 0xcd5, 0xcd5);
    cpu.rip = at;
    cpu.halted = false;
    // the TSC counts retired instructions (tsc.ts): every run of a case reads the same RDTSC.
    // lastEventAt is an instruction count too (debug.ts: no single-step trap after an
    // instruction that delivered an event): a stale one would now match the new count
    cpu.instructionCount = 0;
    cpu.lastEventAt = -1;
  }
}
