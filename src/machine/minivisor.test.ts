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
