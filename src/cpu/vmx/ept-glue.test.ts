/**
 * EPT in non-root operation end to end (SDM Vol. 3C §29.3, §27.2.1): VM entry with "enable
 * EPT" translates every guest-physical address through L1's EPT; violations and
 * misconfigurations exit with the Table 27-7 qualification and the guest-physical /
 * guest-linear addresses; an L2 with its own page tables has every paging-structure access
 * translated; an unrestricted guest runs in real mode under EPT; INVEPT outcomes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RBX, RCX, CS, SS, DS, ES, FS, GS } from '../regs.js';
import { reg64, setReg64 } from '../testing.js';
import { F } from './vmcs-fields.js';
import { EXIT } from './vmexit.js';
import { PROC_HLT, PROC_SECONDARY, PROC2_EPT, PROC2_UNRESTRICTED, ENTRY_IA32E } from './capabilities.js';
import { vmxSetup, guest, launch, resume, rd, rd32, wr, or32, assertExited, exec, GUEST_CODE, IDT, type VmxTest } from './testkit.js';

const EPT_PML4 = 0x300000, EPT_PDPT = 0x301000, EPT_PD = 0x302000, EPT_PT = 0x303000;
const WB = 6 << 3;

/**
 * EPT identity map of the first 8 MiB: 4K pages for the first 2 MiB (EPT_PT), 2M pages
 * above. `remap2M`: PD index → host-physical base overriding the identity.
 */
function enableEpt(t: VmxTest, ad = false, remap2M: Record<number, number> = {}): void {
  const m = t.mem;
  m.write32(EPT_PML4, EPT_PDPT | 7);
  m.write32(EPT_PDPT, EPT_PD | 7);
  m.write32(EPT_PD, EPT_PT | 7);
  for (let i = 0; i < 512; i++) m.write32(EPT_PT + i * 8, (i << 12) | WB | 7);
  for (let i = 1; i < 4; i++) m.write32(EPT_PD + i * 8, (remap2M[i] ?? i << 21) | 0x80 | WB | 7);
  wr(t, F.EPT_POINTER, EPT_PML4 | 6 | (3 << 3) | (ad ? 0x40 : 0));
  or32(t, F.CPU_BASED_VM_EXEC_CONTROL, PROC_SECONDARY | PROC_HLT);
  or32(t, F.SECONDARY_VM_EXEC_CONTROL, PROC2_EPT);
}
function eptPte(t: VmxTest, gpa: number, value: number): void { t.mem.write32(EPT_PT + (gpa >>> 12) * 8, value); }

test('EPT violation: a write to a read-only guest-physical page exits 48 with the Table 27-7 qualification', () => {
  const t = vmxSetup();
  enableEpt(t);
  eptPte(t, 0x90000, 0x90000 | WB | 1); // read-only
  // 48 b8 10 00 09 00 00 00 00 00   movabs rax, 0x90010
  // 8a 18                           mov bl, BYTE PTR [rax]     (reading is allowed)
  // c6 00 01                        mov BYTE PTR [rax], 0x1    (EPT violation)
  guest(t, '48 b8 10 00 09 00 00 00 00 00 8a 18 c6 00 01 f4');
  launch(t);
  assertExited(t, EXIT.EPT_VIOLATION, GUEST_CODE + 12);
  // write access (bit 1), readable (bit 3), linear address valid (7), translation of it (8)
  assert.equal(rd(t, F.EXIT_QUALIFICATION), 0x2 | 0x8 | 0x80 | 0x100);
  assert.equal(rd(t, F.GUEST_PHYSICAL_ADDRESS), 0x90010);
  assert.equal(rd(t, F.GUEST_LINEAR_ADDRESS), 0x90010);
  assert.equal(t.mem.read8(0x90010), 0, 'the write did not happen');
  assert.equal(t.cpu.gpaTranslate, null, 'EPT is off again in root operation');
  // an execute-only page: a fetch works, the read of it is a violation with X (bit 5) reported
  eptPte(t, 0x90000, 0x90000 | WB | 7);
  eptPte(t, 0x31000, 0x31000 | WB | 4);
  t.mem.load(0x31000, Uint8Array.from([0x48, 0x8b, 0x1d, 0xf9, 0xff, 0xff, 0xff])); // mov rbx, [rip-7] (reads 0x31000)
  // e9 fb 0f 00 00   jmp 0x31000
  guest(t, 'e9 fb 0f 00 00');
  wr(t, F.GUEST_RIP, GUEST_CODE);
  resume(t);
  assertExited(t, EXIT.EPT_VIOLATION, 0x31000);
  assert.equal(rd(t, F.EXIT_QUALIFICATION), 0x1 | 0x20 | 0x80 | 0x100);
  assert.equal(rd(t, F.GUEST_PHYSICAL_ADDRESS), 0x31000);
});

