/**
 * The VMX instructions reached through the opcode table (ops/system.ts), the capability
 * MSRs through RDMSR (msr.ts) and the CR0/CR4 fixed bits through MOV to CR (ops/crdr.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, run, setReg64, reg64 } from '../testing.js';
import { RAX, RCX, RDX, CR0_NE, CR4_VMXE } from '../regs.js';
import { VMCS_REVISION_ID } from './vmcs-fields.js';

const VMXON_REGION = 0x100000, PTR = 0x3000;

function vmxCpu() {
  const t = makeCpu('long64');
  t.cpu.exposeVmx = true;
  t.cpu.cr4 |= CR4_VMXE;
  t.cpu.cr0 |= CR0_NE;
  t.mem.write32(VMXON_REGION, VMCS_REVISION_ID);
  t.mem.write32(PTR, VMXON_REGION);
  return t;
}

test('VMXON / VMXOFF through the opcode table; CF/ZF report success', () => {
  const t = vmxCpu();
  setReg64(t.cpu, RAX, BigInt(PTR));
  // f3 0f c7 30  vmxon QWORD PTR [rax]
  run(t, 'f3 0f c7 30');
  assert.deepEqual(t.exceptions, []);
  assert.equal(t.cpu.vmx.inVmx, true);
  assert.equal(t.cpu.getFlags() & 0x41, 0);
  // 0f 01 c4  vmxoff
  run(t, '0f 01 c4');
  assert.equal(t.cpu.vmx.inVmx, false);
});

test('RDMSR IA32_VMX_BASIC reports the revision; #GP when VMX is hidden', () => {
  const t = vmxCpu();
  setReg64(t.cpu, RCX, 0x480n);
  run(t, '0f 32'); // rdmsr
  assert.equal(Number(reg64(t.cpu, RAX)), VMCS_REVISION_ID);
  assert.equal(Number(reg64(t.cpu, RDX)) & 0x1fff, 4096);
  t.cpu.exposeVmx = false;
  run(t, '0f 32');
  assert.deepEqual(t.exceptions.map((e) => e[0]), [13]);
});

test('in VMX operation MOV to CR4 clearing VMXE and MOV to CR0 clearing NE raise #GP(0)', () => {
  const t = vmxCpu();
  setReg64(t.cpu, RAX, BigInt(PTR));
  run(t, 'f3 0f c7 30');
  setReg64(t.cpu, RAX, BigInt(t.cpu.cr4 & ~CR4_VMXE));
  run(t, '0f 22 e0'); // mov cr4, rax
  setReg64(t.cpu, RAX, BigInt((t.cpu.cr0 & ~CR0_NE) >>> 0));
  run(t, '0f 22 c0'); // mov cr0, rax
  assert.deepEqual(t.exceptions, [[13, 0], [13, 0]]);
  assert.notEqual(t.cpu.cr4 & CR4_VMXE, 0);
});
