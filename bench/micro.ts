/**
 * Micro-benchmarks behind the CPU's representation choices (docs/cpu-design.md):
 * 64-bit arithmetic as int32 halves vs BigInt, and the interpreter's dispatch + memory
 * path on a tight guest loop. Prints figures; asserts nothing.
 */
import { makeCpu, setReg64, hex, CODE } from '../src/cpu/testing.js';
import { RAX, RBX, RCX, RDX } from '../src/cpu/regs.js';

function time(label: string, n: number, f: () => void): number {
  const t0 = process.hrtime.bigint();
  f();
  const ns = Number(process.hrtime.bigint() - t0);
  const perOp = ns / n;
  console.log(`${label.padEnd(48)} ${perOp.toFixed(2).padStart(8)} ns/op  (${(1e3 / perOp).toFixed(1)} M ops/s)`);
  return perOp;
}

export function microBench(): void {
  const N = 20_000_000;
  // 64-bit add with carry on int32 halves (the CPU's representation)
  const r = new Int32Array(4);
  r[0] = 0x7fffffff; r[1] = 1; r[2] = 0x12345678; r[3] = 0;
  time('add64 on Int32Array halves', N, () => {
    for (let i = 0; i < N; i++) {
      const s = (r[0]! >>> 0) + (r[2]! >>> 0);
      r[1] = (r[1]! + r[3]! + (s > 0xffffffff ? 1 : 0)) | 0;
      r[0] = s | 0;
    }
  });
  const b = new BigInt64Array(2);
  b[0] = 0x7fffffffn; b[1] = 0x12345678n;
  time('add64 on BigInt64Array (BigInt.asIntN)', N / 10, () => {
    for (let i = 0; i < N / 10; i++) b[0] = BigInt.asIntN(64, b[0]! + b[1]!);
  });

  // guest loop: add rax,rbx; mov [rsp-8],rax; mov rax,[rsp-8]; sub rcx,rdx; jnz  (5 instructions)
  for (const jit of [false, true]) guestLoop(jit);
}

/** The guest loop with the block translator off (interpreter) or on. */
function guestLoop(jit: boolean): void {
  const t = makeCpu('long64', 8 << 20);
  t.cpu.jit = jit;
  const code = hex(`
    48 01 d8        ; add rax, rbx
    48 89 44 24 f8  ; mov [rsp-8], rax
    48 8b 44 24 f8  ; mov rax, [rsp-8]
    48 29 d1        ; sub rcx, rdx
    75 f1           ; jnz -15
    f4              ; hlt
  `);
  t.mem.load(CODE, Uint8Array.from(code));
  const iters = 4_000_000;
  setReg64(t.cpu, RCX, BigInt(iters));
  setReg64(t.cpu, RDX, 1n);
  setReg64(t.cpu, RBX, 3n);
  setReg64(t.cpu, RAX, 0n);
  t.cpu.rip = CODE;
  const before = t.cpu.instructionCount;
  const perInsn = time(`guest loop (alu, load, store, branch) per insn, ${jit ? 'translator' : 'interpreter'}`, iters * 5, () => { t.cpu.run(iters * 5 + 10); });
  const executed = t.cpu.instructionCount - before;
  console.log(`  executed ${executed} instructions: ${(1e3 / perInsn).toFixed(1)} MIPS`);
}

if (import.meta.url === `file://${process.argv[1]}`) microBench();
