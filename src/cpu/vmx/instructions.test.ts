/**
 * VMX instruction tests. Each case places the instruction's real bytes at CODE, lets the
 * CPU decode prefixes, opcode and ModRM (decodePrefixes + decodeModrm(0), what the system
 * family's handler does before calling us), then calls the exported function directly,
 * since the opcode table does not route these opcodes to src/cpu/vmx yet.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, setReg64, reg64, CODE, hex, type TestCpu, type Mode } from '../testing.js';
import { FAULT } from '../fault.js';
import { RAX, RBX, RCX, CS, CR0_NE, CR4_VMXE } from '../regs.js';
import type { Cpu } from '../cpu.js';
import { vmxon, vmxoff, vmclear, vmptrld, vmptrst, vmread, vmwrite, vmcall, VMX_ERR } from './instructions.js';
import { vmxState, INVALID_PTR } from './vmx-state.js';
import { buildVmxCaps } from './capabilities.js';
import { F, fieldSlot, VMCS_REVISION_ID, VMCS_OFF_LAUNCH_STATE } from './vmcs-fields.js';

const VMXON_REGION = 0x100000, VMCS_A = 0x101000, VMCS_B = 0x102000, PTR = 0x3000, BUF = 0x3800;

// Encodings (GNU as --64 -msyntax=intel):
const VMXON = 'f3 0f c7 30';      // vmxon   QWORD PTR [rax]
const VMCLEAR = '66 0f c7 30';    // vmclear QWORD PTR [rax]
const VMPTRLD = '0f c7 30';       // vmptrld QWORD PTR [rax]
const VMPTRST = '0f c7 38';       // vmptrst QWORD PTR [rax]
const VMREAD_RR = '0f 78 d8';     // vmread  rax, rbx    (64-bit mode; vmread eax, ebx in 32-bit)
const VMWRITE_RR = '0f 79 d8';    // vmwrite rbx, rax
const VMREAD_MR = '0f 78 19';     // vmread  QWORD PTR [rcx], rbx
const VMWRITE_RM = '0f 79 19';    // vmwrite rbx, QWORD PTR [rcx]
const VMXOFF = '0f 01 c4';        // vmxoff
const VMCALL = '0f 01 c1';        // vmcall

/** Decodes the instruction at CODE and runs `fn`; returns the exception vector or null. */
function exec(t: TestCpu, code: string, fn: (cpu: Cpu) => void): number | null {
  const cpu = t.cpu;
  t.mem.load(CODE, Uint8Array.from(hex(code)));
  cpu.rip = CODE; cpu.startRip = CODE;
  cpu.beginFetch();
  cpu.decodePrefixes();
  cpu.decodeModrm(0);
  try { fn(cpu); return null; } catch (e) {
    if (e !== FAULT) throw e;
    return cpu.excVector;
  }
}

type Outcome = 'succeed' | 'invalid' | number;
/** Reads the VMsucceed / VMfailInvalid / VMfailValid(n) outcome from RFLAGS (SDM §30.2). */
function outcome(cpu: Cpu): Outcome {
  const f = cpu.getFlags() & 0x8d5; // CF PF AF ZF SF OF
  if (f === 0) return 'succeed';
  if (f === 1) return 'invalid';
  assert.equal(f, 0x40, 'VMfailValid sets ZF alone');
  const st = vmxState(cpu);
  return st.cache[fieldSlot(F.VM_INSTRUCTION_ERROR) >> 2]!;
}

