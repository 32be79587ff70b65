/**
 * guests/minivisor end to end in PcMachine (issue 5): with the virtualization extensions
 * exposed, our own L1 hypervisor does VMXON, builds an EPT for its L2, launches a 64-bit
 * L2 that prints through an I/O exit (forwarded with an "[L2] " prefix), executes CPUID
 * (VMX hidden by L1) and VMCALL, and halts: exit status 1. Without exposure it reports
 * "VT-x not available" and exits with status 5 (guests/minivisor/main.c).
 * An instruction limit turns a hang into a failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PcMachine, type RunResult } from './pc.js';

async function boot(expose: boolean, cmdline = ''): Promise<{ r: RunResult; out: string }> {
  const chunks: Uint8Array[] = [];
  const m = new PcMachine({
    memoryBytes: 64 << 20, serialOut: (b) => chunks.push(b), instructionLimit: 50_000_000,
    exposeVirtualizationExtensions: expose,
  });
  const image = new Uint8Array(readFileSync(new URL('../../../guests/images/minivisor.elf', import.meta.url)));
  m.loadKernel(image, cmdline, 'minivisor.elf');
  const r = await m.run();
  return { r, out: Buffer.concat(chunks).toString('latin1') };
}

test('minivisor with VT-x exposed: L2 prints with the [L2] prefix, VMCALL and CPUID exits are served, L2 halts (status 1)', async () => {
  const { r, out } = await boot(true);
  const why = `${r.reason} ${r.report ?? ''}\n${out}`;
  const lines = out.split('\n');
  assert.ok(lines.includes('minivisor: launching L2 (64-bit mode, unrestricted guest off)'), why);
  assert.ok(lines.includes('[L2] Hello from L2'), why);
  assert.ok(lines.some((l) => /^minivisor: VMCALL from L2, rax=0x[0-9a-f]+$/.test(l)), why);
  assert.ok(lines.includes('minivisor: L2 sees CPUID.1:ECX.VMX = 0'), why);
  assert.ok(lines.includes('minivisor: L2 halted'), why);
  assert.deepEqual(r, { reason: 'debug-exit', exitCode: 1 }, why);
});

test('minivisor without VT-x: "VT-x not available", status 5', async () => {
  const { r, out } = await boot(false);
  assert.match(out, /minivisor: VT-x not available/);
  assert.doesNotMatch(out, /\[L2\]/);
  assert.deepEqual(r, { reason: 'debug-exit', exitCode: 5 });
});

test('minivisor without VT-x, "stay": reports it and halts with interrupts off instead of exiting (the VM stays up)', async () => {
  const { r, out } = await boot(false, 'stay');
  assert.match(out, /minivisor: VT-x not available/);
  assert.match(out, /minivisor: staying up without VT-x \(halted\)/);
  assert.equal(r.reason, 'halt', `${r.reason} ${r.report ?? ''}`);
});

test('minivisor refuses and counts bad L2 NIC descriptors (outside L2 RAM, bad lengths) and drops frames with no switch; L2 halts normally', async () => {
  const { r, out } = await boot(true, 'l2bad');
  const why = `${r.reason} ${r.report ?? ''}\n${out}`;
  // HC_ERR_INVAL = -1 for each refused descriptor, HC_ERR_NOFUNC = -2 (guests/minivisor/hypercalls.h)
  assert.match(out, /\[L2\] bad descriptors: tx -1 -1 -1 -1 rx -1 nofunc -2\n/, why);
  assert.match(out, /\[L2\] good frame: 0\n/, why);
  assert.match(out, /minivisor: L2 halted\nminivisor: net: tx 0 rx 0 dropped 1 nat 0 refused 5\n/, why);
  assert.deepEqual(r, { reason: 'debug-exit', exitCode: 1 }, why);
});

test('minivisor regains control while L2 spins without exiting: VMX-preemption timer exits (SDM Vol. 3C §25.5.1)', async () => {
  const { r, out } = await boot(true, 'l2spin=2000000');
  const why = `${r.reason} ${r.report ?? ''}\n${out}`;
  assert.match(out, /\[L2\] spun 2000000 rounds\n/, why);
  const m = /minivisor: (\d+) VM exits, (\d+) of them the preemption timer's\n/.exec(out);
  assert.ok(m, why);
  assert.ok(Number(m[2]) >= 2, why);
  assert.ok(Number(m[1]) > Number(m[2]), why);
  assert.deepEqual(r, { reason: 'debug-exit', exitCode: 1 }, why);
});

test('L2 jumping into garbage bytes triple-faults inside L2: minivisor reports the crash and exits with status 7 (issue 8)', async () => {
  const { r, out } = await boot(true, 'l2garbage');
  const why = `${r.reason} ${r.report ?? ''}\n${out}`;
  const jump = /\[L2\] jumping into garbage at (0x[0-9a-f]+)\n/.exec(out);
  assert.ok(jump, why);
  // FF /7 is #UD; with L2's empty IDT that becomes #GP, #DF, triple fault: VM exit reason 2 at the garbage
  assert.match(out, new RegExp(`minivisor: L2 crashed: triple fault at RIP=${jump[1]}\\n`), why);
  assert.doesNotMatch(out, /minivisor: L2 halted/, why);
  assert.match(out, /minivisor: \d+ VM exits, \d+ of them the preemption timer's\n/, why);
  // EXIT_L2_CRASHED = 3 through isa-debug-exit: (3 << 1) | 1; L1 itself never shut down
  assert.deepEqual(r, { reason: 'debug-exit', exitCode: 7 }, why);
});

test('L2 crashed with "stay": minivisor stays in VMX operation serving L1 (the machine keeps running)', async () => {
  const chunks: Uint8Array[] = [];
  const m = new PcMachine({
    memoryBytes: 64 << 20, serialOut: (b) => chunks.push(b), instructionLimit: 20_000_000,
    exposeVirtualizationExtensions: true,
  });
  m.loadKernel(new Uint8Array(readFileSync(new URL('../../../guests/images/minivisor.elf', import.meta.url))), 'stay l2garbage', 'minivisor.elf');
  const r = await m.run();
  const out = Buffer.concat(chunks).toString('latin1');
  const why = `${r.reason} ${r.report ?? ''}\n${out}`;
  assert.match(out, /minivisor: L2 crashed: triple fault at RIP=0x[0-9a-f]+\n/, why);
  assert.match(out, /minivisor: staying in VMX operation\n/, why);
  // still polling its agent and NIC when the instruction budget runs out: no shutdown, no exit
  assert.equal(r.reason, 'stopped', why);
  assert.match(r.report ?? '', /instruction limit/, why);
});

test('a VMCALL flood from L2: every unknown call answered HC_ERR_NOFUNC, a bounded number of lines, L2 goes on and halts', async () => {
  const { r, out } = await boot(true, 'l2vmcallflood=500');
  const why = `${r.reason} ${r.report ?? ''}\n${out}`;
  assert.match(out, /\[L2\] vmcall flood: 500\/500 refused\n/, why);
  const shown = out.split('\n').filter((l) => l.startsWith('minivisor: unknown VMCALL from L2, rax=0xbad'));
  assert.equal(shown.length, 3, why);
  assert.match(out, /minivisor: further unknown VMCALLs from L2 not shown\n/, why);
  assert.match(out, /minivisor: L2 halted\nminivisor: 500 unknown VMCALLs from L2 answered with an error \(3 shown\)\n/, why);
  assert.ok(out.length < 4000, why);
  assert.deepEqual(r, { reason: 'debug-exit', exitCode: 1 }, why);
});
