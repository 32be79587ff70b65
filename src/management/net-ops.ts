/**
 * Network actions: VM network adapters, virtual switches, host adapters, IP addresses, NAT and
 * DNS (seed: "Options de mise en réseau", "Usurpation des adresses MAC", "Traduction
 * d'adresses réseau (NAT)"). All synchronous; each action runs in one transaction.
 */
import type { Action, NicTarget, ViewObject } from './actions.js';
import type { Controller, ResultBuilder } from './controller.js';
import { ManagementError, cimNotFound, failedToModify, switchNotFound } from './errors.js';
import type { HostAdapterRecord, InventoryState, NatRecord, NatStaticMappingRecord, SwitchRecord, VmNicRecord, VmRecord } from './model.js';
import {
  formatIPv4, hostAddressError, inPrefix, nameError, parseIPv4, parseMac, parsePrefix, prefixesOverlap,
} from './rules.js';
import { allocateMac } from './vm-ops.js';
import { dnsView, ipAddressView, natStaticMappingView, natView, netAdapterView, nicView, switchView } from './views.js';
import { hasWildcard, wildcardMatch } from './wildcard.js';

type A<K extends Action['kind']> = Extract<Action, { kind: K }>;

const NET_KINDS = new Set<Action['kind']>([
  'GetVMNetworkAdapter', 'AddVMNetworkAdapter', 'RemoveVMNetworkAdapter', 'SetVMNetworkAdapter', 'ConnectVMNetworkAdapter',
  'DisconnectVMNetworkAdapter', 'GetVMSwitch', 'NewVMSwitch', 'RemoveVMSwitch', 'SetVMSwitch', 'GetNetAdapter',
  'GetNetIPAddress', 'NewNetIPAddress', 'RemoveNetIPAddress', 'GetNetNat', 'NewNetNat', 'RemoveNetNat',
  'AddNetNatStaticMapping', 'GetNetNatStaticMapping', 'RemoveNetNatStaticMapping',
  'GetDnsClientServerAddress', 'SetDnsClientServerAddress', 'AddDnsServer',
]);

export function isNetAction(a: Action): boolean {
  return NET_KINDS.has(a.kind);
}

const eq = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
const matches = (pattern: string, name: string) => (hasWildcard(pattern) ? wildcardMatch(pattern, name) : eq(pattern, name));