test('EPT misconfiguration: a write-only entry exits 49 with the guest-physical address', () => {
  const t = vmxSetup();
  enableEpt(t);
  eptPte(t, 0x90000, 0x90000 | WB | 2); // W without R (SDM §29.3.3.1)
  // 48 b8 08 00 09 00 00 00 00 00   movabs rax, 0x90008
  // 48 8b 18                        mov rbx, QWORD PTR [rax]
  guest(t, '48 b8 08 00 09 00 00 00 00 00 48 8b 18 f4');
  launch(t);
  assertExited(t, EXIT.EPT_MISCONFIG, GUEST_CODE + 10);
  assert.equal(rd(t, F.EXIT_QUALIFICATION), 0);
  assert.equal(rd(t, F.GUEST_PHYSICAL_ADDRESS), 0x90008);
  // memory type 2 in a leaf is a misconfiguration too
  eptPte(t, 0x90000, 0x90000 | (2 << 3) | 7);
  resume(t);
  assertExited(t, EXIT.EPT_MISCONFIG, GUEST_CODE + 10);
});

/** L2 page tables at guest-physical 0x400000 (host-physical 0x600000 through EPT PD[2]). */
function l2PageTables(t: VmxTest): void {
  const h = 0x600000; // host-physical of gpa 0x400000
  t.mem.write32(h, 0x401000 | 7);            // PML4[0] → PDPT at gpa 0x401000
  t.mem.write32(h + 0x1000, 0x402000 | 7);   // PDPT[0] → PD at gpa 0x402000
  t.mem.write32(h + 0x2000, 0x000000 | 0x87); // PD[0]: 2M page, linear 0..2M → gpa 0..2M
  t.mem.write32(h + 0x2008, 0x403000 | 7);   // PD[1] → PT at gpa 0x403000
  t.mem.write32(h + 0x3000, 0x500000 | 7);   // PT[0]: linear 0x200000 → gpa 0x500000
  wr(t, F.GUEST_CR3, 0x400000);
}

test('an L2 with its own page tables: every paging-structure access and the final address go through EPT', () => {
  const t = vmxSetup();
  enableEpt(t, true, { 2: 0x600000, 3: 0x600000 + (1 << 21) }); // gpa 4-8M → hpa 6-10M
  l2PageTables(t);
  t.mem.write32(0x700008, 0x12345678); // gpa 0x500008
  // 48 b8 08 00 20 00 00 00 00 00   movabs rax, 0x200008
  // 48 8b 18                        mov rbx, QWORD PTR [rax]
  // c6 00 01                        mov BYTE PTR [rax], 0x1
  guest(t, '48 b8 08 00 20 00 00 00 00 00 48 8b 18 c6 00 01 f4');
  launch(t);
  assertExited(t, EXIT.HLT, GUEST_CODE + 16);
  assert.equal(reg64(t.cpu, RBX), 0x12345678n);
  assert.equal(t.mem.read8(0x700008), 1, 'the write reached host-physical 0x700008');
  // the guest's A/D flags were set in the host-physical copies of its tables
  assert.equal(t.mem.read32(0x603000) & 0x60, 0x60, 'L2 PTE accessed and dirty');
  // EPT A/D: the EPT PDE for gpa 0x400000 (guest paging structures) and 0x500000 accessed
  assert.ok((t.mem.read32(EPT_PD + 16) & 0x100) !== 0, 'EPT accessed flag');
  assert.ok((t.mem.read32(EPT_PD + 16) & 0x200) !== 0, 'EPT dirty flag (A/D-enabled EPT writes guest tables)');
});

