/**
 * Nestvisor's own network cmdlets (the Nestvisor noun prefix marks what Hyper-V has no cmdlet
 * for): switch-port counters and pcap captures of the L0 network. They bind into the
 * GetSwitchPortStatistics / StartCapture / StopCapture actions (management/net-runtime.ts).
 */
import type { CmdletDef } from '../cmdlet.js';
import { VM_PARAMS, p, vmTarget } from './params.js';

const nv = (name: string, synopsis: string, params: CmdletDef['params'], examples: string[], run: CmdletDef['run'], extra: Partial<CmdletDef> = {}): CmdletDef =>
  ({ name, module: 'Nestvisor', type: `Nestvisor.Commands.${name.replace('-', '')}`, synopsis, params, examples, run, ...extra });

export const NESTVISOR_NET_CMDLETS: CmdletDef[] = [
  nv('Get-NestvisorSwitchPortStatistics',
    'Gets the live counters of virtual switch ports: frames sent, received, and dropped by reason (MacAddressSpoofing, malformed, disconnected).', [
      p('SwitchName', 'string', { help: 'Only ports of this virtual switch; wildcards allowed.' }),
      ...VM_PARAMS.map((x) => (x.name === 'VMName' ? { ...x, position: undefined, help: 'Only the ports of these virtual machines\' adapters.' } : x)),
    ], ['Get-NestvisorSwitchPortStatistics -SwitchName VmNAT', 'Get-NestvisorSwitchPortStatistics -VMName L1 | Format-List *'], async (ctx) => {
      await ctx.apply({ kind: 'GetSwitchPortStatistics', switchName: ctx.bound.str('SwitchName'), vm: vmTarget(ctx.bound) });
    }),
  nv('Start-NestvisorCapture',
    'Starts writing the frames of a virtual switch, or of one virtual machine\'s adapters on it, to a pcap file (Wireshark, tshark, tcpdump).', [
      p('SwitchName', 'string', { mandatory: true, help: 'The virtual switch to capture.' }),
      p('VMName', 'string', { help: 'Capture only this running virtual machine\'s adapters on the switch: what they send (dropped frames included) and receive.' }),
      p('Path', 'string', { mandatory: true, position: 0, help: 'The pcap file to create (overwritten if it exists).' }),
    ], ['Start-NestvisorCapture -SwitchName VmNAT -Path nat.pcap', 'Start-NestvisorCapture -SwitchName VmNAT -VMName L1 -Path l1.pcap'], async (ctx) => {
      const b = ctx.bound;
      if (!(await ctx.shouldProcess(`${b.str('VMName') ? `${b.str('VMName')} on ` : ''}${b.str('SwitchName')} -> ${b.str('Path')}`))) return;
      const vm = b.str('VMName');
      await ctx.apply({ kind: 'StartCapture', switchName: b.str('SwitchName')!, vm: vm !== undefined ? { names: [vm] } : undefined, path: b.str('Path')! });
    }, { shouldProcess: true }),
  nv('Stop-NestvisorCapture', 'Stops packet captures and closes their files; with no parameter, every running capture.', [
    p('Id', 'int', { byPropertyName: true, help: 'The capture\'s Id, as Start-NestvisorCapture wrote it.' }),
    p('SwitchName', 'string', { help: 'Captures of this virtual switch.' }),
    p('VMName', 'string', { help: 'Captures of this virtual machine\'s adapters.' }),
  ], ['Stop-NestvisorCapture', 'Start-NestvisorCapture -SwitchName VmNAT -Path nat.pcap | Stop-NestvisorCapture'], async (ctx) => {
    const b = ctx.bound;
    const id = b.num('Id');
    const vm = b.str('VMName');
    await ctx.apply({ kind: 'StopCapture', ids: id !== undefined ? [id] : undefined, switchName: b.str('SwitchName'), vm: vm !== undefined ? { names: [vm] } : undefined });
  }),
  nv('Get-NestvisorNatStatistics',
    'Gets the live counters of NATs: TCP and UDP flows, DNS queries, inbound connections through static mappings, refused and expired flows.', [
      p('Name', 'string[]', { position: 0, help: 'The NetNat(s); wildcards allowed.' }),
    ], ['Get-NestvisorNatStatistics', 'Get-NestvisorNatStatistics -Name LocalNAT | Format-List *'], async (ctx) => {
      await ctx.apply({ kind: 'GetNatStatistics', names: ctx.bound.strs('Name') });
    }),
];