export function applyNetAction(a: Action, s: InventoryState, c: Controller, r: ResultBuilder): ViewObject[] {
  switch (a.kind) {
    case 'GetVMNetworkAdapter':
      return nics(s, a.vm ? { vm: a.vm, name: a.name } : undefined, c, r)
        .map(([n, vm]) => nicView(n, vm, c.network?.portCounters(n.id)?.dropped.macSpoofing ?? 0));
    case 'AddVMNetworkAdapter': return addNic(a, s, c, r);
    case 'RemoveVMNetworkAdapter':
      for (const [n, vm] of nics(s, a.nics, c, r)) {
        requireOffForHotplug(vm, c, 'remove a network adapter from');
        s.vmNics = s.vmNics.filter((x) => x.id !== n.id);
      }
      return [];
    case 'SetVMNetworkAdapter':
      for (const [n, vm] of nics(s, a.nics, c, r)) setNic(a, n, vm, c);
      return [];
    case 'ConnectVMNetworkAdapter': {
      const sw = findSwitch(s, a.switchName);
      for (const [n] of nics(s, a.nics, c, r)) n.switchName = sw.name;
      return [];
    }
    case 'DisconnectVMNetworkAdapter':
      for (const [n] of nics(s, a.nics, c, r)) n.switchName = null;
      return [];
    case 'GetVMSwitch': {
      const out = byNames(s.switches, a.names, (w) => w.name, (n) => switchNotFound(n), r);
      return out.filter((w) => !a.switchType || w.switchType === a.switchType).map((w) => switchView(w, s));
    }
    case 'NewVMSwitch': return [newSwitch(a, s, c)];
    case 'RemoveVMSwitch':
      for (const name of a.names) removeSwitch(findSwitch(s, name), s);
      return [];
    case 'SetVMSwitch': setSwitch(a, s, c); return [];
    case 'GetNetAdapter':
      return byNames(s.hostAdapters, a.names, (x) => x.name, (n) => cimNotFound('MSFT_NetAdapter', 'Name', n), r)
        .sort((x, y) => x.ifIndex - y.ifIndex).map(netAdapterView);
    case 'GetNetIPAddress': {
      const out = s.ipAddresses.filter((i) => (!a.interfaceAlias || matches(a.interfaceAlias, i.interfaceAlias))
        && (!a.ipAddress || matches(a.ipAddress, i.ipAddress)) && (!a.addressFamily || a.addressFamily === i.addressFamily));
      if (out.length === 0 && (a.interfaceAlias || a.ipAddress)) {
        r.errors.push(a.ipAddress ? cimNotFound('MSFT_NetIPAddress', 'IPAddress', a.ipAddress) : cimNotFound('MSFT_NetIPAddress', 'InterfaceAlias', a.interfaceAlias!));
      }
      return out.map((i) => ipAddressView(i, s));
    }
    case 'NewNetIPAddress': return [newIpAddress(a, s)];
    case 'RemoveNetIPAddress': {
      const hit = s.ipAddresses.filter((i) => (!a.interfaceAlias || matches(a.interfaceAlias, i.interfaceAlias)) && (!a.ipAddress || i.ipAddress === a.ipAddress));
      if (hit.length === 0) throw cimNotFound('MSFT_NetIPAddress', a.ipAddress ? 'IPAddress' : 'InterfaceAlias', a.ipAddress ?? a.interfaceAlias ?? '');
      s.ipAddresses = s.ipAddresses.filter((i) => !hit.includes(i));
      return [];
    }
    case 'GetNetNat': return byNames(s.nats, a.names, (n) => n.name, (n) => cimNotFound('MSFT_NetNat', 'Name', n), r).map(natView);
    case 'NewNetNat': return [newNat(a, s)];
    case 'RemoveNetNat': {
      const hit = byNames(s.nats, a.names, (n) => n.name, (n) => cimNotFound('MSFT_NetNat', 'Name', n), r);
      s.nats = s.nats.filter((n) => !hit.includes(n));
      return [];
    }
    case 'AddNetNatStaticMapping': return [addStaticMapping(a, s)];
    case 'GetNetNatStaticMapping':
      // Active is False when the host could not listen on 127.0.0.1:ExternalPort (the port is taken by another program)
      return staticMappings(a, s, r).map(([n, m]) => natStaticMappingView(n, m,
        !c.network?.staticMappingStates(n.name).some((x) => x.id === m.staticMappingID && x.error !== null)));
    case 'RemoveNetNatStaticMapping': {
      const hit = staticMappings(a, s, r).map(([, m]) => m);
      for (const n of s.nats) if (n.staticMappings) n.staticMappings = n.staticMappings.filter((m) => !hit.includes(m));
      return [];
    }
    case 'GetDnsClientServerAddress': {
      const adapters = a.interfaceAlias
        ? byNames(s.hostAdapters, [a.interfaceAlias], (x) => x.name, (n) => cimNotFound('MSFT_DNSClientServerAddress', 'InterfaceAlias', n), r)
        : [...s.hostAdapters].sort((x, y) => x.ifIndex - y.ifIndex);
      const out: ViewObject[] = [];
      for (const ad of adapters) {
        for (const fam of ['IPv4', 'IPv6'] as const) {
          if (a.addressFamily && a.addressFamily !== fam) continue;
          out.push(dnsView(ad.name, fam, s.dns.find((d) => eq(d.interfaceAlias, ad.name) && d.addressFamily === fam), s));
        }
      }
      return out;
    }
    case 'SetDnsClientServerAddress': setDns(a, s); return [];
    case 'AddDnsServer': addDnsServer(a, s); return [];
    default: throw new Error(`not a network action: ${a.kind}`);
  }
}

function byNames<T>(items: T[], names: readonly string[] | undefined, nameOf: (t: T) => string,
  notFound: (n: string) => ManagementError, r: ResultBuilder): T[] {
  if (!names || names.length === 0) return [...items];
  const out: T[] = [];
  for (const n of names) {
    const hits = items.filter((i) => matches(n, nameOf(i)));
    if (hits.length === 0 && !hasWildcard(n)) r.errors.push(notFound(n));
    for (const h of hits) if (!out.includes(h)) out.push(h);
  }
  return out;
}