test('EPT violation on a guest paging-structure access: bit 8 clear, guest-linear address of the walk', () => {
  const t = vmxSetup();
  enableEpt(t, false, { 2: 0x600000, 3: 0x600000 + (1 << 21) });
  l2PageTables(t);
  t.mem.write32(EPT_PD + 16, 0); // gpa 0x400000-0x5fffff not present: the L2 PML4 itself
  guest(t, '90 f4');
  launch(t);
  assertExited(t, EXIT.EPT_VIOLATION, GUEST_CODE);
  assert.equal(rd(t, F.EXIT_QUALIFICATION), 0x1 | 0x80); // read, nothing allowed, linear valid, not a translation
  assert.equal(rd(t, F.GUEST_PHYSICAL_ADDRESS), 0x400000);
  assert.equal(rd(t, F.GUEST_LINEAR_ADDRESS), GUEST_CODE);
  // with A/D-enabled EPT the same access counts as a write (bits 0 and 1)
  wr(t, F.EPT_POINTER, EPT_PML4 | 6 | (3 << 3) | 0x40);
  resume(t);
  assertExited(t, EXIT.EPT_VIOLATION, GUEST_CODE);
  assert.equal(rd(t, F.EXIT_QUALIFICATION), 0x3 | 0x80);
});

test('unrestricted guest: a real-mode L2 (CR0.PE = PG = 0) runs under EPT; linear = guest-physical in violations', () => {
  const t = vmxSetup();
  enableEpt(t);
  or32(t, F.SECONDARY_VM_EXEC_CONTROL, PROC2_UNRESTRICTED);
  const c = t.cpu;
  wr(t, F.GUEST_CR0, (c.cr0 & ~0x80000001) >>> 0);
  wr(t, F.GUEST_CR4, c.cr4 & ~0x20);
  wr(t, F.VM_ENTRY_CONTROLS, rd32(t, F.VM_ENTRY_CONTROLS) & ~ENTRY_IA32E);
  for (const s of [CS, SS, DS, ES, FS, GS]) {
    wr(t, F.GUEST_ES_SELECTOR + 2 * s, 0x3000);
    wr(t, F.GUEST_ES_BASE + 2 * s, 0x30000);
    wr(t, F.GUEST_ES_LIMIT + 2 * s, 0xffff);
    wr(t, F.GUEST_ES_AR_BYTES + 2 * s, s === CS ? 0x9b : 0x93);
  }
  wr(t, F.GUEST_RIP, 0); wr(t, F.GUEST_RSP, 0x8000);
  eptPte(t, 0x31000, 0); // gpa 0x31000 not present
  // b8 34 12   mov ax, 0x1234
  // a3 10 00   mov WORD PTR ds:0x10, ax     (gpa 0x30010)
  // a3 00 10   mov WORD PTR ds:0x1000, ax   (gpa 0x31000: EPT violation)
  guest(t, 'b8 34 12 a3 10 00 a3 00 10 f4');
  launch(t);
  assertExited(t, EXIT.EPT_VIOLATION, 6);
  assert.equal(t.mem.read16(0x30010), 0x1234);
  assert.equal(rd(t, F.EXIT_QUALIFICATION), 0x2 | 0x80 | 0x100);
  assert.equal(rd(t, F.GUEST_PHYSICAL_ADDRESS), 0x31000);
  assert.equal(rd(t, F.GUEST_LINEAR_ADDRESS), 0x31000);
  assert.equal(rd32(t, F.GUEST_CR0) & 1, 0, 'saved CR0.PE = 0');
});

