/**
 * The VMX-preemption timer of a halted guest on a board (SDM Vol. 3C §25.5.1): the timer
 * counts down in virtual time while the guest sits in HLT, so the VM's clock (and with it
 * the TSC) jumps to the timer's deadline, as it does for a halted vCPU's APIC timer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CODE } from '../cpu/testing.js';
import { tscValue } from '../cpu/tsc.js';
import { VirtualClock } from '../devices/clock.js';
import { Vcpus } from './vcpus.js';
import { F } from '../cpu/vmx/vmcs-fields.js';
import { EXIT } from '../cpu/vmx/vmexit.js';
import { PIN_PREEMPT_TIMER, PIN_EXT_INTR } from '../cpu/vmx/capabilities.js';
import { vmxSetup, guest, rd32, wr, or32, assertExited, GUEST_CODE } from '../cpu/vmx/testkit.js';

test('a guest halted with IF = 0 and the preemption timer armed: time jumps to the deadline, then exit 52', () => {
  const t = vmxSetup();
  const vcpus = new Vcpus([t.cpu], new VirtualClock());
  or32(t, F.PIN_BASED_VM_EXEC_CONTROL, PIN_PREEMPT_TIMER);
  const ticks = 1_000_000;
  wr(t, F.VMX_PREEMPTION_TIMER_VALUE, ticks); // × 2^5 TSC ticks (IA32_VMX_MISC[4:0] = 5)
  guest(t, 'f4'); // hlt (guest RFLAGS = 2: IF = 0)
  t.mem.load(CODE, Uint8Array.from([0x0f, 0x01, 0xc2, 0xf4])); // vmlaunch ; hlt (host)
  t.cpu.rip = CODE;
  t.cpu.halted = false;
  const tsc0 = tscValue(t.cpu);
  let jumps = 0;
  for (let i = 0; i < 100 && (t.cpu.vmx.nonRoot || !t.cpu.halted || rd32(t, F.VM_EXIT_REASON) === 0); i++) {
    const w = vcpus.runWindow(10_000);
    if (w.idle && t.cpu.vmx.nonRoot) {
      assert.equal(vcpus.canWake(), true, 'the armed timer can wake the VM');
      vcpus.advanceIdle();
      jumps++;
    }
  }
  assertExited(t, EXIT.PREEMPTION_TIMER, GUEST_CODE + 1);
  assert.equal(rd32(t, F.GUEST_ACTIVITY_STATE), 1, 'exits in the HLT state');
  assert.ok(jumps >= 1, 'idle time jumped');
  const elapsed = tscValue(t.cpu) - tsc0;
  assert.ok(elapsed >= ticks * 32, `TSC advanced ${elapsed}`);
  assert.ok(elapsed < ticks * 32 * 1.01 + 100_000, `TSC advanced ${elapsed}, not much past the deadline`);
  assert.equal(t.cpu.vmx.timer?.armed, false, 'the clock timer is cancelled by the exit');
});

test('a guest halted with IF = 0 under external-interrupt exiting can still be woken: an interrupt exits (SDM Vol. 3C §25.2, §25.3)', () => {
  const t = vmxSetup();
  const vcpus = new Vcpus([t.cpu], new VirtualClock());
  guest(t, 'f4'); // hlt (guest RFLAGS = 2: IF = 0)
  t.mem.load(CODE, Uint8Array.from([0x0f, 0x01, 0xc2, 0xf4])); // vmlaunch ; hlt (host)
  t.cpu.rip = CODE;
  t.cpu.halted = false;
  let w = vcpus.runWindow(10_000);
  assert.ok(w.idle && t.cpu.vmx.nonRoot && t.cpu.halted, 'the guest is halted');
  assert.equal(vcpus.canWake(), false, 'IF = 0 without external-interrupt exiting: only an NMI or INIT wakes it');
  or32(t, F.PIN_BASED_VM_EXEC_CONTROL, PIN_EXT_INTR);
  t.cpu.vmx.pin |= PIN_EXT_INTR; // as VM entry would have loaded it
  assert.equal(vcpus.canWake(), true, 'with external-interrupt exiting an interrupt ends the HLT');
  w = vcpus.runWindow(10_000);
  assert.ok(w.idle, 'still halted until an interrupt comes');
});
