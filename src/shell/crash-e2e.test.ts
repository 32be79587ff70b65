/**
 * Issue 8, a crashed VM: a guest whose boot image triple-faults is turned Off, as Hyper-V turns
 * off a VM that crashed, and Get-VM's Status says why (the CPU's own report: where, and the
 * fault chain); the inventory is otherwise unchanged and Start-VM runs it again. And the other
 * side of the architecture: an L2 that crashes inside minivisor (`l2garbage`) is a VM exit for
 * minivisor, not a crash of L1 — L1 stays Running and its agent still answers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openService } from '../management/service.js';
import { BufferHost, createSession } from './index.js';
import { aoutKludgeImage } from '../machine/multiboot.js';

const minivisor = fileURLToPath(new URL('../../../guests/images/minivisor.elf', import.meta.url));


// push 0; push 0; lidt [esp] (an IDT of limit 0); int3: vector 3 is past the limit (#GP), so is
// #GP's (#DF), so is #DF's: a triple fault (SDM Vol. 3A §6.15, Table 6-5). 1 MiB + 0x20 + 8 is the int3.
const CRASHER = [0x6a, 0x00, 0x6a, 0x00, 0x0f, 0x01, 0x1c, 0x24, 0xcc];

interface Env { run(script: string): Promise<string>; serial(): string; waitFor(script: string, pat: RegExp): Promise<string> }

async function withService(body: (e: Env) => Promise<void>): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'nestvisor-crash-'));
  let serial = '';
  const svc = openService({ home, guestAgentTimeoutMs: 20_000, macPrefixByte: 0x0c, serialOut: (_vm, b) => { serial += Buffer.from(b).toString('latin1'); } });
  const host = new BufferHost();
  const shell = createSession(svc.controller, host);
  const run = async (script: string) => { host.text = ''; await shell.run(script); return host.text; };
  const waitFor = async (script: string, pat: RegExp) => {
    const t0 = Date.now();
    for (;;) {
      const out = await run(script);
      if (pat.test(out)) return out;
      if (Date.now() - t0 > 60_000) assert.fail(`timed out waiting for ${pat} from ${script}:\n${out}\n${serial}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  try {
    await body({ run, serial: () => serial, waitFor });
  } finally {
    await svc.close();
    rmSync(home, { recursive: true, force: true });
  }
}

test('a VM that triple-faults is turned Off, Get-VM says it crashed and where; Start-VM runs it again', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nestvisor-crasher-'));
  const image = join(dir, 'crash.bin');
  writeFileSync(image, aoutKludgeImage(CRASHER));
  try {
    await withService(async ({ run, waitFor }) => {
      await run(['New-VM -Name Crashy -MemoryStartupBytes 32MB -Generation 2 -Version 9.0 | Out-Null',
        `Set-NestvisorVMBootImage -VMName Crashy -Path '${image}'`].join('\n'));
      const before = await run('Get-VM -Name Crashy | Format-List Name, State, Status, MemoryStartup, ProcessorCount');
      assert.match(before, /Status +: Operating normally\n/);

      await run('Start-VM -Name Crashy');
      const crashed = await waitFor('Get-VM -Name Crashy | Select-Object -ExpandProperty State', /^Off\n/);
      assert.equal(crashed, 'Off\n');
      const status = (await run('(Get-VM -Name Crashy).Status')).trim();

      assert.match(status, /^The virtual machine was turned off because it crashed: triple fault at RIP=0x100028 \(CS=0x[0-9a-f]+, CPL 0\): .+\.$/, status);
      // the inventory is what it was: only State and Status tell the story
      const after = await run('Get-VM -Name Crashy | Format-List Name, State, Status, MemoryStartup, ProcessorCount');
      assert.equal(after.replace(/Status +: .*\n/, ''), before.replace(/Status +: .*\n/, ''));
      assert.match(after, /State +: Off\n/);

      // Start-VM clears the report while it runs (Running or crashed again: both fine), and it crashes again
      assert.equal(await run('Start-VM -Name Crashy'), '');
      await waitFor('Get-VM -Name Crashy | Select-Object -ExpandProperty State', /^Off\n/);
      assert.match(await run('(Get-VM -Name Crashy).Status'), /^The virtual machine was turned off because it crashed: triple fault at RIP=0x100028 /);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an L2 that crashes inside minivisor stays L2\'s: L1 stays Running, in VMX operation, and its agent answers', { timeout: 180_000 }, async () => {
  await withService(async ({ run, serial, waitFor }) => {
    await run(['New-VMSwitch -Name Lab -SwitchType Private | Out-Null',
      'New-VM -Name L1 -MemoryStartupBytes 64MB -Generation 2 -Version 9.0 -SwitchName Lab | Out-Null',
      'Set-VMProcessor -VMName L1 -ExposeVirtualizationExtensions $true',
      `Set-NestvisorVMBootImage -VMName L1 -Path '${minivisor}' -CommandLine 'stay l2garbage'`,
      'Start-VM -Name L1'].join('\n'));
    const t0 = Date.now();
    while (!/minivisor: staying in VMX operation\n/.test(serial())) {
      if (Date.now() - t0 > 60_000) assert.fail(`minivisor never stayed:\n${serial()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.match(serial(), /minivisor: L2 crashed: triple fault at RIP=0x[0-9a-f]+\n/);
    const vm = await run('Get-VM -Name L1 | Format-List State, Status');
    assert.match(vm, /State +: Running\nStatus +: Operating normally\n/);
    const nics = await waitFor('Invoke-Command -VMName L1 { Get-NetAdapter } | Select-Object Name, PSComputerName', /\nEthernet +L1\n/);
    assert.match(nics, /\nEthernet +L1\n/);
    await run('Stop-VM -Name L1 -TurnOff -Force');
    assert.match(await run('Get-VM -Name L1 | Format-List State, Status'), /State +: Off\nStatus +: Operating normally\n/);
  });
});
