/**
 * Golden-file transcripts (STYLE habit 11): each transcripts/NAME.ps1 runs in a fresh
 * inventory with fake machines behind the real MachinePartitionHost, and everything the shell
 * writes (output, warnings, error records, in order) must equal transcripts/NAME.expected.
 * Regenerate after an intended change with NESTVISOR_UPDATE_GOLDEN=1 npm test, then review the diff.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MachinePartitionHost } from '../hypervisor/machine-host.js';
import { L0Network } from '../hypervisor/network.js';
import { ManualTimers } from '../net/clock.js';
import { EthernetFrame } from '../net/ethernet.js';
import { parseMac } from '../net/mac.js';
import { ManagementError } from '../management/errors.js';
import { FakeMachines, testService } from '../management/testing.js';
import type { CmdletDef } from './cmdlet.js';
import { p } from './cmdlets/params.js';
import { BufferHost, createSession } from './index.js';

const here = dirname(fileURLToPath(import.meta.url));
const dir = join(here, '..', '..', '..', 'src', 'shell', 'transcripts');
const SEED = join(here, '..', '..', '..', '..', 'shared', 'seed', 'nested-virtualization.fr.txt');

/** Test-only cmdlets standing in for what a guest does (VMXON, saving). */
function testCmdlets(machines: FakeMachines, svc: ReturnType<typeof testService>): CmdletDef[] {
  const def = (name: string, params: CmdletDef['params'], run: CmdletDef['run']): CmdletDef =>
    ({ name, module: 'Test', type: `Test.${name}`, synopsis: 'test double', params, examples: [], run });
  return [
    def('Set-TestGuestVmx', [p('VMName', 'string', { mandatory: true }), p('On', 'bool', { mandatory: true })], async (ctx) => {
      const m = machines.get(ctx.bound.str('VMName')!);
      if (!m) throw new ManagementError(`no running machine '${ctx.bound.str('VMName')}'`, 'ObjectNotFound', 'Test');
      m.vmx = ctx.bound.bool('On')!;
    }),
    def('Set-TestGuestMemoryDemand', [p('VMName', 'string', { mandatory: true }), p('Bytes', 'long', { mandatory: true })], async (ctx) => {
      await svc.controller.reportMemoryDemand(ctx.bound.str('VMName')!, ctx.bound.num('Bytes')!);
    }),
    // the guest behind a fake machine's NIC sends frames (from its own MAC unless -SourceMac)
    def('Send-TestGuestFrame', [p('VMName', 'string', { mandatory: true }), p('SourceMac', 'string'), p('DestinationMac', 'string'), p('Count', 'int')], async (ctx) => {
      const m = machines.get(ctx.bound.str('VMName')!);
      const nic = m?.nics[0];
      if (!m || !nic) throw new ManagementError(`no running machine '${ctx.bound.str('VMName')}' with a network adapter`, 'ObjectNotFound', 'Test');
      const src = parseMac(ctx.bound.str('SourceMac') ?? m.options.networkAdapters![0]!.macAddress)!;
      const dst = parseMac(ctx.bound.str('DestinationMac') ?? 'FF-FF-FF-FF-FF-FF')!;
      for (let i = 0; i < (ctx.bound.num('Count') ?? 1); i++) nic.send(EthernetFrame.build(dst, src, 0x88b5, new Uint8Array(46).fill(i)));
    }),
    def('Set-TestVMSaved', [p('VMName', 'string', { mandatory: true })], async (ctx) => {
      svc.inventory.transact((s) => { for (const v of s.vms) if (v.name === ctx.bound.str('VMName')) v.state = 'Saved'; });
    }),
  ];
}

const scripts = readdirSync(dir).filter((f) => f.endsWith('.ps1')).sort();

for (const file of scripts) {
  test(`transcript ${file}`, async () => {
    const machines = new FakeMachines();
    const network = new L0Network({ timers: new ManualTimers() });
    const svc = testService(new MachinePartitionHost({ factory: machines.factory, network }));
    const kernelDir = mkdtempSync(join(tmpdir(), 'nestvisor-kernel-'));
    try {
      const kernel = join(kernelDir, 'kernel.elf');
      writeFileSync(kernel, Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
      process.env.NESTVISOR_TEST_KERNEL = kernel;
      process.env.NESTVISOR_TEST_DIR = kernelDir;
      const host = new BufferHost();
      const session = createSession(svc.controller, host);
      session.registry.add(...testCmdlets(machines, svc));
      const r = await session.run(readFileSync(join(dir, file), 'utf8'), file);
      const actual = host.text + `# end: ${r.terminated ? 'terminated' : 'completed'}${r.exitCode !== undefined ? `, exit ${r.exitCode}` : ''}, $? = ${session.lastSuccess}\n`;
      const expectedFile = join(dir, file.replace(/\.ps1$/, '.expected'));
      if (process.env.NESTVISOR_UPDATE_GOLDEN) writeFileSync(expectedFile, actual);
      assert.equal(actual, readFileSync(expectedFile, 'utf8'));
    } finally {
      await svc.dispose();
      await network.close();
      rmSync(kernelDir, { recursive: true, force: true });
    }
  });
}

test('seed.ps1 carries every command of the seed document byte for byte', { skip: !existsSync(SEED) && 'shared/seed not beside the repo' }, () => {
  const doc = readFileSync(SEED, 'utf8').split('\n');
  const commands = doc.filter((l) => /^(Set-VMProcessor|Get-VMNetworkAdapter|New-VMSwitch|New-NetNat|Get-NetAdapter|Netsh) /.test(l));
  assert.equal(commands.length, 8);
  const script = readFileSync(join(dir, 'seed.ps1'), 'utf8').split('\n');
  for (const c of commands) {
    const line = c.replace('<VMName>', 'L1').replace('<my DNS server>', '192.168.100.1');
    assert.ok(script.includes(line), `seed.ps1 lacks: ${line}`);
  }
});
