/**
 * Task switches in VMX non-root operation are VM exits (SDM Vol. 3C §25.1.2, exit reason 9)
 * with the qualification of Table 28-2 (new TSS selector in bits 15:0, source in 31:30) and,
 * for a task gate in the IDT, the event in the IDT-vectoring information (§27.2.4). The
 * guest is a 32-bit protected-mode guest (32-bit paging with 4M pages, no IA-32e mode):
 * task switches do not exist in IA-32e mode.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F } from './vmx/vmcs-fields.js';
import { EXIT } from './vmx/vmexit.js';
import { vmxCaps } from './vmx/capabilities.js';
import { vmxSetup, guest, launch, rd, rd32, wr, assertExited, GUEST_CODE, TSS, type VmxTest } from './vmx/testkit.js';
import { CS, NT, CR4_VMXE, CR4_PSE } from './regs.js';

const G_GDT = 0x7000, G_IDT = 0x8000, G_PD = 0x9000, TSS2 = 0x6200;

/** The testkit's VMCS with a 32-bit protected-mode guest: GDT code 08, data 10, busy TSS 18, TSS 20, task gate 28. */
function prot32Guest(): VmxTest {
  const t = vmxSetup();
  const m = t.mem;
  // 32-bit paging, 4M identity pages for the first 64 MiB
  for (let i = 0; i < 16; i++) m.write32(G_PD + 4 * i, (i << 22) | 0x87);
  const desc = (sel: number, lo: number, hi: number): void => { m.write32(G_GDT + sel, lo); m.write32(G_GDT + sel + 4, hi); };
  desc(0x08, 0x0000ffff, 0x00cf9b00);
  desc(0x10, 0x0000ffff, 0x00cf9300);
  desc(0x18, ((TSS & 0xffff) << 16) | 0x67, 0x00008b00 | ((TSS >>> 16) & 0xff));
  desc(0x20, ((TSS2 & 0xffff) << 16) | 0x67, 0x00008900 | ((TSS2 >>> 16) & 0xff));
  desc(0x28, 0x20 << 16, 0x00008500);
  // IDT: vector 0x40 is a task gate with DPL 3 (so INT n may use it) to TSS 0x20
  m.write32(G_IDT + 0x40 * 8, 0x20 << 16); m.write32(G_IDT + 0x40 * 8 + 4, 0x0000e500);
  const caps = vmxCaps(t.cpu);
  wr(t, F.VM_ENTRY_CONTROLS, caps.entry0);
  wr(t, F.GUEST_CR4, CR4_VMXE | CR4_PSE);
  wr(t, F.GUEST_CR3, G_PD);
  for (let i = 0; i < 6; i++) {
    wr(t, F.GUEST_ES_SELECTOR + 2 * i, i === CS ? 0x08 : 0x10);
    wr(t, F.GUEST_ES_AR_BYTES + 2 * i, i === CS ? 0xc09b : 0xc093);
  }
  wr(t, F.GUEST_GDTR_BASE, G_GDT); wr(t, F.GUEST_GDTR_LIMIT, 0x2f);
  wr(t, F.GUEST_IDTR_BASE, G_IDT); wr(t, F.GUEST_IDTR_LIMIT, 0x7ff);
  return t;
}

test('VMX non-root: JMP far to a TSS exits (reason 9, source 2 JMP) before any state changes', () => {
  const t = prot32Guest();
  guest(t, 'ea 00 00 00 00 20 00 ; jmp 0x20:0x0');
  launch(t);
  assertExited(t, EXIT.TASK_SWITCH, GUEST_CODE);
  assert.equal(rd(t, F.EXIT_QUALIFICATION), 0x20 + 2 * 0x40000000);
  assert.equal(rd32(t, F.VM_EXIT_INSTRUCTION_LEN), 7);
  assert.equal(rd32(t, F.IDT_VECTORING_INFO) >>> 31, 0, 'no event being delivered');
  assert.equal(t.mem.read32(G_GDT + 0x24) & 0x200, 0, 'the new TSS is not marked busy');
  assert.equal(rd(t, F.GUEST_TR_SELECTOR), 0x18);
});

test('VMX non-root: CALL through a task gate exits with the TSS selector from the gate, source 0 CALL', () => {
  const t = prot32Guest();
  guest(t, '9a 00 00 00 00 28 00 ; call 0x28:0x0');
  launch(t);
  assertExited(t, EXIT.TASK_SWITCH, GUEST_CODE);
  assert.equal(rd(t, F.EXIT_QUALIFICATION), 0x20);
});

test('VMX non-root: IRET with NT = 1 exits with the previous-task link, source 1 IRET', () => {
  const t = prot32Guest();
  t.mem.write16(TSS, 0x20);
  wr(t, F.GUEST_RFLAGS, NT | 2);
  guest(t, 'cf ; iretd');
  launch(t);
  assertExited(t, EXIT.TASK_SWITCH, GUEST_CODE);
  assert.equal(rd(t, F.EXIT_QUALIFICATION), 0x20 + 0x40000000);
  assert.equal(rd32(t, F.VM_EXIT_INSTRUCTION_LEN), 1);
});

test('VMX non-root: INT n through an IDT task gate exits with source 3 and the software interrupt as IDT-vectoring info', () => {
  const t = prot32Guest();
  guest(t, '90 cd 40 ; nop / int 0x40');
  launch(t);
  assertExited(t, EXIT.TASK_SWITCH, GUEST_CODE + 1);
  assert.equal(rd(t, F.EXIT_QUALIFICATION), 0x20 + 3 * 0x40000000);
  assert.equal(rd32(t, F.IDT_VECTORING_INFO), (0x80000000 | (4 << 8) | 0x40) >>> 0, 'valid, type 4, vector 0x40');
  assert.equal(rd32(t, F.VM_EXIT_INSTRUCTION_LEN), 2);
});

test('VMX non-root: a #GP through an IDT task gate exits with the exception and its error code as IDT-vectoring info', () => {
  const t = prot32Guest();
  t.mem.write32(G_IDT + 13 * 8, 0x20 << 16); t.mem.write32(G_IDT + 13 * 8 + 4, 0x00008500);
  guest(t, `
    66 b8 34 12 ; mov ax, 0x1234
    8e c0       ; mov es, eax  (#GP(0x1234): beyond the GDT limit)`);
  launch(t);
  assertExited(t, EXIT.TASK_SWITCH, GUEST_CODE + 4);
  assert.equal(rd(t, F.EXIT_QUALIFICATION), 0x20 + 3 * 0x40000000);
  assert.equal(rd32(t, F.IDT_VECTORING_INFO), (0x80000000 | (3 << 8) | (1 << 11) | 13) >>> 0, 'valid, hardware exception, error code, #GP');
  assert.equal(rd32(t, F.IDT_VECTORING_ERROR_CODE), 0x1234);
});
