/**
 * The floating-point and vector family's entry in the opcode table (issue 4): MMX, SSE, SSE2,
 * SSE3, SSSE3, SSE4.1, SSE4.2, AES-NI and PCLMULQDQ instructions of the 0F, 0F 38 and 0F 3A
 * maps (CRC32 shares 0F 38 F0/F1 with MOVBE and is dispatched from ops/bits.ts). Each
 * extension is gated by its own CPUID bit through common.ts `has()`. Group 15's FXSAVE/XSAVE forms are
 * reached through system.ts (fpu/fxsave.ts).
 */
import type { Handler } from '../cpu.js';
import { installInteger } from './integer.js';
import { installMove } from './move.js';
import { installFp } from './fp.js';
import { installApprox } from './approx.js';
import { installSse3 } from './sse3.js';
import { installSsse3 } from './ssse3.js';
import { installSse41Int } from './sse41-int.js';
import { installSse41Fp } from './sse41-fp.js';
import { installSse42 } from './sse42.js';
import { installAes } from './aes.js';

export function installSse(t: Handler[]): void {
  installInteger(t);
  installMove(t);
  installFp(t);
  installApprox(t);
  installSse3(t);
  installSsse3(t);
  installSse41Int(t);
  installSse41Fp(t);
  installSse42(t);
  installAes(t);
}