function vmxCpu(mode: Mode = 'long64'): TestCpu {
  const t = makeCpu(mode);
  t.cpu.exposeVmx = true;
  t.cpu.cr4 |= CR4_VMXE;
  t.cpu.cr0 |= CR0_NE;
  for (const r of [VMXON_REGION, VMCS_A, VMCS_B]) t.mem.write32(r, VMCS_REVISION_ID);
  return t;
}
/** Runs an instruction whose m64 operand at [rax] holds `ptr`. */
function withPtr(t: TestCpu, code: string, fn: (cpu: Cpu) => void, ptr: bigint): number | null {
  t.mem.write32(PTR, Number(ptr & 0xffffffffn) | 0);
  t.mem.write32(PTR + 4, Number((ptr >> 32n) & 0xffffffffn) | 0);
  setReg64(t.cpu, RAX, BigInt(PTR));
  return exec(t, code, fn);
}
function on(t: TestCpu): void { assert.equal(withPtr(t, VMXON, vmxon, BigInt(VMXON_REGION)), null); assert.equal(outcome(t.cpu), 'succeed'); }
function load(t: TestCpu, p: number): Outcome { assert.equal(withPtr(t, VMPTRLD, vmptrld, BigInt(p)), null); return outcome(t.cpu); }
function write(t: TestCpu, enc: bigint, v: bigint): Outcome {
  setReg64(t.cpu, RBX, enc); setReg64(t.cpu, RAX, v);
  assert.equal(exec(t, VMWRITE_RR, vmwrite), null);
  return outcome(t.cpu);
}
function read(t: TestCpu, enc: bigint): bigint | Outcome {
  setReg64(t.cpu, RBX, enc); setReg64(t.cpu, RAX, 0xdeadn);
  assert.equal(exec(t, VMREAD_RR, vmread), null);
  const o = outcome(t.cpu);
  return o === 'succeed' ? reg64(t.cpu, RAX) : o;
}

// ---- VMXON ------------------------------------------------------------------------------

test('VMXON #UD: VMX not exposed, CR4.VMXE clear, register operand, compatibility mode, real mode', () => {
  let t = vmxCpu(); t.cpu.exposeVmx = false;
  assert.equal(withPtr(t, VMXON, vmxon, BigInt(VMXON_REGION)), 6);
  t = vmxCpu(); t.cpu.cr4 &= ~CR4_VMXE;
  assert.equal(withPtr(t, VMXON, vmxon, BigInt(VMXON_REGION)), 6);
  t = vmxCpu();
  assert.equal(exec(t, 'f3 0f c7 f0', vmxon), 6); // mod=3: F3 0F C7 /6 with a register is not VMXON
  t = vmxCpu(); t.cpu.setSegCache(CS, 0x08, 0, 0xffffffff, 0xc09b); // LMA=1, CS.L=0
  assert.equal(withPtr(t, VMXON, vmxon, BigInt(VMXON_REGION)), 6);
  t = vmxCpu('real');
  assert.equal(exec(t, 'f3 0f c7 30', vmxon), 6); // vmxon [bx+si]
  assert.equal(vmxState(t.cpu).inVmx, false);
});

test('VMXON #GP(0): CPL 3, CR0 fixed bits, IA32_FEATURE_CONTROL lock / enable', () => {
  let t = vmxCpu(); t.cpu.setSegCache(CS, 0x0b, 0, 0xffffffff, 0xa0fb); // DPL 3 code
  assert.equal(t.cpu.cpl, 3);
  assert.equal(withPtr(t, VMXON, vmxon, BigInt(VMXON_REGION)), 13);
  t = vmxCpu(); t.cpu.cr0 &= ~CR0_NE;
  assert.equal(withPtr(t, VMXON, vmxon, BigInt(VMXON_REGION)), 13);
  t = vmxCpu(); t.cpu.msrs.set(0x3a, 4); // enabled but not locked
  assert.equal(withPtr(t, VMXON, vmxon, BigInt(VMXON_REGION)), 13);
  t = vmxCpu(); t.cpu.msrs.set(0x3a, 1); // locked, VMX outside SMX disabled
  assert.equal(withPtr(t, VMXON, vmxon, BigInt(VMXON_REGION)), 13);
  assert.equal(vmxState(t.cpu).inVmx, false);
});

