/**
 * Ctrl-C: `nestvisor run` stops a guest that never ends — one spinning in `jmp $`, one
 * halted with interrupts enabled and no timer armed (the machine sleeps with nothing to
 * wake it) — with exit status 130 and one line on stderr.
 * Each kernel first writes 'R' to COM1: run.ts installs its signal handlers before the guest
 * runs, so the byte on stdout says the handler is in place (a fixed delay was not enough on a
 * loaded machine: SIGINT then killed node before the handler existed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { aoutKludgeImage } from '../machine/multiboot.js';

const bin = fileURLToPath(new URL('../../../bin/nestvisor.js', import.meta.url));


async function interrupt(code: number[]): Promise<{ status: number | null; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'nv-sigint-'));
  const file = join(dir, 'k.bin');
  // mov dx, 0x3f8; mov al, 'R'; out dx, al — then the code under test
  const ready = [0x66, 0xba, 0xf8, 0x03, 0xb0, 0x52, 0xee];
  writeFileSync(file, aoutKludgeImage([...ready, ...code]));
  const child = spawn(process.execPath, [bin, 'run', '--kernel', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => { stderr += d; });
  await new Promise<void>((r) => child.stdout.once('data', () => r()));
  child.stdout.resume();
  child.kill('SIGINT');
  const status = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  return { status, stderr };
}

test('Ctrl-C stops a spinning guest (eb fe: jmp $) with status 130 and one line on stderr', async () => {
  const { status, stderr } = await interrupt([0xeb, 0xfe]);
  assert.equal(status, 130);
  assert.equal(stderr, 'nestvisor run: stopped\n');
});

test('Ctrl-C stops a guest halted with IF = 1 and no timer (fb: sti; f4: hlt; eb fd: jmp hlt)', async () => {
  const { status, stderr } = await interrupt([0xfb, 0xf4, 0xeb, 0xfd]);
  assert.equal(status, 130);
  assert.equal(stderr, 'nestvisor run: stopped\n');
});
