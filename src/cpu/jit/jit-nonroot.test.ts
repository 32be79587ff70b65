/**
 * Translated blocks in VMX non-root operation (jit.ts header): an L2 loop runs on a CPU with
 * the translator and on one without (the interpreter is the reference), and the VM exits
 * must leave the same exit information, saved guest state (RIP, RSP, RFLAGS), registers
 * and retired-instruction counts. Covers an EPT violation in the middle of a translated
 * block (SDM Vol. 3C §28.3.3.2, deferred in ept-glue.ts until the block has written RIP and
 * the lazy flags back), and the controls that keep blocks out of non-root operation: the
 * monitor trap flag (§25.5.2) and the VMX-preemption timer (§25.5.1).
 * Bytes are quoted with their disassembly (objdump -M intel).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F } from '../vmx/vmcs-fields.js';
import { EXIT } from '../vmx/vmexit.js';
import { PROC_HLT, PROC_SECONDARY, PROC2_EPT, PROC_MTF, PIN_PREEMPT_TIMER } from '../vmx/capabilities.js';
import { vmxSetup, guest, launch, resume, rd, rd32, wr, or32, GUEST_CODE, HOST_CODE, type VmxTest } from '../vmx/testkit.js';
import { CR4_OSFXSR } from '../regs.js';

const EPT_PML4 = 0x300000, EPT_PDPT = 0x301000, EPT_PD = 0x302000, EPT_PT = 0x303000;
const WB = 6 << 3;

/** EPT identity map of the first 2 MiB in 4K pages (and 2M pages up to 8 MiB), HLT exiting on. */
function enableEpt(t: VmxTest): void {
  const m = t.mem;
  m.write32(EPT_PML4, EPT_PDPT | 7);
  m.write32(EPT_PDPT, EPT_PD | 7);
  m.write32(EPT_PD, EPT_PT | 7);
  for (let i = 0; i < 512; i++) m.write32(EPT_PT + i * 8, (i << 12) | WB | 7);
  for (let i = 1; i < 4; i++) m.write32(EPT_PD + i * 8, (i << 21) | 0x80 | WB | 7);
  wr(t, F.EPT_POINTER, EPT_PML4 | 6 | (3 << 3));
  or32(t, F.CPU_BASED_VM_EXEC_CONTROL, PROC_SECONDARY | PROC_HLT);
  or32(t, F.SECONDARY_VM_EXEC_CONTROL, PROC2_EPT);
}

function pair(setup: (t: VmxTest) => void): [VmxTest, VmxTest] {
  const a = vmxSetup(), b = vmxSetup();
  a.cpu.jit = true; b.cpu.jit = false;
  setup(a); setup(b);
  return [a, b];
}

/** Everything a VM exit leaves that the two CPUs must agree on. */
function exitState(t: VmxTest): string {
  const c = t.cpu;
  const regs = Array.from(c.r, (v) => (v >>> 0).toString(16)).join(' ');
  return `root=${!c.vmx.nonRoot} rip=${c.rip.toString(16)} n=${c.instructionCount} reason=${rd32(t, F.VM_EXIT_REASON)} ` +
    `qual=${rd(t, F.EXIT_QUALIFICATION).toString(16)} gpa=${rd(t, F.GUEST_PHYSICAL_ADDRESS).toString(16)} ` +
    `gla=${rd(t, F.GUEST_LINEAR_ADDRESS).toString(16)} grip=${rd(t, F.GUEST_RIP).toString(16)} ` +
    `grsp=${rd(t, F.GUEST_RSP).toString(16)} grflags=${rd(t, F.GUEST_RFLAGS).toString(16)} ` +
    `timer=${rd32(t, F.VMX_PREEMPTION_TIMER_VALUE)} regs=${regs}`;
}

function translatedBlocks(t: VmxTest): number {
  return t.cpu.dc.blk.filter((x) => x !== null).length;
}

