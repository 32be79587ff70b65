/**
 * VM exits, one test per exit reason (SDM Vol. 3C §25.1-25.2, Chapter 27): an L2 guest
 * runs a few instructions (bytes quoted with their disassembly), the exit brings the CPU
 * back to the host RIP, and the reason, qualification, instruction length/information and
 * saved guest RIP are checked in the VMCS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STOP_HALT } from '../cpu.js';
import { RAX, RCX, RDX } from '../regs.js';
import { reg64, setReg64 } from '../testing.js';
import { F } from './vmcs-fields.js';
import { EXIT } from './vmexit.js';
import {
  PROC_HLT, PROC_UNCOND_IO, PROC_IO_BITMAPS, PROC_MSR_BITMAPS, PROC_CR3_LOAD, PROC_INTR_WINDOW, PROC_MTF,
  PROC_TSC_OFFSET, PROC_MOV_DR, PIN_EXT_INTR, PIN_PREEMPT_TIMER, EXIT_ACK_INTR,
} from './capabilities.js';
import {
  vmxSetup, guest, launch, resume, rd, rd32, wr, or32, assertExited, raiseIrq, GUEST_CODE, IO_A, IO_B, MSR_BITMAP,
} from './testkit.js';

test('exception bitmap: #UD in the guest exits with interruption info type 3, vector 6', () => {
  const t = vmxSetup();
  wr(t, F.EXCEPTION_BITMAP, 1 << 6);
  guest(t, '90 0f 0b'); // nop ; ud2
  launch(t);
  assertExited(t, EXIT.EXCEPTION_NMI, GUEST_CODE + 1);
  assert.equal(rd32(t, F.VM_EXIT_INTR_INFO), (0x80000000 | (3 << 8) | 6) >>> 0);
});

test('INT1 (F1) with #DB in the exception bitmap: a privileged software exception (type 5) with its length, RIP at the INT1 (SDM Vol. 3C §27.2.2, §27.2.5)', () => {
  const t = vmxSetup();
  wr(t, F.EXCEPTION_BITMAP, 1 << 1);
  guest(t, '90 f1'); // nop ; int1
  launch(t);
  assertExited(t, EXIT.EXCEPTION_NMI, GUEST_CODE + 1);
  assert.equal(rd32(t, F.VM_EXIT_INTR_INFO), (0x80000000 | (5 << 8) | 1) >>> 0);
  assert.equal(rd32(t, F.VM_EXIT_INSTRUCTION_LEN), 1);
  assert.equal(rd(t, F.EXIT_QUALIFICATION), 0);
});

test('#PF error-code mask/match decides with bit 14 of the bitmap; qualification = faulting address', () => {
  const t = vmxSetup();
  wr(t, F.EXCEPTION_BITMAP, 1 << 14);
  wr(t, F.PAGE_FAULT_ERROR_CODE_MASK, 2); wr(t, F.PAGE_FAULT_ERROR_CODE_MATCH, 0); // only reads exit
  // 48 b8 00 00 00 80 00 00 00 00   movabs rax, 0x80000000   (not mapped: the identity map covers 1 GiB)
  // 8a 00                           mov al, BYTE PTR [rax]
  guest(t, '48 b8 00 00 00 80 00 00 00 00 8a 00');
  launch(t);
  assertExited(t, EXIT.EXCEPTION_NMI, GUEST_CODE + 10);
  assert.equal(rd32(t, F.VM_EXIT_INTR_INFO), (0x80000000 | (3 << 8) | (1 << 11) | 14) >>> 0);
  assert.equal(rd32(t, F.VM_EXIT_INTR_ERROR_CODE), 0);
  assert.equal(rd(t, F.EXIT_QUALIFICATION), 0x80000000);
});

test('HLT exiting (reason 12) and unconditional I/O exiting with the Table 27-5 qualification', () => {
  const t = vmxSetup();
  or32(t, F.CPU_BASED_VM_EXEC_CONTROL, PROC_HLT | PROC_UNCOND_IO);
  guest(t, 'e6 80 f4'); // out 0x80, al ; hlt
  launch(t);
  assertExited(t, EXIT.IO, GUEST_CODE);
  assert.equal(rd(t, F.EXIT_QUALIFICATION), (0x80 << 16) | 64 | 0); // 1 byte, OUT, immediate
  assert.equal(rd32(t, F.VM_EXIT_INSTRUCTION_LEN), 2);
  wr(t, F.GUEST_RIP, GUEST_CODE + 2);
  resume(t);
  assertExited(t, EXIT.HLT, GUEST_CODE + 2);
  assert.equal(rd32(t, F.VM_EXIT_INSTRUCTION_LEN), 1);
});

test('I/O bitmaps: only ports whose bit is set exit; IN DX with a 4-byte operand', () => {
  const t = vmxSetup();
  or32(t, F.CPU_BASED_VM_EXEC_CONTROL, PROC_IO_BITMAPS);
  wr(t, F.IO_BITMAP_A, IO_A); wr(t, F.IO_BITMAP_B, IO_B);
  t.mem.write8(IO_A + (0xcf8 >>> 3), 1 << (0xcf8 & 7));
  // e6 80 out 0x80, al (not in the bitmap: executes) ; 66 ba f8 0c mov dx, 0xcf8 ; ed in eax, dx
  guest(t, 'e6 80 66 ba f8 0c ed');
  launch(t);
  assertExited(t, EXIT.IO, GUEST_CODE + 6);
  assert.equal(rd(t, F.EXIT_QUALIFICATION), (0xcf8 << 16) | 8 | 3);
});

test('MSR bitmaps: a clear bit lets RDMSR run, a set write bit makes WRMSR exit', () => {
  const t = vmxSetup();
  or32(t, F.CPU_BASED_VM_EXEC_CONTROL, PROC_MSR_BITMAPS);
  wr(t, F.MSR_BITMAP, MSR_BITMAP);
  t.mem.write8(MSR_BITMAP + 0xc00 + (0x102 >>> 3), 1 << (0x102 & 7)); // write-high: C0000102 (KERNEL_GS_BASE)
  // b9 02 01 00 c0  mov ecx, 0xc0000102 ; 0f 32 rdmsr ; 0f 30 wrmsr
  guest(t, 'b9 02 01 00 c0 0f 32 0f 30');
  launch(t);
  assertExited(t, EXIT.WRMSR, GUEST_CODE + 7);
});

test('CR0 guest/host mask: reads see the shadow, a write changing an owned bit exits (qualification Table 27-3)', () => {
  const t = vmxSetup();
  wr(t, F.CR0_GUEST_HOST_MASK, 0x8); // TS is host-owned
  wr(t, F.CR0_READ_SHADOW, 0x8);
  // 0f 20 c0 mov rax, cr0 ; 48 83 e0 f7 and rax, ~8 ; 0f 22 c0 mov cr0, rax
  guest(t, '0f 20 c0 48 83 e0 f7 0f 22 c0');
  launch(t);
  assertExited(t, EXIT.CR_ACCESS, GUEST_CODE + 7);
  assert.equal(rd(t, F.EXIT_QUALIFICATION), 0 | (0 << 4) | (RAX << 8)); // CR0, MOV to CR, RAX
  assert.equal(reg64(t.cpu, RAX) & 8n, 0n);
  assert.equal(Number(rd(t, F.GUEST_CR0)) & 8, 0, 'the real CR0.TS was never set');
});

test('LMSW with a memory operand: qualification type 3, bit 6, source data, and the guest-linear address of the operand (SDM §27.2.1)', () => {
  const t = vmxSetup();
  wr(t, F.CR0_GUEST_HOST_MASK, 0x2); // MP is host-owned
  wr(t, F.CR0_READ_SHADOW, 0);
  setReg64(t.cpu, RCX, BigInt(GUEST_CODE + 0x800));
  // 66 c7 01 33 00 mov word [rcx], 0x33 (MP set) ; 0f 01 31 lmsw [rcx]
  guest(t, '66 c7 01 33 00 0f 01 31');
  launch(t);
  assertExited(t, EXIT.CR_ACCESS, GUEST_CODE + 5);
  assert.equal(rd(t, F.EXIT_QUALIFICATION), 0 | (3 << 4) | 64 | (0x33 << 16));
  assert.equal(rd(t, F.GUEST_LINEAR_ADDRESS), GUEST_CODE + 0x800);
});

test('CR3-load exiting spares the CR3-target values', () => {
  const t = vmxSetup();
  or32(t, F.CPU_BASED_VM_EXEC_CONTROL, PROC_CR3_LOAD);
  wr(t, F.CR3_TARGET_COUNT, 1); wr(t, F.CR3_TARGET_VALUE0, t.cpu.cr3);
  // 0f 20 d8 mov rax, cr3 ; 0f 22 d8 mov cr3, rax (a target: no exit) ; 48 ff c0 inc rax ; 0f 22 d8 mov cr3, rax
  guest(t, '0f 20 d8 0f 22 d8 48 ff c0 0f 22 d8');
  launch(t);
  assertExited(t, EXIT.CR_ACCESS, GUEST_CODE + 9);
  assert.equal(rd(t, F.EXIT_QUALIFICATION), 3 | (RAX << 8));
});

test('MOV-DR exiting: qualification has the DR number, direction and register', () => {
  const t = vmxSetup();
  or32(t, F.CPU_BASED_VM_EXEC_CONTROL, PROC_MOV_DR);
  guest(t, '0f 21 f9'); // mov rcx, dr7
  launch(t);
  assertExited(t, EXIT.DR_ACCESS, GUEST_CODE);
  assert.equal(rd(t, F.EXIT_QUALIFICATION), 7 | 16 | (RCX << 8));
});

test('RDTSC without exiting adds the TSC offset; RDTSC exiting would not run it', () => {
  const t = vmxSetup();
  or32(t, F.CPU_BASED_VM_EXEC_CONTROL, PROC_TSC_OFFSET);
  wr(t, F.TSC_OFFSET, 2 ** 40);
  guest(t, '0f 31 0f a2'); // rdtsc ; cpuid
  launch(t);
  assertExited(t, EXIT.CPUID);
  const tsc = (reg64(t.cpu, RDX) << 32n) | (reg64(t.cpu, RAX) & 0xffffffffn);
  assert.ok(tsc >= 2n ** 40n && tsc < 2n ** 40n + 1000000n);
  assert.ok(t.cpu.tscOffset < 2 ** 39, 'the offset is gone after the exit');
});

test('INVLPG exiting: the qualification is the linear address', () => {
  const t = vmxSetup();
  or32(t, F.CPU_BASED_VM_EXEC_CONTROL, 1 << 9);
  setReg64(t.cpu, RAX, 0x123456n);
  guest(t, '0f 01 38'); // invlpg BYTE PTR [rax]
  launch(t);
  assertExited(t, EXIT.INVLPG, GUEST_CODE);
  assert.equal(rd(t, F.EXIT_QUALIFICATION), 0x123456);
});

test('VMREAD in the guest exits with instruction information (Table 27-14)', () => {
  const t = vmxSetup();
  guest(t, '0f 78 19'); // vmread QWORD PTR [rcx], rbx
  launch(t);
  assertExited(t, EXIT.VMREAD, GUEST_CODE);
  const info = rd32(t, F.VMX_INSTRUCTION_INFO);
  assert.equal((info >>> 7) & 7, 2, '64-bit address size');
  assert.equal((info >>> 10) & 1, 0, 'memory operand');
  assert.equal((info >>> 22) & 1, 1, 'no index');
  assert.equal((info >>> 23) & 15, RCX, 'base RCX');
  assert.equal(info >>> 28, 3, 'Reg2 = RBX');
  assert.equal(rd(t, F.EXIT_QUALIFICATION), 0, 'no displacement');
});

test('external-interrupt exiting with acknowledge-on-exit reports the vector', () => {
  const t = vmxSetup();
  or32(t, F.PIN_BASED_VM_EXEC_CONTROL, PIN_EXT_INTR);
  or32(t, F.VM_EXIT_CONTROLS, EXIT_ACK_INTR);
  guest(t, '90 90 eb fe'); // nop ; nop ; jmp $
  launch(t, 1);
  assert.equal(t.cpu.vmx.nonRoot, true);
  raiseIrq(t, 0x31);
  assert.equal(t.cpu.run(100), STOP_HALT);
  assertExited(t, EXIT.EXTERNAL_INTERRUPT);
  assert.equal(rd32(t, F.VM_EXIT_INTR_INFO), (0x80000000 | 0x31) >>> 0);
});

test('interrupt-window exiting fires as soon as the guest sets IF', () => {
  const t = vmxSetup();
  or32(t, F.CPU_BASED_VM_EXEC_CONTROL, PROC_INTR_WINDOW);
  guest(t, '90 fb 90 90'); // nop ; sti ; nop (shadow) ; nop
  launch(t);
  assertExited(t, EXIT.INTERRUPT_WINDOW, GUEST_CODE + 3);
});

test('monitor trap flag: an exit after each guest instruction', () => {
  const t = vmxSetup();
  or32(t, F.CPU_BASED_VM_EXEC_CONTROL, PROC_MTF);
  guest(t, '48 ff c0 48 ff c0'); // inc rax ; inc rax
  launch(t);
  assertExited(t, EXIT.MTF, GUEST_CODE + 3);
});

test('VMX-preemption timer: a spinning guest exits with reason 52', () => {
  const t = vmxSetup();
  or32(t, F.PIN_BASED_VM_EXEC_CONTROL, PIN_PREEMPT_TIMER);
  wr(t, F.VMX_PREEMPTION_TIMER_VALUE, 10);
  guest(t, 'eb fe'); // jmp $
  assert.equal(launch(t, 100000), STOP_HALT);
  assertExited(t, EXIT.PREEMPTION_TIMER, GUEST_CODE);
});

test('a triple fault in the guest is a VM exit (reason 2), not a shutdown', () => {
  const t = vmxSetup();
  wr(t, F.GUEST_IDTR_LIMIT, 0);
  guest(t, '0f 0b'); // ud2 with an empty IDT: #UD → #GP → #DF → triple fault
  assert.equal(launch(t), STOP_HALT);
  assertExited(t, EXIT.TRIPLE_FAULT);
});
