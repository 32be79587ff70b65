/**
 * One typed action per cmdlet (STYLE habit 9, Firecracker's VmmAction): the shell binds a
 * command line into one of these, and the Controller alone applies it to the inventory and
 * the hypervisor. Field names follow the cmdlets' parameter names.
 */
import type { SwitchType } from './model.js';

/** Which VMs an action is about: by name (wildcards allowed) or by Id (piped VM objects). */
export type VmTarget = { readonly names: readonly string[] } | { readonly ids: readonly string[] };

/** Which VM network adapters: by Id (piped adapter objects) or by VM + adapter name. */
export type NicTarget =
  | { readonly ids: readonly string[] }
  | { readonly vm: VmTarget; readonly name?: string };

export type Action =
  | { kind: 'NewVM'; name: string; memoryStartupBytes?: number; generation?: number; version?: string; switchName?: string }
  | { kind: 'GetVM'; vm?: VmTarget }
  | { kind: 'StartVM'; vm: VmTarget }
  | { kind: 'StopVM'; vm: VmTarget; force: boolean; turnOff: boolean; save: boolean }
  | { kind: 'RestartVM'; vm: VmTarget; force: boolean }
  | { kind: 'RemoveVM'; vm: VmTarget }
  | { kind: 'SetVM'; vm: VmTarget; newName?: string; processorCount?: number; memoryStartupBytes?: number;
      dynamicMemory?: boolean; staticMemory?: boolean; memoryMinimumBytes?: number; memoryMaximumBytes?: number; notes?: string }
  | { kind: 'GetVMProcessor'; vm: VmTarget }
  | { kind: 'SetVMProcessor'; vm: VmTarget; count?: number; exposeVirtualizationExtensions?: boolean }
  | { kind: 'GetVMMemory'; vm: VmTarget }
  | { kind: 'SetVMMemory'; vm: VmTarget; startupBytes?: number; dynamicMemoryEnabled?: boolean;
      minimumBytes?: number; maximumBytes?: number; buffer?: number; priority?: number }
  | { kind: 'GetVMNetworkAdapter'; vm?: VmTarget; name?: string }
  | { kind: 'AddVMNetworkAdapter'; vm: VmTarget; name?: string; switchName?: string; staticMacAddress?: string }
  | { kind: 'RemoveVMNetworkAdapter'; nics: NicTarget }
  | { kind: 'SetVMNetworkAdapter'; nics: NicTarget; macAddressSpoofing?: 'On' | 'Off'; staticMacAddress?: string; dynamicMacAddress?: boolean }
  | { kind: 'ConnectVMNetworkAdapter'; nics: NicTarget; switchName: string }
  | { kind: 'DisconnectVMNetworkAdapter'; nics: NicTarget }
  | { kind: 'GetVMSwitch'; names?: readonly string[]; switchType?: SwitchType }
  | { kind: 'NewVMSwitch'; name: string; switchType?: 'Internal' | 'Private'; netAdapterName?: string; allowManagementOS?: boolean; notes?: string }
  | { kind: 'RemoveVMSwitch'; names: readonly string[] }
  | { kind: 'SetVMSwitch'; name: string; switchType?: 'Internal' | 'Private'; netAdapterName?: string; allowManagementOS?: boolean; notes?: string }
  | { kind: 'GetVMHost' }
  | { kind: 'GetVMHostSupportedVersion'; default: boolean }
  | { kind: 'UpdateVMVersion'; vm: VmTarget }
  | { kind: 'GetNetAdapter'; names?: readonly string[] }
  | { kind: 'GetNetIPAddress'; interfaceAlias?: string; ipAddress?: string; addressFamily?: 'IPv4' | 'IPv6' }
  | { kind: 'NewNetIPAddress'; interfaceAlias?: string; interfaceIndex?: number; ipAddress: string; prefixLength?: number;
      addressFamily?: 'IPv4' | 'IPv6'; defaultGateway?: string }
  | { kind: 'RemoveNetIPAddress'; interfaceAlias?: string; ipAddress?: string }
  | { kind: 'GetNetNat'; names?: readonly string[] }
  | { kind: 'NewNetNat'; name: string; internalIPInterfaceAddressPrefix: string }
  | { kind: 'RemoveNetNat'; names?: readonly string[] }
  | { kind: 'AddNetNatStaticMapping'; natName: string; protocol: string; externalIPAddress: string; externalPort: number;
      internalIPAddress: string; internalPort: number }
  | { kind: 'GetNetNatStaticMapping'; natNames?: readonly string[]; ids?: readonly number[] }
  | { kind: 'RemoveNetNatStaticMapping'; natNames?: readonly string[]; ids?: readonly number[] }
  /** Nestvisor's Get-NestvisorNatStatistics: NetNat's live counters (net-runtime.ts). */
  | { kind: 'GetNatStatistics'; names?: readonly string[] }
  | { kind: 'GetDnsClientServerAddress'; interfaceAlias?: string; addressFamily?: 'IPv4' | 'IPv6' }
  | { kind: 'SetDnsClientServerAddress'; interfaceAlias?: string; interfaceIndex?: number; serverAddresses?: readonly string[]; reset: boolean }
  /** `netsh interface ip add dnsserver "NAME" address=X [index=N]` */
  | { kind: 'AddDnsServer'; interfaceAlias: string; address: string; index?: number }
  /** Nestvisor's Get-NestedVirtStatus: readiness of the host and VMs, item by item. */
  | { kind: 'GetNestedVirtStatus'; vm?: VmTarget }
  /** Nestvisor's addition: what a VM boots. */
  | { kind: 'SetBootImage'; vm: VmTarget; path: string; commandLine?: string }
  /** Nestvisor's addition: which CPU the host emulates (IntelVtxEpt, IntelVtxNoEpt, AmdSvm...). */
  | { kind: 'SetHostCpuProfile'; profile: string }
  /** Invoke-Command -VMName (PowerShell Direct): pipelines bound by the shell, run by the guests' agents (guest-ops.ts). */
  | { kind: 'InvokeCommand'; vmNames: readonly string[]; steps: readonly import('./guest-ops.js').GuestStep[] }
  /** Nestvisor's Get-NestvisorSwitchPortStatistics: live switch-port counters (net-runtime.ts). */
  | { kind: 'GetSwitchPortStatistics'; switchName?: string; vm?: VmTarget }
  /** Nestvisor's Start-NestvisorCapture: a pcap of a switch, or of one VM's adapters on it. */
  | { kind: 'StartCapture'; switchName: string; vm?: VmTarget; path: string }
  /** Nestvisor's Stop-NestvisorCapture: by Id, switch or VM; none given stops every capture. */
  | { kind: 'StopCapture'; ids?: readonly number[]; switchName?: string; vm?: VmTarget };

export type ActionKind = Action['kind'];

/** An object a cmdlet writes to the pipeline: a .NET-like type name and its properties. */
export interface ViewObject {
  readonly typeName: string;
  readonly props: Record<string, unknown>;
}

export interface ActionResult {
  readonly output: ViewObject[];
  /** Non-terminating errors, one per failing object (PowerShell's convention). */
  readonly errors: import('./errors.js').ManagementError[];
}
