/**
 * MSR-load areas refuse IA32_FS_BASE / IA32_GS_BASE (SDM Vol. 3C §26.4): VM entry fails
 * with exit reason 34 (bit 31 set) and the 1-based number of the offending entry as the
 * qualification (kvm-unit-tests vmx "MSR switch" stage 3).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F } from './vmcs-fields.js';
import { EXIT } from './vmexit.js';
import { vmxSetup, guest, launch, rd, rd32, wr, assertExited, MSR_AREA } from './testkit.js';

test('VM-entry MSR load of KERNEL_GS_BASE works; FS_BASE in the area is a VM-entry failure (34, entry 2)', () => {
  const t = vmxSetup();
  t.mem.write32(MSR_AREA, 0xc0000102); t.mem.write32(MSR_AREA + 8, 0x1234); // KERNEL_GS_BASE
  t.mem.write32(MSR_AREA + 16, 0xc0000100); t.mem.write32(MSR_AREA + 24, 0x5678); // FS_BASE
  wr(t, F.VM_ENTRY_MSR_LOAD_ADDR, MSR_AREA);
  wr(t, F.VM_ENTRY_MSR_LOAD_COUNT, 2);
  guest(t, '0f a2');
  launch(t);
  assertExited(t, (0x80000000 | EXIT.ENTRY_FAIL_MSR) >>> 0);
  assert.equal(rd(t, F.EXIT_QUALIFICATION), 2);
  assert.equal(rd32(t, F.VM_EXIT_REASON) & 0xffff, 34);
});
