/**
 * Builds the management service: the inventory of a data directory plus a controller bound to
 * a PartitionHost. The REPL, scripts, `nestvisor serve` and the demo all go through this.
 */
import { randomInt } from 'node:crypto';
import { MachinePartitionHost, type MachineFactory } from '../hypervisor/machine-host.js';
import { defaultMachineFactory } from '../hypervisor/machine-factory.js';
import { withGuestChannel } from '../hypervisor/guest-channel.js';
import type { PartitionHost } from '../hypervisor/partition.js';
import { L0Network } from '../hypervisor/network.js';
import { Controller, type ControllerOptions } from './controller.js';
import { Inventory } from './inventory.js';

export interface ServiceOptions {
  readonly home: string;
  /** Where VMs run; defaults to the machine host with the default machine factory. */
  readonly host?: PartitionHost;
  readonly machineFactory?: MachineFactory | null;
  readonly now?: () => number;
  readonly newId?: () => string;
  readonly macPrefixByte?: number;
  readonly serialOut?: ControllerOptions['serialOut'];
  readonly guestAgentTimeoutMs?: number;
}

export interface Service {
  readonly controller: Controller;
  readonly inventory: Inventory;
  close(): Promise<void>;
}

export function openService(o: ServiceOptions): Service {
  const inventory = Inventory.open(o.home, { macPrefixByte: o.macPrefixByte ?? randomInt(0x10, 0xf0) });
  const network = o.host ? null : new L0Network();
  // every VM gets the guest channel of PowerShell Direct (hypervisor/guest-channel.ts)
  const factory = withGuestChannel(o.machineFactory === undefined ? defaultMachineFactory : o.machineFactory);
  const host = o.host ?? new MachinePartitionHost({ factory, network: network ?? undefined });
  const controller = new Controller({ inventory, host, now: o.now, newId: o.newId, serialOut: o.serialOut, guestAgentTimeoutMs: o.guestAgentTimeoutMs });
  return {
    controller,
    inventory,
    async close() {
      await controller.shutdown();
      await network?.close();
      inventory.close();
    },
  };
}
