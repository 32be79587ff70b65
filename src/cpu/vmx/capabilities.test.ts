import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu } from '../testing.js';
import { defaultProfile } from '../profile.js';
import { FAULT } from '../fault.js';
import type { Cpu } from '../cpu.js';
import {
  buildVmxCaps, vmxMsrRead, vmxCr0Allowed, vmxCr4Allowed, VMX_FEATURES, MSR_VMX_BASIC, MSR_VMX_PINBASED_CTLS,
  MSR_VMX_PROCBASED_CTLS, MSR_VMX_EXIT_CTLS, MSR_VMX_ENTRY_CTLS, MSR_VMX_TRUE_PROCBASED_CTLS, MSR_VMX_TRUE_EXIT_CTLS,
  MSR_VMX_TRUE_ENTRY_CTLS, MSR_VMX_PROCBASED_CTLS2, MSR_VMX_EPT_VPID_CAP, MSR_VMX_VMFUNC, MSR_VMX_MISC,
  MSR_VMX_VMCS_ENUM, MSR_VMX_CR0_FIXED0, MSR_VMX_CR4_FIXED0, MSR_VMX_CR4_FIXED1, PROC_SECONDARY,
} from './capabilities.js';
import { VMCS_REVISION_ID } from './vmcs-fields.js';

function rd(cpu: Cpu, index: number): [number, number] | 'GP' | null {
  try {
    const lo = vmxMsrRead(cpu, index);
    return lo === null ? null : [lo >>> 0, cpu.hi >>> 0];
  } catch (e) {
    if (e !== FAULT) throw e;
    assert.equal(cpu.excVector, 13);
    return 'GP';
  }
}

test('not exposed: every IA32_VMX_* MSR raises #GP(0); other indices are not ours', () => {
  const { cpu } = makeCpu('long64');
  for (let i = 0x480; i <= 0x491; i++) assert.equal(rd(cpu, i), 'GP', i.toString(16));
  assert.equal(rd(cpu, 0x47f), null);
  assert.equal(rd(cpu, 0x492), null);
  assert.equal(rd(cpu, 0x3a), null);
});

test('the default profile advertises exactly the implemented controls (SDM Appendix A.2-A.6, A.10)', () => {
  const { cpu } = makeCpu('long64');
  cpu.exposeVmx = true;
  const bits = (...b: number[]): number => b.reduce((m, x) => (m | (1 << x)) >>> 0, 0);
  // pin: external-interrupt and NMI exiting, virtual NMIs, preemption timer
  assert.deepEqual(rd(cpu, MSR_VMX_PINBASED_CTLS), [0x16, 0x16 | bits(0, 3, 5, 6)]);
  const proc1 = (0x0401e172 | bits(2, 3, 7, 9, 10, 11, 12, 15, 16, 19, 20, 21, 22, 23, 24, 25, 27, 28, 29, 30, 31)) >>> 0;
  assert.deepEqual(rd(cpu, MSR_VMX_PROCBASED_CTLS), [0x0401e172, proc1]);
  // TRUE: CR3-load/store exiting may be 0
  assert.deepEqual(rd(cpu, MSR_VMX_TRUE_PROCBASED_CTLS), [0x0401e172 & ~bits(15, 16), proc1]);
  assert.deepEqual(rd(cpu, MSR_VMX_EXIT_CTLS), [0x36dff, 0x36dff | bits(2, 9, 15, 18, 19, 20, 21, 22)]);
  assert.deepEqual(rd(cpu, MSR_VMX_TRUE_EXIT_CTLS), [0x36dff & ~4, 0x36dff | bits(2, 9, 15, 18, 19, 20, 21, 22)]);
  assert.deepEqual(rd(cpu, MSR_VMX_ENTRY_CTLS), [0x11ff, 0x11ff | bits(2, 9, 14, 15)]);
  // secondary: EPT, descriptor-table exiting, RDTSCP, VPID, WBINVD exiting, unrestricted guest, INVPCID
  assert.deepEqual(rd(cpu, MSR_VMX_PROCBASED_CTLS2), [0, bits(1, 2, 3, 5, 6, 7, 12, 20)]);
  // EPT_VPID_CAP: execute-only, 4-level walk, UC/WB, 2M/1G, INVEPT single/all, A/D; INVVPID with all four types
  assert.deepEqual(rd(cpu, MSR_VMX_EPT_VPID_CAP), [bits(0, 6, 8, 14, 16, 17, 20, 21, 25, 26), bits(0, 8, 9, 10, 11)]);
  assert.equal(rd(cpu, MSR_VMX_VMFUNC), 'GP');
  // MISC: timer rate 5, store LMA, HLT and wait-for-SIPI activity, 4 CR3 targets, VMWRITE any field, zero-length injection
  assert.deepEqual(rd(cpu, MSR_VMX_MISC), [5 | bits(5, 6, 8, 29, 30) | (4 << 16), 0]);
  assert.deepEqual(rd(cpu, MSR_VMX_VMCS_ENUM), [0x19 << 1, 0]);
  assert.deepEqual(rd(cpu, MSR_VMX_CR0_FIXED0), [0x80000021, 0]);
  assert.deepEqual(rd(cpu, MSR_VMX_CR4_FIXED0), [0x2000, 0]);
  const f1 = rd(cpu, MSR_VMX_CR4_FIXED1) as [number, number];
  assert.ok((f1[0] & 0x2000) !== 0 && (f1[0] & 0x20) !== 0 && (f1[0] & (1 << 12)) === 0); // VMXE, PAE; no LA57
});

