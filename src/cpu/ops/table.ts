/**
 * The opcode table, indexed as the encoding is (STYLE habit 6): 0x000-0x0ff one-byte map,
 * 0x100-0x1ff the 0F map, 0x200-0x2ff 0F 38, 0x300-0x3ff 0F 3A, and the VEX maps (run-loop.ts
 * decodeVex): 0x400-0x4ff VEX map 1 (0F), 0x500-0x5ff map 2 (0F 38), 0x600-0x6ff map 3
 * (0F 3A), installed by src/cpu/avx/install.ts. Each family module owns
 * its entries and installs them here; every unclaimed entry raises #UD.
 * Mandatory prefixes (66/F2/F3) are resolved inside the handlers of the SSE maps.
 */
import type { Cpu, Handler } from '../cpu.js';
import { installAlu } from './alu.js';
import { installData } from './data.js';
import { installControl } from './control.js';
import { installSystem } from './system.js';
import { installSse } from '../sse/install.js';
import { installX87 } from '../fpu/x87-install.js';
import { installAvx } from '../avx/install.js';

export const undefinedOpcode: Handler = (cpu: Cpu) => cpu.ud();

let cached: Handler[] | null = null;

/** One shared table: handlers are pure functions of the Cpu passed in. */
export function buildTable(): Handler[] {
  if (cached) return cached;
  const t: Handler[] = new Array<Handler>(0x700).fill(undefinedOpcode);
  installAlu(t);
  installData(t);
  installControl(t);
  installSystem(t);
  installSse(t);
  installX87(t);
  installAvx(t);
  cached = t;
  return t;
}

/** Install helper that refuses to overwrite another family's entry (catches merge mistakes). */
export function def(t: Handler[], op: number, h: Handler): void {
  if (t[op] !== undefinedOpcode && t[op] !== undefined) throw new Error(`opcode 0x${op.toString(16)} installed twice`);
  t[op] = h;
}
