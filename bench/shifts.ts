/**
 * A hash-style guest loop of shifts by immediates, ADD, XOR and MOV (32- and 64-bit), the
 * workload of the translator's native shifts (src/cpu/jit/emit-shift.ts;
 * docs/cpu-design.md "The block translator"). Interpreter and translator.
 *
 *   node dist/bench/shifts.js [ITERATIONS]     (default 4000000; 12 instructions each)
 *
 * Prints MIPS per CPU second (process.cpuUsage); asserts nothing.
 */
import { makeCpu, setReg64, hex, CODE } from '../src/cpu/testing.js';
import { RCX, R12 } from '../src/cpu/regs.js';

const code = hex(`
  89 c8        ; mov eax, ecx
  c1 e0 05     ; shl eax, 5
  01 c8        ; add eax, ecx
  89 c2        ; mov edx, eax
  c1 ea 03     ; shr edx, 3
  31 d0        ; xor eax, edx
  48 c1 fb 07  ; sar rbx, 7
  48 01 c3     ; add rbx, rax
  48 d1 e3     ; shl rbx, 1
  89 c1        ; mov ecx, eax
  49 ff cc     ; dec r12
  75 e1        ; jnz 0 (back to the first mov)
  f4           ; hlt
`);

function run(jit: boolean, iterations: number): void {
  const t = makeCpu('long64', 8 << 20);
  t.cpu.jit = jit;
  t.mem.load(CODE, Uint8Array.from(code));
  setReg64(t.cpu, R12, BigInt(iterations));
  setReg64(t.cpu, RCX, 12345n);
  t.cpu.rip = CODE;
  const c0 = process.cpuUsage();
  t.cpu.run(iterations * 12 + 10);
  const cu = process.cpuUsage(c0);
  const s = (cu.user + cu.system) / 1e6;
  if (!t.cpu.halted || t.exceptions.length !== 0) throw new Error('the loop did not run to HLT');
  console.log(`shift/add/xor loop, ${jit ? 'translator ' : 'interpreter'}: ${(t.cpu.instructionCount / s / 1e6).toFixed(1)} MIPS per CPU s (${t.cpu.instructionCount} instructions, ${s.toFixed(2)} CPU s)`);
}

const iterations = Number(process.argv[2] ?? '4000000');
for (const jit of [false, true]) run(jit, iterations);
