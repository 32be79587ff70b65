/**
 * End-to-end transcripts of the seed's memory section on real machines: each
 * transcripts-machine/NAME.ps1 runs in a fresh inventory whose VMs are PcMachines (the
 * default machine factory: balloon, hot-add, VT-x) booting guests/images, and all the shell
 * writes must equal NAME.expected (NESTVISOR_UPDATE_GOLDEN=1 regenerates, as for
 * transcript.test.ts). Test-only cmdlets wait for what the guest prints on COM1 and for the
 * live memory numbers, so every line of output is an observed outcome, never a timing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MachinePartitionHost } from '../hypervisor/machine-host.js';
import { defaultMachineFactory } from '../hypervisor/machine-factory.js';
import { Controller } from '../management/controller.js';
import { ManagementError } from '../management/errors.js';
import { Inventory } from '../management/inventory.js';
import type { CmdletDef } from './cmdlet.js';
import { p } from './cmdlets/params.js';
import { BufferHost, createSession } from './index.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const dir = join(root, 'src', 'shell', 'transcripts-machine');
const MB = 1024 * 1024;

function testCmdlets(c: Controller, serial: Map<string, string>): CmdletDef[] {
  const def = (name: string, params: CmdletDef['params'], run: CmdletDef['run']): CmdletDef =>
    ({ name, module: 'Test', type: `Test.${name}`, synopsis: 'test double', params, examples: [], run });
  const text = (vm: string) => serial.get(vm.toLowerCase()) ?? '';
  const waitFor = async (what: string, ok: () => boolean, timeoutSec: number, now: () => string) => {
    const end = Date.now() + timeoutSec * 1000;
    while (!ok()) {
      if (Date.now() > end) throw new ManagementError(`timed out waiting for ${what}; ${now()}`, 'OperationStopped', 'Test');
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const assigned = (vm: string) => {
    const rec = c.inventory.read().vms.find((v) => v.name.toLowerCase() === vm.toLowerCase());
    return rec ? c.runtimeView(rec).memoryAssigned : -1;
  };
  return [
    def('Wait-TestSerial', [p('VMName', 'string', { mandatory: true }), p('Pattern', 'string', { mandatory: true }), p('TimeoutSec', 'long')], async (ctx) => {
      const vm = ctx.bound.str('VMName')!, pat = ctx.bound.str('Pattern')!;
      await waitFor(JSON.stringify(pat), () => text(vm).includes(pat), ctx.bound.num('TimeoutSec') ?? 120, () => `serial so far:\n${text(vm)}`);
    }),
    def('Get-TestSerial', [p('VMName', 'string', { mandatory: true }), p('Pattern', 'string', { mandatory: true })], async (ctx) => {
      const pat = ctx.bound.str('Pattern')!;
      for (const line of text(ctx.bound.str('VMName')!).split('\n')) if (line.includes(pat)) ctx.write(line);
    }),
    def('Wait-TestMemory', [p('VMName', 'string', { mandatory: true }), p('AssignedBytes', 'long', { mandatory: true }), p('TimeoutSec', 'long')], async (ctx) => {
      const vm = ctx.bound.str('VMName')!, want = ctx.bound.num('AssignedBytes')!;
      await waitFor(`MemoryAssigned ${want / MB} MB`, () => assigned(vm) === want, ctx.bound.num('TimeoutSec') ?? 120,
        () => `MemoryAssigned is ${assigned(vm) / MB} MB; serial:\n${text(vm)}`);
    }),
    def('Set-TestGuestMemoryDemand', [p('VMName', 'string', { mandatory: true }), p('Bytes', 'long', { mandatory: true })], async (ctx) => {
      await c.reportMemoryDemand(ctx.bound.str('VMName')!, ctx.bound.num('Bytes')!);
    }),
    // host pressure: Get-VMHost's MemoryCapacity is the budget the balance loop shares out
    def('Set-TestHostMemory', [p('Bytes', 'long', { mandatory: true })], async (ctx) => {
      const bytes = ctx.bound.num('Bytes')!;
      c.inventory.transact((s) => { s.host.memoryCapacityBytes = bytes; });
    }),
    def('Wait-TestBalance', [p('VMName', 'string', { mandatory: true }), p('Ticks', 'long', { mandatory: true })], async (ctx) => {
      for (let i = 0; i < ctx.bound.num('Ticks')!; i++) {
        await c.balancer.tick();
        await new Promise((r) => setTimeout(r, 20));
      }
    }),
  ];
}

const scripts = readdirSync(dir).filter((f) => f.endsWith('.ps1')).sort();

for (const file of scripts) {
  test(`machine transcript ${file}`, { timeout: 600_000 }, async () => {
    const home = mkdtempSync(join(tmpdir(), 'nestvisor-e2e-'));
    const serial = new Map<string, string>();
    const inventory = Inventory.open(home, { macPrefixByte: 0x0a });
    let n = 0;
    const controller = new Controller({
      inventory, host: new MachinePartitionHost({ factory: defaultMachineFactory }),
      now: () => Date.UTC(2024, 0, 1), newId: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
      memoryBalanceIntervalMs: 50,
      serialOut: (vm, b) => serial.set(vm.toLowerCase(), (serial.get(vm.toLowerCase()) ?? '') + Buffer.from(b).toString('latin1')),
    });
    process.env.NESTVISOR_BALLOON_KERNEL = join(root, 'guests', 'images', 'balloon.elf');
    process.env.NESTVISOR_MINIVISOR = join(root, 'guests', 'images', 'minivisor.elf');
    try {
      const host = new BufferHost();
      const session = createSession(controller, host);
      session.registry.add(...testCmdlets(controller, serial));
      const r = await session.run(readFileSync(join(dir, file), 'utf8'), file);
      const actual = host.text + `# end: ${r.terminated ? 'terminated' : 'completed'}, $? = ${session.lastSuccess}\n`;
      const expectedFile = join(dir, file.replace(/\.ps1$/, '.expected'));
      if (process.env.NESTVISOR_UPDATE_GOLDEN) writeFileSync(expectedFile, actual);
      assert.equal(actual, readFileSync(expectedFile, 'utf8'));
    } finally {
      await controller.shutdown();
      inventory.close();
      rmSync(home, { recursive: true, force: true });
    }
  });
}
