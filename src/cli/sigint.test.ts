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

const bin = fileURLToPath(new URL('../../../bin/nestvisor.js', import.meta.url));

/** A Multiboot kernel with the a.out kludge (header fields give the load address): `code` at 1 MiB + 0x20. */
export function tinyKernel(code: number[]): Uint8Array {
  const img = new Uint8Array(0x20 + code.length);
  const dv = new DataView(img.buffer);
  const magic = 0x1badb002, flags = 1 << 16;
  dv.setUint32(0, magic, true);
  dv.setUint32(4, flags, true);
  dv.setUint32(8, (-(magic + flags)) >>> 0, true);
  dv.setUint32(12, 0x100000, true); // header_addr
  dv.setUint32(16, 0x100000, true); // load_addr
  dv.setUint32(20, 0, true); // load_end_addr: the whole file
  dv.setUint32(24, 0, true); // bss_end_addr: none
  dv.setUint32(28, 0x100020, true); // entry_addr
  img.set(code, 0x20);
  return img;
}

async function interrupt(code: number[]): Promise<{ status: number | null; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'nv-sigint-'));
  const file = join(dir, 'k.bin');
  // mov dx, 0x3f8; mov al, 'R'; out dx, al — then the code under test
  const ready = [0x66, 0xba, 0xf8, 0x03, 0xb0, 0x52, 0xee];
  writeFileSync(file, tinyKernel([...ready, ...code]));
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