test('INVEPT: all-context and single-context succeed; bad type or EPTP fail with error 28; in L2 it exits (50)', () => {
  const t = vmxSetup();
  const flags = (): number => t.cpu.getFlags() & 0x8d5;
  setReg64(t.cpu, RCX, 2n);
  exec(t, '66 0f 38 80 08', 0); // invept rcx, OWORD PTR [rax] — all-context
  assert.equal(flags(), 0, 'VMsucceed');
  setReg64(t.cpu, RCX, 1n);
  exec(t, '66 0f 38 80 08', EPT_PML4 | 6 | (3 << 3)); // single-context, valid EPTP
  assert.equal(flags(), 0);
  exec(t, '66 0f 38 80 08', EPT_PML4 | 2 | (3 << 3)); // memory type 2: invalid EPTP
  assert.equal(flags(), 0x40, 'VMfailValid');
  assert.equal(rd32(t, F.VM_INSTRUCTION_ERROR), 28);
  setReg64(t.cpu, RCX, 0n);
  exec(t, '66 0f 38 80 08', 0); // type 0 (individual address) is not supported
  assert.equal(rd32(t, F.VM_INSTRUCTION_ERROR), 28);
  // in L2: exit 50 with instruction information (reg RCX in bits 31:28)
  enableEpt(t);
  guest(t, '66 0f 38 80 08 f4');
  launch(t);
  assertExited(t, EXIT.INVEPT, GUEST_CODE);
  assert.equal(rd32(t, F.VM_EXIT_INSTRUCTION_LEN), 5);
  assert.equal((rd32(t, F.VMX_INSTRUCTION_INFO) >>> 28) & 0xf, RCX);
});

test('an EPT violation while delivering INT3 / INT n: IDT-vectoring information type 6 / 4 with the instruction length, RIP at the instruction (SDM Vol. 3C §27.2.4-27.2.5, §27.3.3)', () => {
  const t = vmxSetup();
  enableEpt(t);
  eptPte(t, IDT, IDT | WB); // the guest IDT page is not present in the EPT
  guest(t, '90 cc'); // nop ; int3
  launch(t);
  assertExited(t, EXIT.EPT_VIOLATION, GUEST_CODE + 1);
  assert.equal(rd(t, F.GUEST_PHYSICAL_ADDRESS), IDT + 3 * 16);
  assert.equal(rd32(t, F.IDT_VECTORING_INFO), (0x80000000 | (6 << 8) | 3) >>> 0);
  assert.equal(rd32(t, F.VM_EXIT_INSTRUCTION_LEN), 1);
  guest(t, 'cd 21'); // int 0x21
  wr(t, F.GUEST_RIP, GUEST_CODE);
  resume(t);
  assertExited(t, EXIT.EPT_VIOLATION, GUEST_CODE);
  assert.equal(rd32(t, F.IDT_VECTORING_INFO), (0x80000000 | (4 << 8) | 0x21) >>> 0);
  assert.equal(rd32(t, F.VM_EXIT_INSTRUCTION_LEN), 2);
  // an exit that is not during delivery reports no vectoring information
  eptPte(t, IDT, IDT | WB | 7);
  eptPte(t, 0x90000, 0x90000 | WB | 1);
  guest(t, '48 b8 00 00 09 00 00 00 00 00 c6 00 01'); // movabs rax, 0x90000 ; mov byte [rax], 1
  wr(t, F.GUEST_RIP, GUEST_CODE);
  resume(t);
  assertExited(t, EXIT.EPT_VIOLATION, GUEST_CODE + 10);
  assert.equal(rd32(t, F.IDT_VECTORING_INFO), 0);
});
