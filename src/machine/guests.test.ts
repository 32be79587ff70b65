/**
 * The project's own test kernels (guests/images) booted in PcMachine, with the results
 * they give under QEMU 7.2 TCG (see guests/): the same serial output and exit status.
 * An instruction limit turns a hang into a failure instead of a stuck test run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PcMachine, RunResult } from './pc.js';

const LIMIT = 200_000_000;

async function boot(name: string, cmdline: string): Promise<{ r: RunResult; out: string }> {
  const chunks: Uint8Array[] = [];
  const m = new PcMachine({ memoryBytes: 64 << 20, serialOut: (b) => chunks.push(b), instructionLimit: LIMIT });
  const image = new Uint8Array(readFileSync(new URL(`../../../guests/images/${name}.elf`, import.meta.url)));
  m.loadKernel(image, cmdline, `${name}.elf`);
  const r = await m.run();
  return { r, out: Buffer.concat(chunks).toString('latin1') };
}

function explain(r: RunResult, out: string): string {
  return `${r.reason} ${r.report ?? ''} exit=${String(r.exitCode)}\n--- serial ---\n${out.slice(-2000)}`;
}

test('hello prints its greeting and command line, exits 0 (status 1)', async () => {
  const { r, out } = await boot('hello', 'x y');
  assert.equal(out, 'Hello from a Nestvisor guest kernel!\ncommand line: "x y"\n', explain(r, out));
  assert.deepEqual(r, { reason: 'debug-exit', exitCode: 1 });
});

test('sieve gives QEMU\'s checksum', async () => {
  const { r, out } = await boot('sieve', '2 10000');
  assert.equal(out, 'sieve: 2 iterations below 10000: 1229 primes in the last pass, checksum 000099a0\n', explain(r, out));
  assert.deepEqual(r, { reason: 'debug-exit', exitCode: 1 });
});

test('cpu-basic: every check passes', async () => {
  const { r, out } = await boot('cpu-basic', '');
  // 73 checks, plus POPCNT where CPUID offers it (QEMU's default qemu64 model does not).
  const other = out.split('\n').filter((l) => !l.startsWith('PASS: ') && l !== '');
  assert.equal(other.length, 1, explain(r, out));
  assert.match(other[0]!, /^SUMMARY: 7[34] tests, 0 failures$/, explain(r, out));
  assert.deepEqual(r, { reason: 'debug-exit', exitCode: 1 }, explain(r, out));
});

test('cpu-system: SYSCALL/SYSENTER round trips, MSRs, RDTSCP, INVLPG, string ops with FS: all 20 checks pass', async () => {
  // QEMU 7.2 TCG gives 18/20 here: it lets a non-canonical FS_BASE and an unknown RDMSR through (guests/cpu-system.c).
  const { r, out } = await boot('cpu-system', '');
  const other = out.split('\n').filter((l) => !l.startsWith('PASS: ') && l !== '');
  assert.deepEqual(other, ['SUMMARY: 20 tests, 0 failures'], explain(r, out));
  assert.deepEqual(r, { reason: 'debug-exit', exitCode: 1 }, explain(r, out));
});

test('cpu-modes: real/protected/long mode round trip, compatibility-mode far transfers, call gate, #NP/#SS/#GP/#DF error codes: all 21 pass', async () => {
  // QEMU 7.2 TCG gives 20/21: its #NP for a not-present long-mode IDT gate says vector*16+2 (guests/cpu-modes.c).
  const { r, out } = await boot('cpu-modes', '');
  const other = out.split('\n').filter((l) => !l.startsWith('PASS: ') && l !== '');
  assert.deepEqual(other, ['SUMMARY: 21 tests, 0 failures'], explain(r, out));
  assert.deepEqual(r, { reason: 'debug-exit', exitCode: 1 }, explain(r, out));
});

test('cpu-tasks: task switches by JMP/CALL/IRET/IDT task gates, a #DF task, v86 mode with VME: all 13 pass', async () => {
  // QEMU 7.2 TCG gives 8/13: CLI in v86 mode at IOPL 0 is #GP there even with CR4.VME set (guests/cpu-tasks.c).
  const { r, out } = await boot('cpu-tasks', '');
  const other = out.split('\n').filter((l) => !l.startsWith('PASS: ') && l !== '');
  assert.deepEqual(other, ['SUMMARY: 13 tests, 0 failures'], explain(r, out));
  assert.deepEqual(r, { reason: 'debug-exit', exitCode: 1 }, explain(r, out));
});

test('cpu-paging: 32-bit/PAE/4-level paging, 4K/2M/4M/1G pages, A/D, #PF codes and CR2, WP, NX, SMEP, SMAP, UMIP, PCID: all 35 pass', async () => {
  // QEMU 7.2 TCG: 29/30 with PCID skipped (no PCID in TCG; reserved-bit #PF without P) (guests/cpu-paging.c).
  const { r, out } = await boot('cpu-paging', '');
  const other = out.split('\n').filter((l) => !l.startsWith('PASS: ') && l !== '');
  assert.deepEqual(other, ['SUMMARY: 35 tests, 0 failures'], explain(r, out));
  assert.deepEqual(r, { reason: 'debug-exit', exitCode: 1 }, explain(r, out));
});