test('VMXON VMfailInvalid: unaligned, beyond MAXPHYADDR, wrong revision, bit 31 set', () => {
  const t = vmxCpu();
  for (const p of [BigInt(VMXON_REGION + 8), 1n << 39n]) {
    assert.equal(withPtr(t, VMXON, vmxon, p), null);
    assert.equal(outcome(t.cpu), 'invalid');
  }
  t.mem.write32(VMCS_A, VMCS_REVISION_ID + 1);
  assert.equal(withPtr(t, VMXON, vmxon, BigInt(VMCS_A)), null);
  assert.equal(outcome(t.cpu), 'invalid');
  t.mem.write32(VMCS_A, VMCS_REVISION_ID | 0x80000000);
  assert.equal(withPtr(t, VMXON, vmxon, BigInt(VMCS_A)), null);
  assert.equal(outcome(t.cpu), 'invalid');
  assert.equal(vmxState(t.cpu).inVmx, false);
});

test('VMXON succeeds, blocks INIT; a second VMXON fails with error 15 (VMfailValid with a current VMCS)', () => {
  const t = vmxCpu();
  on(t);
  const st = vmxState(t.cpu);
  assert.equal(st.inVmx, true);
  assert.equal(st.vmxonPtr, VMXON_REGION);
  assert.equal(st.currentVmcs, INVALID_PTR);
  assert.equal(st.initBlocked, true);
  assert.equal(withPtr(t, VMXON, vmxon, BigInt(VMXON_REGION)), null);
  assert.equal(outcome(t.cpu), 'invalid');
  assert.equal(load(t, VMCS_A), 'succeed');
  assert.equal(withPtr(t, VMXON, vmxon, BigInt(VMXON_REGION)), null);
  assert.equal(outcome(t.cpu), VMX_ERR.VMXON_IN_ROOT);
});

// ---- VMPTRLD / VMPTRST / VMCLEAR --------------------------------------------------------

test('VMX instructions other than VMXON raise #UD outside VMX operation', () => {
  const t = vmxCpu();
  assert.equal(withPtr(t, VMPTRLD, vmptrld, BigInt(VMCS_A)), 6);
  assert.equal(withPtr(t, VMCLEAR, vmclear, BigInt(VMCS_A)), 6);
  assert.equal(exec(t, VMPTRST, vmptrst), 6);
  assert.equal(exec(t, VMREAD_RR, vmread), 6);
  assert.equal(exec(t, VMWRITE_RR, vmwrite), 6);
  assert.equal(exec(t, VMXOFF, vmxoff), 6);
  assert.equal(exec(t, VMCALL, vmcall), 6);
});

test('VMPTRLD errors 9, 10, 11 (VMfailInvalid without a current VMCS, VMfailValid with one)', () => {
  const t = vmxCpu();
  on(t);
  assert.equal(load(t, VMCS_A + 0x10), 'invalid');
  assert.equal(load(t, VMCS_A), 'succeed');
  assert.equal(load(t, VMCS_B + 0x10), VMX_ERR.VMPTRLD_INVALID_ADDRESS);
  assert.equal(withPtr(t, VMPTRLD, vmptrld, 1n << 40n), null);
  assert.equal(outcome(t.cpu), VMX_ERR.VMPTRLD_INVALID_ADDRESS);
  assert.equal(load(t, VMXON_REGION), VMX_ERR.VMPTRLD_VMXON_POINTER);
  t.mem.write32(VMCS_B, 0x1234);
  assert.equal(load(t, VMCS_B), VMX_ERR.VMPTRLD_INCORRECT_REVISION);
  t.mem.write32(VMCS_B, VMCS_REVISION_ID | 0x80000000); // shadow VMCS without VMCS shadowing
  assert.equal(load(t, VMCS_B), VMX_ERR.VMPTRLD_INCORRECT_REVISION);
  assert.equal(vmxState(t.cpu).currentVmcs, VMCS_A);
});

test('VMPTRST stores the current-VMCS pointer, all ones when there is none', () => {
  const t = vmxCpu();
  on(t);
  setReg64(t.cpu, RAX, BigInt(BUF));
  assert.equal(exec(t, VMPTRST, vmptrst), null);
  assert.equal(outcome(t.cpu), 'succeed');
  assert.equal(t.mem.read32(BUF), -1); assert.equal(t.mem.read32(BUF + 4), -1);
  assert.equal(load(t, VMCS_B), 'succeed');
  setReg64(t.cpu, RAX, BigInt(BUF));
  assert.equal(exec(t, VMPTRST, vmptrst), null);
  assert.equal(t.mem.read32(BUF), VMCS_B); assert.equal(t.mem.read32(BUF + 4), 0);
});