// bf 00 00 09 00           mov  edi, 0x90000
// b9 c8 00 00 00           mov  ecx, 200
// 31 db                    xor  ebx, ebx
// loop (+12):
// 81 c3 78 56 34 92        add  ebx, 0x92345678     (CF/OF/SF vary: flags held in the block's locals)
// 89 1f                    mov  DWORD PTR [rdi], ebx
// 48 81 c7 00 01 00 00     add  rdi, 0x100
// ff c9                    dec  ecx
// 75 ed                    jne  loop
// f4                       hlt
const LOOP = 'bf 00 00 09 00 b9 c8 00 00 00 31 db 81 c3 78 56 34 92 89 1f 48 81 c7 00 01 00 00 ff c9 75 ed f4';

test('an L2 loop runs in translated blocks and exits on HLT exactly as the interpreter', () => {
  const [a, b] = pair((t) => { enableEpt(t); guest(t, LOOP); });
  assert.equal(launch(a, 100000), launch(b, 100000));
  assert.equal(exitState(a), exitState(b));
  assert.equal(rd32(a, F.VM_EXIT_REASON), EXIT.HLT);
  assert.equal(rd(a, F.GUEST_RIP), GUEST_CODE + 31);
  assert.equal(a.cpu.rip, HOST_CODE + 1, 'back at the host');
  assert.ok(translatedBlocks(a) > 0, 'the loop was translated in non-root operation');
  assert.equal(translatedBlocks(b), 0);
});

test('an EPT violation in the middle of a translated block saves the faulting instruction\'s RIP and the flags before it', () => {
  // page 0x91000 read-only: the 17th store faults, long after the loop was translated
  const [a, b] = pair((t) => {
    enableEpt(t);
    t.mem.write32(EPT_PT + 0x91 * 8, 0x91000 | WB | 1);
    guest(t, LOOP);
  });
  assert.equal(launch(a, 100000), launch(b, 100000));
  assert.equal(exitState(a), exitState(b));
  assert.equal(rd32(a, F.VM_EXIT_REASON), EXIT.EPT_VIOLATION);
  assert.equal(rd(a, F.GUEST_RIP), GUEST_CODE + 18, 'the store, not the block start');
  assert.equal(rd(a, F.GUEST_PHYSICAL_ADDRESS), 0x91000);
  assert.equal(a.cpu.rip, HOST_CODE + 1, 'host RIP not overwritten by the block');
  // RFLAGS from the ADD just before the store: 17 * 0x92345678 (the block's lazy flags)
  assert.equal(rd(a, F.GUEST_RFLAGS) & 0x8d5, rd(b, F.GUEST_RFLAGS) & 0x8d5);
  assert.equal(a.cpu.r[3 * 2]! >>> 0, Math.imul(17, 0x92345678) >>> 0, 'EBX');
  assert.ok(translatedBlocks(a) > 0);
  // the guest resumes at the store once L1 makes the page writable, and finishes the loop
  for (const t of [a, b]) { t.mem.write32(EPT_PT + 0x91 * 8, 0x91000 | WB | 7); t.mem.write32(EPT_PT + 0x92 * 8, 0x92000 | WB | 7); }
  assert.equal(resume(a, 100000), resume(b, 100000));
  assert.equal(exitState(a), exitState(b));
  assert.equal(rd32(a, F.VM_EXIT_REASON), EXIT.HLT);
});

test('the monitor trap flag keeps L2 in the interpreter: one instruction per VM entry', () => {
  const [a, b] = pair((t) => { enableEpt(t); or32(t, F.CPU_BASED_VM_EXEC_CONTROL, PROC_MTF); guest(t, LOOP); });
  assert.equal(launch(a, 100000), launch(b, 100000));
  for (let i = 0; i < 60; i++) {
    assert.equal(exitState(a), exitState(b), `exit ${i}`);
    assert.equal(rd32(a, F.VM_EXIT_REASON), EXIT.MTF);
    assert.equal(resume(a, 100000), resume(b, 100000));
  }
  assert.equal(translatedBlocks(a), 0, 'no block runs (or is translated) while MTF is set');
});

