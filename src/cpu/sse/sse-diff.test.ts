/**
 * Differential test of the MMX/SSE/SSE2 families against this machine's real CPU (issue 4);
 * the runner is diff-runner.ts, the forms and operand generators sse-diff-specs.ts.
 *
 * RCPPS/RCPSS/RSQRTPS/RSQRTSS are vendor approximations (the SDM gives only the bound); the
 * emulator uses the tables measured on this machine (sse/approx-host.ts), so they too are
 * compared bit for bit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runDifferential } from './diff-runner.js';
import { SPECS } from './sse-diff-specs.js';

test('MMX/SSE/SSE2 match the host CPU (differential, fixed seed)', (t) => {
  const signals = runDifferential(t, SPECS);
  if (signals === null) return;
  // the generators reach each fault natively: #XM (unmasked SIMD exceptions, the harness's
  // SIGFPE), #GP (misaligned operands, LDMXCSR reserved bits: SIGSEGV), #UD (prefixed group 15: SIGILL)
  for (const s of ['SIG 8', 'SIG 11', 'SIG 4']) assert.ok((signals.get(s) ?? 0) > 0, `no native ${s}`);
});
