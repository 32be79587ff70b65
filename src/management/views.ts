/**
 * What each cmdlet writes: the properties of Hyper-V's and NetTCPIP's objects, built from
 * inventory records plus runtime facts. Type names are the .NET/CIM ones so the shell can
 * pick PowerShell's default view for each.
 */
import type { ViewObject } from './actions.js';
import type { NatStaticMappingRecord,
  DnsRecord, HostAdapterRecord, InventoryState, IpAddressRecord, NatRecord, SwitchRecord, VMState, VmNicRecord, VmRecord,
} from './model.js';
import { findCpuProfile, nestingUnsupportedReason } from '../hypervisor/cpu-profile.js';
import { SUPPORTED_VERSIONS, type SupportedVersion } from './versions.js';

export const T = {
  VM: 'Microsoft.HyperV.PowerShell.VirtualMachine',
  Processor: 'Microsoft.HyperV.PowerShell.VMProcessor',
  Memory: 'Microsoft.HyperV.PowerShell.VMMemory',
  Nic: 'Microsoft.HyperV.PowerShell.VMNetworkAdapter',
  Switch: 'Microsoft.HyperV.PowerShell.VMSwitch',
  Host: 'Microsoft.HyperV.PowerShell.VMHost',
  Version: 'Microsoft.HyperV.PowerShell.VMHostSupportedVersion',
  NetAdapter: 'Microsoft.Management.Infrastructure.CimInstance#ROOT/StandardCimv2/MSFT_NetAdapter',
  IpAddress: 'Microsoft.Management.Infrastructure.CimInstance#ROOT/StandardCimv2/MSFT_NetIPAddress',
  Nat: 'Microsoft.Management.Infrastructure.CimInstance#ROOT/StandardCimv2/MSFT_NetNat',
  NatStaticMapping: 'Microsoft.Management.Infrastructure.CimInstance#ROOT/StandardCimv2/MSFT_NetNatStaticMapping',
  Dns: 'Microsoft.Management.Infrastructure.CimInstance#ROOT/StandardCimv2/MSFT_DNSClientServerAddress',
  Readiness: 'Nestvisor.NestedVirtualizationCheck',
} as const;

export interface VmRuntimeView {
  state: VMState;
  uptimeMs: number;
  memoryAssigned: number;
  /** What the guest says it uses (dynamic memory's demand), when known. */
  memoryDemand?: number;
  vmxActive: boolean;
  status: string;
}

const MBY = 1024 * 1024;

