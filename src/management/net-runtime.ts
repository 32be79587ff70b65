/**
 * Nestvisor's own network cmdlets, about what the L0 network is doing right now rather than
 * what the inventory says: switch-port counters (Get-NestvisorSwitchPortStatistics — sent,
 * received, and dropped by reason, MacAddressSpoofing drops included, seed "Usurpation des
 * adresses MAC") and pcap captures of a switch or of a VM's adapters
 * (Start-/Stop-NestvisorCapture). Nothing here is stored: counters and captures live as long as
 * the ports and the process do.
 */
import { resolve } from 'node:path';
import type { L0Network, CaptureInfo, PortStatistics } from '../hypervisor/network.js';
import type { Action, ViewObject } from './actions.js';
import type { Controller, ResultBuilder } from './controller.js';
import { ManagementError, cimNotFound, switchNotFound } from './errors.js';
import { hasWildcard, wildcardMatch } from './wildcard.js';

type A<K extends Action['kind']> = Extract<Action, { kind: K }>;

export const NV_TYPES = {
  PortStatistics: 'Nestvisor.SwitchPortStatistics',
  Capture: 'Nestvisor.PacketCapture',
  NatStatistics: 'Nestvisor.NatStatistics',
} as const;

const KINDS = new Set<Action['kind']>(['GetSwitchPortStatistics', 'StartCapture', 'StopCapture', 'GetNatStatistics']);

export function isNetRuntimeAction(a: Action): boolean {
  return KINDS.has(a.kind);
}

const eq = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
const matches = (pattern: string, name: string) => (hasWildcard(pattern) ? wildcardMatch(pattern, name) : eq(pattern, name));

export function portStatisticsView(p: PortStatistics): ViewObject {
  const c = p.counters;
  return {
    typeName: NV_TYPES.PortStatistics,
    props: {
      SwitchName: p.switchName, PortName: p.portName, VMName: p.vmName ?? '', AdapterName: p.adapterName ?? '', AdapterId: p.adapterId ?? '',
      MacAddress: p.macAddress ?? '', MacAddressSpoofing: p.macAddressSpoofing ? 'On' : 'Off',
      SentFrames: c.sentFrames, SentBytes: c.sentBytes, ReceivedFrames: c.receivedFrames, ReceivedBytes: c.receivedBytes,
      DroppedMacAddressSpoofing: c.dropped.macSpoofing, DroppedMalformed: c.dropped.malformed, DroppedDisconnected: c.dropped.disconnected,
      Filtered: c.filtered,
    },
  };
}

export function captureView(c: CaptureInfo, running: boolean): ViewObject {
  return {
    typeName: NV_TYPES.Capture,
    props: { Id: c.id, SwitchName: c.switchName, VMName: c.vmName ?? '', Path: c.path, Frames: c.frames, Bytes: c.bytes, Running: running },
  };
}

function noNetwork(): ManagementError {
  return new ManagementError('This Nestvisor host runs no virtual network (its virtual machines are not emulated here).',
    'ResourceUnavailable', 'NoNetwork', '', '');
}

export function applyNetRuntimeAction(a: Action, c: Controller, r: ResultBuilder): void {
  const net = c.network;
  switch (a.kind) {
    case 'GetSwitchPortStatistics': return statistics(a, net, c, r);
    case 'StartCapture': return startCapture(a, net, c, r);
    case 'StopCapture': return stopCapture(a, net, c, r);
    case 'GetNatStatistics': return natStatistics(a, net, c, r);
    default: throw new Error(`not a network runtime action: ${a.kind}`);
  }
}

/** The switch a name (no wildcards) designates, from the inventory; an error when there is none. */
function switchName(c: Controller, name: string): string {
  const w = c.inventory.read().switches.find((x) => eq(x.name, name));
  if (!w) throw switchNotFound(name);
  return w.name;
}

function statistics(a: A<'GetSwitchPortStatistics'>, net: L0Network | undefined, c: Controller, r: ResultBuilder): void {
  if (a.switchName !== undefined && !hasWildcard(a.switchName)) c.attempt(r, () => { switchName(c, a.switchName!); });
  if (r.errors.length) return;
  const vmIds = a.vm ? new Set(c.resolveVms(c.inventory.read(), a.vm, r).map((v) => v.id)) : null;
  const s = c.inventory.read();
  const adapterIds = vmIds ? new Set(s.vmNics.filter((n) => vmIds.has(n.vmId)).map((n) => n.id)) : null;
  for (const p of net?.statistics() ?? []) {
    if (a.switchName !== undefined && !matches(a.switchName, p.switchName)) continue;
    if (adapterIds && (p.adapterId === null || !adapterIds.has(p.adapterId))) continue;
    r.output.push(portStatisticsView(p));
  }
}

