/**
 * Event delivery through the IVT (real mode) and the IDT (protected and IA-32e mode):
 * SDM Vol. 3A §6.10-6.14. Owned by the control-transfer family.
 */
import type { Cpu, CpuHooks } from './cpu.js';
import { vectorName } from './fault.js';

export function deliver(cpu: Cpu, vector: number, _errorCode: number, _hasError: boolean, _software: boolean, _nextRip: number): void {
  cpu.tripleFault(`${vectorName(vector)}: event delivery not implemented yet`);
}

export function defaultHooks(): CpuHooks {
  return {
    deliver,
    acknowledgeInterrupt: () => -1,
  };
}
