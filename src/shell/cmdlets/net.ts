/**
 * Networking cmdlets: Hyper-V's VMNetworkAdapter and VMSwitch, NetAdapter, NetTCPIP's
 * NetIPAddress, NetNat, DnsClient — seed "Options de mise en réseau" — and `netsh interface ip
 * add dnsserver`, which the seed uses for DNS.
 */
import { ManagementError } from '../../management/errors.js';
import { T } from '../../management/views.js';
import { BindingError } from '../binder.js';
import type { CmdletContext, CmdletDef } from '../cmdlet.js';
import type { NativeCommand } from '../session.js';
import { PASSTHRU, VM_PARAMS, hvType, nicTarget, p, targetText, vmTarget } from './params.js';

const NIC_PARAM = p('VMNetworkAdapter', 'object[]', { byValue: [T.Nic], help: 'Network adapter object(s), e.g. from Get-VMNetworkAdapter.' });
const NIC_NAME = p('Name', 'string', { help: 'Name of the network adapter.' });

function missing(name: string): BindingError {
  return new BindingError({ message: `Cannot process command because of one or more missing mandatory parameters: ${name}.`, errorId: 'MissingMandatoryParameter',
    category: 'InvalidArgument', targetName: '', targetType: '', exceptionType: 'ParameterBindingException' });
}

function nics(ctx: CmdletContext) {
  const t = nicTarget(ctx.bound);
  if (!t) throw missing('VMName');
  return t;
}

function nicText(ctx: CmdletContext): string {
  const objs = ctx.bound.objs('VMNetworkAdapter');
  if (objs.length) return objs.map((o) => `${o.get('VMName')}\\${o.get('Name')}`).join(', ');
  return targetText(ctx.bound);
}

const hv = (name: string, synopsis: string, params: CmdletDef['params'], examples: string[], run: CmdletDef['run'], extra: Partial<CmdletDef> = {}): CmdletDef =>
  ({ name, module: 'Hyper-V', type: hvType(name), synopsis, params, examples, run, ...extra });
const cim = (name: string, module: string, synopsis: string, params: CmdletDef['params'], examples: string[], run: CmdletDef['run'], extra: Partial<CmdletDef> = {}): CmdletDef =>
  ({ name, module, type: name, synopsis, params, examples, run, ...extra });

const ALIAS = p('InterfaceAlias', 'string', { aliases: ['ifAlias'], byPropertyName: true, help: 'Interface name, e.g. "vEthernet (VmNat)".' });
const INDEX = p('InterfaceIndex', 'int', { aliases: ['ifIndex'], byPropertyName: true, help: 'Interface index (ifIndex).' });
const FAMILY = p('AddressFamily', 'string', { set: ['IPv4', 'IPv6'], enumType: 'AddressFamily' });