function startCapture(a: A<'StartCapture'>, net: L0Network | undefined, c: Controller, r: ResultBuilder): void {
  c.attempt(r, () => {
    const sw = switchName(c, a.switchName);
    if (!net) throw noNetwork();
    let adapterIds: string[] | undefined;
    let vmName: string | null = null;
    if (a.vm) {
      const vms = c.resolveVms(c.inventory.read(), a.vm, r);
      if (vms.length !== 1) {
        if (r.errors.length) return;
        throw new ManagementError('Name exactly one virtual machine to capture its adapters.', 'InvalidArgument', 'InvalidParameter', '', '');
      }
      const vm = vms[0]!;
      vmName = vm.name;
      const nics = c.inventory.read().vmNics.filter((n) => n.vmId === vm.id && n.switchName !== null && eq(n.switchName, sw));
      if (nics.length === 0) {
        throw new ManagementError(`The virtual machine '${vm.name}' has no network adapter connected to the virtual switch '${sw}'.`,
          'ObjectNotFound', 'ObjectNotFound', vm.name, 'VirtualMachine');
      }
      adapterIds = nics.map((n) => n.id).filter((id) => net.portCounters(id) !== null);
      if (adapterIds.length === 0) {
        throw new ManagementError(`The virtual machine '${vm.name}' is not running, so its network adapters have no switch port to capture. Start it first.`,
          'InvalidOperation', 'InvalidState', vm.name, 'VirtualMachine');
      }
    }
    const busy = net.captureList().find((x) => eq(x.switchName, sw) && (x.vmName ?? '').toLowerCase() === (vmName ?? '').toLowerCase());
    if (busy) {
      throw new ManagementError(`A capture of ${vmName ? `'${vmName}' on ` : ''}the virtual switch '${sw}' is already running (Id ${busy.id}). Stop it with Stop-NestvisorCapture -Id ${busy.id}.`,
        'ResourceExists', 'CaptureRunning', sw, 'VMSwitch');
    }
    const path = resolve(a.path);
    try {
      return captureView(net.startCapture({ switchName: sw, path, adapterIds, vmName }), true);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (!code) throw e;
      const category = code === 'ENOENT' || code === 'ENOTDIR' ? 'ObjectNotFound' : code === 'EACCES' || code === 'EPERM' ? 'PermissionDenied' : 'ResourceUnavailable';
      throw new ManagementError(`Could not open '${path}' for writing (${code}).`, category, 'CaptureFileUnwritable', path, 'String');
    }
  });
}

function stopCapture(a: A<'StopCapture'>, net: L0Network | undefined, c: Controller, r: ResultBuilder): void {
  const running = net?.captureList() ?? [];
  let hit = running;
  if (a.ids) {
    hit = [];
    for (const id of a.ids) {
      const x = running.find((y) => y.id === id);
      if (x) hit.push(x);
      else r.errors.push(new ManagementError(`No packet capture with Id ${id} is running.`, 'ObjectNotFound', 'CaptureNotFound', String(id), 'Int32'));
    }
  }
  if (a.switchName !== undefined) hit = hit.filter((x) => matches(a.switchName!, x.switchName));
  if (a.vm) {
    const names = new Set(c.resolveVms(c.inventory.read(), a.vm, r).map((v) => v.name.toLowerCase()));
    hit = hit.filter((x) => x.vmName !== null && names.has(x.vmName.toLowerCase()));
  }
  for (const x of hit) {
    const done = net!.stopCapture(x.id);
    if (done) r.output.push(captureView(done, false));
  }
}

/**
 * Get-NestvisorNatStatistics: one object per NetNat of the inventory with its live counters.
 * Hyper-V has no cmdlet for these (Get-NetNat shows settings, Get-NetNatSession one row per
 * session); a NAT whose prefix holds no vNIC address is not running: Running False, zeros.
 */
function natStatistics(a: A<'GetNatStatistics'>, net: L0Network | undefined, c: Controller, r: ResultBuilder): void {
  const nats = c.inventory.read().nats;
  const hit: typeof nats = [];
  for (const n of a.names ?? ['*']) {
    const h = nats.filter((x) => matches(n, x.name));
    if (h.length === 0 && !hasWildcard(n)) r.errors.push(cimNotFound('MSFT_NetNat', 'Name', n));
    for (const x of h) if (!hit.includes(x)) hit.push(x);
  }
  for (const n of hit) {
    const live = net?.natByName(n.name) ?? null;
    const k = live?.counters ?? { tcpFlows: 0, udpFlows: 0, refused: 0, dnsQueries: 0, expired: 0, dropped: 0, inboundConnections: 0 };
    const states = live ? net!.staticMappingStates(n.name) : [];
    r.output.push({
      typeName: NV_TYPES.NatStatistics,
      props: {
        Name: n.name, Running: live !== null, TcpFlows: k.tcpFlows, UdpFlows: k.udpFlows, DnsQueries: k.dnsQueries,
        InboundConnections: k.inboundConnections, Refused: k.refused, Expired: k.expired, Dropped: k.dropped,
        StaticMappings: (n.staticMappings ?? []).length, StaticMappingsListening: states.filter((x) => x.error === null).length,
      },
    });
  }
}
