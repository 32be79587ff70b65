/**
 * VM-entry checks: one valid 64-bit host + 64-bit guest VMCS passes every check; each
 * row below breaks exactly one SDM bullet and must fail with that check's id, in the
 * step (and with the error or exit reason) the SDM assigns. The passing case of every
 * check is the baseline (each check runs and passes on it) plus, where a bullet has a
 * conditional, the row's "ok" variant. Capabilities: everything in VMX_FEATURES treated
 * as implemented, so the checks are exercised beyond what slice 1 advertises.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { defaultProfile } from '../profile.js';
import { F, VMCS_SIZE, vmcsSet, vmcsLo } from './vmcs-fields.js';
import {
  buildVmxCaps, PROC_SECONDARY, EXIT_HOST_ADDR64, ENTRY_IA32E, PIN_NMI, PIN_VIRTUAL_NMIS, PIN_EXT_INTR, PIN_POSTED_INTR,
  PIN_PREEMPT_TIMER, PROC_NMI_WINDOW, PROC_IO_BITMAPS, PROC_MSR_BITMAPS, PROC_TPR_SHADOW, PROC2_EPT, PROC2_VPID,
  PROC2_UNRESTRICTED, PROC2_VID, PROC2_VIRT_APIC, PROC2_VIRT_X2APIC, PROC2_PML, PROC2_VMFUNC, PROC2_SHADOW_VMCS,
  PROC2_EPT_VE, EXIT_SAVE_PREEMPT, EXIT_LOAD_PAT, EXIT_LOAD_EFER, ENTRY_LOAD_EFER, ENTRY_LOAD_PAT, ENTRY_LOAD_DEBUG,
  ENTRY_SMM, ENTRY_DEACT_DUAL, EXIT_ACK_INTR,
} from './capabilities.js';
import {
  DecodedVmcs, EntryCheckResult, decodeVmcs, checkVmEntry, ENTRY_OK, ENTRY_VMFAIL, ENTRY_FAIL_EXIT,
  QUAL_LINK_POINTER, QUAL_NMI_BLOCKED, QUAL_PDPTE, type EntryEnv,
} from './entry-checks.js';

const caps = buildVmxCaps(defaultProfile(), () => true);
const env: EntryEnv = { caps, lma: true };

type Vmcs = Int32Array;
const set = (v: Vmcs, enc: number, lo: number, hi = 0): void => vmcsSet(v, enc, lo, hi);

function baseline(): Vmcs {
  const v = new Int32Array(VMCS_SIZE / 4);
  set(v, F.PIN_BASED_VM_EXEC_CONTROL, caps.pin0);
  set(v, F.CPU_BASED_VM_EXEC_CONTROL, caps.proc0 | PROC_SECONDARY);
  set(v, F.SECONDARY_VM_EXEC_CONTROL, 0);
  set(v, F.VM_EXIT_CONTROLS, caps.exit0 | EXIT_HOST_ADDR64);
  set(v, F.VM_ENTRY_CONTROLS, caps.entry0 | ENTRY_IA32E);
  set(v, F.HOST_CR0, 0x80000031); set(v, F.HOST_CR4, 0x2020); set(v, F.HOST_CR3, 0x1000);
  set(v, F.HOST_CS_SELECTOR, 0x08); set(v, F.HOST_SS_SELECTOR, 0x10); set(v, F.HOST_DS_SELECTOR, 0x10);
  set(v, F.HOST_ES_SELECTOR, 0x10); set(v, F.HOST_TR_SELECTOR, 0x18);
  set(v, F.HOST_RIP, 0x81000000, -1);
  set(v, F.GUEST_CR0, 0x80000031); set(v, F.GUEST_CR4, 0x2020); set(v, F.GUEST_CR3, 0x2000);
  for (let i = 0; i < 6; i++) {
    set(v, F.GUEST_ES_SELECTOR + 2 * i, i === 1 ? 0x08 : 0x10);
    set(v, F.GUEST_ES_LIMIT + 2 * i, -1);
    set(v, F.GUEST_ES_AR_BYTES + 2 * i, i === 1 ? 0xa09b : 0xc093);
  }
  set(v, F.GUEST_LDTR_AR_BYTES, 0x10000);
  set(v, F.GUEST_TR_SELECTOR, 0x18); set(v, F.GUEST_TR_LIMIT, 0x67); set(v, F.GUEST_TR_AR_BYTES, 0x8b);
  set(v, F.GUEST_GDTR_LIMIT, 0x37); set(v, F.GUEST_IDTR_LIMIT, 0xfff);
  set(v, F.GUEST_RIP, 0x1000); set(v, F.GUEST_RFLAGS, 2);
  set(v, F.VMCS_LINK_POINTER, -1, -1);
  return v;
}

const d = new DecodedVmcs(), r = new EntryCheckResult();
function check(v: Vmcs, e: EntryEnv = env): EntryCheckResult { return checkVmEntry(decodeVmcs(v, d), e, r); }
const or = (v: Vmcs, enc: number, bits: number): void => set(v, enc, vmcsLo(v, enc) | bits);
const proc2 = (v: Vmcs, bits: number): void => or(v, F.SECONDARY_VM_EXEC_CONTROL, bits);
const EPTP_OK = 6 | (3 << 3);

test('the baseline VMCS passes all three steps', () => {
  const res = check(baseline());
  assert.equal(res.check, '');
  assert.equal(res.kind, ENTRY_OK);
});

type Row = [id: string, mutate: (v: Vmcs) => void, ok?: (v: Vmcs) => void];

// §26.2.1 → VMfailValid(7)
const CONTROL_ROWS: Row[] = [
  ['26.2.1.1 pin-based reserved bits', (v) => set(v, F.PIN_BASED_VM_EXEC_CONTROL, 0)],
  ['26.2.1.1 processor-based reserved bits', (v) => set(v, F.CPU_BASED_VM_EXEC_CONTROL, PROC_SECONDARY)],
  ['26.2.1.1 secondary reserved bits', (v) => set(v, F.SECONDARY_VM_EXEC_CONTROL, 1 << 29),
    (v) => { set(v, F.SECONDARY_VM_EXEC_CONTROL, 1 << 29); set(v, F.CPU_BASED_VM_EXEC_CONTROL, caps.proc0); }],
  ['26.2.1.1 CR3-target count', (v) => set(v, F.CR3_TARGET_COUNT, 5), (v) => set(v, F.CR3_TARGET_COUNT, 4)],
  ['26.2.1.1 I/O bitmap addresses', (v) => { or(v, F.CPU_BASED_VM_EXEC_CONTROL, PROC_IO_BITMAPS); set(v, F.IO_BITMAP_A, 0x1000); set(v, F.IO_BITMAP_B, 0x2800); },
    (v) => { or(v, F.CPU_BASED_VM_EXEC_CONTROL, PROC_IO_BITMAPS); set(v, F.IO_BITMAP_A, 0x1000); set(v, F.IO_BITMAP_B, 0x2000); }],
  ['26.2.1.1 MSR bitmap address', (v) => { or(v, F.CPU_BASED_VM_EXEC_CONTROL, PROC_MSR_BITMAPS); set(v, F.MSR_BITMAP, 0, 0x100); },
    (v) => { or(v, F.CPU_BASED_VM_EXEC_CONTROL, PROC_MSR_BITMAPS); set(v, F.MSR_BITMAP, 0x3000, 0x7f); }],
  ['26.2.1.1 virtual-APIC address', (v) => { or(v, F.CPU_BASED_VM_EXEC_CONTROL, PROC_TPR_SHADOW); set(v, F.VIRTUAL_APIC_PAGE_ADDR, 0x10); }],
  ['26.2.1.1 TPR threshold bits 31:4', (v) => { or(v, F.CPU_BASED_VM_EXEC_CONTROL, PROC_TPR_SHADOW); set(v, F.TPR_THRESHOLD, 0x10); },
    (v) => { or(v, F.CPU_BASED_VM_EXEC_CONTROL, PROC_TPR_SHADOW); set(v, F.TPR_THRESHOLD, 0xf); }],
  ['26.2.1.1 x2APIC/APIC-register virtualization/VID need TPR shadow', (v) => proc2(v, PROC2_VIRT_X2APIC),
    (v) => { proc2(v, PROC2_VIRT_X2APIC); or(v, F.CPU_BASED_VM_EXEC_CONTROL, PROC_TPR_SHADOW); }],
  ['26.2.1.1 virtual NMIs need NMI exiting', (v) => or(v, F.PIN_BASED_VM_EXEC_CONTROL, PIN_VIRTUAL_NMIS),
    (v) => or(v, F.PIN_BASED_VM_EXEC_CONTROL, PIN_VIRTUAL_NMIS | PIN_NMI)],
  ['26.2.1.1 NMI-window exiting needs virtual NMIs', (v) => or(v, F.CPU_BASED_VM_EXEC_CONTROL, PROC_NMI_WINDOW),
    (v) => { or(v, F.CPU_BASED_VM_EXEC_CONTROL, PROC_NMI_WINDOW); or(v, F.PIN_BASED_VM_EXEC_CONTROL, PIN_VIRTUAL_NMIS | PIN_NMI); }],
  ['26.2.1.1 APIC-access address', (v) => { proc2(v, PROC2_VIRT_APIC); set(v, F.APIC_ACCESS_ADDR, 0x123); },
    (v) => { proc2(v, PROC2_VIRT_APIC); set(v, F.APIC_ACCESS_ADDR, 0xfee00000); }],
  ['26.2.1.1 x2APIC mode excludes APIC-access virtualization', (v) => { proc2(v, PROC2_VIRT_X2APIC | PROC2_VIRT_APIC); or(v, F.CPU_BASED_VM_EXEC_CONTROL, PROC_TPR_SHADOW); }],
  ['26.2.1.1 VID needs external-interrupt exiting', (v) => { proc2(v, PROC2_VID); or(v, F.CPU_BASED_VM_EXEC_CONTROL, PROC_TPR_SHADOW); },
    (v) => { proc2(v, PROC2_VID); or(v, F.CPU_BASED_VM_EXEC_CONTROL, PROC_TPR_SHADOW); or(v, F.PIN_BASED_VM_EXEC_CONTROL, PIN_EXT_INTR); }],
  ['26.2.1.1 posted interrupts', (v) => { proc2(v, PROC2_VID); or(v, F.CPU_BASED_VM_EXEC_CONTROL, PROC_TPR_SHADOW); or(v, F.PIN_BASED_VM_EXEC_CONTROL, PIN_EXT_INTR | PIN_POSTED_INTR); or(v, F.VM_EXIT_CONTROLS, EXIT_ACK_INTR); set(v, F.POSTED_INTR_DESC_ADDR, 0x1020); },
    (v) => { proc2(v, PROC2_VID); or(v, F.CPU_BASED_VM_EXEC_CONTROL, PROC_TPR_SHADOW); or(v, F.PIN_BASED_VM_EXEC_CONTROL, PIN_EXT_INTR | PIN_POSTED_INTR); or(v, F.VM_EXIT_CONTROLS, EXIT_ACK_INTR); set(v, F.POSTED_INTR_DESC_ADDR, 0x1040); }],
  ['26.2.1.1 VPID is not 0', (v) => proc2(v, PROC2_VPID), (v) => { proc2(v, PROC2_VPID); set(v, F.VIRTUAL_PROCESSOR_ID, 1); }],
  ['26.2.1.1 EPTP', (v) => { proc2(v, PROC2_EPT); set(v, F.EPT_POINTER, 0x5000 | 6 | (2 << 3)); },
    (v) => { proc2(v, PROC2_EPT); set(v, F.EPT_POINTER, 0x5000 | EPTP_OK | 0x40); }],
  ['26.2.1.1 PML', (v) => proc2(v, PROC2_PML), (v) => { proc2(v, PROC2_PML | PROC2_EPT); set(v, F.EPT_POINTER, EPTP_OK); }],
  ['26.2.1.1 unrestricted guest needs EPT', (v) => proc2(v, PROC2_UNRESTRICTED)],
  ['26.2.1.1 VM-function controls reserved bits', (v) => { proc2(v, PROC2_VMFUNC); set(v, F.VM_FUNCTION_CONTROLS, 2); }],
  ['26.2.1.1 EPTP switching', (v) => { proc2(v, PROC2_VMFUNC); set(v, F.VM_FUNCTION_CONTROLS, 1); },
    (v) => { proc2(v, PROC2_VMFUNC | PROC2_EPT); set(v, F.EPT_POINTER, EPTP_OK); set(v, F.VM_FUNCTION_CONTROLS, 1); set(v, F.EPTP_LIST_ADDRESS, 0x6000); }],
  ['26.2.1.1 VMREAD/VMWRITE bitmaps', (v) => { proc2(v, PROC2_SHADOW_VMCS); set(v, F.VMREAD_BITMAP, 0x8); }],
  ['26.2.1.1 virtualization-exception information address', (v) => { proc2(v, PROC2_EPT_VE); set(v, F.VE_INFORMATION_ADDRESS, 0x8); }],
  ['26.2.1.2 VM-exit reserved bits', (v) => set(v, F.VM_EXIT_CONTROLS, EXIT_HOST_ADDR64)],
  ['26.2.1.2 save preemption timer needs the timer', (v) => or(v, F.VM_EXIT_CONTROLS, EXIT_SAVE_PREEMPT),
    (v) => { or(v, F.VM_EXIT_CONTROLS, EXIT_SAVE_PREEMPT); or(v, F.PIN_BASED_VM_EXEC_CONTROL, PIN_PREEMPT_TIMER); }],
  ['26.2.1.2 VM-exit MSR-store area', (v) => { set(v, F.VM_EXIT_MSR_STORE_COUNT, 1); set(v, F.VM_EXIT_MSR_STORE_ADDR, 0x1008); },
    (v) => { set(v, F.VM_EXIT_MSR_STORE_COUNT, 1); set(v, F.VM_EXIT_MSR_STORE_ADDR, 0x1010); }],
  ['26.2.1.2 VM-exit MSR-load area', (v) => { set(v, F.VM_EXIT_MSR_LOAD_COUNT, 2); set(v, F.VM_EXIT_MSR_LOAD_ADDR, -16, 0x7f); },
    (v) => { set(v, F.VM_EXIT_MSR_LOAD_COUNT, 1); set(v, F.VM_EXIT_MSR_LOAD_ADDR, -16, 0x7f); }],
  ['26.2.1.3 VM-entry reserved bits', (v) => set(v, F.VM_ENTRY_CONTROLS, ENTRY_IA32E)],
  ['26.2.1.3 injection type 1 reserved', (v) => set(v, F.VM_ENTRY_INTR_INFO, 0x80000100 | 0x20)],
  ['26.2.1.3 NMI vector is 2', (v) => set(v, F.VM_ENTRY_INTR_INFO, 0x80000203), (v) => set(v, F.VM_ENTRY_INTR_INFO, 0x80000202)],
  ['26.2.1.3 hardware exception vector ≤ 31', (v) => set(v, F.VM_ENTRY_INTR_INFO, 0x80000320)],
  ['26.2.1.3 other-event vector is 0', (v) => set(v, F.VM_ENTRY_INTR_INFO, 0x80000701), (v) => set(v, F.VM_ENTRY_INTR_INFO, 0x80000700)],
  ['26.2.1.3 deliver-error-code bit', (v) => set(v, F.VM_ENTRY_INTR_INFO, 0x8000030d), (v) => set(v, F.VM_ENTRY_INTR_INFO, 0x80000b0d)],
  ['26.2.1.3 interruption-information reserved bits 30:12', (v) => set(v, F.VM_ENTRY_INTR_INFO, 0x80001020)],
  ['26.2.1.3 error code bits 31:16', (v) => { set(v, F.VM_ENTRY_INTR_INFO, 0x80000b0e); set(v, F.VM_ENTRY_EXCEPTION_ERROR_CODE, 0x10000); },
    (v) => { set(v, F.VM_ENTRY_INTR_INFO, 0x80000b0e); set(v, F.VM_ENTRY_EXCEPTION_ERROR_CODE, 0xffff); }],
  ['26.2.1.3 instruction length', (v) => { set(v, F.VM_ENTRY_INTR_INFO, 0x80000480); set(v, F.VM_ENTRY_INSTRUCTION_LEN, 16); },
    (v) => { set(v, F.VM_ENTRY_INTR_INFO, 0x80000480); set(v, F.VM_ENTRY_INSTRUCTION_LEN, 2); }],
  ['26.2.1.3 VM-entry MSR-load area', (v) => { set(v, F.VM_ENTRY_MSR_LOAD_COUNT, 1); set(v, F.VM_ENTRY_MSR_LOAD_ADDR, 4); }],
  ['26.2.1.3 entry to SMM outside SMM', (v) => or(v, F.VM_ENTRY_CONTROLS, ENTRY_SMM)],
  ['26.2.1.3 deactivate dual-monitor treatment outside SMM', (v) => or(v, F.VM_ENTRY_CONTROLS, ENTRY_DEACT_DUAL)],
];

// §26.2.2-26.2.4 → VMfailValid(8)
const HOST_ROWS: Row[] = [
  ['26.2.2 host CR0 fixed bits', (v) => set(v, F.HOST_CR0, 0x80000011)],
  ['26.2.2 host CR4 fixed bits', (v) => set(v, F.HOST_CR4, 0x20)],
  ['26.2.2 host CR3 beyond MAXPHYADDR', (v) => set(v, F.HOST_CR3, 0x1000, 0x80)],
  ['26.2.2 host SYSENTER ESP/EIP canonical', (v) => set(v, F.HOST_IA32_SYSENTER_EIP, 0, 0x8000)],
  ['26.2.2 host IA32_PAT memory types', (v) => { or(v, F.VM_EXIT_CONTROLS, EXIT_LOAD_PAT); set(v, F.HOST_IA32_PAT, 0x02, 0); },
    (v) => { or(v, F.VM_EXIT_CONTROLS, EXIT_LOAD_PAT); set(v, F.HOST_IA32_PAT, 0x00070406, 0x00070406); }],
  ['26.2.2 host IA32_EFER reserved bits', (v) => { or(v, F.VM_EXIT_CONTROLS, EXIT_LOAD_EFER); set(v, F.HOST_IA32_EFER, 0x0d02); }],
  ['26.2.2 host IA32_EFER LMA/LME = host address-space size', (v) => { or(v, F.VM_EXIT_CONTROLS, EXIT_LOAD_EFER); set(v, F.HOST_IA32_EFER, 0x100); },
    (v) => { or(v, F.VM_EXIT_CONTROLS, EXIT_LOAD_EFER); set(v, F.HOST_IA32_EFER, 0xd01); }],
  ['26.2.3 host selector RPL/TI', (v) => set(v, F.HOST_DS_SELECTOR, 0x13)],
  ['26.2.3 host CS selector is not 0', (v) => set(v, F.HOST_CS_SELECTOR, 0)],
  ['26.2.3 host TR selector is not 0', (v) => set(v, F.HOST_TR_SELECTOR, 0)],
  ['26.2.3 host base addresses canonical', (v) => set(v, F.HOST_GS_BASE, 0, 0x00010000)],
  ['26.2.4 in IA-32e mode: host address-space size is 1', (v) => { set(v, F.VM_EXIT_CONTROLS, caps.exit0); set(v, F.VM_ENTRY_CONTROLS, caps.entry0); }],
  ['26.2.4 64-bit host needs CR4.PAE', (v) => set(v, F.HOST_CR4, 0x2000)],
  ['26.2.4 host RIP canonical', (v) => set(v, F.HOST_RIP, 0, 0x8000)],
];

// §26.3.1 → VM-entry failure, exit reason 33
const GUEST_ROWS: Row[] = [
  ['26.3.1.1 guest CR0 fixed bits', (v) => set(v, F.GUEST_CR0, 0x80000011)],
  ['26.3.1.1 guest CR4 fixed bits', (v) => set(v, F.GUEST_CR4, 0x20 | (1 << 12) | 0x2000)],
  ['26.3.1.1 IA32_DEBUGCTL reserved bits', (v) => { or(v, F.VM_ENTRY_CONTROLS, ENTRY_LOAD_DEBUG); set(v, F.GUEST_IA32_DEBUGCTL, 0x4); }],
  ['26.3.1.1 DR7 bits 63:32', (v) => { or(v, F.VM_ENTRY_CONTROLS, ENTRY_LOAD_DEBUG); set(v, F.GUEST_DR7, 0x400, 1); }],
  ['26.3.1.1 IA-32e guest needs CR0.PG and CR4.PAE', (v) => set(v, F.GUEST_CR4, 0x2000)],
  ['26.3.1.1 guest CR3 beyond MAXPHYADDR', (v) => set(v, F.GUEST_CR3, 0, 0x100)],
  ['26.3.1.1 guest SYSENTER ESP/EIP canonical', (v) => set(v, F.GUEST_SYSENTER_ESP, 0, 0x7fff0000)],
  ['26.3.1.1 guest IA32_PAT memory types', (v) => { or(v, F.VM_ENTRY_CONTROLS, ENTRY_LOAD_PAT); set(v, F.GUEST_IA32_PAT, 0, 0x08000000); }],
  ['26.3.1.1 guest IA32_EFER reserved bits', (v) => { or(v, F.VM_ENTRY_CONTROLS, ENTRY_LOAD_EFER); set(v, F.GUEST_IA32_EFER, 0x10d00); }],
  ['26.3.1.1 guest EFER.LMA = IA-32e mode guest', (v) => { or(v, F.VM_ENTRY_CONTROLS, ENTRY_LOAD_EFER); set(v, F.GUEST_IA32_EFER, 0x100); },
    (v) => { or(v, F.VM_ENTRY_CONTROLS, ENTRY_LOAD_EFER); set(v, F.GUEST_IA32_EFER, 0x500); }],
  ['26.3.1.2 TR TI flag', (v) => set(v, F.GUEST_TR_SELECTOR, 0x1c)],
  ['26.3.1.2 SS.RPL = CS.RPL', (v) => set(v, F.GUEST_SS_SELECTOR, 0x13)],
  ['26.3.1.2 TR/FS/GS base canonical', (v) => set(v, F.GUEST_FS_BASE, 0, 0x10000)],
  ['26.3.1.2 CS base bits 63:32', (v) => set(v, F.GUEST_CS_BASE, 0, 1)],
  ['26.3.1.2 CS type', (v) => set(v, F.GUEST_CS_AR_BYTES, 0xa093)],
  ['26.3.1.2 SS type', (v) => set(v, F.GUEST_SS_AR_BYTES, 0xc091)],
  ['26.3.1.2 DS/ES/FS/GS accessed', (v) => set(v, F.GUEST_DS_AR_BYTES, 0xc092), (v) => set(v, F.GUEST_DS_AR_BYTES, 0x1c092)],
  ['26.3.1.2 S = 1', (v) => set(v, F.GUEST_ES_AR_BYTES, 0xc083)],
  ['26.3.1.2 CS DPL = SS DPL (non-conforming)', (v) => { set(v, F.GUEST_SS_AR_BYTES, 0xc0f3); set(v, F.GUEST_SS_SELECTOR, 0x10); }],
  ['26.3.1.2 SS DPL = SS RPL', (v) => { set(v, F.GUEST_CS_AR_BYTES, 0xa09f); set(v, F.GUEST_SS_AR_BYTES, 0xc0f3); }],
  ['26.3.1.2 DS/ES/FS/GS DPL ≥ RPL', (v) => set(v, F.GUEST_GS_SELECTOR, 0x13)],
  ['26.3.1.2 P = 1', (v) => set(v, F.GUEST_FS_AR_BYTES, 0xc013)],
  ['26.3.1.2 access-rights reserved bits', (v) => set(v, F.GUEST_ES_AR_BYTES, 0xc193)],
  ['26.3.1.2 G consistent with limit', (v) => set(v, F.GUEST_DS_LIMIT, 0xffffe)],
  ['26.3.1.2 CS.D = 0 when CS.L = 1', (v) => set(v, F.GUEST_CS_AR_BYTES, 0xe09b)],
  ['26.3.1.2 TR type', (v) => set(v, F.GUEST_TR_AR_BYTES, 0x83)],
  ['26.3.1.2 TR access rights', (v) => set(v, F.GUEST_TR_AR_BYTES, 0x0b)],
  ['26.3.1.2 LDTR access rights', (v) => set(v, F.GUEST_LDTR_AR_BYTES, 0x83), (v) => set(v, F.GUEST_LDTR_AR_BYTES, 0x82)],
  ['26.3.1.3 GDTR/IDTR base canonical', (v) => set(v, F.GUEST_IDTR_BASE, 0, 0x8000)],
  ['26.3.1.3 GDTR/IDTR limit bits 31:16', (v) => set(v, F.GUEST_GDTR_LIMIT, 0x10000)],
  ['26.3.1.4 RIP canonical', (v) => set(v, F.GUEST_RIP, 0, 0x8000)],
  ['26.3.1.4 RFLAGS reserved bits', (v) => set(v, F.GUEST_RFLAGS, 0)],
  ['26.3.1.4 RFLAGS.VM with IA-32e guest or CR0.PE = 0', (v) => {
    set(v, F.GUEST_RFLAGS, 0x20002); // segments valid for virtual-8086 mode, so only the RFLAGS bullet fails
    for (let i = 0; i < 6; i++) { set(v, F.GUEST_ES_BASE + 2 * i, vmcsLo(v, F.GUEST_ES_SELECTOR + 2 * i) << 4); set(v, F.GUEST_ES_LIMIT + 2 * i, 0xffff); set(v, F.GUEST_ES_AR_BYTES + 2 * i, 0xf3); }
  }],
  ['26.3.1.4 RFLAGS.IF for external-interrupt injection', (v) => set(v, F.VM_ENTRY_INTR_INFO, 0x80000020),
    (v) => { set(v, F.VM_ENTRY_INTR_INFO, 0x80000020); set(v, F.GUEST_RFLAGS, 0x202); }],
  ['26.3.1.5 activity state', (v) => set(v, F.GUEST_ACTIVITY_STATE, 4)],
  ['26.3.1.5 HLT needs SS.DPL 0', (v) => { set(v, F.GUEST_ACTIVITY_STATE, 1); set(v, F.GUEST_SS_AR_BYTES, 0xc0f3); set(v, F.GUEST_SS_SELECTOR, 0x13); set(v, F.GUEST_CS_SELECTOR, 0x0b); set(v, F.GUEST_CS_AR_BYTES, 0xa0fb); },
    (v) => set(v, F.GUEST_ACTIVITY_STATE, 1)],
  ['26.3.1.5 blocking by STI/MOV SS only when active', (v) => { set(v, F.GUEST_ACTIVITY_STATE, 1); set(v, F.GUEST_INTERRUPTIBILITY_INFO, 2); }],
  ['26.3.1.5 interruptibility reserved bits', (v) => set(v, F.GUEST_INTERRUPTIBILITY_INFO, 0x10)],
  ['26.3.1.5 blocking by STI and MOV SS', (v) => { set(v, F.GUEST_RFLAGS, 0x202); set(v, F.GUEST_INTERRUPTIBILITY_INFO, 3); }],
  ['26.3.1.5 blocking by STI with IF = 0', (v) => set(v, F.GUEST_INTERRUPTIBILITY_INFO, 1),
    (v) => { set(v, F.GUEST_RFLAGS, 0x202); set(v, F.GUEST_INTERRUPTIBILITY_INFO, 1); }],
  ['26.3.1.5 external-interrupt injection with STI/MOV SS blocking', (v) => { set(v, F.GUEST_RFLAGS, 0x202); set(v, F.GUEST_INTERRUPTIBILITY_INFO, 2); set(v, F.VM_ENTRY_INTR_INFO, 0x80000020); }],
  ['26.3.1.5 NMI injection with MOV SS blocking', (v) => { set(v, F.GUEST_INTERRUPTIBILITY_INFO, 2); set(v, F.VM_ENTRY_INTR_INFO, 0x80000202); }],
  ['26.3.1.5 blocking by SMI outside SMM', (v) => set(v, F.GUEST_INTERRUPTIBILITY_INFO, 4)],
  ['26.3.1.5 virtual-NMI injection with blocking by NMI', (v) => { or(v, F.PIN_BASED_VM_EXEC_CONTROL, PIN_NMI | PIN_VIRTUAL_NMIS); set(v, F.GUEST_INTERRUPTIBILITY_INFO, 8); set(v, F.VM_ENTRY_INTR_INFO, 0x80000202); },
    (v) => { or(v, F.PIN_BASED_VM_EXEC_CONTROL, PIN_NMI); set(v, F.GUEST_INTERRUPTIBILITY_INFO, 8); set(v, F.VM_ENTRY_INTR_INFO, 0x80000202); }],
  ['26.3.1.5 pending debug exceptions reserved bits', (v) => set(v, F.GUEST_PENDING_DBG_EXCEPTIONS, 0x10)],
  ['26.3.1.5 pending BS when TF = 1 and BTF = 0', (v) => { set(v, F.GUEST_RFLAGS, 0x302); set(v, F.GUEST_INTERRUPTIBILITY_INFO, 1); },
    (v) => { set(v, F.GUEST_RFLAGS, 0x302); set(v, F.GUEST_INTERRUPTIBILITY_INFO, 1); set(v, F.GUEST_PENDING_DBG_EXCEPTIONS, 0x4000); }],
  ['26.3.1.5 pending BS clear when TF = 0 or BTF = 1', (v) => { set(v, F.GUEST_RFLAGS, 0x202); set(v, F.GUEST_INTERRUPTIBILITY_INFO, 1); set(v, F.GUEST_PENDING_DBG_EXCEPTIONS, 0x4000); }],
  ['26.3.1.5 VMCS link pointer', (v) => set(v, F.VMCS_LINK_POINTER, 0x1008, 0), (v) => set(v, F.VMCS_LINK_POINTER, 0x1000, 0)],
];

function runRows(rows: Row[], kind: number, code: number): void {
  for (const [id, mutate, ok] of rows) {
    const bad = baseline(); mutate(bad);
    const res = check(bad);
    assert.equal(res.check, id, `failing case of "${id}"`);
    assert.equal(res.kind, kind, id);
    if (kind === ENTRY_VMFAIL) assert.equal(res.error, code, id);
    else assert.equal(res.exitReason, code, id);
    if (ok) {
      const good = baseline(); ok(good);
      assert.equal(check(good).check, '', `passing case of "${id}"`);
    }
  }
}

test('§26.2.1 control-field checks fail with VMfailValid(7)', () => runRows(CONTROL_ROWS, ENTRY_VMFAIL, 7));
test('§26.2.2-26.2.4 host-state checks fail with VMfailValid(8)', () => runRows(HOST_ROWS, ENTRY_VMFAIL, 8));
test('§26.3.1 guest-state checks fail VM entry with exit reason 33', () => runRows(GUEST_ROWS, ENTRY_FAIL_EXIT, 33));

const MORE_ROWS: Array<[kind: number, code: number, ...row: Row]> = [
  [ENTRY_VMFAIL, 8, '26.2.2 host IA32_PERF_GLOBAL_CTRL (no PMU)', (v) => or(v, F.VM_EXIT_CONTROLS, 1 << 12)],
  [ENTRY_FAIL_EXIT, 33, '26.3.1.1 CR0.PG needs CR0.PE', (v) => { proc2(v, PROC2_UNRESTRICTED | PROC2_EPT); set(v, F.EPT_POINTER, EPTP_OK); set(v, F.GUEST_CR0, 0x80000030); }],
  [ENTRY_FAIL_EXIT, 33, '26.3.1.1 CR4.PCIDE needs IA-32e guest', (v) => { set(v, F.VM_ENTRY_CONTROLS, caps.entry0); set(v, F.GUEST_CR4, 0x22020); }],
  [ENTRY_FAIL_EXIT, 33, '26.3.1.1 guest IA32_PERF_GLOBAL_CTRL (no PMU)', (v) => or(v, F.VM_ENTRY_CONTROLS, 1 << 13)],
  [ENTRY_FAIL_EXIT, 33, '26.3.1.1 guest EFER.LME = IA-32e mode guest', (v) => { or(v, F.VM_ENTRY_CONTROLS, ENTRY_LOAD_EFER); set(v, F.GUEST_IA32_EFER, 0x400); }],
  [ENTRY_FAIL_EXIT, 33, '26.3.1.2 LDTR TI flag', (v) => { set(v, F.GUEST_LDTR_SELECTOR, 0x24); set(v, F.GUEST_LDTR_AR_BYTES, 0x82); }],
  [ENTRY_FAIL_EXIT, 33, '26.3.1.2 LDTR base canonical', (v) => { set(v, F.GUEST_LDTR_AR_BYTES, 0x82); set(v, F.GUEST_LDTR_BASE, 0, 0x8000); }],
  [ENTRY_FAIL_EXIT, 33, '26.3.1.2 SS/DS/ES base bits 63:32', (v) => set(v, F.GUEST_DS_BASE, 0, 1), (v) => { set(v, F.GUEST_DS_BASE, 0, 1); set(v, F.GUEST_DS_AR_BYTES, 0x10000); }],
  [ENTRY_FAIL_EXIT, 33, '26.3.1.2 DS/ES/FS/GS code segment readable', (v) => set(v, F.GUEST_FS_AR_BYTES, 0xc099), (v) => set(v, F.GUEST_FS_AR_BYTES, 0xc09b)],
  [ENTRY_FAIL_EXIT, 33, '26.3.1.2 CS DPL ≤ SS DPL (conforming)', (v) => { set(v, F.GUEST_CS_AR_BYTES, 0xa0df); set(v, F.GUEST_CS_SELECTOR, 0x08); }, (v) => set(v, F.GUEST_CS_AR_BYTES, 0xa09f)],
  [ENTRY_FAIL_EXIT, 33, '26.3.1.2 virtual-8086 base = selector * 16', (v) => set(v, F.GUEST_RFLAGS, 0x20002)],
  [ENTRY_FAIL_EXIT, 33, '26.3.1.4 RIP bits 63:32', (v) => { set(v, F.GUEST_CS_AR_BYTES, 0xc09b); set(v, F.GUEST_RIP, 0, 1); }, (v) => set(v, F.GUEST_CS_AR_BYTES, 0xc09b)],
];
test('further single-bullet checks (failing and passing cases)', () => {
  for (const [kind, code, ...row] of MORE_ROWS) runRows([row], kind, code);
});

test('exit qualifications: 4 for the VMCS link pointer, 3 for NMI injection under STI blocking', () => {
  let v = baseline(); set(v, F.VMCS_LINK_POINTER, 0x1001);
  assert.equal(check(v).qualification, QUAL_LINK_POINTER);
  v = baseline(); set(v, F.GUEST_RFLAGS, 0x202); set(v, F.GUEST_INTERRUPTIBILITY_INFO, 1); set(v, F.VM_ENTRY_INTR_INFO, 0x80000202);
  const res = check(v);
  assert.equal(res.check, '26.3.1.5 NMI injection with STI blocking');
  assert.equal(res.qualification, QUAL_NMI_BLOCKED);
});

test('§26.3.1.6 with EPT: PDPTE fields of a PAE guest — reserved bits fail with qualification 2, bits 11:9 are ignored', () => {
  const v = baseline();
  proc2(v, PROC2_EPT); set(v, F.EPT_POINTER, 0x5000 | EPTP_OK);
  set(v, F.VM_ENTRY_CONTROLS, caps.entry0); // 32-bit guest with PAE paging
  set(v, F.GUEST_CR4, 0x2020); set(v, F.GUEST_CS_AR_BYTES, 0xc09b);
  set(v, F.GUEST_PDPTE0, 0x3001); set(v, F.GUEST_PDPTE1, 0x4001);
  assert.equal(check(v).check, '');
  for (let b = 52; b <= 63; b++) {
    set(v, F.GUEST_PDPTE1, 0x4001, 1 << (b - 32));
    const res = check(v);
    assert.equal(res.kind, ENTRY_FAIL_EXIT, `bit ${b}`);
    assert.equal(res.check, '26.3.1.6 PDPTE reserved bits');
    assert.equal(res.qualification, QUAL_PDPTE);
  }
  for (const b of [1, 2, 5, 6, 7, 8]) {
    set(v, F.GUEST_PDPTE1, 0x4001 | (1 << b));
    assert.equal(check(v).qualification, QUAL_PDPTE, `bit ${b}`);
  }
  for (const b of [9, 10, 11]) {
    set(v, F.GUEST_PDPTE1, 0x4001 | (1 << b));
    assert.equal(check(v).check, '', `ignored bit ${b}`);
  }
  // a non-present PDPTE is not checked
  set(v, F.GUEST_PDPTE1, 0x4000, -1);
  assert.equal(check(v).check, '');
});

test('address-space size outside IA-32e mode (§26.2.4) and a 32-bit host', () => {
  const legacy: EntryEnv = { caps, lma: false };
  assert.equal(check(baseline(), legacy).check, '26.2.4 outside IA-32e mode: no IA-32e guest, no 64-bit host');
  const v = baseline();
  set(v, F.VM_EXIT_CONTROLS, caps.exit0); set(v, F.VM_ENTRY_CONTROLS, caps.entry0);
  set(v, F.HOST_RIP, 0x1000); set(v, F.HOST_SS_SELECTOR, 0);
  assert.equal(check(v, legacy).check, '26.2.3 host SS selector is not 0 without 64-bit host');
  set(v, F.HOST_SS_SELECTOR, 0x10); set(v, F.HOST_RIP, 0x1000, 1);
  assert.equal(check(v, legacy).check, '26.2.4 host RIP bits 63:32');
});

test('unrestricted guest relaxes CR0.PE/PG and allows a real-mode-like guest', () => {
  const v = baseline();
  proc2(v, PROC2_UNRESTRICTED | PROC2_EPT); set(v, F.EPT_POINTER, EPTP_OK);
  set(v, F.VM_ENTRY_CONTROLS, caps.entry0);
  set(v, F.GUEST_CR0, 0x30); set(v, F.GUEST_CR4, 0x2000);
  set(v, F.GUEST_CS_AR_BYTES, 0x93); set(v, F.GUEST_CS_LIMIT, 0xffff);
  for (const enc of [F.GUEST_ES_AR_BYTES, F.GUEST_SS_AR_BYTES, F.GUEST_DS_AR_BYTES, F.GUEST_FS_AR_BYTES, F.GUEST_GS_AR_BYTES]) set(v, enc, 0x93);
  for (const enc of [F.GUEST_ES_LIMIT, F.GUEST_SS_LIMIT, F.GUEST_DS_LIMIT, F.GUEST_FS_LIMIT, F.GUEST_GS_LIMIT]) set(v, enc, 0xffff);
  set(v, F.GUEST_CS_SELECTOR, 0xf000); set(v, F.GUEST_CS_BASE, 0xf0000);
  assert.equal(check(v).check, '');
  proc2(v, 0); set(v, F.SECONDARY_VM_EXEC_CONTROL, 0);
  assert.equal(check(v).check, '26.3.1.1 guest CR0 fixed bits');
});

test('property: random VMCS contents never make the checks throw', () => {
  fc.assert(fc.property(fc.array(fc.integer({ min: -0x80000000, max: 0x7fffffff }), { minLength: 1024, maxLength: 1024 }), fc.boolean(), (words, lma) => {
    const res = check(Int32Array.from(words), { caps, lma });
    assert.ok(res.kind === ENTRY_OK || res.kind === ENTRY_VMFAIL || res.kind === ENTRY_FAIL_EXIT);
  }), { numRuns: 200 });
  // and near-valid ones, which reach the later checks: the baseline with a few random fields
  const encs = [F.PIN_BASED_VM_EXEC_CONTROL, F.CPU_BASED_VM_EXEC_CONTROL, F.SECONDARY_VM_EXEC_CONTROL, F.VM_ENTRY_INTR_INFO,
    F.GUEST_INTERRUPTIBILITY_INFO, F.GUEST_ACTIVITY_STATE, F.GUEST_RFLAGS, F.GUEST_CS_AR_BYTES, F.GUEST_TR_AR_BYTES,
    F.GUEST_CR0, F.GUEST_CR4, F.HOST_CR4, F.GUEST_IA32_EFER, F.VM_ENTRY_CONTROLS, F.VM_EXIT_CONTROLS, F.EPT_POINTER];
  fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom(...encs), fc.integer({ min: -0x80000000, max: 0x7fffffff })), { maxLength: 4 }), (writes) => {
    const v = baseline();
    for (const [enc, val] of writes) set(v, enc, val, val >> 3);
    const res = check(v);
    assert.ok(typeof res.check === 'string');
  }), { numRuns: 500 });
});