function findSwitch(s: InventoryState, name: string): SwitchRecord {
  const w = s.switches.find((x) => eq(x.name, name));
  if (!w) throw switchNotFound(name);
  return w;
}

export function findHostAdapter(s: InventoryState, alias?: string, index?: number): HostAdapterRecord {
  if (alias !== undefined) {
    const a = s.hostAdapters.find((x) => eq(x.name, alias));
    if (!a) throw cimNotFound('MSFT_NetAdapter', 'InterfaceAlias', alias);
    if (index !== undefined && a.ifIndex !== index) {
      throw new ManagementError(`The interface alias '${alias}' and the interface index ${index} name different adapters.`, 'InvalidArgument', 'InvalidParameter');
    }
    return a;
  }
  if (index !== undefined) {
    const a = s.hostAdapters.find((x) => x.ifIndex === index);
    if (!a) throw cimNotFound('MSFT_NetAdapter', 'InterfaceIndex', String(index));
    return a;
  }
  throw new ManagementError('Specify the interface with -InterfaceAlias or -InterfaceIndex.', 'InvalidArgument', 'MissingMandatoryParameter');
}

/** Adapters named by a target, each with its VM; a named adapter that is absent is an error. */
function nics(s: InventoryState, t: NicTarget | undefined, c: Controller, r: ResultBuilder): Array<[VmNicRecord, VmRecord]> {
  const vmOf = (n: VmNicRecord) => s.vms.find((v) => v.id === n.vmId)!;
  if (!t) return s.vmNics.map((n) => [n, vmOf(n)]);
  if ('ids' in t) {
    return t.ids.map((id) => {
      const n = s.vmNics.find((x) => x.id === id);
      if (!n) throw new ManagementError('The network adapter no longer exists.', 'ObjectNotFound', 'ObjectNotFound');
      return [n, vmOf(n)] as [VmNicRecord, VmRecord];
    });
  }
  const out: Array<[VmNicRecord, VmRecord]> = [];
  for (const vm of c.resolveVms(s, t.vm, r)) {
    const mine = s.vmNics.filter((n) => n.vmId === vm.id && (!t.name || matches(t.name, n.name)));
    if (mine.length === 0 && t.name && !hasWildcard(t.name)) {
      throw new ManagementError(`Hyper-V was unable to find a network adapter named "${t.name}" on virtual machine "${vm.name}".`,
        'InvalidArgument', 'InvalidParameter', t.name, 'String');
    }
    for (const n of mine) out.push([n, vm]);
  }
  return out;
}

function requireOffForHotplug(vm: VmRecord, c: Controller, what: string): void {
  const st = c.stateOf(vm);
  // Generation 2 VMs take network adapters hot; generation 1 needs the VM off.
  if (st !== 'Off' && vm.generation === 1) {
    throw new ManagementError(`Unable to ${what} '${vm.name}' while it is ${st}: a generation 1 virtual machine must be turned off.`,
      'InvalidOperation', 'InvalidState', vm.name, 'VirtualMachine');
  }
}

function addNic(a: A<'AddVMNetworkAdapter'>, s: InventoryState, c: Controller, r: ResultBuilder): ViewObject[] {
  const out: ViewObject[] = [];
  for (const vm of c.resolveVms(s, a.vm, r)) {
    requireOffForHotplug(vm, c, 'add a network adapter to');
    const sw = a.switchName !== undefined ? findSwitch(s, a.switchName).name : null;
    let mac: string;
    if (a.staticMacAddress !== undefined) {
      const m = parseMac(a.staticMacAddress);
      if (!m) throw invalidMac(a.staticMacAddress);
      mac = m;
    } else mac = allocateMac(s);
    const n: VmNicRecord = { id: c.newId(), vmId: vm.id, name: a.name ?? 'Network Adapter', macAddress: mac,
      dynamicMacAddress: a.staticMacAddress === undefined, macAddressSpoofing: 'Off', switchName: sw };
    s.vmNics.push(n);
    out.push(nicView(n, vm));
  }
  return out;
}

function invalidMac(text: string): ManagementError {
  return new ManagementError(`'${text}' is not a valid static MAC address: use 12 hexadecimal digits of a unicast address, for example 00155D0A0B01.`,
    'InvalidArgument', 'InvalidParameter', text, 'String');
}

