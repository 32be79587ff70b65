/**
 * Differential test of SSE3, SSSE3, SSE4.1, SSE4.2, AES-NI and PCLMULQDQ against this
 * machine's real CPU (issue 4); the runner is diff-runner.ts, the forms sse4-diff-specs.ts.
 * AMD and Intel agree on every bit of these instructions, so every output is compared exactly.
 */
import { test } from 'node:test';
import { runDifferential } from './diff-runner.js';
import { SPECS4 } from './sse4-diff-specs.js';

test('SSE3/SSSE3/SSE4.1/SSE4.2/AES/PCLMUL match the host CPU (differential, fixed seed)', (t) => { runDifferential(t, SPECS4); });
