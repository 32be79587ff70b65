/**
 * The project's own VMX test kernels (guests/vmxtest, issue 5): each boots in PcMachine with
 * the virtualization extensions exposed, acts as L1, and checks VT-x against the SDM with an
 * L2 that is a C function of the same image. Every result line must be PASS (or SKIP for a
 * feature the capability MSRs report as not allowed), with the exact count in the SUMMARY
 * line and exit status 1 (isa-debug-exit 0: no failures). An instruction limit turns a hang
 * into a failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PcMachine, type RunResult } from './pc.js';

async function boot(kernel: string): Promise<{ r: RunResult; out: string }> {
  const chunks: Uint8Array[] = [];
  const m = new PcMachine({
    memoryBytes: 64 << 20, serialOut: (b) => chunks.push(b), instructionLimit: 200_000_000,
    exposeVirtualizationExtensions: true,
  });
  const image = new Uint8Array(readFileSync(new URL(`../../../guests/images/${kernel}.elf`, import.meta.url)));
  m.loadKernel(image, '', `${kernel}.elf`);
  const r = await m.run();
  return { r, out: Buffer.concat(chunks).toString('latin1') };
}

/** Asserts every result line passed, the SKIP lines are exactly `skips`, and the count. */
function assertAllPass(r: RunResult, out: string, tests: number, skips: string[]): void {
  const why = `${r.reason} ${r.report ?? ''}\n${out}`;
  const lines = out.split('\n').filter((l) => l !== '');
  const results = lines.filter((l) => /^(PASS|FAIL|SKIP): /.test(l));
  assert.deepEqual(results.filter((l) => !l.startsWith('PASS: ') && !l.startsWith('SKIP: ')), [], why);
  assert.deepEqual(results.filter((l) => l.startsWith('SKIP: ')), skips.map((s) => `SKIP: ${s} (not supported)`), why);
  assert.equal(results.filter((l) => l.startsWith('PASS: ')).length, tests, why);
  assert.equal(lines[lines.length - 1], `SUMMARY: ${tests} tests, 0 failures`, why);
  assert.deepEqual(r, { reason: 'debug-exit', exitCode: 1 }, why);
}

test('vmx-exits: every VM-exit reason of issue 5 with its exit information (SDM Vol. 3C Chapters 25, 27)', async () => {
  const { r, out } = await boot('vmx-exits');
  assertAllPass(r, out, 395, []);
});

/**
 * vmx-checks runs 338 checks: each either runs (PASS) or, when the capability MSRs do not
 * offer what it needs, prints one SKIP line instead, so PASS + SKIP = 338 whatever this
 * CPU profile offers; the SUMMARY counts the ones that ran.
 */
test('vmx-checks: VMX instruction success/error paths and every VM-entry check (SDM Vol. 3C §26.2-26.4, §30.2-30.4)', async () => {
  const { r, out } = await boot('vmx-checks');
  const why = `${r.reason} ${r.report ?? ''}\n${out}`;
  const lines = out.split('\n').filter((l) => l !== '');
  const results = lines.filter((l) => /^(PASS|FAIL|SKIP): /.test(l));
  assert.deepEqual(results.filter((l) => !l.startsWith('PASS: ') && !l.startsWith('SKIP: ')), [], why);
  const skips = results.filter((l) => l.startsWith('SKIP: '));
  for (const s of skips) assert.match(s, / \(not supported\)$/, why);
  const passes = results.length - skips.length;
  assert.equal(results.length, 338, why);
  assert.equal(lines[lines.length - 1], `SUMMARY: ${passes} tests, 0 failures`, why);
  assert.deepEqual(r, { reason: 'debug-exit', exitCode: 1 }, why);
});

test('vmx-ept: EPT permissions (incl. execute-only), violation qualifications and addresses, 2 MiB/1 GiB pages, misconfigurations, A/D flags, INVEPT, INVVPID of each type, IDT-vectoring information of a violation during event delivery (SDM Vol. 3C §28.3.3, §29.3, §27.2.4, Table 27-7)', async () => {
  const { r, out } = await boot('vmx-ept');
  assertAllPass(r, out, 174, []);
});