function setNic(a: A<'SetVMNetworkAdapter'>, n: VmNicRecord, vm: VmRecord, c: Controller): void {
  // seed "Usurpation des adresses MAC": allowed at any time, running or not.
  if (a.macAddressSpoofing !== undefined) n.macAddressSpoofing = a.macAddressSpoofing;
  if (a.staticMacAddress !== undefined || a.dynamicMacAddress) {
    if (c.stateOf(vm) !== 'Off') {
      throw failedToModify('Ethernet Connection', vm.name, 'The MAC address of a network adapter can only be changed while the virtual machine is turned off.', vm.id);
    }
    if (a.staticMacAddress !== undefined) {
      const m = parseMac(a.staticMacAddress);
      if (!m) throw invalidMac(a.staticMacAddress);
      n.macAddress = m;
      n.dynamicMacAddress = false;
    } else n.dynamicMacAddress = true;
  }
}

function vEthernetName(sw: string): string {
  return `vEthernet (${sw})`;
}

/** The host adapter an Internal switch (or External with AllowManagementOS) creates. */
function addVEthernet(sw: SwitchRecord, s: InventoryState): void {
  const base = 'Hyper-V Virtual Ethernet Adapter';
  const used = new Set(s.hostAdapters.map((a) => a.interfaceDescription));
  let desc = base;
  for (let i = 2; used.has(desc); i++) desc = `${base} #${i}`;
  const mac = allocateMac(s).replace(/(..)(?!$)/g, '$1-');
  s.hostAdapters.push({ name: vEthernetName(sw.name), ifIndex: s.host.nextIfIndex++, interfaceDescription: desc, macAddress: mac, switchName: sw.name });
}

function removeVEthernet(sw: SwitchRecord, s: InventoryState): void {
  const alias = vEthernetName(sw.name);
  s.hostAdapters = s.hostAdapters.filter((a) => a.switchName !== sw.name);
  s.ipAddresses = s.ipAddresses.filter((i) => !eq(i.interfaceAlias, alias));
  s.routes = s.routes.filter((i) => !eq(i.interfaceAlias, alias));
  s.dns = s.dns.filter((i) => !eq(i.interfaceAlias, alias));
}

function newSwitch(a: A<'NewVMSwitch'>, s: InventoryState, c: Controller): ViewObject {
  const bad = nameError('virtual switch', a.name);
  if (bad) throw new ManagementError(bad, 'InvalidArgument', 'InvalidParameter', a.name, 'String');
  if (a.switchType && a.netAdapterName !== undefined) {
    throw new ManagementError('Parameter set cannot be resolved using the specified named parameters.', 'InvalidArgument', 'AmbiguousParameterSet', '', '', 'ParameterBindingException');
  }
  if (!a.switchType && a.netAdapterName === undefined) {
    throw new ManagementError('Cannot process command because of one or more missing mandatory parameters: NetAdapterName.',
      'InvalidArgument', 'MissingMandatoryParameter', '', '', 'ParameterBindingException');
  }
  if (s.switches.some((w) => eq(w.name, a.name))) {
    throw new ManagementError(`Failed while adding virtual Ethernet switch.\nA virtual switch named '${a.name}' already exists.`, 'ResourceExists', 'ObjectExists', a.name, 'String');
  }
  let sw: SwitchRecord;
  if (a.netAdapterName !== undefined) {
    const up = s.hostAdapters.find((x) => eq(x.name, a.netAdapterName!));
    if (!up || up.switchName) throw cimNotFound('MSFT_NetAdapter', 'Name', a.netAdapterName);
    const bound = s.switches.find((w) => w.switchType === 'External' && w.netAdapterName === up.name);
    if (bound) {
      throw new ManagementError(`Failed while adding virtual Ethernet switch.\nThe network adapter '${up.name}' is already bound to the external virtual switch '${bound.name}'.`,
        'InvalidOperation', 'InvalidOperation', up.name, 'String');
    }
    sw = { id: c.newId(), name: a.name, switchType: 'External', netAdapterName: up.name, allowManagementOS: a.allowManagementOS ?? true, notes: a.notes ?? '' };
  } else {
    sw = { id: c.newId(), name: a.name, switchType: a.switchType!, netAdapterName: null, allowManagementOS: a.switchType === 'Internal', notes: a.notes ?? '' };
  }
  s.switches.push(sw);
  // seed "Traduction d'adresses réseau (NAT)": an Internal switch gives the host "vEthernet (NAME)".
  if (sw.switchType === 'Internal' || (sw.switchType === 'External' && sw.allowManagementOS)) addVEthernet(sw, s);
  return switchView(sw, s);
}

