/**
 * Invoke-Command -VMName NAME -ScriptBlock { ... }: PowerShell Direct (issue 8; docs/guest-channel.md).
 * The block is bound here (src/shell/remote.ts); management sends it over the VM's guest
 * channel and returns objects (Deserialized.*, with PSComputerName) and error records in order.
 * -Credential is accepted and ignored: Nestvisor's agents have no accounts to log on to.
 */
import { ManagementError } from '../../management/errors.js';
import { RemoteCommandError } from '../../management/guest-ops.js';
import type { CmdletDef } from '../cmdlet.js';
import { compileScriptBlock } from '../remote.js';
import { ScriptBlock, fromView } from '../values.js';
import { p } from './params.js';

export const REMOTING_CMDLETS: CmdletDef[] = [{
  name: 'Invoke-Command', module: 'Microsoft.PowerShell.Core', type: 'Microsoft.PowerShell.Commands.InvokeCommandCommand',
  synopsis: 'Runs commands in a virtual machine through PowerShell Direct (the VM\'s guest channel and agent).',
  params: [
    p('VMName', 'string[]', { position: 0, mandatory: true, help: 'The virtual machine(s) to run the script block in.' }),
    p('ScriptBlock', 'scriptblock', { position: 1, mandatory: true, aliases: ['Command'], help: 'The commands to run; bound on the host, run by the guest\'s agent.' }),
    p('Credential', 'object', { help: 'Accepted for compatibility and ignored: Nestvisor\'s guest agents have no accounts.' }),
  ],
  examples: [
    'Invoke-Command -VMName L1 -ScriptBlock { New-VMSwitch -Name VmNAT -SwitchType Internal }',
    'Invoke-Command -VMName L1 -ScriptBlock { Invoke-Command -VMName L2 -ScriptBlock { Get-NetIPAddress } }',
  ],
  async run(ctx) {
    const sb = ctx.bound.get('ScriptBlock');
    if (!(sb instanceof ScriptBlock)) return;
    const steps = await compileScriptBlock(ctx.session, sb);
    const results = await ctx.session.controller.invokeCommand({ vmNames: ctx.bound.strs('VMName') ?? [], steps });
    for (const x of results) {
      if (x instanceof RemoteCommandError) {
        // netsh is a program: its complaints are lines of text, not error records
        if (x.item.fullyQualifiedErrorId === 'netsh') { ctx.write(x.message); continue; }
        ctx.record({ message: x.message, category: x.item.category, fullyQualifiedErrorId: x.item.fullyQualifiedErrorId,
          activity: x.item.activity, targetName: x.item.targetName, targetType: x.item.targetName ? 'String' : '',
          exceptionType: x.item.exceptionType, computerName: x.computerName });
      } else if (x instanceof ManagementError) {
        ctx.error(x);
      } else {
        ctx.write(fromView(x));
      }
    }
  },
}];
