import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CpuSpecError, profileFromSpec } from './profile-select.js';
import { F1C_TSCDL, F1C_X2APIC, defaultProfile } from './profile.js';

test('profile-select: the default profile by name, features removed and re-added', () => {
  assert.deepEqual(profileFromSpec('nestvisor-intel'), defaultProfile());
  const p = profileFromSpec('nestvisor-intel,-x2apic');
  assert.equal(p.leaf1Ecx & F1C_X2APIC, 0);
  assert.equal(p.leaf1Ecx & F1C_TSCDL, F1C_TSCDL);
  assert.equal(p.name, 'nestvisor-intel,-x2apic');
  assert.equal(profileFromSpec('nestvisor-intel,-x2apic,+x2apic').leaf1Ecx, defaultProfile().leaf1Ecx);
});

test('profile-select: unknown profiles and features, and features the profile lacks, are refused', () => {
  assert.throws(() => profileFromSpec('qemu64'), CpuSpecError);
  assert.throws(() => profileFromSpec('nestvisor-intel,-avx512'), /bad CPU feature '-avx512'/);
  assert.throws(() => profileFromSpec('nestvisor-intel,x2apic'), /use \+NAME or -NAME/);
});

test('profile-select: phys-bits=N sets MAXPHYADDR as QEMU does; out-of-range values are refused', () => {
  assert.equal(profileFromSpec('nestvisor-intel').physAddrBits, defaultProfile().physAddrBits);
  assert.equal(profileFromSpec('nestvisor-intel,phys-bits=46').physAddrBits, 46);
  assert.throws(() => profileFromSpec('nestvisor-intel,phys-bits=60'), CpuSpecError);
});