function removeSwitch(sw: SwitchRecord, s: InventoryState): void {
  const users = s.vmNics.filter((n) => n.switchName !== null && eq(n.switchName, sw.name));
  if (users.length) {
    const vms = [...new Set(users.map((n) => s.vms.find((v) => v.id === n.vmId)?.name ?? '?'))];
    throw new ManagementError(`The virtual switch '${sw.name}' cannot be deleted because it is in use by network adapters of: ${vms.join(', ')}. Disconnect them first (Disconnect-VMNetworkAdapter).`,
      'InvalidOperation', 'InvalidOperation', sw.name, 'VMSwitch');
  }
  removeVEthernet(sw, s);
  s.switches = s.switches.filter((w) => w !== sw);
}

function setSwitch(a: A<'SetVMSwitch'>, s: InventoryState, c: Controller): void {
  const sw = findSwitch(s, a.name);
  if (a.netAdapterName !== undefined) {
    throw new ManagementError('Changing a switch to External is not supported by Nestvisor; create a new switch with New-VMSwitch -NetAdapterName.',
      'InvalidOperation', 'InvalidOperation', sw.name, 'VMSwitch');
  }
  if (a.switchType && a.switchType !== sw.switchType) {
    if (sw.switchType === 'Internal' || sw.allowManagementOS) removeVEthernet(sw, s);
    sw.switchType = a.switchType;
    sw.netAdapterName = null;
    sw.allowManagementOS = a.switchType === 'Internal';
    if (sw.switchType === 'Internal') addVEthernet(sw, s);
  }
  if (a.notes !== undefined) sw.notes = a.notes;
  void c;
}

function newIpAddress(a: A<'NewNetIPAddress'>, s: InventoryState): ViewObject {
  if (a.addressFamily === 'IPv6' || a.ipAddress.includes(':')) {
    throw new ManagementError('IPv6 addresses are not supported by Nestvisor yet.', 'NotSpecified', 'Windows System Error 87', 'MSFT_NetIPAddress', 'ROOT/StandardCimv2/MSFT_NetIPAddress', 'CimException');
  }
  const ad = findHostAdapter(s, a.interfaceAlias, a.interfaceIndex);
  const addr = parseIPv4(a.ipAddress);
  const prefixLength = a.prefixLength ?? (addr !== null && addr >>> 30 === 2 ? 16 : addr !== null && addr >>> 31 === 0 ? 8 : 24);
  const bad = hostAddressError(a.ipAddress, prefixLength);
  if (bad) throw new ManagementError(`The parameter is incorrect. ${bad}`, 'InvalidArgument', 'Windows System Error 87', 'MSFT_NetIPAddress', 'ROOT/StandardCimv2/MSFT_NetIPAddress', 'CimException');
  // Windows refuses an address the host already has, whichever interface holds it.
  if (s.ipAddresses.some((i) => i.ipAddress === a.ipAddress)) {
    throw new ManagementError('Instance MSFT_NetIPAddress already exists', 'ResourceExists', 'Windows System Error 5010',
      'MSFT_NetIPAddress', 'ROOT/StandardCimv2/MSFT_NetIPAddress', 'CimException');
  }
  if (a.defaultGateway !== undefined) {
    const gw = parseIPv4(a.defaultGateway);
    const net = parsePrefix(`${a.ipAddress}/${prefixLength}`)!;
    if (gw === null || gw === addr || !inPrefix(gw, net)) {
      throw new ManagementError(`The parameter is incorrect. The default gateway '${a.defaultGateway}' is not a valid address on ${formatIPv4(net.network)}/${prefixLength} other than '${a.ipAddress}'.`,
        'InvalidArgument', 'Windows System Error 87', 'MSFT_NetIPAddress', 'ROOT/StandardCimv2/MSFT_NetIPAddress', 'CimException');
    }
    if (s.routes.some((r) => eq(r.interfaceAlias, ad.name) && r.destinationPrefix === '0.0.0.0/0' && r.nextHop === a.defaultGateway)) {
      throw new ManagementError('Instance MSFT_NetRoute already exists', 'ResourceExists', 'Windows System Error 5010', 'MSFT_NetRoute', 'ROOT/StandardCimv2/MSFT_NetRoute', 'CimException');
    }
    s.routes.push({ interfaceAlias: ad.name, destinationPrefix: '0.0.0.0/0', nextHop: a.defaultGateway });
  }
  const rec = { ipAddress: a.ipAddress, interfaceAlias: ad.name, addressFamily: 'IPv4' as const, prefixLength };
  s.ipAddresses.push(rec);
  return ipAddressView(rec, s);
}

