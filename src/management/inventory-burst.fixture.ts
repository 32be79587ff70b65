/**
 * Child process of the crash test (inventory.test.ts): opens the inventory in argv[2] and
 * makes changes as fast as it can until it is killed. Each step spans several rows (a switch
 * with its vEthernet adapter and address, a VM with its adapter), so a torn write would show.
 */
import { MachinePartitionHost } from '../hypervisor/machine-host.js';
import { openService } from './service.js';

const home = process.argv[2];
const svc = openService({ home, host: new MachinePartitionHost({ factory: null }) });
const c = svc.controller;
let n = svc.inventory.read().switches.length;
let announced = false;
for (;;) {
  const name = `S${process.pid}-${n}`;
  await c.apply({ kind: 'NewVMSwitch', name, switchType: 'Internal' });
  await c.apply({ kind: 'NewVM', name: `V${process.pid}-${n}`, switchName: name, memoryStartupBytes: 2 * 1024 ** 3 });
  await c.apply({ kind: 'NewNetIPAddress', interfaceAlias: `vEthernet (${name})`, ipAddress: `10.${(n >> 8) & 255}.${n & 255}.1`, prefixLength: 24 });
  await c.apply({ kind: 'SetVMProcessor', vm: { names: [`V${process.pid}-${n}`] }, exposeVirtualizationExtensions: true });
  if (n % 3 === 2) {
    await c.apply({ kind: 'RemoveVM', vm: { names: [`V${process.pid}-${n - 1}`] } });
    await c.apply({ kind: 'RemoveVMSwitch', names: [`S${process.pid}-${n - 1}`] });
  }
  n++;
  if (!announced) { process.stdout.write('ready\n'); announced = true; }
}