export const NET_CMDLETS: CmdletDef[] = [
  hv('Get-VMNetworkAdapter', 'Gets the network adapters of a virtual machine.', [...VM_PARAMS, NIC_NAME, p('All', 'switch')],
    ['Get-VMNetworkAdapter -VMName L1'], async (ctx) => {
      const vm = vmTarget(ctx.bound);
      if (!vm && !ctx.bound.sw('All')) throw missing('VMName');
      await ctx.apply({ kind: 'GetVMNetworkAdapter', vm, name: ctx.bound.str('Name') });
    }),
  hv('Add-VMNetworkAdapter', 'Adds a network adapter to a virtual machine.', [...VM_PARAMS, NIC_NAME, p('SwitchName', 'string'), p('StaticMacAddress', 'string'), PASSTHRU],
    ['Add-VMNetworkAdapter -VMName L1 -SwitchName VmNAT'], async (ctx) => {
      const b = ctx.bound;
      const vm = vmTarget(b);
      if (!vm) throw missing('VMName');
      if (!(await ctx.shouldProcess(targetText(b)))) return;
      await ctx.apply({ kind: 'AddVMNetworkAdapter', vm, name: b.str('Name'), switchName: b.str('SwitchName'), staticMacAddress: b.str('StaticMacAddress') }, b.sw('Passthru'));
    }, { shouldProcess: true }),
  hv('Remove-VMNetworkAdapter', 'Removes a network adapter from a virtual machine.', [...VM_PARAMS, NIC_NAME, NIC_PARAM],
    ['Remove-VMNetworkAdapter -VMName L1 -Name "Network Adapter"'], async (ctx) => {
      const t = nics(ctx);
      if (await ctx.shouldProcess(nicText(ctx))) await ctx.apply({ kind: 'RemoveVMNetworkAdapter', nics: t });
    }, { shouldProcess: true }),
  hv('Set-VMNetworkAdapter', 'Configures a network adapter (MAC address spoofing, static MAC).', [...VM_PARAMS, NIC_NAME, NIC_PARAM,
    p('MacAddressSpoofing', 'string', { set: ['On', 'Off'], enumType: 'Microsoft.HyperV.PowerShell.OnOffState', help: 'On lets the guest send frames from other MAC addresses (nested VMs).' }),
    p('StaticMacAddress', 'string'), p('DynamicMacAddress', 'switch'), PASSTHRU,
  ], ['Get-VMNetworkAdapter -VMName L1 | Set-VMNetworkAdapter -MacAddressSpoofing On'], async (ctx) => {
    const b = ctx.bound;
    const t = nics(ctx);
    if (!(await ctx.shouldProcess(nicText(ctx)))) return;
    const r = await ctx.apply({ kind: 'SetVMNetworkAdapter', nics: t, macAddressSpoofing: b.str('MacAddressSpoofing') as 'On' | 'Off' | undefined,
      staticMacAddress: b.str('StaticMacAddress'), dynamicMacAddress: b.sw('DynamicMacAddress') });
    if (b.sw('Passthru') && r.errors.length === 0) {
      await ctx.apply(ctx.bound.has('VMNetworkAdapter')
        ? { kind: 'GetVMNetworkAdapter', vm: { ids: ctx.bound.objs('VMNetworkAdapter').map((o) => String(o.get('VMId'))) }, name: String(ctx.bound.objs('VMNetworkAdapter')[0].get('Name')) }
        : { kind: 'GetVMNetworkAdapter', vm: vmTarget(b), name: b.str('Name') });
    }
  }, { shouldProcess: true }),
  hv('Connect-VMNetworkAdapter', 'Connects a network adapter to a virtual switch.', [...VM_PARAMS, NIC_NAME, NIC_PARAM, p('SwitchName', 'string', { position: 1, mandatory: true })],
    ['Connect-VMNetworkAdapter -VMName L1 -SwitchName VmNAT'], async (ctx) => {
      const t = nics(ctx);
      if (await ctx.shouldProcess(nicText(ctx))) await ctx.apply({ kind: 'ConnectVMNetworkAdapter', nics: t, switchName: ctx.bound.str('SwitchName')! });
    }, { shouldProcess: true }),
  hv('Disconnect-VMNetworkAdapter', 'Disconnects a network adapter from its virtual switch.', [...VM_PARAMS, NIC_NAME, NIC_PARAM],
    ['Disconnect-VMNetworkAdapter -VMName L1'], async (ctx) => {
      const t = nics(ctx);
      if (await ctx.shouldProcess(nicText(ctx))) await ctx.apply({ kind: 'DisconnectVMNetworkAdapter', nics: t });
    }, { shouldProcess: true }),
  hv('Get-VMSwitch', 'Gets the virtual switches of this host.', [p('Name', 'string[]', { position: 0, aliases: ['SwitchName'] }),
    p('SwitchType', 'string', { set: ['External', 'Internal', 'Private'], enumType: 'Microsoft.HyperV.PowerShell.VMSwitchType' })],
  ['Get-VMSwitch'], async (ctx) => {
    await ctx.apply({ kind: 'GetVMSwitch', names: ctx.bound.strs('Name'), switchType: ctx.bound.str('SwitchType') as 'Internal' | undefined });
  }),
  hv('New-VMSwitch', 'Creates a virtual switch: -SwitchType Internal or Private, or External with -NetAdapterName.', [
    p('Name', 'string', { position: 0, mandatory: true, aliases: ['SwitchName'] }),
    p('SwitchType', 'string', { set: ['Internal', 'Private'], help: 'Internal (host gets "vEthernet (NAME)") or Private.' }),
    p('NetAdapterName', 'string', { help: 'Host adapter an External switch binds to.' }),
    p('AllowManagementOS', 'bool'), p('Notes', 'string'),
  ], ['New-VMSwitch -Name VmNAT -SwitchType Internal'], async (ctx) => {
    const b = ctx.bound;
    if (!(await ctx.shouldProcess(b.str('Name')!))) return;
    await ctx.apply({ kind: 'NewVMSwitch', name: b.str('Name')!, switchType: b.str('SwitchType') as 'Internal' | 'Private' | undefined,
      netAdapterName: b.str('NetAdapterName'), allowManagementOS: b.bool('AllowManagementOS'), notes: b.str('Notes') });
  }, { shouldProcess: true }),
  hv('Remove-VMSwitch', 'Deletes a virtual switch that no network adapter uses.', [p('Name', 'string[]', { position: 0, aliases: ['SwitchName'], byPropertyName: true }),
    p('VMSwitch', 'object[]', { byValue: [T.Switch] }), p('Force', 'switch')],
  ['Remove-VMSwitch -Name VmNAT -Force'], async (ctx) => {
    const names = ctx.bound.has('VMSwitch') ? ctx.bound.objs('VMSwitch').map((o) => String(o.get('Name'))) : ctx.bound.strs('Name');
    if (!names) throw missing('Name');
    if (await ctx.shouldProcess(names.join(', '))) await ctx.apply({ kind: 'RemoveVMSwitch', names });
  }, { shouldProcess: true }),
  hv('Set-VMSwitch', 'Configures a virtual switch.', [p('Name', 'string', { position: 0, mandatory: true, aliases: ['SwitchName'] }),
    p('SwitchType', 'string', { set: ['Internal', 'Private'] }), p('NetAdapterName', 'string'), p('AllowManagementOS', 'bool'), p('Notes', 'string')],
  ['Set-VMSwitch -Name VmNAT -SwitchType Private'], async (ctx) => {
    const b = ctx.bound;
    if (!(await ctx.shouldProcess(b.str('Name')!))) return;
    await ctx.apply({ kind: 'SetVMSwitch', name: b.str('Name')!, switchType: b.str('SwitchType') as 'Internal' | undefined,
      netAdapterName: b.str('NetAdapterName'), allowManagementOS: b.bool('AllowManagementOS'), notes: b.str('Notes') });
  }, { shouldProcess: true }),

  cim('Get-NetAdapter', 'NetAdapter', 'Gets the host\'s network adapters (including "vEthernet (NAME)").',
    [p('Name', 'string[]', { position: 0, aliases: ['ifAlias', 'InterfaceAlias'] })],
    ['Get-NetAdapter "vEthernet (VmNat)"'], async (ctx) => { await ctx.apply({ kind: 'GetNetAdapter', names: ctx.bound.strs('Name') }); }),
  cim('Get-NetIPAddress', 'NetTCPIP', 'Gets the IP addresses of the host\'s interfaces.', [p('IPAddress', 'string', { position: 0 }), ALIAS, INDEX, FAMILY],
    ['Get-NetIPAddress -InterfaceAlias "vEthernet (VmNat)"'], async (ctx) => {
      const b = ctx.bound;
      await ctx.apply({ kind: 'GetNetIPAddress', ipAddress: b.str('IPAddress'), interfaceAlias: b.str('InterfaceAlias'), addressFamily: b.str('AddressFamily') as 'IPv4' | undefined });
    }),
  cim('New-NetIPAddress', 'NetTCPIP', 'Assigns an IP address (and optionally a default gateway) to an interface.', [
    p('IPAddress', 'string', { position: 0, mandatory: true }), ALIAS, INDEX, FAMILY,
    p('PrefixLength', 'int', { range: [0, 128] }), p('DefaultGateway', 'string'),
  ], ['Get-NetAdapter "vEthernet (VmNat)" | New-NetIPAddress -IPAddress 192.168.100.1 -AddressFamily IPv4 -PrefixLength 24'], async (ctx) => {
    const b = ctx.bound;
    if (!b.has('InterfaceAlias') && !b.has('InterfaceIndex')) throw missing('InterfaceAlias');
    if (!(await ctx.shouldProcess(b.str('IPAddress')!))) return;
    await ctx.apply({ kind: 'NewNetIPAddress', ipAddress: b.str('IPAddress')!, interfaceAlias: b.str('InterfaceAlias'), interfaceIndex: b.num('InterfaceIndex'),
      addressFamily: b.str('AddressFamily') as 'IPv4' | undefined, prefixLength: b.num('PrefixLength'), defaultGateway: b.str('DefaultGateway') });
  }, { shouldProcess: true }),
  cim('Remove-NetIPAddress', 'NetTCPIP', 'Removes an IP address from an interface.', [p('IPAddress', 'string', { position: 0, byPropertyName: true }), ALIAS],
    ['Remove-NetIPAddress -IPAddress 192.168.100.1 -Confirm:$false'], async (ctx) => {
      const b = ctx.bound;
      if (!b.has('IPAddress') && !b.has('InterfaceAlias')) throw missing('IPAddress');
      if (await ctx.shouldProcess(b.str('IPAddress') ?? b.str('InterfaceAlias')!)) {
        await ctx.apply({ kind: 'RemoveNetIPAddress', ipAddress: b.str('IPAddress'), interfaceAlias: b.str('InterfaceAlias') });
      }
    }, { shouldProcess: true }),
  cim('Get-NetNat', 'NetNat', 'Gets the NAT objects of this host.', [p('Name', 'string[]', { position: 0 })], ['Get-NetNat'],
    async (ctx) => { await ctx.apply({ kind: 'GetNetNat', names: ctx.bound.strs('Name') }); }),
  cim('New-NetNat', 'NetNat', 'Creates a NAT that translates an internal prefix to the host\'s addresses.', [
    p('Name', 'string', { position: 0, mandatory: true }), p('InternalIPInterfaceAddressPrefix', 'string', { mandatory: true }),
  ], ['New-NetNat -Name LocalNAT -InternalIPInterfaceAddressPrefix "192.168.100.0/24"'], async (ctx) => {
    const b = ctx.bound;
    if (!(await ctx.shouldProcess(b.str('Name')!))) return;
    await ctx.apply({ kind: 'NewNetNat', name: b.str('Name')!, internalIPInterfaceAddressPrefix: b.str('InternalIPInterfaceAddressPrefix')! });
  }, { shouldProcess: true }),
  cim('Remove-NetNat', 'NetNat', 'Removes NAT objects.', [p('Name', 'string[]', { position: 0, byPropertyName: true })], ['Remove-NetNat -Name LocalNAT -Confirm:$false'],
    async (ctx) => {
      if (await ctx.shouldProcess((ctx.bound.strs('Name') ?? ['*']).join(', '))) await ctx.apply({ kind: 'RemoveNetNat', names: ctx.bound.strs('Name') });
    }, { shouldProcess: true }),
  cim('Add-NetNatStaticMapping', 'NetNat', 'Forwards a host port to an address and port behind a NAT (Nestvisor listens on 127.0.0.1 only).', [
    p('NatName', 'string', { mandatory: true, byPropertyName: true, help: 'The NetNat, e.g. LocalNAT.' }),
    p('Protocol', 'string', { mandatory: true, set: ['TCP', 'UDP'], enumType: 'Protocol' }),
    p('ExternalIPAddress', 'string', { mandatory: true, help: '0.0.0.0 (any) or 127.0.0.1: Nestvisor binds 127.0.0.1 either way.' }),
    p('ExternalPort', 'int', { mandatory: true, range: [1, 65535], help: 'The host port: 127.0.0.1:ExternalPort.' }),
    p('InternalIPAddress', 'string', { mandatory: true, help: 'The guest\'s address, inside the NAT\'s internal prefix.' }),
    p('InternalPort', 'int', { mandatory: true, range: [1, 65535] }),
  ], ['Add-NetNatStaticMapping -NatName LocalNAT -Protocol TCP -ExternalIPAddress 0.0.0.0 -ExternalPort 8080 -InternalIPAddress 192.168.100.2 -InternalPort 80'],
  async (ctx) => {
    const b = ctx.bound;
    await ctx.apply({ kind: 'AddNetNatStaticMapping', natName: b.str('NatName')!, protocol: b.str('Protocol')!, externalIPAddress: b.str('ExternalIPAddress')!,
      externalPort: b.num('ExternalPort')!, internalIPAddress: b.str('InternalIPAddress')!, internalPort: b.num('InternalPort')! });
  }),
  cim('Get-NetNatStaticMapping', 'NetNat', 'Gets the static mappings of NATs.', [
    p('NatName', 'string[]', { position: 0 }), p('StaticMappingID', 'int', { range: [0, 2147483647] }),
  ], ['Get-NetNatStaticMapping', 'Get-NetNatStaticMapping -NatName LocalNAT'], async (ctx) => {
    const id = ctx.bound.num('StaticMappingID');
    await ctx.apply({ kind: 'GetNetNatStaticMapping', natNames: ctx.bound.strs('NatName'), ids: id !== undefined ? [id] : undefined });
  }),
  cim('Remove-NetNatStaticMapping', 'NetNat', 'Removes static mappings of NATs; the host stops listening on their ports.', [
    p('NatName', 'string[]', { byPropertyName: true }), p('StaticMappingID', 'int', { position: 0, byPropertyName: true, range: [0, 2147483647] }),
  ], ['Remove-NetNatStaticMapping -StaticMappingID 0 -Confirm:$false', 'Get-NetNatStaticMapping -NatName LocalNAT | Remove-NetNatStaticMapping -Confirm:$false'],
  async (ctx) => {
    const id = ctx.bound.num('StaticMappingID');
    const names = ctx.bound.strs('NatName');
    if (!(await ctx.shouldProcess(id !== undefined ? `StaticMappingID ${id}` : (names ?? ['*']).join(', ')))) return;
    await ctx.apply({ kind: 'RemoveNetNatStaticMapping', natNames: names, ids: id !== undefined ? [id] : undefined });
  }, { shouldProcess: true }),
  cim('Get-DnsClientServerAddress', 'DnsClient', 'Gets the DNS servers of the host\'s interfaces.', [p('InterfaceAlias', 'string', { position: 0, aliases: ['ifAlias'] }), FAMILY],
    ['Get-DnsClientServerAddress -InterfaceAlias Ethernet'], async (ctx) => {
      await ctx.apply({ kind: 'GetDnsClientServerAddress', interfaceAlias: ctx.bound.str('InterfaceAlias'), addressFamily: ctx.bound.str('AddressFamily') as 'IPv4' | undefined });
    }),
  cim('Set-DnsClientServerAddress', 'DnsClient', 'Sets the DNS servers of an interface.', [ALIAS, INDEX,
    p('ServerAddresses', 'string[]', { aliases: ['Addresses'] }), p('ResetServerAddresses', 'switch')],
  ['Set-DnsClientServerAddress -InterfaceAlias Ethernet -ServerAddresses 192.168.100.1'], async (ctx) => {
    const b = ctx.bound;
    if (!b.has('InterfaceAlias') && !b.has('InterfaceIndex')) throw missing('InterfaceAlias');
    if (!(await ctx.shouldProcess(b.str('InterfaceAlias') ?? String(b.num('InterfaceIndex'))))) return;
    await ctx.apply({ kind: 'SetDnsClientServerAddress', interfaceAlias: b.str('InterfaceAlias'), interfaceIndex: b.num('InterfaceIndex'),
      serverAddresses: b.strs('ServerAddresses'), reset: b.sw('ResetServerAddresses') });
  }, { shouldProcess: true }),
];