test('VMCLEAR flushes the cached VMCS, clears launch state and the current pointer; errors 2 and 3', () => {
  const t = vmxCpu();
  on(t);
  assert.equal(load(t, VMCS_A), 'succeed');
  assert.equal(write(t, BigInt(F.GUEST_RIP), 0x1234_5678_9abcn), 'succeed');
  vmxState(t.cpu).cache[VMCS_OFF_LAUNCH_STATE >> 2] = 1; // as VMLAUNCH will leave it
  assert.equal(t.mem.read32(VMCS_A + fieldSlot(F.GUEST_RIP)), 0); // still only cached
  assert.equal(withPtr(t, VMCLEAR, vmclear, BigInt(VMCS_A)), null);
  assert.equal(outcome(t.cpu), 'succeed');
  assert.equal(t.mem.read32(VMCS_A + fieldSlot(F.GUEST_RIP)), 0x56789abc);
  assert.equal(t.mem.read32(VMCS_A + fieldSlot(F.GUEST_RIP) + 4), 0x1234);
  assert.equal(t.mem.read32(VMCS_A + VMCS_OFF_LAUNCH_STATE), 0);
  assert.equal(vmxState(t.cpu).currentVmcs, INVALID_PTR);
  // VMCLEAR of a VMCS that is not current marks its region clear
  t.mem.write32(VMCS_B + VMCS_OFF_LAUNCH_STATE, 1);
  assert.equal(withPtr(t, VMCLEAR, vmclear, BigInt(VMCS_B)), null);
  assert.equal(t.mem.read32(VMCS_B + VMCS_OFF_LAUNCH_STATE), 0);
  assert.equal(withPtr(t, VMCLEAR, vmclear, BigInt(VMCS_B + 1)), null);
  assert.equal(outcome(t.cpu), 'invalid');
  assert.equal(load(t, VMCS_A), 'succeed');
  assert.equal(read(t, BigInt(F.GUEST_RIP)), 0x1234_5678_9abcn); // data survived the round trip
  assert.equal(withPtr(t, VMCLEAR, vmclear, BigInt(VMCS_B + 1)), null);
  assert.equal(outcome(t.cpu), VMX_ERR.VMCLEAR_INVALID_ADDRESS);
  assert.equal(withPtr(t, VMCLEAR, vmclear, BigInt(VMXON_REGION)), null);
  assert.equal(outcome(t.cpu), VMX_ERR.VMCLEAR_VMXON_POINTER);
});

test('switching the current VMCS keeps each one\'s fields', () => {
  const t = vmxCpu();
  on(t);
  assert.equal(load(t, VMCS_A), 'succeed');
  assert.equal(write(t, BigInt(F.GUEST_RSP), 0xaaaan), 'succeed');
  assert.equal(load(t, VMCS_B), 'succeed');
  assert.equal(write(t, BigInt(F.GUEST_RSP), 0xbbbbn), 'succeed');
  assert.equal(load(t, VMCS_A), 'succeed');
  assert.equal(read(t, BigInt(F.GUEST_RSP)), 0xaaaan);
  assert.equal(load(t, VMCS_B), 'succeed');
  assert.equal(read(t, BigInt(F.GUEST_RSP)), 0xbbbbn);
});

// ---- VMREAD / VMWRITE -------------------------------------------------------------------

