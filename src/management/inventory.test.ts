import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Inventory, InventoryError, INVENTORY_FILE, resolveHome } from './inventory.js';
import { checkConsistency } from './consistency.js';
import { openService } from './service.js';
import { MachinePartitionHost } from '../hypervisor/machine-host.js';

const fixture = fileURLToPath(new URL('./inventory-burst.fixture.js', import.meta.url));

function tempHome(): string {
  return mkdtempSync(join(tmpdir(), 'nestvisor-inv-'));
}

test('the inventory survives a restart', async () => {
  const home = tempHome();
  try {
    let svc = openService({ home, host: new MachinePartitionHost({ factory: null }) });
    await svc.controller.apply({ kind: 'NewVM', name: 'L1', memoryStartupBytes: 4 * 1024 ** 3 });
    await svc.controller.apply({ kind: 'SetVMProcessor', vm: { names: ['L1'] }, exposeVirtualizationExtensions: true });
    await svc.close();
    svc = openService({ home, host: new MachinePartitionHost({ factory: null }) });
    const r = await svc.controller.apply({ kind: 'GetVMProcessor', vm: { names: ['L1'] } });
    assert.equal(r.output[0].props.ExposeVirtualizationExtensions, true);
    await svc.close();
  } finally { rmSync(home, { recursive: true, force: true }); }
});

test('a refused change writes nothing', async () => {
  const home = tempHome();
  try {
    const svc = openService({ home, host: new MachinePartitionHost({ factory: null }) });
    await svc.controller.apply({ kind: 'NewVM', name: 'V' });
    const before = JSON.stringify(svc.inventory.read());
    const r = await svc.controller.apply({ kind: 'SetVMMemory', vm: { names: ['V'] }, dynamicMemoryEnabled: true, minimumBytes: 4 * 1024 ** 3 });
    assert.equal(r.errors.length, 1);
    assert.equal(JSON.stringify(svc.inventory.read()), before);
    await svc.close();
  } finally { rmSync(home, { recursive: true, force: true }); }
});

test('a corrupt inventory is reported and left untouched', () => {
  const home = tempHome();
  try {
    const file = join(home, INVENTORY_FILE);
    const garbage = Buffer.from('this is not a database '.repeat(300));
    writeFileSync(file, garbage);
    assert.throws(() => Inventory.open(home), (e: unknown) => e instanceof InventoryError && /cannot be opened.*left untouched/s.test(e.message));
    assert.deepEqual(readFileSync(file), garbage);
    rmSync(file);
    const foreign = new Database(file);
    foreign.exec('CREATE TABLE t (x)');
    foreign.close();
    const bytes = readFileSync(file);
    assert.throws(() => Inventory.open(home), /not a Nestvisor inventory/);
    assert.deepEqual(readFileSync(file), bytes);
  } finally { rmSync(home, { recursive: true, force: true }); }
});

test('--home beats NESTVISOR_HOME beats the per-user default', () => {
  assert.equal(resolveHome('/x', { NESTVISOR_HOME: '/y' }), '/x');
  assert.equal(resolveHome(undefined, { NESTVISOR_HOME: '/y' }), '/y');
  assert.match(resolveHome(undefined, {}), /\.nestvisor$/);
});

test('SIGKILL during a burst of changes never leaves a torn inventory', async () => {
  const home = tempHome();
  try {
    let grew = 0;
    for (let i = 0; i < 10; i++) {
      const child = spawn(process.execPath, [fixture, home], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((res, rej) => {
        child.stdout.once('data', () => res());
        child.once('exit', (code) => rej(new Error(`burst child exited early (${code})`)));
      });
      // Let it run a random number of event-loop turns of writes, then kill it mid-flight.
      const turns = 1 + Math.floor(Math.random() * 40);
      for (let t = 0; t < turns; t++) await new Promise((r) => setImmediate(r));
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      const inv = Inventory.open(home);
      const s = inv.read();
      assert.deepEqual(checkConsistency(s), [], `iteration ${i}`);
      grew = s.switches.length;
      inv.close();
    }
    assert.ok(grew > 0, 'the children made changes');
  } finally { rmSync(home, { recursive: true, force: true }); }
});
