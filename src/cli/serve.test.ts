import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openService } from '../management/service.js';
import { MachinePartitionHost } from '../hypervisor/machine-host.js';
import { startServer } from './serve.js';

test('serve: actions and scripts over HTTP on loopback share one inventory', async () => {
  const home = mkdtempSync(join(tmpdir(), 'nestvisor-serve-'));
  const svc = openService({ home, host: new MachinePartitionHost({ factory: null }) });
  const srv = await startServer(svc, 0);
  const base = `http://127.0.0.1:${srv.port}`;
  const post = async (path: string, body: unknown) => {
    const r = await fetch(base + path, { method: 'POST', body: JSON.stringify(body) });
    return { status: r.status, json: await r.json() as Record<string, unknown> };
  };
  try {
    assert.deepEqual(await (await fetch(`${base}/v1/health`)).json(), { status: 'ok' });
    let r = await post('/v1/actions', { kind: 'NewVM', name: 'L1', memoryStartupBytes: 4 * 1024 ** 3 });
    assert.equal(r.status, 200);
    assert.equal((r.json.output as Array<{ props: { Name: string } }>)[0].props.Name, 'L1');
    r = await post('/v1/run', { script: 'Set-VMProcessor -VMName L1 -ExposeVirtualizationExtensions $true; (Get-VMProcessor L1).ExposeVirtualizationExtensions' });
    assert.deepEqual(r.json, { output: 'True\n', errors: '', success: true, exitCode: null });
    r = await post('/v1/run', { script: 'Start-VM L1' });
    assert.equal(r.json.success, false);
    assert.match(String(r.json.errors), /^Start-VM : 'L1' failed to start\./);
    r = await post('/v1/actions', { nope: 1 });
    assert.equal(r.status, 400);
    assert.equal((await fetch(`${base}/v2/x`)).status, 404);
  } finally {
    await srv.close();
    await svc.close();
    rmSync(home, { recursive: true, force: true });
  }
});
