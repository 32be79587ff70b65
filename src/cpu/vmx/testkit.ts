/**
 * Test fixture for the VM-entry/VM-exit tests: a long-mode CPU in VMX root operation with
 * a current VMCS whose host state is the CPU's own (flat 64-bit, identity paging) and whose
 * guest is a flat 64-bit guest sharing the host's paging structures. Guest code goes at
 * GUEST_CODE; the host resumes at HOST_CODE, where a HLT stops cpu.run() after a VM exit.
 * VMXON / VMPTRLD / VMLAUNCH / VMRESUME run as real instructions through the opcode table;
 * fields are set in the cached VMCS directly (VMWRITE has its own tests).
 */
import assert from 'node:assert/strict';
import { makeCpu, setReg64, CODE, hex, type TestCpu } from '../testing.js';
import { Cpu, STOP_HALT } from '../cpu.js';
import { RAX, CR0_NE, CR4_VMXE, CS } from '../regs.js';
import { F, VMCS_REVISION_ID, vmcsLo } from './vmcs-fields.js';
import { getNum, setNum, set32 } from './guest-state.js';
import { vmxCaps, EXIT_HOST_ADDR64, ENTRY_IA32E } from './capabilities.js';
import { deliver } from '../interrupts.js';

/** Vectors the fake interrupt controller hands out (acknowledgeInterrupt), per CPU. */
export const pendingVectors = new WeakMap<Cpu, number[]>();
function ack(c: Cpu): number { const q = pendingVectors.get(c); return q !== undefined && q.length > 0 ? q.shift()! : -1; }
/** Raises an external interrupt with `vector` at the fake controller. */
export function raiseIrq(t: TestCpu, vector: number): void {
  const q = pendingVectors.get(t.cpu) ?? [];
  q.push(vector); pendingVectors.set(t.cpu, q); t.cpu.irqPending = true;
}

export const VMXON_REGION = 0x100000, VMCS = 0x101000, PTR = 0x3000;
export const HOST_CODE = 0x20000, GUEST_CODE = 0x30000, GUEST_STACK = 0x70000, HOST_STACK = 0x60000;
export const GDT = 0x4000, IDT = 0x5000, TSS = 0x6000;
export const IO_A = 0x102000, IO_B = 0x103000, MSR_BITMAP = 0x104000, MSR_AREA = 0x105000;

export interface VmxTest extends TestCpu { cpu: Cpu }

/** A CPU in VMX root operation with VMCS current, host and guest state filled in. */
export function vmxSetup(): VmxTest {
  const t = makeCpu('long64', 8 << 20);
  const cpu = t.cpu;
  // the guest gets real IDT delivery; the host's exceptions are recorded (and halt) as usual
  const record = cpu.hooks.deliver;
  cpu.hooks = {
    deliver(c, vector, err, hasErr, software, next) {
      if (c.vmx.nonRoot) deliver(c, vector, err, hasErr, software, next);
      else record(c, vector, err, hasErr, software, next);
    },
    acknowledgeInterrupt: (c) => ack(c),
  };
  cpu.exposeVmx = true;
  cpu.cr4 |= CR4_VMXE;
  cpu.cr0 |= CR0_NE;
  t.mem.write32(VMXON_REGION, VMCS_REVISION_ID);
  t.mem.write32(VMCS, VMCS_REVISION_ID);
  // GDT: null, 64-bit code 0x08, data 0x10, TSS 0x18 (for the guest IDT tests)
  t.mem.write32(GDT + 8, 0x0000ffff); t.mem.write32(GDT + 12, 0x00af9b00);
  t.mem.write32(GDT + 16, 0x0000ffff); t.mem.write32(GDT + 20, 0x00cf9300);
  cpu.gdtBase = GDT; cpu.gdtLimit = 0x27;
  t.mem.load(HOST_CODE, Uint8Array.from([0xf4]));
  exec(t, 'f3 0f c7 30', VMXON_REGION); // vmxon QWORD PTR [rax]
  exec(t, '0f c7 30', VMCS);            // vmptrld QWORD PTR [rax]
  const c = cpu.vmx.cache, caps = vmxCaps(cpu);
  set32(c, F.PIN_BASED_VM_EXEC_CONTROL, caps.pin0);
  set32(c, F.CPU_BASED_VM_EXEC_CONTROL, caps.proc0);
  set32(c, F.VM_EXIT_CONTROLS, caps.exit0 | EXIT_HOST_ADDR64);
  set32(c, F.VM_ENTRY_CONTROLS, caps.entry0 | ENTRY_IA32E);
  // host state = this CPU
  set32(c, F.HOST_CR0, cpu.cr0); set32(c, F.HOST_CR4, cpu.cr4); setNum(c, F.HOST_CR3, cpu.cr3);
  set32(c, F.HOST_CS_SELECTOR, 0x08); set32(c, F.HOST_SS_SELECTOR, 0x10); set32(c, F.HOST_DS_SELECTOR, 0x10);
  set32(c, F.HOST_ES_SELECTOR, 0x10); set32(c, F.HOST_TR_SELECTOR, 0x18);
  setNum(c, F.HOST_TR_BASE, TSS); setNum(c, F.HOST_GDTR_BASE, GDT); setNum(c, F.HOST_IDTR_BASE, IDT);
  setNum(c, F.HOST_RIP, HOST_CODE); setNum(c, F.HOST_RSP, HOST_STACK);
  // guest state: flat 64-bit like the host
  set32(c, F.GUEST_CR0, cpu.cr0); set32(c, F.GUEST_CR4, cpu.cr4); setNum(c, F.GUEST_CR3, cpu.cr3);
  for (let i = 0; i < 6; i++) {
    set32(c, F.GUEST_ES_SELECTOR + 2 * i, i === CS ? 0x08 : 0x10);
    set32(c, F.GUEST_ES_LIMIT + 2 * i, -1);
    set32(c, F.GUEST_ES_AR_BYTES + 2 * i, i === CS ? 0xa09b : 0xc093);
  }
  set32(c, F.GUEST_LDTR_AR_BYTES, 0x10000);
  set32(c, F.GUEST_TR_SELECTOR, 0x18); set32(c, F.GUEST_TR_LIMIT, 0x67); set32(c, F.GUEST_TR_AR_BYTES, 0x8b);
  setNum(c, F.GUEST_TR_BASE, TSS);
  setNum(c, F.GUEST_GDTR_BASE, GDT); set32(c, F.GUEST_GDTR_LIMIT, 0x27);
  setNum(c, F.GUEST_IDTR_BASE, IDT); set32(c, F.GUEST_IDTR_LIMIT, 0xfff);
  setNum(c, F.GUEST_RIP, GUEST_CODE); setNum(c, F.GUEST_RSP, GUEST_STACK); setNum(c, F.GUEST_RFLAGS, 2);
  setNum(c, F.VMCS_LINK_POINTER, -1); // FFFFFFFF_FFFFFFFFH
  return t as VmxTest;
}