export function formatUptime(ms: number): string {
  const s = Math.floor(ms / 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  const days = Math.floor(s / 86400);
  const hms = `${p(Math.floor(s / 3600) % 24)}:${p(Math.floor(s / 60) % 60)}:${p(s % 60)}`;
  return days > 0 ? `${days}.${hms}` : hms;
}

/**
 * `droppedSpoofing`: frames the switch port dropped because their source MAC was not the
 * adapter's while MacAddressSpoofing was Off (Nestvisor's property; Hyper-V shows it only in the
 * "Hyper-V Virtual Network Adapter Drop Reasons" performance counters). 0 when the VM is off.
 */
export function nicView(n: VmNicRecord, vm: VmRecord, droppedSpoofing = 0): ViewObject {
  return {
    typeName: T.Nic,
    props: {
      Name: n.name, IsManagementOs: false, VMName: vm.name, SwitchName: n.switchName ?? '',
      MacAddress: n.macAddress, Status: n.switchName ? '{Ok}' : '{}', IPAddresses: [],
      MacAddressSpoofing: n.macAddressSpoofing, MacAddressSpoofingDrops: droppedSpoofing, DynamicMacAddressEnabled: n.dynamicMacAddress,
      Connected: n.switchName !== null, VMId: vm.id, Id: `Microsoft:${vm.id.toUpperCase()}\\${n.id.toUpperCase()}`, AdapterId: n.id,
    },
  };
}

export function vmView(vm: VmRecord, rt: VmRuntimeView, s: InventoryState): ViewObject {
  const nics = s.vmNics.filter((n) => n.vmId === vm.id).map((n) => nicView(n, vm));
  return {
    typeName: T.VM,
    props: {
      Name: vm.name, State: rt.state, CPUUsage: 0, MemoryAssigned: rt.memoryAssigned,
      MemoryDemand: rt.memoryDemand ?? (rt.state === 'Running' ? rt.memoryAssigned : 0), MemoryStatus: '',
      Uptime: formatUptime(rt.uptimeMs), Status: rt.status, Version: vm.version, Generation: vm.generation,
      Id: vm.id, VMName: vm.name, VMId: vm.id, ProcessorCount: vm.processorCount,
      MemoryStartup: vm.memory.startupBytes, DynamicMemoryEnabled: vm.memory.dynamicMemoryEnabled,
      MemoryMinimum: vm.memory.minimumBytes, MemoryMaximum: vm.memory.maximumBytes,
      ExposeVirtualizationExtensions: vm.exposeVirtualizationExtensions,
      NetworkAdapters: nics, Notes: vm.notes, CreationTime: vm.creationTime,
      BootImage: vm.bootImage?.path ?? '', KernelCommandLine: vm.bootImage?.commandLine ?? '',
      NestedHypervisorRunning: rt.vmxActive,
    },
  };
}

export function processorView(vm: VmRecord): ViewObject {
  return {
    typeName: T.Processor,
    props: {
      VMName: vm.name, Count: vm.processorCount, CompatibilityForMigrationEnabled: false,
      CompatibilityForOlderOperatingSystemsEnabled: false, ExposeVirtualizationExtensions: vm.exposeVirtualizationExtensions,
      Maximum: 100, Reserve: 0, RelativeWeight: 100, VMId: vm.id,
    },
  };
}

export function memoryView(vm: VmRecord): ViewObject {
  const m = vm.memory;
  return {
    typeName: T.Memory,
    props: {
      VMName: vm.name, DynamicMemoryEnabled: m.dynamicMemoryEnabled, Minimum: m.minimumBytes, Startup: m.startupBytes,
      Maximum: m.maximumBytes, Buffer: m.buffer, Priority: m.priority, VMId: vm.id,
    },
  };
}

export function switchView(w: SwitchRecord, s: InventoryState): ViewObject {
  const uplink = w.netAdapterName ? s.hostAdapters.find((a) => a.name === w.netAdapterName) : undefined;
  return {
    typeName: T.Switch,
    props: {
      Name: w.name, SwitchType: w.switchType, NetAdapterInterfaceDescription: uplink?.interfaceDescription ?? '',
      AllowManagementOS: w.allowManagementOS, Id: w.id, Notes: w.notes,
    },
  };
}

export function hostView(s: InventoryState): ViewObject {
  const p = findCpuProfile(s.host.cpuProfile);
  return {
    typeName: T.Host,
    props: {
      Name: s.host.computerName, ComputerName: s.host.computerName, LogicalProcessorCount: s.host.logicalProcessorCount,
      MemoryCapacity: s.host.memoryCapacityBytes, VirtualMachineMigrationEnabled: false,
      MacAddressMinimum: `00155D${hex(s.host.macPrefixByte)}0000`, MacAddressMaximum: `00155D${hex(s.host.macPrefixByte)}FFFF`,
      SupportedConfigurationVersions: SUPPORTED_VERSIONS.map((v) => v.version),
      CpuProfile: s.host.cpuProfile, CpuVendor: p?.vendor ?? '', CpuModel: p?.model ?? '',
      VtxSupported: p?.vtx ?? false, EptSupported: p?.ept ?? false,
      NestedVirtualizationSupported: p ? nestingUnsupportedReason(p) === null : false,
    },
  };
}

export function versionView(v: SupportedVersion): ViewObject {
  return { typeName: T.Version, props: { Name: v.name, Version: v.version, IsDefault: v.isDefault } };
}

export function netAdapterView(a: HostAdapterRecord): ViewObject {
  return {
    typeName: T.NetAdapter,
    props: {
      Name: a.name, InterfaceDescription: a.interfaceDescription, ifIndex: a.ifIndex, Status: 'Up',
      MacAddress: a.macAddress, LinkSpeed: '10 Gbps', InterfaceAlias: a.name, ifAlias: a.name, InterfaceIndex: a.ifIndex,
    },
  };
}

export function ipAddressView(i: IpAddressRecord, s: InventoryState): ViewObject {
  const a = s.hostAdapters.find((x) => x.name === i.interfaceAlias);
  return {
    typeName: T.IpAddress,
    props: {
      IPAddress: i.ipAddress, InterfaceIndex: a?.ifIndex ?? 0, InterfaceAlias: i.interfaceAlias, AddressFamily: i.addressFamily,
      Type: 'Unicast', PrefixLength: i.prefixLength, PrefixOrigin: 'Manual', SuffixOrigin: 'Manual', AddressState: 'Preferred',
      ValidLifetime: 'Infinite ([TimeSpan]::MaxValue)', PreferredLifetime: 'Infinite ([TimeSpan]::MaxValue)',
      SkipAsSource: false, PolicyStore: 'ActiveStore',
    },
  };
}

export function natView(n: NatRecord): ViewObject {
  return {
    typeName: T.Nat,
    props: {
      Name: n.name, ExternalIPInterfaceAddressPrefix: '', InternalIPInterfaceAddressPrefix: n.internalIPInterfaceAddressPrefix,
      IcmpQueryTimeout: 30, TcpEstablishedConnectionTimeout: 1800, TcpTransientConnectionTimeout: 120,
      TcpFilteringBehavior: 'AddressDependentFiltering', UdpFilteringBehavior: 'AddressDependentFiltering',
      UdpIdleSessionTimeout: 120, UdpInboundRefresh: false, Store: 'Local', Active: true,
    },
  };
}

export function dnsView(alias: string, family: 'IPv4' | 'IPv6', rec: DnsRecord | undefined, s: InventoryState): ViewObject {
  const a = s.hostAdapters.find((x) => x.name === alias);
  return {
    typeName: T.Dns,
    props: { InterfaceAlias: alias, InterfaceIndex: a?.ifIndex ?? 0, AddressFamily: family, ServerAddresses: rec?.serverAddresses ?? [] },
  };
}

export function readinessItem(target: string, check: string, status: 'OK' | 'Warning' | 'Failed', message: string): ViewObject {
  return { typeName: T.Readiness, props: { Target: target, Check: check, Status: status, Message: message } };
}

export function memoryMB(bytes: number): number {
  return Math.round(bytes / MBY);
}

function hex(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}

export function natStaticMappingView(n: NatRecord, m: NatStaticMappingRecord, active = true): ViewObject {
  return {
    typeName: T.NatStaticMapping,
    props: {
      StaticMappingID: m.staticMappingID, NatName: n.name, Protocol: m.protocol, RemoteExternalIPAddressPrefix: '0.0.0.0/0',
      ExternalIPAddress: m.externalIPAddress, ExternalPort: m.externalPort, InternalIPAddress: m.internalIPAddress, InternalPort: m.internalPort,
      InternalRoutingDomainId: '{00000000-0000-0000-0000-000000000000}', Active: active,
    },
  };
}
