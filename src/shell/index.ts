/**
 * The shell's entry point: a Session wired with every cmdlet and netsh, over a management
 * controller. Used by the CLI (REPL, -Command, -File), the HTTP service and tests.
 */
import type { Controller } from '../management/controller.js';
import { Registry } from './cmdlet.js';
import { CORE_CMDLETS } from './cmdlets/core.js';
import { helpCmdlets } from './cmdlets/help.js';
import { HYPERV_CMDLETS } from './cmdlets/hyperv.js';
import { NET_CMDLETS, netsh } from './cmdlets/net.js';
import { REMOTING_CMDLETS } from './cmdlets/remoting.js';
import { NESTVISOR_NET_CMDLETS } from './cmdlets/nestvisor-net.js';
import { Session, type NativeCommand, type ShellHost } from './session.js';

export function createRegistry(): Registry {
  const r = new Registry().add(...HYPERV_CMDLETS, ...NET_CMDLETS, ...NESTVISOR_NET_CMDLETS, ...CORE_CMDLETS, ...REMOTING_CMDLETS);
  r.add(...helpCmdlets(r));
  return r;
}

export function createSession(controller: Controller, host: ShellHost): Session {
  const natives = new Map<string, NativeCommand>([['netsh', netsh]]);
  return new Session(controller, host, createRegistry(), natives);
}

/** A host that collects everything written, in order (tests, the HTTP API). */
export class BufferHost implements ShellHost {
  text = '';
  stdout = '';
  stderr = '';
  write(t: string, stream: 'output' | 'error' | 'warning'): void {
    this.text += t;
    if (stream === 'error') this.stderr += t; else this.stdout += t;
  }
}

export { Session, type ShellHost } from './session.js';
