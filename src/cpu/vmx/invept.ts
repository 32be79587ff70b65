/** INVEPT / INVVPID (SDM Vol. 3C §30.3). Placeholder: #UD while EPT/VPID are not offered. */
import type { Cpu } from '../cpu.js';

/** 66 0F 38 80 INVEPT r64, m128 (ModRM decoded). */
export function invept(cpu: Cpu): void { cpu.ud(); }
/** 66 0F 38 81 INVVPID r64, m128 (ModRM decoded). */
export function invvpid(cpu: Cpu): void { cpu.ud(); }