function newNat(a: A<'NewNetNat'>, s: InventoryState): ViewObject {
  const p = parsePrefix(a.internalIPInterfaceAddressPrefix);
  const bad = (msg: string) => new ManagementError(`The parameter is incorrect. ${msg}`, 'InvalidArgument', 'Windows System Error 87', 'MSFT_NetNat', 'ROOT/StandardCimv2/MSFT_NetNat', 'CimException');
  if (!p) throw bad(`'${a.internalIPInterfaceAddressPrefix}' is not an IPv4 prefix such as 192.168.100.0/24.`);
  const canonical = `${formatIPv4(p.network)}/${p.length}`;
  if (canonical !== a.internalIPInterfaceAddressPrefix.trim()) throw bad(`'${a.internalIPInterfaceAddressPrefix}' has host bits set; did you mean ${canonical}?`);
  if (s.nats.some((n) => eq(n.name, a.name))) {
    throw new ManagementError('Instance MSFT_NetNat already exists', 'ResourceExists', 'Windows System Error 5010', 'MSFT_NetNat', 'ROOT/StandardCimv2/MSFT_NetNat', 'CimException');
  }
  for (const n of s.nats) {
    if (prefixesOverlap(p, parsePrefix(n.internalIPInterfaceAddressPrefix)!)) {
      throw bad(`The internal prefix ${canonical} overlaps ${n.internalIPInterfaceAddressPrefix} of NAT '${n.name}'; NAT prefixes may not overlap.`);
    }
  }
  const rec = { name: a.name, internalIPInterfaceAddressPrefix: canonical };
  s.nats.push(rec);
  return natView(rec);
}

function checkDnsAddress(addr: string): void {
  if (parseIPv4(addr) === null) {
    throw new ManagementError(`The parameter is incorrect. '${addr}' is not a valid IPv4 DNS server address.`, 'InvalidArgument', 'Windows System Error 87',
      'MSFT_DNSClientServerAddress', 'ROOT/StandardCimv2/MSFT_DNSClientServerAddress', 'CimException');
  }
}

function setDns(a: A<'SetDnsClientServerAddress'>, s: InventoryState): void {
  const ad = findHostAdapter(s, a.interfaceAlias, a.interfaceIndex);
  s.dns = s.dns.filter((d) => !(eq(d.interfaceAlias, ad.name) && d.addressFamily === 'IPv4'));
  if (a.reset) return;
  const list = a.serverAddresses ?? [];
  list.forEach(checkDnsAddress);
  if (list.length) s.dns.push({ interfaceAlias: ad.name, addressFamily: 'IPv4', serverAddresses: [...list] });
}

/** netsh's own wording: plain text, no error record (netsh is not a cmdlet). */
function addDnsServer(a: A<'AddDnsServer'>, s: InventoryState): void {
  const ad = s.hostAdapters.find((x) => eq(x.name, a.interfaceAlias));
  if (!ad) throw new ManagementError(`The interface "${a.interfaceAlias}" was not found. Run "Get-NetAdapter" to list the interfaces.`, 'ObjectNotFound', 'netsh');
  if (parseIPv4(a.address) === null) throw new ManagementError(`${a.address} is not an acceptable value for address.`, 'InvalidArgument', 'netsh');
  let rec = s.dns.find((d) => eq(d.interfaceAlias, ad.name) && d.addressFamily === 'IPv4');
  if (!rec) { rec = { interfaceAlias: ad.name, addressFamily: 'IPv4', serverAddresses: [] }; s.dns.push(rec); }
  if (rec.serverAddresses.includes(a.address)) throw new ManagementError('The object is already in the list.', 'ResourceExists', 'netsh');
  const at = a.index !== undefined ? Math.max(0, Math.min(rec.serverAddresses.length, a.index - 1)) : rec.serverAddresses.length;
  rec.serverAddresses.splice(at, 0, a.address);
}

