import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openService } from '../management/service.js';
import { MachinePartitionHost } from '../hypervisor/machine-host.js';
import { createSession, BufferHost } from '../shell/index.js';
import { completer } from './shell-cli.js';

const bin = fileURLToPath(new URL('../../../bin/nestvisor.js', import.meta.url));

function nv(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, input: '' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('-Command: output, error records on stderr, pwsh exit codes, inventory kept between runs', () => {
  const home = mkdtempSync(join(tmpdir(), 'nestvisor-cli-'));
  try {
    let r = nv(['--home', home, '-Command', 'New-VM -Name L1 -MemoryStartupBytes 4GB | Out-Null; Set-VMProcessor -VMName L1 -ExposeVirtualizationExtensions $true']);
    assert.equal(r.code, 0, r.err);
    r = nv(['-Command', '(Get-VMProcessor -VMName L1).ExposeVirtualizationExtensions'], { NESTVISOR_HOME: home });
    assert.equal(r.out, 'True\n');
    assert.equal(r.code, 0);
    r = nv(['--home', home, '-Command', 'Get-VM -Name Nope']);
    assert.equal(r.code, 1);
    assert.match(r.err, /^Get-VM : Hyper-V was unable to find a virtual machine with name "Nope"\./);
    assert.doesNotMatch(r.err, /    at /, 'no stack trace');
    r = nv(['--home', home, '-Command', 'Get-VM -Name Nope; "recovered"']);
    assert.equal(r.code, 0, 'the last statement succeeded');
    r = nv(['--home', home, '-Command', 'exit 7']);
    assert.equal(r.code, 7);
  } finally { rmSync(home, { recursive: true, force: true }); }
});

test('-File: runs a script; exit 1 only on a terminating error; a missing file is 64', () => {
  const home = mkdtempSync(join(tmpdir(), 'nestvisor-cli-'));
  try {
    const script = join(home, 'setup.ps1');
    writeFileSync(script, 'New-VMSwitch -Name VmNAT -SwitchType Internal | Out-Null\nGet-VM -Name Nope\n(Get-NetAdapter).Name\n');
    let r = nv(['--home', home, '-File', script]);
    assert.equal(r.code, 0);
    assert.equal(r.out, 'Ethernet\nvEthernet (VmNAT)\n');
    assert.match(r.err, new RegExp(`At ${script.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2 char:1`));
    writeFileSync(script, 'Get-VM -Name Nope -ErrorAction Stop\n"unreached"\n');
    r = nv(['--home', home, '-File', script]);
    assert.equal(r.code, 1);
    assert.equal(r.out, '');
    r = nv(['--home', home, '-File', join(home, 'missing.ps1')]);
    assert.equal(r.code, 64);
  } finally { rmSync(home, { recursive: true, force: true }); }
});

test('a corrupt inventory gives a clear error and exit 1', () => {
  const home = mkdtempSync(join(tmpdir(), 'nestvisor-cli-'));
  try {
    writeFileSync(join(home, 'inventory.db'), 'garbage'.repeat(1000));
    const r = nv(['--home', home, '-Command', 'Get-VM']);
    assert.equal(r.code, 1);
    assert.match(r.err, /inventory .* cannot be opened.*left untouched/);
  } finally { rmSync(home, { recursive: true, force: true }); }
});

test('tab completion: cmdlet names, then parameter names', () => {
  const home = mkdtempSync(join(tmpdir(), 'nestvisor-cli-'));
  const svc = openService({ home, host: new MachinePartitionHost({ factory: null }) });
  try {
    const s = createSession(svc.controller, new BufferHost());
    assert.deepEqual(completer(s, 'Set-VMProc')[0], ['Set-VMProcessor']);
    assert.deepEqual(completer(s, 'Set-VMProcessor -VMName L1 -Exp')[0], ['-ExposeVirtualizationExtensions']);
    assert.deepEqual(completer(s, 'Get-VM | Where-Obj')[0], ['Where-Object']);
  } finally {
    void svc.close().then(() => rmSync(home, { recursive: true, force: true }));
  }
});
