/**
 * Out-Default: how values become text. Hyper-V and NetTCPIP objects use PowerShell's default
 * views for their types (the columns Get-VM, Get-VMSwitch, Get-NetAdapter... print); other
 * objects follow PowerShell's rule of a table up to four properties and a list beyond.
 */
import { FormattedText, PSObject, ScriptBlock, numberToString, toStr, type Value } from './values.js';

interface Column { header: string; get: (o: PSObject) => Value }
interface View { kind: 'table' | 'list'; columns: Column[] }

const MB = 1024 * 1024;
const prop = (name: string, header = name): Column => ({ header, get: (o) => o.get(name) ?? null });
const mb = (name: string, header: string): Column => ({ header, get: (o) => Math.round(Number(o.get(name) ?? 0) / MB) });

const VIEWS: Record<string, View> = {
  'Microsoft.HyperV.PowerShell.VirtualMachine': { kind: 'table', columns: [
    prop('Name'), prop('State'), prop('CPUUsage', 'CPUUsage(%)'), mb('MemoryAssigned', 'MemoryAssigned(M)'),
    prop('Uptime'), prop('Status'), prop('Version')] },
  'Microsoft.HyperV.PowerShell.VMProcessor': { kind: 'table', columns: [
    prop('VMName'), prop('Count'), prop('CompatibilityForMigrationEnabled'), prop('CompatibilityForOlderOperatingSystemsEnabled')] },
  'Microsoft.HyperV.PowerShell.VMMemory': { kind: 'table', columns: [
    prop('VMName'), prop('DynamicMemoryEnabled'), mb('Minimum', 'Minimum(M)'), mb('Startup', 'Startup(M)'), mb('Maximum', 'Maximum(M)')] },
  'Microsoft.HyperV.PowerShell.VMNetworkAdapter': { kind: 'table', columns: [
    prop('Name'), prop('IsManagementOs'), prop('VMName'), prop('SwitchName'), prop('MacAddress'), prop('Status'), prop('IPAddresses')] },
  'Microsoft.HyperV.PowerShell.VMSwitch': { kind: 'table', columns: [prop('Name'), prop('SwitchType'), prop('NetAdapterInterfaceDescription')] },
  'Microsoft.HyperV.PowerShell.VMHost': { kind: 'table', columns: [
    prop('Name'), prop('LogicalProcessorCount'), mb('MemoryCapacity', 'MemoryCapacity(M)'), prop('VirtualMachineMigrationEnabled')] },
  'Microsoft.HyperV.PowerShell.VMHostSupportedVersion': { kind: 'table', columns: [prop('Name'), prop('Version'), prop('IsDefault')] },
  'Microsoft.Management.Infrastructure.CimInstance#ROOT/StandardCimv2/MSFT_NetAdapter': { kind: 'table', columns: [
    prop('Name'), prop('InterfaceDescription'), prop('ifIndex'), prop('Status'), prop('MacAddress'), prop('LinkSpeed')] },
  'Microsoft.Management.Infrastructure.CimInstance#ROOT/StandardCimv2/MSFT_NetIPAddress': { kind: 'list', columns: [
    'IPAddress', 'InterfaceIndex', 'InterfaceAlias', 'AddressFamily', 'Type', 'PrefixLength', 'PrefixOrigin', 'SuffixOrigin',
    'AddressState', 'ValidLifetime', 'PreferredLifetime', 'SkipAsSource', 'PolicyStore'].map((p) => prop(p)) },
  'Microsoft.Management.Infrastructure.CimInstance#ROOT/StandardCimv2/MSFT_NetNat': { kind: 'list', columns: [
    'Name', 'ExternalIPInterfaceAddressPrefix', 'InternalIPInterfaceAddressPrefix', 'IcmpQueryTimeout', 'TcpEstablishedConnectionTimeout',
    'TcpTransientConnectionTimeout', 'TcpFilteringBehavior', 'UdpFilteringBehavior', 'UdpIdleSessionTimeout', 'UdpInboundRefresh',
    'Store', 'Active'].map((p) => prop(p)) },
  'Microsoft.Management.Infrastructure.CimInstance#ROOT/StandardCimv2/MSFT_DNSClientServerAddress': { kind: 'table', columns: [
    prop('InterfaceAlias'), prop('InterfaceIndex', 'Interface Index'), prop('AddressFamily', 'Address Family'), prop('ServerAddresses')] },
  'Nestvisor.NestedVirtualizationCheck': { kind: 'table', columns: [prop('Target'), prop('Check'), prop('Status'), prop('Message')] },
  'Nestvisor.SwitchPortStatistics': { kind: 'table', columns: [
    prop('SwitchName'), prop('PortName'), prop('MacAddressSpoofing', 'Spoofing'), prop('SentFrames'), prop('ReceivedFrames'),
    prop('DroppedMacAddressSpoofing'), prop('DroppedMalformed')] },
  'Nestvisor.PacketCapture': { kind: 'table', columns: [prop('Id'), prop('SwitchName'), prop('VMName'), prop('Frames'), prop('Running'), prop('Path')] },
  'System.Management.Automation.CmdletInfo': { kind: 'table', columns: [prop('CommandType'), prop('Name'), prop('Version'), prop('Source')] },
};