test('IA32_VMX_BASIC: revision id, 4096-byte region, WB, TRUE controls (SDM Appendix A.1)', () => {
  const { cpu } = makeCpu('long64');
  cpu.exposeVmx = true;
  const [lo, hi] = rd(cpu, MSR_VMX_BASIC) as [number, number];
  assert.equal(lo, VMCS_REVISION_ID);
  assert.equal(lo >>> 31, 0);
  assert.equal(hi & 0x1fff, 4096);
  assert.equal((hi >>> 18) & 0xf, 6);
  assert.equal((hi >>> 23) & 1, 1);
  assert.equal((hi >>> 22) & 1, 1); // INS/OUTS instruction information (I/O exits fill it)
  assert.equal((hi >>> 16) & 1, 0);
});

test('fully implemented description: TRUE MSRs let functional default1 controls be 0; secondary MSRs appear', () => {
  const caps = buildVmxCaps(defaultProfile(), () => true);
  const at = (m: number): [number, number] => [caps.lo[m - 0x480]! >>> 0, caps.hi[m - 0x480]! >>> 0];
  assert.equal(at(MSR_VMX_PROCBASED_CTLS)[0], 0x0401e172);
  assert.equal(at(MSR_VMX_TRUE_PROCBASED_CTLS)[0], 0x0401e172 & ~((1 << 15) | (1 << 16)));
  assert.equal(at(MSR_VMX_TRUE_EXIT_CTLS)[0], 0x36dff & ~4);
  assert.equal(at(MSR_VMX_TRUE_ENTRY_CTLS)[0], 0x11ff & ~4);
  assert.ok((at(MSR_VMX_PROCBASED_CTLS)[1] & PROC_SECONDARY) !== 0);
  assert.equal(caps.exists[MSR_VMX_PROCBASED_CTLS2 - 0x480], 1);
  assert.equal(caps.exists[MSR_VMX_EPT_VPID_CAP - 0x480], 1);
  assert.equal(caps.exists[MSR_VMX_VMFUNC - 0x480], 1);
  assert.equal(caps.cr3Targets, 4);
  assert.equal(caps.eptCap & ((1 << 6) | (1 << 14)), (1 << 6) | (1 << 14));
});

test('the description has no duplicate bits and no unimplemented row is advertised', () => {
  const seen = new Set<string>();
  for (const f of VMX_FEATURES) {
    const k = `${f.kind}:${f.bit}`;
    assert.ok(!seen.has(k), k);
    seen.add(k);
  }
  const caps = buildVmxCaps(defaultProfile());
  for (const f of VMX_FEATURES) {
    if (f.impl || f.default1) continue;
    const word = { pin: caps.pin1, proc: caps.proc1, proc2: caps.proc21, exit: caps.exit1, entry: caps.entry1 } as Record<string, number>;
    if (f.kind in word) assert.equal((word[f.kind]! >>> f.bit) & 1, 0, f.name);
  }
});

test('CR0/CR4 values in VMX operation follow FIXED0/FIXED1 (SDM §23.8)', () => {
  const { cpu } = makeCpu('long64');
  cpu.exposeVmx = true;
  assert.equal(vmxCr0Allowed(cpu, 0x80000031), true);
  assert.equal(vmxCr0Allowed(cpu, 0x80000011), false); // NE clear
  assert.equal(vmxCr4Allowed(cpu, 0x2020), true);
  assert.equal(vmxCr4Allowed(cpu, 0x0020), false); // VMXE clear
  assert.equal(vmxCr4Allowed(cpu, 0x2020 | (1 << 12)), false); // LA57 unsupported
});
