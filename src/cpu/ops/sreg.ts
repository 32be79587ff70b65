/**
 * Temporary stand-in for segments.ts's loadSegment (control family) so the data family
 * builds and tests before it lands: real and virtual-8086 mode loads only (base = sel<<4,
 * SDM Vol. 3A §20.1.1). Protected-mode loads raise #GP(selector) here. To be replaced by a
 * re-export of segments.ts's loadSegment.
 */
import type { Cpu } from '../cpu.js';

export function loadSegment(cpu: Cpu, seg: number, sel: number): void {
  if (cpu.protectedMode && !cpu.v86) cpu.gp(sel & 0xfffc);
  cpu.setSegReal(seg, sel);
  if (seg === 1 || seg === 2) cpu.updateMode();
}