test('VMREAD/VMWRITE: VMfailInvalid without a current VMCS; width rules in 64-bit mode', () => {
  const t = vmxCpu();
  on(t);
  assert.equal(read(t, BigInt(F.GUEST_RIP)), 'invalid');
  assert.equal(write(t, BigInt(F.GUEST_RIP), 1n), 'invalid');
  assert.equal(load(t, VMCS_A), 'succeed');
  assert.equal(write(t, BigInt(F.GUEST_CS_SELECTOR), 0x1234_5678_0010n), 'succeed');
  assert.equal(read(t, BigInt(F.GUEST_CS_SELECTOR)), 0x10n); // 16-bit field keeps bits 15:0
  assert.equal(write(t, BigInt(F.GUEST_CS_LIMIT), 0xffff_ffff_ffffn), 'succeed');
  assert.equal(read(t, BigInt(F.GUEST_CS_LIMIT)), 0xffff_ffffn);
  assert.equal(write(t, BigInt(F.EPT_POINTER), 0x1_2345_601en), 'succeed');
  assert.equal(read(t, BigInt(F.EPT_POINTER + 1)), 0x1n); // HIGH access: bits 63:32
  assert.equal(write(t, BigInt(F.EPT_POINTER + 1), 0xffff_ffff_0000_0007n), 'succeed');
  assert.equal(read(t, BigInt(F.EPT_POINTER)), 0x7_2345_601en);
  assert.equal(write(t, BigInt(F.GUEST_RIP), 0xffff_8000_0000_1000n), 'succeed');
  assert.equal(read(t, BigInt(F.GUEST_RIP)), 0xffff_8000_0000_1000n);
});

test('VMREAD/VMWRITE error 12: unknown encodings, bits 63:15, HIGH of a natural-width field, unimplemented features', () => {
  const t = vmxCpu();
  on(t);
  assert.equal(load(t, VMCS_A), 'succeed');
  for (const enc of [0x6c18n /* HOST_S_CET */, 0x2c06n /* HOST_IA32_PKRS */, 0x482cn, 0x681fn, 0x8000n | BigInt(F.GUEST_RIP),
    (1n << 32n) | BigInt(F.GUEST_RIP), 0x1000n]) {
    assert.equal(read(t, enc), VMX_ERR.UNSUPPORTED_VMCS_COMPONENT, enc.toString(16));
    assert.equal(write(t, enc, 0n), VMX_ERR.UNSUPPORTED_VMCS_COMPONENT, enc.toString(16));
  }
});

test('VMWRITE to a read-only field: allowed with IA32_VMX_MISC bit 29 (our choice), error 13 without', () => {
  const t = vmxCpu();
  on(t);
  assert.equal(load(t, VMCS_A), 'succeed');
  assert.equal(write(t, BigInt(F.EXIT_QUALIFICATION), 0x55n), 'succeed');
  assert.equal(read(t, BigInt(F.EXIT_QUALIFICATION)), 0x55n);
  vmxState(t.cpu).caps = buildVmxCaps(t.cpu.profile, (f) => f.impl && !(f.kind === 'misc' && f.bit === 29));
  assert.equal(write(t, BigInt(F.EXIT_QUALIFICATION), 0x66n), VMX_ERR.VMWRITE_READ_ONLY_COMPONENT);
  assert.equal(read(t, BigInt(F.EXIT_QUALIFICATION)), 0x55n);
  assert.equal(read(t, BigInt(F.VM_INSTRUCTION_ERROR)), 13n);
});

test('VMREAD/VMWRITE with memory operands; #PF leaves the VMCS and flags untouched', () => {
  const t = vmxCpu();
  on(t);
  assert.equal(load(t, VMCS_A), 'succeed');
  t.mem.write32(BUF, 0x11223344); t.mem.write32(BUF + 4, 0x55667788);
  setReg64(t.cpu, RCX, BigInt(BUF)); setReg64(t.cpu, RBX, BigInt(F.TSC_OFFSET));
  assert.equal(exec(t, VMWRITE_RM, vmwrite), null);
  assert.equal(outcome(t.cpu), 'succeed');
  setReg64(t.cpu, RCX, BigInt(BUF + 0x10));
  assert.equal(exec(t, VMREAD_MR, vmread), null);
  assert.equal(t.mem.read32(BUF + 0x10), 0x11223344);
  assert.equal(t.mem.read32(BUF + 0x14), 0x55667788);
  setReg64(t.cpu, RCX, 0x40000000n); // not mapped by the test page tables
  assert.equal(exec(t, VMWRITE_RM, vmwrite), 14);
  assert.equal(exec(t, VMREAD_MR, vmread), 14);
  assert.equal(read(t, BigInt(F.TSC_OFFSET)), 0x5566778811223344n);
});

