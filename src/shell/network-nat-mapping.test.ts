/**
 * Add-NetNatStaticMapping end to end: the cmdlet stores the mapping in the inventory, the L0
 * network listens on 127.0.0.1:ExternalPort, and a host connection there reaches a guest's
 * TCP service (a pure-TS guest stack on the NAT switch, as in src/net/nat.test.ts);
 * Remove-NetNatStaticMapping stops the listener.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo } from 'node:net';
import { realTimers } from '../net/clock.js';
import { ip, stackOn } from '../net/testing.js';
import { FakeMachines, testService } from '../management/testing.js';
import { BufferHost, createSession } from './index.js';
import { MachinePartitionHost } from '../hypervisor/machine-host.js';
import { L0Network } from '../hypervisor/network.js';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function exchange(port: number, text: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(text));
    const parts: Buffer[] = [];
    s.on('data', (b) => parts.push(b));
    s.on('end', () => { resolve(Buffer.concat(parts).toString()); s.end(); });
    s.on('error', reject);
  });
}

test('Add-NetNatStaticMapping forwards 127.0.0.1:ExternalPort to the guest; Remove-NetNatStaticMapping stops it', async () => {
  const timers = realTimers();
  const network = new L0Network({ timers });
  const svc = testService(new MachinePartitionHost({ factory: new FakeMachines().factory, network }));
  try {
    const host = new BufferHost();
    const session = createSession(svc.controller, host);
    const run = async (script: string) => { host.text = ''; await session.run(script, 'test.ps1'); assert.equal(host.stderr, ''); return host.text; };
    await run([
      'New-VMSwitch -Name VmNAT -SwitchType Internal | Out-Null',
      'New-NetNat -Name LocalNAT -InternalIPInterfaceAddressPrefix "192.168.100.0/24" | Out-Null',
      'Get-NetAdapter "vEthernet (VmNat)" | New-NetIPAddress -IPAddress 192.168.100.1 -AddressFamily IPv4 -PrefixLength 24 | Out-Null',
    ].join('\n'));
    // the guest: 192.168.100.2 on the NAT switch, answering on port 80
    const guest = stackOn(network.switchOf('VmNAT')!, timers, 'guest', 0x00155d000002, '192.168.100.2', 24, 'vm');
    guest.stack.defaultGateway = ip('192.168.100.1');
    guest.stack.tcp.listen(0, 80, (c) => {
      c.events = { onData: (d, conn) => { conn.write(Buffer.concat([Buffer.from('guest says: '), Buffer.from(d)])); conn.end(); } };
    });

    const port = await freePort();
    await run(`Add-NetNatStaticMapping -NatName LocalNAT -Protocol TCP -ExternalIPAddress 0.0.0.0 -ExternalPort ${port} -InternalIPAddress 192.168.100.2 -InternalPort 80 | Out-Null`);
    assert.deepEqual(svc.controller.inventory.read().nats[0]!.staticMappings?.map((m) => [m.staticMappingID, m.externalPort, m.internalIPAddress, m.internalPort]),
      [[0, port, '192.168.100.2', 80]]);
    await network.settled();
    assert.equal(await exchange(port, 'hi'), 'guest says: hi');
    assert.match(await run('(Get-NestvisorNatStatistics -Name LocalNAT).InboundConnections'), /^1\s*$/);
    assert.match(await run('(Get-NetNatStaticMapping -StaticMappingID 0).Active'), /^True\s*$/);

    await run('Remove-NetNatStaticMapping -StaticMappingID 0 -Confirm:$false');
    await network.settled();
    await assert.rejects(exchange(port, 'again'), /ECONNREFUSED/);
    assert.equal(svc.controller.inventory.read().nats[0]!.staticMappings?.length, 0);
  } finally {
    await svc.dispose();
    await network.close();
  }
});
