/** VMLAUNCH / VMRESUME (SDM Vol. 3C §30.3, Chapter 26). Placeholder until the entry engine lands. */
import type { Cpu } from '../cpu.js';

/** 0F 01 C2 VMLAUNCH. */
export function vmlaunch(cpu: Cpu): void { cpu.ud(); }
/** 0F 01 C3 VMRESUME. */
export function vmresume(cpu: Cpu): void { cpu.ud(); }