test('VMREAD/VMWRITE in 32-bit protected mode use 32-bit operands', () => {
  const t = vmxCpu('prot32');
  // CR0.PG is fixed to 1 in VMX operation: identity-map 4 GiB with 4-MiB pages (CR4.PSE)
  for (let i = 0; i < 1024; i++) t.mem.write32(0x200000 + i * 4, (i << 22) | 0x87);
  t.cpu.cr3 = 0x200000; t.cpu.cr4 |= 1 << 4; t.cpu.cr0 |= 1 << 31; t.cpu.flushTlb();
  on(t);
  assert.equal(load(t, VMCS_A), 'succeed');
  assert.equal(write(t, BigInt(F.GUEST_RIP), 0xffff_ffff_8000_0000n), 'succeed');
  // the upper half of the 64-bit register is not the operand: the field's bits 63:32 are cleared
  assert.equal(vmxState(t.cpu).cache[(fieldSlot(F.GUEST_RIP) >> 2) + 1], 0);
  vmxState(t.cpu).cache[(fieldSlot(F.GUEST_RIP) >> 2) + 1] = 7;
  assert.equal(read(t, BigInt(F.GUEST_RIP)), 0x8000_0000n); // truncated to 32 bits
  setReg64(t.cpu, RBX, (1n << 32n) | BigInt(F.GUEST_RIP)); // bits 63:32 are not part of the encoding here
  assert.equal(exec(t, VMREAD_RR, vmread), null);
  assert.equal(outcome(t.cpu), 'succeed');
});

test('VMREAD #GP(0) at CPL 3; 66/F3 prefixes #UD', () => {
  const t = vmxCpu();
  on(t);
  assert.equal(load(t, VMCS_A), 'succeed');
  assert.equal(exec(t, '66 0f 78 d8', vmread), 6);
  assert.equal(exec(t, 'f3 0f 79 d8', vmwrite), 6);
  t.cpu.setSegCache(CS, 0x0b, 0, 0xffffffff, 0xa0fb);
  assert.equal(exec(t, VMREAD_RR, vmread), 13);
  assert.equal(exec(t, VMWRITE_RR, vmwrite), 13);
  assert.equal(exec(t, VMXOFF, vmxoff), 13);
});

// ---- VMXOFF / VMCALL --------------------------------------------------------------------

test('VMXOFF leaves VMX operation, writes the current VMCS back, unblocks INIT', () => {
  const t = vmxCpu();
  on(t);
  assert.equal(load(t, VMCS_A), 'succeed');
  assert.equal(write(t, BigInt(F.GUEST_CR3), 0x5000n), 'succeed');
  assert.equal(exec(t, VMXOFF, vmxoff), null);
  assert.equal(outcome(t.cpu), 'succeed');
  const st = vmxState(t.cpu);
  assert.equal(st.inVmx, false); assert.equal(st.initBlocked, false); assert.equal(st.currentVmcs, INVALID_PTR);
  assert.equal(t.mem.read32(VMCS_A + fieldSlot(F.GUEST_CR3)), 0x5000);
  assert.equal(exec(t, VMREAD_RR, vmread), 6);
  on(t); // VMXON again works
});

test('VMCALL in VMX root operation: VMfail(1)', () => {
  const t = vmxCpu();
  on(t);
  assert.equal(exec(t, VMCALL, vmcall), null);
  assert.equal(outcome(t.cpu), 'invalid');
  assert.equal(load(t, VMCS_A), 'succeed');
  assert.equal(exec(t, VMCALL, vmcall), null);
  assert.equal(outcome(t.cpu), VMX_ERR.VMCALL_IN_ROOT);
});
