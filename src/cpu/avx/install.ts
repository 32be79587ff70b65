/**
 * The AVX/AVX2 families' entry in the opcode table (issue 4): VEX map 1 (0F) at
 * 0x400-0x4ff, map 2 (0F 38) at 0x500-0x5ff, map 3 (0F 3A) at 0x600-0x6ff (run-loop.ts
 * decodeVex); every entry not installed here is #UD. Each family adds its install function
 * below (docs/cpu-design.md "AVX").
 */
import type { Handler } from '../cpu.js';
import { installAvxMove } from './move.js';
import { installAvxArith } from './arith.js';
import { installAvxFma } from './fma.js';
import { installAvxF16c } from './f16c.js';
import { installAvxInt } from './int.js';
import { installAvxInt2 } from './int2.js';
import { installAvxFp } from './fp.js';
import { installAvxFp2 } from './fp2.js';
import { installAvxCross } from './cross.js';
import { installAvxGather } from './gather.js';
import { installBmi } from './bmi.js';
import { installAvxMxcsr } from './mxcsr.js';

export function installAvx(t: Handler[]): void {
  installAvxMove(t);
  installAvxArith(t);
  installAvxFma(t); installAvxF16c(t);
  installAvxInt(t); installAvxInt2(t);
  installAvxFp(t); installAvxFp2(t);
  installAvxCross(t); installAvxGather(t); installBmi(t);
  installAvxMxcsr(t);
}