/** Windows' errors as the NetNat cmdlets relay them ("Windows System Error N"). */
function winError(code: number, message: string, category: 'InvalidArgument' | 'ResourceExists', target: string): ManagementError {
  return new ManagementError(message, category, `Windows System Error ${code}`, target, 'String', 'CimException');
}

/** Add-NetNatStaticMapping (seed NAT section: inbound connections to a guest behind LocalNAT). */
function addStaticMapping(a: A<'AddNetNatStaticMapping'>, s: InventoryState): ViewObject {
  const nat = s.nats.find((n) => eq(n.name, a.natName));
  if (!nat) throw cimNotFound('MSFT_NetNat', 'Name', a.natName);
  const proto = a.protocol.toUpperCase();
  if (proto === 'UDP') {
    throw new ManagementError('Nestvisor\'s NetNat forwards TCP static mappings only; use -Protocol TCP.', 'InvalidArgument', 'UdpStaticMappingNotSupported', a.protocol, 'String', 'CimException');
  }
  const ext = parseIPv4(a.externalIPAddress);
  if (ext === null) throw winError(87, 'The parameter is incorrect.', 'InvalidArgument', a.externalIPAddress);
  if (a.externalIPAddress !== '0.0.0.0' && a.externalIPAddress !== '127.0.0.1') {
    throw new ManagementError(`Nestvisor listens for static mappings on 127.0.0.1 only, so guests are never exposed beyond this machine; use -ExternalIPAddress 0.0.0.0 (or 127.0.0.1) instead of '${a.externalIPAddress}'.`,
      'InvalidArgument', 'ExternalAddressNotLoopback', a.externalIPAddress, 'String', 'CimException');
  }
  const prefix = parsePrefix(nat.internalIPInterfaceAddressPrefix);
  const internal = parseIPv4(a.internalIPAddress);
  if (internal === null || !prefix || !inPrefix(internal, prefix)) throw winError(87, 'The parameter is incorrect.', 'InvalidArgument', a.internalIPAddress);
  const all = s.nats.flatMap((n) => n.staticMappings ?? []);
  // WinNAT refuses a second mapping of one external address and port (ERROR_SHARING_VIOLATION)
  if (all.some((m) => m.externalPort === a.externalPort)) {
    throw winError(32, 'The process cannot access the file because it is being used by another process.', 'ResourceExists', String(a.externalPort));
  }
  const m: NatStaticMappingRecord = {
    staticMappingID: all.reduce((x, y) => Math.max(x, y.staticMappingID + 1), 0), protocol: 'TCP',
    externalIPAddress: formatIPv4(ext), externalPort: a.externalPort, internalIPAddress: formatIPv4(internal), internalPort: a.internalPort,
  };
  (nat.staticMappings ??= []).push(m);
  return natStaticMappingView(nat, m);
}

/** The mappings -NatName / -StaticMappingID select; an id that selects nothing is an error. */
function staticMappings(a: A<'GetNetNatStaticMapping' | 'RemoveNetNatStaticMapping'>, s: InventoryState, r: ResultBuilder): Array<[NatRecord, NatStaticMappingRecord]> {
  const nats = byNames(s.nats, a.natNames, (n) => n.name, (n) => cimNotFound('MSFT_NetNat', 'Name', n), r);
  const all = nats.flatMap((n) => (n.staticMappings ?? []).map((m) => [n, m] as [NatRecord, NatStaticMappingRecord]));
  if (!a.ids) return all;
  const out: Array<[NatRecord, NatStaticMappingRecord]> = [];
  for (const id of a.ids) {
    const hit = all.filter(([, m]) => m.staticMappingID === id);
    if (hit.length === 0) r.errors.push(cimNotFound('MSFT_NetNatStaticMapping', 'StaticMappingID', String(id)));
    out.push(...hit);
  }
  return out;
}
