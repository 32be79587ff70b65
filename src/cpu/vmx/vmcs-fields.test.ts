import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  VMCS_FIELDS, F, NONE, W64, WNAT, T_READ_ONLY, VMCS_SIZE, VMCS_MAX_INDEX, VMCS_REVISION_ID,
  encodingWidth, encodingType, encodingIndex, fieldSlot, isReadOnlyField, vmcsLo, vmcsHi, vmcsSet,
} from './vmcs-fields.js';

test('every row: width agrees with encoding bits 14:13, full access, no reserved bits (SDM §24.11.2)', () => {
  for (const x of VMCS_FIELDS) {
    assert.equal(encodingWidth(x.encoding), x.width, x.name);
    assert.equal(x.encoding & 1, 0, `${x.name}: rows name the full encoding`);
    assert.equal(x.encoding & ~0x6fff, 0, `${x.name}: bit 12 and bits 31:15 are reserved`);
  }
});

test('names and encodings are unique; the type bits match the name prefix', () => {
  assert.equal(new Set(VMCS_FIELDS.map((x) => x.encoding)).size, VMCS_FIELDS.length);
  assert.equal(new Set(VMCS_FIELDS.map((x) => x.name)).size, VMCS_FIELDS.length);
  for (const x of VMCS_FIELDS) {
    const t = encodingType(x.encoding);
    if (x.name.startsWith('GUEST_') && t !== T_READ_ONLY) assert.equal(t, 2, x.name);
    if (x.name.startsWith('HOST_')) assert.equal(t, 3, x.name);
  }
  assert.equal(isReadOnlyField(F.VM_EXIT_REASON), true);
  assert.equal(isReadOnlyField(F.GUEST_PHYSICAL_ADDRESS), true);
  assert.equal(isReadOnlyField(F.GUEST_RIP), false);
});

test('a sample of encodings from SDM Appendix B', () => {
  assert.equal(F.VIRTUAL_PROCESSOR_ID, 0x0000);
  assert.equal(F.GUEST_TR_SELECTOR, 0x080e);
  assert.equal(F.EPT_POINTER, 0x201a);
  assert.equal(F.VMCS_LINK_POINTER, 0x2800);
  assert.equal(F.CPU_BASED_VM_EXEC_CONTROL, 0x4002);
  assert.equal(F.SECONDARY_VM_EXEC_CONTROL, 0x401e);
  assert.equal(F.VM_INSTRUCTION_ERROR, 0x4400);
  assert.equal(F.VMX_PREEMPTION_TIMER_VALUE, 0x482e);
  assert.equal(F.HOST_IA32_SYSENTER_CS, 0x4c00);
  assert.equal(F.EXIT_QUALIFICATION, 0x6400);
  assert.equal(F.GUEST_RFLAGS, 0x6820);
  assert.equal(F.HOST_RIP, 0x6c16);
});

test('layout: slots inside the region, past the header, aligned, no overlap', () => {
  const used = new Uint8Array(VMCS_SIZE);
  for (const x of VMCS_FIELDS) {
    if (x.offset === NONE) continue;
    const size = x.width === W64 || x.width === WNAT ? 8 : 4;
    assert.ok(x.offset >= 0x10 && x.offset + size <= VMCS_SIZE, x.name);
    assert.equal(x.offset % size, 0, `${x.name} aligned`);
    for (let i = 0; i < size; i++) { assert.equal(used[x.offset + i], 0, `${x.name} overlaps`); used[x.offset + i] = 1; }
  }
});

test('layout is pinned: offsets never move (saved VMCS regions depend on them)', () => {
  const text = VMCS_FIELDS.map((x) => `${x.encoding.toString(16)}:${x.offset}`).join(',');
  const digest = createHash('sha256').update(text).digest('hex');
  // Changing an existing row's offset breaks saved state: add new fields past the end instead
  // and update this digest only together with VMCS_REVISION_ID.
  assert.equal(digest, PINNED_LAYOUT_DIGEST, `layout digest changed: ${digest}`);
  assert.equal(VMCS_REVISION_ID, 0x4e560001);
  assert.equal(fieldSlot(F.VIRTUAL_PROCESSOR_ID), 0x010);
  assert.equal(fieldSlot(F.IO_BITMAP_A), 0x060);
  assert.equal(fieldSlot(F.GUEST_RIP), 0x330);
});

test('HIGH access exists only for 64-bit fields; VMCS_ENUM index is the highest supported', () => {
  assert.equal(fieldSlot(F.EPT_POINTER + 1), fieldSlot(F.EPT_POINTER) + 4);
  assert.equal(fieldSlot(F.GUEST_RIP + 1), -1); // natural width: no HIGH encoding
  assert.equal(fieldSlot(F.GUEST_CS_LIMIT + 1), -1);
  assert.equal(fieldSlot(0x6c18), -1); // HOST_S_CET: CET not implemented
  assert.equal(fieldSlot(0x1_0000), -1);
  const supported = VMCS_FIELDS.filter((x) => x.offset !== NONE).map((x) => encodingIndex(x.encoding));
  assert.equal(VMCS_MAX_INDEX, Math.max(...supported));
  assert.equal(VMCS_MAX_INDEX, 0x19); // TSC multiplier (0x2032)
});

test('field access width rules', () => {
  const v = new Int32Array(VMCS_SIZE / 4);
  vmcsSet(v, F.GUEST_CS_SELECTOR, 0x12345678, 0);
  assert.equal(vmcsLo(v, F.GUEST_CS_SELECTOR), 0x5678);
  vmcsSet(v, F.EPT_POINTER, 0x1000 | 0x1e, 0x7);
  assert.equal(vmcsHi(v, F.EPT_POINTER), 7);
  vmcsSet(v, F.EPT_POINTER + 1, 0x99, 0x55);
  assert.equal(vmcsLo(v, F.EPT_POINTER), 0x101e);
  assert.equal(vmcsHi(v, F.EPT_POINTER), 0x99);
  vmcsSet(v, F.GUEST_RIP, -1, -2);
  assert.equal(vmcsLo(v, F.GUEST_RIP), -1);
  assert.equal(vmcsHi(v, F.GUEST_RIP), -2);
  assert.equal(vmcsHi(v, F.GUEST_CS_LIMIT), 0);

});

const PINNED_LAYOUT_DIGEST = 'f73d55fd75200ce1ad6426855b32ed5496aa581e9ac3ae05e192e43905b5a613';