/** The text of one cell or list value, as PowerShell renders it. */
export function displayValue(v: Value): string {
  if (v === null) return '';
  if (Array.isArray(v)) {
    const shown = v.slice(0, 4).map(displayValue);
    return `{${shown.join(', ')}${v.length > 4 ? '...' : ''}}`;
  }
  if (typeof v === 'number') return numberToString(v);
  if (v instanceof PSObject) {
    const name = v.get('Name');
    const short = v.typeName.split(/[.#/]/).pop() ?? v.typeName;
    return typeof name === 'string' ? `${short} (Name = '${name}')` : short;
  }
  return toStr(v);
}

function viewFor(o: PSObject, explicit?: 'table' | 'list', props?: string[]): View {
  if (props && props.length && !(props.length === 1 && props[0] === '*')) {
    return { kind: explicit ?? (props.length <= 4 ? 'table' : 'list'), columns: props.map((p) => prop(realName(o, p))) };
  }
  const v = VIEWS[o.typeName] ?? remoteView(o);
  if (v && !(props && props[0] === '*')) return explicit ? { ...v, kind: explicit } : v;
  const names = Object.keys(o.props);
  return { kind: explicit ?? (names.length <= 4 ? 'table' : 'list'), columns: names.map((n) => prop(n)) };
}

/** Objects from Invoke-Command keep their type's view (PowerShell matches "Deserialized.T" to T's) plus PSComputerName. */
function remoteView(o: PSObject): View | undefined {
  if (!o.typeName.startsWith('Deserialized.')) return undefined;
  const base = VIEWS[o.typeName.slice('Deserialized.'.length)];
  if (!base || !o.has('PSComputerName')) return base;
  return { ...base, columns: [...base.columns, prop('PSComputerName')] };
}

function realName(o: PSObject, p: string): string {
  return Object.keys(o.props).find((k) => k.toLowerCase() === p.toLowerCase()) ?? p;
}

export function formatTable(objs: PSObject[], columns: Column[]): string {
  const cells = objs.map((o) => columns.map((c) => displayValue(c.get(o))));
  const right = columns.map((c, i) => objs.length > 0 && objs.every((o) => typeof c.get(o) === 'number') && VIEWS[objs[0].typeName] === undefined ? i : -1);
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i].length)));
  const line = (vals: string[]) => vals.map((v, i) => (right[i] === i ? v.padStart(widths[i]) : i === vals.length - 1 ? v : v.padEnd(widths[i]))).join(' ').trimEnd();
  const out = ['', line(columns.map((c) => c.header)), line(columns.map((c) => '-'.repeat(c.header.length))), ...cells.map(line), ''];
  return out.join('\n') + '\n';
}

export function formatList(objs: PSObject[], columnsOf: (o: PSObject) => Column[]): string {
  const blocks = objs.map((o) => {
    const cols = columnsOf(o);
    const w = Math.max(...cols.map((c) => c.header.length));
    return cols.map((c) => `${c.header.padEnd(w)} : ${displayValue(c.get(o))}`.trimEnd()).join('\n');
  });
  return '\n' + blocks.join('\n\n') + '\n\n';
}

/** Formats objects of one kind with Format-Table / Format-List / the default view. */
export function formatObjects(objs: PSObject[], kind?: 'table' | 'list', props?: string[]): string {
  if (objs.length === 0) return '';
  const v = viewFor(objs[0], kind, props);
  return v.kind === 'table' ? formatTable(objs, v.columns) : formatList(objs, (o) => viewFor(o, kind, props).columns);
}

function formatHashtables(maps: Map<string, Value>[]): string {
  const rows = maps.flatMap((m) => [...m].map(([k, v]) => new PSObject('Hashtable', { Name: k, Value: v })));
  return formatTable(rows, [prop('Name'), prop('Value')]);
}

/** Out-Default / Out-String over a stream of values. */
export function formatValues(values: Value[]): string {
  let out = '';
  let i = 0;
  const flat: Value[] = [];
  for (const v of values) { if (Array.isArray(v)) flat.push(...v); else flat.push(v); }
  while (i < flat.length) {
    const v = flat[i];
    if (v instanceof PSObject) {
      const group: PSObject[] = [];
      while (i < flat.length && flat[i] instanceof PSObject && (flat[i] as PSObject).typeName === v.typeName) group.push(flat[i++] as PSObject);
      out += formatObjects(group);
      continue;
    }
    if (v instanceof Map) {
      const group: Map<string, Value>[] = [];
      while (i < flat.length && flat[i] instanceof Map) group.push(flat[i++] as Map<string, Value>);
      out += formatHashtables(group);
      continue;
    }
    i++;
    if (v === null) continue;
    if (v instanceof FormattedText) { out += v.text; continue; }
    if (v instanceof ScriptBlock) { out += v.text + '\n'; continue; }
    out += toStr(v) + '\n';
  }
  return out;
}
