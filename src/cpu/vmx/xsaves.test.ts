/**
 * XSAVES/XRSTORS in VMX non-root operation (SDM Vol. 3C §25.1.3, §25.3, §24.6.20): #UD without
 * the secondary control "enable XSAVES/XRSTORS" (bit 20); with it, a VM exit with reason 63
 * (XSAVES) or 64 (XRSTORS) exactly when EDX:EAX AND IA32_XSS AND the XSS-exiting bitmap
 * (field 0x202C) is not zero, with the instruction length, the displacement as qualification
 * and the VMXON-format instruction information (Table 27-13). The control is offered in
 * IA32_VMX_PROCBASED_CTLS2's allowed-1 settings.
 *
 * IA32_XSS takes only 0 through WRMSR today (no supervisor state component is implemented),
 * so the exiting case sets the MSR's stored value directly, as a CPU with a supervisor
 * component (bit 8, PT) would hold it after WRMSR. The guest runs at CPL 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CR0_TS, CR4_OSXSAVE } from '../regs.js';
import { MSR_IA32_XSS } from '../profile.js';
import { msrSet64, rdmsr } from '../msr.js';
import { F } from './vmcs-fields.js';
import { EXIT } from './vmexit.js';
import { PROC_SECONDARY, MSR_VMX_PROCBASED_CTLS2 } from './capabilities.js';
import { vmxSetup, guest, launch, rd, rd32, wr, or32, assertExited, GUEST_CODE, type VmxTest } from './testkit.js';

const PROC2_XSAVES = 1 << 20;
// 48 c7 c3 00 70 00 00   mov rbx, 0x7000      (a 64-byte aligned save area)
// b8 00 01 00 00         mov eax, 0x100       (RFBM: component 8)
// 31 d2                  xor edx, edx
// 0f c7 6b 40            xsaves [rbx+0x40]
// 0f a2                  cpuid
const XSAVES = '48 c7 c3 00 70 00 00 b8 00 01 00 00 31 d2 0f c7 6b 40 0f a2';
const XRSTORS = '48 c7 c3 00 70 00 00 b8 00 01 00 00 31 d2 0f c7 5b 40 0f a2'; // xrstors [rbx+0x40]
const AT = GUEST_CODE + 14;

function setup(control: boolean): VmxTest {
  const t = vmxSetup();
  t.cpu.cr4 |= CR4_OSXSAVE;
  or32(t, F.GUEST_CR4, CR4_OSXSAVE);
  wr(t, F.EXCEPTION_BITMAP, 1 << 6);
  if (control) {
    or32(t, F.CPU_BASED_VM_EXEC_CONTROL, PROC_SECONDARY);
    or32(t, F.SECONDARY_VM_EXEC_CONTROL, PROC2_XSAVES);
  }
  return t;
}

test('IA32_VMX_PROCBASED_CTLS2 allows "enable XSAVES/XRSTORS"', () => {
  const t = vmxSetup();
  rdmsr(t.cpu, MSR_VMX_PROCBASED_CTLS2);
  assert.notEqual(t.cpu.hi & PROC2_XSAVES, 0); // allowed-1 settings in bits 63:32 (SDM Vol. 3D A.3.3)
});

test('XSAVES and XRSTORS are #UD in the guest without "enable XSAVES/XRSTORS"', () => {
  for (const code of [XSAVES, XRSTORS]) {
    const t = setup(false);
    guest(t, code);
    launch(t);
    assertExited(t, EXIT.EXCEPTION_NMI, AT);
    assert.equal(rd32(t, F.VM_EXIT_INTR_INFO), (0x80000000 | (3 << 8) | 6) >>> 0);
  }
});

test('with the control and IA32_XSS = 0, XSAVES runs whatever the XSS-exiting bitmap holds', () => {
  const t = setup(true);
  wr(t, F.XSS_EXITING_BITMAP, 0xffffffff);
  guest(t, XSAVES);
  launch(t);
  assertExited(t, EXIT.CPUID, AT + 4); // executed: the AND with IA32_XSS = 0 is 0
});

test('XSAVES exits with reason 63 and XRSTORS with 64 when EDX:EAX & IA32_XSS & bitmap ≠ 0', () => {
  for (const [code, reason] of [[XSAVES, EXIT.XSAVES], [XRSTORS, EXIT.XRSTORS]] as const) {
    const t = setup(true);
    msrSet64(t.cpu, MSR_IA32_XSS, 0x100, 0);
    wr(t, F.XSS_EXITING_BITMAP, 0x100);
    guest(t, code);
    launch(t);
    assertExited(t, reason, AT);
    assert.equal(rd32(t, F.VM_EXIT_INSTRUCTION_LEN), 4);
    assert.equal(rd(t, F.EXIT_QUALIFICATION), 0x40); // the displacement (§27.2.1)
    const info = rd32(t, F.VMX_INSTRUCTION_INFO);
    assert.equal((info >> 7) & 7, 2);  // 64-bit address size
    assert.equal((info >> 23) & 15, 3); // base register RBX
    assert.equal((info >> 22) & 1, 1);  // no index register
    assert.equal((info >> 15) & 7, 3);  // DS
  }
});

test('no exit when the bitmap bit is not set in IA32_XSS or not requested in EDX:EAX', () => {
  const t = setup(true);
  msrSet64(t.cpu, MSR_IA32_XSS, 0x100, 0);
  wr(t, F.XSS_EXITING_BITMAP, 0x200); // bit 9: not in IA32_XSS, not in EAX
  guest(t, XSAVES);
  launch(t);
  assertExited(t, EXIT.CPUID, AT + 4);
});

test('#NM (CR0.TS) and a misaligned area: #NM comes before the exit, the exit before the alignment #GP', () => {
  // CR0.TS = 1: #NM has priority over the VM exit (SDM Vol. 3C §25.1.1; fxsave.ts checks it first)
  const t = setup(true);
  msrSet64(t.cpu, MSR_IA32_XSS, 0x100, 0);
  wr(t, F.XSS_EXITING_BITMAP, 0x100);
  wr(t, F.EXCEPTION_BITMAP, 1 << 7);
  or32(t, F.GUEST_CR0, CR0_TS);
  guest(t, XSAVES);
  launch(t);
  assertExited(t, EXIT.EXCEPTION_NMI, AT);
  assert.equal(rd32(t, F.VM_EXIT_INTR_INFO) & 0xff, 7);
  // a misaligned area: the exit is conditioned on registers only, so it comes first
  const u = setup(true);
  msrSet64(u.cpu, MSR_IA32_XSS, 0x100, 0);
  wr(u, F.XSS_EXITING_BITMAP, 0x100);
  wr(u, F.EXCEPTION_BITMAP, 1 << 13);
  guest(u, XSAVES.replace('0f c7 6b 40', '0f c7 6b 41'));
  launch(u);
  assertExited(u, EXIT.XSAVES, AT);
  assert.equal(rd(u, F.EXIT_QUALIFICATION), 0x41);
});