/** Runs `code` at CODE (then HLT) with RAX = PTR holding `ptr`. */
export function exec(t: TestCpu, code: string, ptr = 0): void {
  t.mem.write32(PTR, ptr); t.mem.write32(PTR + 4, 0);
  setReg64(t.cpu, RAX, BigInt(PTR));
  t.mem.load(CODE, Uint8Array.from([...hex(code), 0xf4]));
  t.cpu.rip = CODE;
  t.cpu.halted = false;
  const why = t.cpu.run(1000);
  assert.equal(why, STOP_HALT, `stopped with ${why} ${t.cpu.tripleFaultReport}`);
}

/** Places guest code; VM entry (VMLAUNCH, or VMRESUME) runs until the host's HLT. */
export function guest(t: TestCpu, code: string): void {
  t.mem.load(GUEST_CODE, Uint8Array.from(hex(code)));
}
export function launch(t: TestCpu, budget = 1000): number {
  return enter(t, '0f 01 c2', budget);
}
export function resume(t: TestCpu, budget = 1000): number {
  return enter(t, '0f 01 c3', budget);
}
function enter(t: TestCpu, code: string, budget: number): number {
  t.mem.load(CODE, Uint8Array.from([...hex(code), 0xf4]));
  t.cpu.rip = CODE;
  t.cpu.halted = false;
  return t.cpu.run(budget);
}

/** Reads a field of the cached current VMCS. */
export function rd(t: TestCpu, enc: number): number { return getNum(t.cpu.vmx.cache, enc); }
export function rd32(t: TestCpu, enc: number): number { return vmcsLo(t.cpu.vmx.cache, enc) >>> 0; }
export function wr(t: TestCpu, enc: number, v: number): void { setNum(t.cpu.vmx.cache, enc, v); }
export function or32(t: TestCpu, enc: number, bits: number): void { set32(t.cpu.vmx.cache, enc, vmcsLo(t.cpu.vmx.cache, enc) | bits); }

/** After a VM exit the CPU is back in root operation at the host's HLT. */
export function assertExited(t: TestCpu, reason: number, guestRip?: number): void {
  assert.equal(t.cpu.vmx.nonRoot, false, 'back in root operation');
  assert.equal(rd32(t, F.VM_EXIT_REASON), reason >>> 0, 'exit reason');
  assert.equal(t.cpu.rip, HOST_CODE + 1, 'host RIP (past its HLT)');
  if (guestRip !== undefined) assert.equal(rd(t, F.GUEST_RIP), guestRip, 'guest RIP saved');
}