test('with the VMX-preemption timer active L2 stays in the interpreter: the timer exits at the same instruction', () => {
  const [a, b] = pair((t) => {
    enableEpt(t);
    or32(t, F.PIN_BASED_VM_EXEC_CONTROL, PIN_PREEMPT_TIMER);
    wr(t, F.VMX_PREEMPTION_TIMER_VALUE, 40);
    guest(t, LOOP);
  });
  assert.equal(launch(a, 100000), launch(b, 100000));
  assert.equal(exitState(a), exitState(b));
  assert.equal(rd32(a, F.VM_EXIT_REASON), EXIT.PREEMPTION_TIMER);
  assert.ok(rd(a, F.GUEST_RIP) > GUEST_CODE && rd(a, F.GUEST_RIP) < GUEST_CODE + 31, 'inside the loop');
  assert.equal(translatedBlocks(a), 0);
});

// The same loop with SSE instructions inside the block (jit-fp.test.ts, emit-sse.ts): a
// native MOVUPS store, or MOVQ run as a handler call, meets the read-only page.
//   bf 00 00 09 00           mov  edi, 0x90000
//   b9 c8 00 00 00           mov  ecx, 200
//   31 db                    xor  ebx, ebx
// loop (+12):
//   81 c3 78 56 34 92        add  ebx, 0x92345678
//   66 0f fe c1              paddd xmm0, xmm1                (native)
//   0f 11 07                 movups [rdi], xmm0              (native)
//     or 66 0f d6 47 08      movq [rdi+8], xmm0              (handler; two bytes longer: jne e0)
//   66 0f 3a 0f c1 04        palignr xmm0, xmm1, 4           (handler)
//   48 81 c7 00 01 00 00     add  rdi, 0x100
//   ff c9                    dec  ecx
//   75 e2                    jne  loop
//   f4                       hlt
for (const [name, store, jne] of [['a native MOVUPS', '0f 11 07', 'e2'], ['MOVQ (a handler call)', '66 0f d6 47 08', 'e0']] as const) {
  test(`an EPT violation on ${name} store in the middle of a translated SSE block exits at that instruction`, () => {
    const code = `bf 00 00 09 00 b9 c8 00 00 00 31 db 81 c3 78 56 34 92 66 0f fe c1 ${store} 66 0f 3a 0f c1 04 48 81 c7 00 01 00 00 ff c9 75 ${jne} f4`;
    const [a, b] = pair((t) => {
      enableEpt(t);
      or32(t, F.GUEST_CR4, CR4_OSFXSR);
      t.mem.write32(EPT_PT + 0x91 * 8, 0x91000 | WB | 1);
      for (let i = 0; i < 8; i++) { t.cpu.fpu.xmm[i] = 0x01020304 * (i + 1); }
      guest(t, code);
    });
    assert.equal(launch(a, 100000), launch(b, 100000));
    assert.equal(exitState(a), exitState(b));
    assert.equal(Array.from(a.cpu.fpu.xmm).join(','), Array.from(b.cpu.fpu.xmm).join(','), 'XMM');
    assert.equal(rd32(a, F.VM_EXIT_REASON), EXIT.EPT_VIOLATION);
    assert.equal(rd(a, F.GUEST_RIP), GUEST_CODE + 22, 'the store, not the block start');
    assert.ok(translatedBlocks(a) > 0);
    for (const t of [a, b]) t.mem.write32(EPT_PT + 0x91 * 8, 0x91000 | WB | 7);
    assert.equal(resume(a, 100000), resume(b, 100000));
    assert.equal(exitState(a), exitState(b));
    assert.equal(rd32(a, F.VM_EXIT_REASON), EXIT.HLT);
    assert.equal(Array.from(a.cpu.fpu.xmm).join(','), Array.from(b.cpu.fpu.xmm).join(','), 'XMM');
  });
}
