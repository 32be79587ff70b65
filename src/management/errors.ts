/**
 * Failures of management operations, carried with the facts a PowerShell error record needs
 * (category, error id, target). The shell turns one into `Cmdlet : message` + CategoryInfo +
 * FullyQualifiedErrorId; management never formats it (it knows no PowerShell syntax).
 */

/** System.Management.Automation.ErrorCategory values used here. */
export type ErrorCategory =
  | 'InvalidOperation' | 'InvalidArgument' | 'ObjectNotFound' | 'ResourceExists'
  | 'InvalidData' | 'ResourceUnavailable' | 'NotSpecified' | 'PermissionDenied' | 'OperationStopped';

export class ManagementError extends Error {
  constructor(
    message: string,
    readonly category: ErrorCategory,
    /** The first part of the FullyQualifiedErrorId (the shell appends the cmdlet's type). */
    readonly errorId: string,
    readonly targetName = '',
    readonly targetType = '',
    /** The .NET exception type PowerShell would show in CategoryInfo. */
    readonly exceptionType = 'VirtualizationException',
  ) {
    super(message);
    this.name = 'ManagementError';
  }
}

export function vmNotFound(name: string): ManagementError {
  return new ManagementError(`Hyper-V was unable to find a virtual machine with name "${name}".`,
    'InvalidArgument', 'InvalidParameter', name, 'String');
}

export function switchNotFound(name: string): ManagementError {
  return new ManagementError(`Hyper-V was unable to find a virtual switch with name "${name}".`,
    'InvalidArgument', 'InvalidParameter', name, 'String');
}

export function cimNotFound(className: string, what: string, value: string): ManagementError {
  return new ManagementError(`No ${className} objects found with property '${what}' equal to '${value}'.  Verify the value of the property and retry.`,
    'ObjectNotFound', `CmdletizationQuery_NotFound_${what}`, value, 'String', 'CimJobException');
}

/** "Failed to modify device 'X'." + cause — Hyper-V's shape for a refused change. */
export function failedToModify(device: 'Processor' | 'Memory' | 'Ethernet Connection', vmName: string, cause: string, vmId: string): ManagementError {
  return new ManagementError(
    `Failed to modify device '${device}'.\n${cause}\n'${vmName}' failed to modify device '${device}'. (Virtual machine ID ${vmId.toUpperCase()})`,
    'InvalidOperation', 'InvalidOperation', '', '');
}
