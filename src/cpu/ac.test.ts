// Alignment check (#AC, vector 17, error code 0): SDM Vol. 3A §6.15 "Interrupt 17—Alignment
// Check Exception". Raised for a misaligned data reference only when CR0.AM = 1,
// EFLAGS.AC = 1 and CPL = 3.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, run, setReg64, reg64, type TestCpu } from './testing.js';
import { RAX, RBX, CS, SS, AC, CR0_AM } from './regs.js';

/** CPL 3 code and stack (64-bit; the test page tables map everything user-accessible). */
function user64(t: TestCpu): void {
  t.cpu.setSegCache(SS, 0x23, 0, 0xffffffff, 0xc0f3);
  t.cpu.setSegCache(CS, 0x2b, 0, 0xffffffff, 0xa0fb);
}
function setup(cpl3: boolean, am: boolean, ac: boolean): TestCpu {
  const t = makeCpu('long64');
  if (am) t.cpu.cr0 |= CR0_AM;
  t.cpu.updateMode();
  if (cpl3) user64(t);
  t.cpu.setFlags(ac ? AC : 0, AC);
  t.mem.write32(0x40000, 0x11223344); t.mem.write32(0x40004, 0x55667788);
  return t;
}
/** At CPL 3 the HLT that run() appends is privileged: its #GP(0) marks the end of the code. */
const HLT_GP: [number, number] = [13, 0];

test('#AC(0) on a misaligned dword read at CPL 3 with CR0.AM and EFLAGS.AC; RAX untouched', () => {
  const t = setup(true, true, true);
  setReg64(t.cpu, RBX, 0x40001n);
  setReg64(t.cpu, RAX, 0x99n);
  run(t, '8b 03'); // mov eax, [rbx]
  assert.deepEqual(t.exceptions, [[17, 0]]);
  assert.equal(reg64(t.cpu, RAX), 0x99n);
});

test('#AC on misaligned word write and qword read; aligned and byte accesses pass', () => {
  const t = setup(true, true, true);
  setReg64(t.cpu, RBX, 0x40001n);
  run(t, '66 89 03'); // mov [rbx], ax
  assert.deepEqual(t.exceptions.pop(), [17, 0]);
  setReg64(t.cpu, RBX, 0x40004n);
  run(t, '48 8b 03'); // mov rax, [rbx]  (4-aligned, not 8-aligned)
  assert.deepEqual(t.exceptions.pop(), [17, 0]);
  setReg64(t.cpu, RBX, 0x40000n);
  run(t, '48 8b 03 8a 43 03'); // mov rax, [rbx]; mov al, [rbx+3]
  assert.deepEqual(t.exceptions, [HLT_GP]);
  assert.equal(reg64(t.cpu, RAX), 0x5566778811223311n);
});

test('no #AC at CPL 0, with EFLAGS.AC clear, or with CR0.AM clear', () => {
  for (const [cpl3, am, ac] of [[false, true, true], [true, true, false], [true, false, true]] as const) {
    const t = setup(cpl3, am, ac);
    setReg64(t.cpu, RBX, 0x40001n);
    run(t, '8b 03'); // mov eax, [rbx]
    assert.deepEqual(t.exceptions, cpl3 ? [HLT_GP] : [], `cpl3=${cpl3} am=${am} ac=${ac}`);
    assert.equal(reg64(t.cpu, RAX), 0x88112233n);
  }
});