const NETSH_USAGE = 'Usage: netsh interface ip add dnsserver [name=]<interface> [address=]<IPv4 address> [[index=]<integer>]\n';

/**
 * `netsh interface ip add dnsserver "Ethernet" address=X` (seed: NAT section). netsh is a
 * program, not a cmdlet: it prints plain messages and sets $LASTEXITCODE.
 */
export const netsh: NativeCommand = async (session, args) => {
  const out = (t: string) => session.host.write(t, 'output');
  const words = args.map((a) => a.toLowerCase());
  const ctxOk = (words[0] === 'interface' || words[0] === 'int') && ['ip', 'ipv4'].includes(words[1]);
  const verbOk = words[2] === 'add' && ['dnsserver', 'dnsservers', 'dns'].includes(words[3]);
  if (!ctxOk || !verbOk) {
    out(`The following command was not found: ${args.join(' ')}.\n`);
    return 1;
  }
  const named = new Map<string, string>();
  const positional: string[] = [];
  for (const a of args.slice(4)) {
    const m = /^(name|address|index|validate)=(.*)$/i.exec(a);
    if (m) named.set(m[1].toLowerCase(), m[2]); else positional.push(a);
  }
  const name = named.get('name') ?? positional.shift();
  const address = named.get('address') ?? positional.shift();
  const index = named.get('index') ?? positional.shift();
  if (!name || !address) { out(NETSH_USAGE); return 1; }
  const r = await session.controller.apply({ kind: 'AddDnsServer', interfaceAlias: name, address, index: index !== undefined ? Number(index) : undefined });
  if (r.errors.length) {
    for (const e of r.errors) out(`${(e as ManagementError).message}\n`);
    return 1;
  }
  return 0;
};
