/**
 * The VMCS link pointer's memory checks at VM entry (SDM Vol. 3C §26.3.1.5): a pointer other
 * than FFFFFFFF_FFFFFFFFH must reference the VMCS revision identifier with bit 31 equal to
 * "VMCS shadowing", and must not be the current-VMCS pointer; otherwise VM entry fails with
 * exit reason 33 and qualification 4 (§26.8). guests/vmxtest/checks.c checks the same in a
 * kernel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F, VMCS_REVISION_ID } from './vmcs-fields.js';
import { EXIT } from './vmexit.js';
import { vmxSetup, guest, launch, rd, wr, assertExited, GUEST_CODE, VMCS } from './testkit.js';

const LINK = 0x106000;
const FAIL_33 = (EXIT.ENTRY_FAIL_GUEST | 0x80000000) >>> 0;

function run(revisionWord: number | null, pointer = LINK): ReturnType<typeof vmxSetup> {
  const t = vmxSetup();
  if (revisionWord !== null) t.mem.write32(LINK, revisionWord);
  wr(t, F.VMCS_LINK_POINTER, pointer);
  guest(t, '0f a2'); // cpuid: exits unconditionally
  launch(t);
  return t;
}

test('a link pointer to a region holding the revision identifier (bit 31 clear, no shadowing) enters the guest', () => {
  const t = run(VMCS_REVISION_ID);
  assertExited(t, EXIT.CPUID, GUEST_CODE);
});

test('a link pointer to a wrong revision identifier fails the entry: exit 33, qualification 4', () => {
  const t = run(VMCS_REVISION_ID ^ 1);
  assertExited(t, FAIL_33);
  assert.equal(rd(t, F.EXIT_QUALIFICATION), 4);
});

test('a link pointer to a shadow VMCS (bit 31 set) without "VMCS shadowing" fails: exit 33, qualification 4', () => {
  const t = run((VMCS_REVISION_ID | 0x80000000) | 0);
  assertExited(t, FAIL_33);
  assert.equal(rd(t, F.EXIT_QUALIFICATION), 4);
});

test('the current-VMCS pointer as link pointer fails the entry: exit 33, qualification 4', () => {
  const t = run(null, VMCS);
  assertExited(t, FAIL_33);
  assert.equal(rd(t, F.EXIT_QUALIFICATION), 4);
});
