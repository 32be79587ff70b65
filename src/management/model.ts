/**
 * The Hyper-V object model as Nestvisor stores it: plain records, one kind per table row, so
 * that the inventory can diff and persist them in one transaction. Runtime facts (a running
 * VM's state, uptime, whether its guest has VMX on) live in the controller, not here.
 */

/** Hyper-V's VMState values (Microsoft.HyperV.PowerShell.VMState subset). */
export type VMState = 'Off' | 'Starting' | 'Running' | 'Stopping' | 'Saved' | 'Paused';

export interface MemoryRecord {
  startupBytes: number;
  dynamicMemoryEnabled: boolean;
  minimumBytes: number;
  maximumBytes: number;
  /** Percentage of extra memory to keep as a buffer, 5–2000. */
  buffer: number;
  /** Memory weight, 0–100. */
  priority: number;
}

export interface VmRecord {
  id: string;
  name: string;
  generation: 1 | 2;
  version: string;
  processorCount: number;
  /** seed: "Set-VMProcessor -VMName <VMName> -ExposeVirtualizationExtensions $true" */
  exposeVirtualizationExtensions: boolean;
  memory: MemoryRecord;
  /** Persisted power state: a VM that was running when its process ended comes back Off. */
  state: 'Off' | 'Saved';
  /** Nestvisor's addition: what the VM boots (a kernel image) and its command line. */
  bootImage: { path: string; commandLine: string } | null;
  notes: string;
  creationTime: string;
}

export interface VmNicRecord {
  id: string;
  vmId: string;
  name: string;
  /** Twelve hex digits without separators, as Get-VMNetworkAdapter shows it. */
  macAddress: string;
  dynamicMacAddress: boolean;
  /** seed: "Set-VMNetworkAdapter -MacAddressSpoofing On" */
  macAddressSpoofing: 'On' | 'Off';
  switchName: string | null;
}

export type SwitchType = 'External' | 'Internal' | 'Private';

export interface SwitchRecord {
  id: string;
  name: string;
  switchType: SwitchType;
  /** The physical adapter an External switch is bound to. */
  netAdapterName: string | null;
  allowManagementOS: boolean;
  notes: string;
}

/** A host network adapter (Get-NetAdapter): the uplink "Ethernet" or a "vEthernet (NAME)". */
export interface HostAdapterRecord {
  name: string;
  ifIndex: number;
  interfaceDescription: string;
  macAddress: string;
  /** Set for a vEthernet adapter: the switch that created it. */
  switchName: string | null;
}

export interface IpAddressRecord {
  ipAddress: string;
  interfaceAlias: string;
  addressFamily: 'IPv4' | 'IPv6';
  prefixLength: number;
}

/** A default route added by New-NetIPAddress -DefaultGateway. */
export interface RouteRecord {
  interfaceAlias: string;
  destinationPrefix: string;
  nextHop: string;
}

export interface NatRecord {
  name: string;
  /** seed: New-NetNat –InternalIPInterfaceAddressPrefix "192.168.100.0/24" */
  internalIPInterfaceAddressPrefix: string;
  /** Add-NetNatStaticMapping: inbound ports (absent in inventories written before them). */
  staticMappings?: NatStaticMappingRecord[];
}

/** Add-NetNatStaticMapping: the host's 127.0.0.1:externalPort forwards to internalIPAddress:internalPort. */
export interface NatStaticMappingRecord {
  /** Hyper-V's StaticMappingID: unique on the host, from 0. */
  staticMappingID: number;
  protocol: 'TCP';
  /** As given (0.0.0.0 or 127.0.0.1); Nestvisor listens on 127.0.0.1 either way. */
  externalIPAddress: string;
  externalPort: number;
  internalIPAddress: string;
  internalPort: number;
}

export interface DnsRecord {
  interfaceAlias: string;
  addressFamily: 'IPv4' | 'IPv6';
  serverAddresses: string[];
}

export interface HostSettings {
  computerName: string;
  cpuProfile: string;
  logicalProcessorCount: number;
  memoryCapacityBytes: number;
  /** Next free value of the last two bytes of the 00-15-5D pool. */
  macCounter: number;
  /** Bytes 4 of this host's MAC range (Hyper-V derives it from the host's address). */
  macPrefixByte: number;
  nextIfIndex: number;
}

/**
 * A VM running in some Nestvisor process. Running VMs belong to the process that started them;
 * this row lets every other process (a shell beside `nestvisor serve`) see that the VM is not
 * Off and refuse changes that need it Off. Rows of dead processes are stale and ignored.
 */
export interface RuntimeRecord {
  vmId: string;
  pid: number;
  startedAt: number;
}

export interface InventoryState {
  host: HostSettings;
  runtime: RuntimeRecord[];
  vms: VmRecord[];
  vmNics: VmNicRecord[];
  switches: SwitchRecord[];
  hostAdapters: HostAdapterRecord[];
  ipAddresses: IpAddressRecord[];
  routes: RouteRecord[];
  nats: NatRecord[];
  dns: DnsRecord[];
}

/** The uplink every host has; the seed assigns it an address ("Get-NetAdapter "Ethernet""). */
export const UPLINK_ADAPTER_NAME = 'Ethernet';

export function emptyState(macPrefixByte: number): InventoryState {
  return {
    host: {
      computerName: 'NESTVISOR',
      cpuProfile: 'IntelVtxEpt',
      logicalProcessorCount: 2,
      memoryCapacityBytes: 16 * 1024 ** 3,
      macCounter: 0,
      macPrefixByte,
      nextIfIndex: 3,
    },
    runtime: [],
    vms: [],
    vmNics: [],
    switches: [],
    hostAdapters: [{
      name: UPLINK_ADAPTER_NAME,
      ifIndex: 2,
      interfaceDescription: 'Nestvisor Host Uplink',
      macAddress: `00-15-5D-${hex2(macPrefixByte)}-FF-FF`,
      switchName: null,
    }],
    ipAddresses: [],
    routes: [],
    nats: [],
    dns: [],
  };
}

export function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}
