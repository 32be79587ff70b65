import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRegistry } from './index.js';
import { parseScript } from './parser.js';
import { testService } from '../management/testing.js';
import { BufferHost, createSession } from './index.js';

test('every cmdlet has a synopsis, an example that parses, and Get-Help text', async () => {
  const reg = createRegistry();
  const svc = testService();
  try {
    const host = new BufferHost();
    const s = createSession(svc.controller, host);
    for (const d of reg.all()) {
      assert.ok(d.synopsis.length > 10, d.name);
      assert.ok(d.examples.length > 0, `${d.name} has no example`);
      for (const ex of d.examples) assert.doesNotThrow(() => parseScript(ex), `${d.name}: ${ex}`);
      host.text = '';
      await s.run(`Get-Help ${d.name}`);
      assert.match(host.text, new RegExp(`NAME\\n    ${d.name}\\n\\nSYNOPSIS[\\s\\S]*SYNTAX[\\s\\S]*EXAMPLES`), d.name);
    }
    for (const required of ['New-VM', 'Get-VM', 'Start-VM', 'Stop-VM', 'Restart-VM', 'Remove-VM', 'Set-VM', 'Get-VMProcessor', 'Set-VMProcessor',
      'Get-VMMemory', 'Set-VMMemory', 'Get-VMNetworkAdapter', 'Add-VMNetworkAdapter', 'Remove-VMNetworkAdapter', 'Set-VMNetworkAdapter',
      'Connect-VMNetworkAdapter', 'Get-VMSwitch', 'New-VMSwitch', 'Remove-VMSwitch', 'Set-VMSwitch', 'Get-VMHost', 'Get-VMHostSupportedVersion',
      'Update-VMVersion', 'Get-NetAdapter', 'Get-NetIPAddress', 'New-NetIPAddress', 'Remove-NetIPAddress', 'Get-NetNat', 'New-NetNat',
      'Remove-NetNat', 'Set-DnsClientServerAddress', 'Get-DnsClientServerAddress', 'Where-Object', 'Select-Object', 'ForEach-Object',
      'Sort-Object', 'Format-Table', 'Format-List', 'Out-String', 'ConvertTo-Json', 'Get-Command', 'Get-Help']) {
      assert.ok(reg.find(required), `missing ${required}`);
    }
  } finally { await svc.dispose(); }
});

/** DESIGN.md's layer table (a layer imports only layers above it), for the folders this suite owns. */
const RULES: Record<string, RegExp> = {
  'src/hypervisor': /^\/src\/(management|shell|cli)\//,
  'src/management': /^\/src\/(shell|cli)\//,
  'src/shell': /^\/src\/(cpu|cli)\//,
};

test('layers import only what DESIGN.md allows', () => {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const walk = (dir: string): string[] => readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
  for (const [folder, banned] of Object.entries(RULES)) {
    for (const file of walk(join(root, folder))) {
      if (file.endsWith('.test.ts')) continue;
      for (const m of readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
        const target = '/' + relative(root, join(file, '..', m[1]));
        assert.doesNotMatch(target, banned, `${file} imports ${m[1]}`);
      }
    }
  }
});
