/**
 * The block translator must be invisible: every test runs the same code twice, on a CPU
 * with the translator and on one without (the interpreter is the reference), and compares
 * registers, flags, RIP, memory, retired-instruction counts and the exceptions raised.
 * Loops run well past the translation threshold so that blocks are translated and rerun.
 * Bytes are quoted with their disassembly (objdump -M intel).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, hex, setReg64, CODE, type TestCpu, type Mode } from '../testing.js';
import { Cpu, STOP_HALT, STOP_BUDGET } from '../cpu.js';
import { TF, DS as DS_SEG } from '../regs.js';

const DATA = 0x30000;
const SEEDS = 150;

function pair(mode: Mode): [TestCpu, TestCpu] {
  const a = makeCpu(mode), b = makeCpu(mode);
  a.cpu.jit = true; b.cpu.jit = false;
  return [a, b];
}

function load(t: TestCpu, at: number, bytes: number[], regs: Array<[number, bigint]> = []): void {
  t.mem.load(at, Uint8Array.from(bytes));
  t.cpu.rip = at;
  t.cpu.halted = false;
  for (const [n, v] of regs) setReg64(t.cpu, n, v);
}

function state(c: Cpu, t: TestCpu): string {
  const regs = Array.from(c.r, (v) => (v >>> 0).toString(16)).join(' ');
  const data = Array.from(t.mem.ram.subarray(DATA, DATA + 256)).join(',');
  return `rip=${c.rip.toString(16)} n=${c.instructionCount} flags=${(c.getFlags() & 0x8d5).toString(16)} cr2=${c.cr2.toString(16)} ` +
    `exc=${JSON.stringify(t.exceptions)} regs=${regs} data=${data}`;
}

/** Runs both CPUs in slices of `slice` instructions until they halt; asserts equal state after each. */
function runBoth(a: TestCpu, b: TestCpu, slice = 100000, maxSlices = 1000): void {
  for (let i = 0; i < maxSlices; i++) {
    const ra = a.cpu.run(slice), rb = b.cpu.run(slice);
    assert.equal(ra, rb, 'stop reason');
    assert.equal(state(a.cpu, a), state(b.cpu, b));
    if (ra === STOP_HALT) return;
  }
  assert.fail('the code did not reach HLT');
}

function translatedBlocks(t: TestCpu): number {
  return t.cpu.dc.blk.filter((x) => x !== null).length;
}

// ---- random straight-line code, differential ------------------------------------------------

/** A small deterministic PRNG (tests must be reproducible). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s; };
}

/** Destination registers the generated code may write (never RSP, RBP or the loop counter R12). */
const DST = [0, 1, 2, 3, 6, 7, 8, 9, 10, 11];

/** One random instruction (bytes) from the families the translator emits natively or hands to handlers. */
function randomInsn(next: () => number, long: boolean): number[] {
  const pick = <T>(xs: T[]): T => xs[next() % xs.length]!;
  const d = long ? pick(DST) : pick([0, 1, 2, 3, 6, 7]);
  const s = long ? pick([...DST, 5]) : pick([0, 1, 2, 3, 5, 6, 7]);
  const w = long && (next() & 1) === 1;
  const rex = (wide: boolean, reg: number, rm: number): number[] => {
    const v = (wide ? 8 : 0) | (reg >= 8 ? 4 : 0) | (rm >= 8 ? 1 : 0);
    return v !== 0 ? [0x40 | v] : [];
  };
  const modrm = (mod: number, reg: number, rm: number): number => (mod << 6) | ((reg & 7) << 3) | (rm & 7);
  const imm8 = next() & 0xff;
  const imm32 = [next() & 0xff, next() & 0xff, next() & 0xff, next() & 0xff];
  const disp = (next() % 60) * 4; // [rbp + disp8]: rbp = DATA
  const mem = (reg: number): number[] => [modrm(1, reg, 5), disp & 0x7f];
  switch (next() % 26) {
    case 0: return [...rex(w, s, d), (pick([0, 1, 2, 3, 4, 5, 6, 7]) << 3) | 1, modrm(3, s, d)]; // op Ev,Gv
    case 1: return [...rex(w, d, 5), (pick([0, 1, 2, 3, 4, 5, 6, 7]) << 3) | 3, ...mem(d)]; // op Gv,[rbp+d]
    case 2: return [...rex(w, s, 5), (pick([0, 1, 2, 3, 4, 5, 6, 7]) << 3) | 1, ...mem(s)]; // op [rbp+d],Gv
    case 3: return [...rex(w, 0, d), 0x83, modrm(3, pick([0, 1, 2, 3, 4, 5, 6, 7]), d), imm8]; // grp1 Ev,Ib
    case 4: return [...rex(w, 0, d), 0x81, modrm(3, pick([0, 1, 2, 3, 4, 5, 6, 7]), d), ...imm32]; // grp1 Ev,Iz
    case 5: return [...rex(false, s & 3, d & 3), (pick([0, 1, 2, 3, 4, 5, 6, 7]) << 3), modrm(3, s & 3, pick([0, 1, 2, 3, 4, 7]))]; // op Eb,Gb (AH..BH too)
    case 6: return [...rex(w, s, d), 0x85, modrm(3, s, d)]; // test
    case 7: return [...rex(w, 0, d), 0xff, modrm(3, next() & 1, d)]; // inc/dec
    case 8: return [...rex(w, s, d), 0x89, modrm(3, s, d)]; // mov
    case 9: return [...rex(w, d, 5), 0x8b, ...mem(d)]; // mov r, [rbp+d]
    case 10: return [...rex(w, s, 5), 0x89, ...mem(s)]; // mov [rbp+d], r
    case 11: return [...rex(false, 0, d), 0xb8 | (d & 7), ...imm32]; // mov r32, imm32
    case 12: return [...rex(w, d, s), 0x0f, pick([0xb6, 0xb7, 0xbe, 0xbf]), modrm(3, d, s)]; // movzx/movsx
    case 13: return [...rex(w, d, 0), 0x8d, modrm(1, d, 4), (pick([0, 1, 2, 3]) << 6) | ((s & 7) << 3) | 5, imm8 & 0x7f]; // lea r, [rbp+s*k+d8]
    case 14: return [...rex(w, d, s), 0x0f, 0x40 | (next() & 15), modrm(3, d, s)]; // cmovcc (handler)
    case 15: return [...rex(false, 0, d), 0x0f, 0x90 | (next() & 15), modrm(3, 0, d)]; // setcc (handler)
    case 16: return [...rex(w, d, s), 0x0f, 0xaf, modrm(3, d, s)]; // imul (handler)
    case 17: return [...rex(w, 0, d), 0xc1, modrm(3, pick([4, 5, 7, 0, 1]), d), imm8 & 31]; // shifts (handler)
    case 18: return [...rex(w, 0, d), 0x83, modrm(3, pick([2, 3]), d), imm8]; // adc/sbb reads CF
    case 19: case 20: case 21: {
      // a flag producer of any size, then a reader: Jcc over an add, SETcc or CMOVcc
      const size = long ? pick([1, 2, 4, 8, 8, 4]) : pick([1, 2, 4]);
      const pre = size === 2 ? [0x66] : [];
      const r = rex(size === 8, s, d);
      const producer = pick([
        [...pre, ...r, size === 1 ? 0x38 : 0x39, modrm(3, s, d)], // cmp
        [...pre, ...r, size === 1 ? 0x28 : 0x29, modrm(3, s, d)], // sub
        [...pre, ...r, size === 1 ? 0x00 : 0x01, modrm(3, s, d)], // add
        [...pre, ...r, size === 1 ? 0x20 : 0x21, modrm(3, s, d)], // and
        [...pre, ...r, size === 1 ? 0x84 : 0x85, modrm(3, s, d)], // test
        [...pre, ...r, size === 1 ? 0xfe : 0xff, modrm(3, next() & 1, d)], // inc/dec
        [...pre, ...r, size === 1 ? 0x80 : 0x83, modrm(3, pick([7, 5, 0, 2, 3]), d), next() & 3], // cmp/sub/add/adc/sbb imm
      ]);
      const cc = next() & 15;
      const reader = pick([
        [0x70 | cc, 3, 0x83, 0xc0 | (next() & 3), 1], // jcc over add r, 1
        [0x0f, 0x90 | cc, 0xc0 | (next() & 3)], // setcc
        [...rex(w, d, s), 0x0f, 0x40 | cc, modrm(3, d, s)], // cmovcc
        [...rex(w, 0, 5), 0x0f, 0x40 | cc, 0x45, disp & 0x7f], // cmovcc r, [rbp+d]
      ]);
      return [...producer, ...reader];
    }
    case 24: return long ? [...rex(true, d, 0), 0x63, modrm(3, d, s)] : [0x90]; // movsxd
    case 22: return long ? [0x50 | (s & 7), 0x58 | (d & 7)] : [0x50 | (s & 7), 0x58 | (d & 7)]; // push/pop (low regs)
    default: return [...rex(w, d, s), 0x3b, modrm(3, d, s)]; // cmp r, r
  }
}

function randomProgram(seed: number, long: boolean): number[] {
  const next = rng(seed);
  const body: number[] = [];
  const n = 6 + (next() % 20);
  for (let i = 0; i < n; i++) {
    body.push(...randomInsn(next, long));
  }
  // the loop counter: r12 in 64-bit mode, a dword at [ebp+252] in 32-bit mode
  if (long) return [...body, 0x41, 0xff, 0xcc, 0x0f, 0x85, ...le32(-(body.length + 3 + 6)), 0xf4]; // dec r12d; jnz body; hlt
  // 32-bit: dec dword [ebp+0xfc]; jnz body
  return [...body, 0xff, 0x8d, 0xfc, 0, 0, 0, 0x0f, 0x85, ...le32(-(body.length + 6 + 6)), 0xf4];
}

function le32(v: number): number[] { return [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff]; }

for (const mode of ['long64', 'prot32'] as const) {
  test(`random straight-line code gives the interpreter's results (${mode}, ${SEEDS} programs x 30 passes)`, () => {
    let translated = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const [a, b] = pair(mode);
      const code = randomProgram(seed * 7919, mode === 'long64');
      const regs: Array<[number, bigint]> = [[5, BigInt(DATA)], [12, 30n]];
      // half the registers small, so that comparisons also meet equal and near values
      for (const n of [0, 1, 2, 3, 6, 7, 8, 9, 10, 11]) regs.push([n, (seed + n) % 2 === 0 ? BigInt(rng(seed + n)() % 5) : BigInt(rng(seed + n)()) * 0x9e3779b1n]);
      for (const t of [a, b]) {
        load(t, CODE, code, mode === 'long64' ? regs : regs.map(([n, v]) => [n, BigInt.asUintN(32, v)] as [number, bigint]));
        t.mem.write32(DATA + 252, 30);
      }
      try { runBoth(a, b, 1000 + seed); } catch (e) { throw new Error(`seed ${seed}: ${(e as Error).message}\ncode: ${code.map((x) => x.toString(16)).join(' ')}`); }
      translated += translatedBlocks(a);
    }
    assert.ok(translated >= SEEDS, `blocks were translated (${translated})`);
  });
}

// ---- faults, budget, self-modifying code, page crossing, single-step -----------------------------

test('a #PF in the middle of a translated block: earlier instructions retired, RIP at the store', () => {
  const [a, b] = pair('long64');
  const code = hex(`
    ff c0                   ; 0x00 inc eax
    48 83 c2 03             ; 0x02 add rdx, 3
    89 03                   ; 0x06 mov [rbx], eax      (#PF once rbx reaches 1 GiB: not mapped)
    48 81 c3 00 00 01 00    ; 0x08 add rbx, 0x10000
    eb ef                   ; 0x0f jmp 0x00
  `);
  for (const t of [a, b]) load(t, CODE, code, [[3, 0x3ff00000n]]);
  runBoth(a, b);
  assert.deepEqual(a.exceptions, [[14, 2]], '#PF, write, not present');
  assert.equal(a.cpu.rip, CODE + 6);
  assert.equal(a.cpu.cr2, 0x40000000);
  assert.equal(a.cpu.instructionCount, 16 * 5 + 2);
  assert.ok(translatedBlocks(a) > 0);
});

test('run(budget) retires exactly the budget inside translated loops', () => {
  const [a, b] = pair('long64');
  const code = hex(`
    48 01 d8                ; 0x00 add rax, rbx
    48 89 44 24 f8          ; 0x03 mov [rsp-8], rax
    48 8b 4c 24 f8          ; 0x08 mov rcx, [rsp-8]
    48 ff ca                ; 0x0d dec rdx
    75 ee                   ; 0x10 jnz 0x00
    f4                      ; 0x12 hlt
  `);
  for (const t of [a, b]) load(t, CODE, code, [[2, 1000n], [3, 7n]]);
  for (let i = 1; i < 200; i++) {
    const ra = a.cpu.run(i % 13 + 1), rb = b.cpu.run(i % 13 + 1);
    assert.equal(ra, rb);
    assert.equal(ra, STOP_BUDGET);
    assert.equal(state(a.cpu, a), state(b.cpu, b));
  }
  assert.ok(translatedBlocks(a) > 0);
  runBoth(a, b);
  assert.equal(a.cpu.r[0], 7 * 1000);
});

test('a block that patches an instruction later in the same block runs the new bytes', () => {
  const [a, b] = pair('long64');
  // the pass that leaves ecx = 10 rewrites the add's imm8 (1 -> 100) right before it runs
  const code = hex(`
    ff c9                   ; 0x00 dec ecx
    83 f9 0a                ; 0x02 cmp ecx, 10
    75 07                   ; 0x05 jne 0x0e
    c6 05 02 00 00 00 64    ; 0x07 mov byte [rip+2], 100   (0x10: the imm8 below)
    83 c0 01                ; 0x0e add eax, 1
    85 c9                   ; 0x11 test ecx, ecx
    75 eb                   ; 0x13 jnz 0x00
  `);
  for (const t of [a, b]) load(t, CODE, [...code, 0xf4], [[1, 30n]]);
  runBoth(a, b);
  assert.equal(a.cpu.r[0], 19 * 1 + 11 * 100);
  assert.equal(a.exceptions.length, 0);
});

test('a store into the running block from the loop body (self-modifying code in one block)', () => {
  const [a, b] = pair('long64');
  const code = hex(`
    83 c0 01                ; 0x00 add eax, 1     (imm8 patched to 5 by the store below)
    c6 05 f8 ff ff ff 05    ; 0x03 mov byte [rip-8], 5    (0x02)
    ff c9                   ; 0x0a dec ecx
    75 f2                   ; 0x0c jnz 0x00
  `);
  for (const t of [a, b]) load(t, CODE, [...code, 0xf4], [[1, 40n]]);
  runBoth(a, b);
  assert.equal(a.cpu.r[0], 1 + 39 * 5);
});

test('DMA over translated code (PhysicalMemory.load) drops the block', () => {
  const [a, b] = pair('long64');
  const code = hex(`
    83 c0 01                ; 0x00 add eax, 1
    ff c9                   ; 0x03 dec ecx
    75 f9                   ; 0x05 jnz 0x00
    f4                      ; 0x07 hlt
  `);
  for (const t of [a, b]) { load(t, CODE, code, [[1, 50n]]); t.cpu.run(100); }
  assert.ok(translatedBlocks(a) > 0);
  for (const t of [a, b]) { t.mem.load(CODE + 2, Uint8Array.from([7])); t.cpu.rip = CODE; t.cpu.halted = false; setReg64(t.cpu, 1, 50n); setReg64(t.cpu, 0, 0n); }
  runBoth(a, b);
  assert.equal(a.cpu.r[0], 350);
});

test('a loop that straddles a page boundary', () => {
  const [a, b] = pair('long64');
  const at = CODE + 0xff8;
  const code = hex(`
    48 83 c0 03             ; +0x00 add rax, 3
    48 01 c3                ; +0x04 add rbx, rax    (crosses into the next page)
    48 31 d8                ; +0x07 xor rax, rbx
    ff c9                   ; +0x0a dec ecx
    75 f2                   ; +0x0c jnz +0x00
    f4                      ; +0x0e hlt
  `);
  for (const t of [a, b]) load(t, at, code, [[1, 100n]]);
  runBoth(a, b, 37);
  assert.ok(translatedBlocks(a) > 0);
});

test('flags produced in one block and read in the next (cmp, jmp, jcc / setcc / adc)', () => {
  for (const cc of [0x72, 0x76, 0x7c, 0x7e, 0x78, 0x70, 0x7a]) {
    const [a, b] = pair('long64');
    const code = hex(`
      48 83 c0 07             ; 0x00 add rax, 7
      48 39 d8                ; 0x04 cmp rax, rbx
      eb 00                   ; 0x07 jmp 0x09
      ${cc.toString(16)} 02   ; 0x09 jcc 0x0d
      ff c2                   ; 0x0b inc edx
      0f 92 c1                ; 0x0d setb cl
      48 83 d6 00             ; 0x10 adc rsi, 0
      48 ff cf                ; 0x14 dec rdi
      75 e7                   ; 0x17 jnz 0x00
      f4                      ; 0x19 hlt
    `);
    for (const t of [a, b]) load(t, CODE, code, [[0, -100n], [3, 90n], [7, 40n]]);
    runBoth(a, b, 11);
  }
});

test('TF set: every instruction traps (#DB) exactly as in the interpreter', () => {
  const [a, b] = pair('long64');
  const code = hex(`
    83 c0 01                ; add eax, 1
    ff c9                   ; dec ecx
    75 f9                   ; jnz -7
    f4                      ; hlt
  `);
  for (const t of [a, b]) { load(t, CODE, code, [[1, 20n]]); t.cpu.run(40); }
  for (const t of [a, b]) { t.cpu.flags |= TF; t.cpu.halted = false; }
  runBoth(a, b);
  assert.deepEqual(a.exceptions, [[1, 0]]);
  assert.equal(a.cpu.instructionCount, b.cpu.instructionCount);
});

test('an MMIO store that requests a stop ends run() right after it, inside a translated loop', () => {
  const [a, b] = pair('long64');
  const MMIO = 0x10000000; // not RAM, identity-mapped by the test page tables
  const code = hex(`
    89 03                   ; 0x00 mov [rbx], eax    (the device asks for a stop on its 20th write)
    ff c0                   ; 0x02 inc eax
    83 c2 02                ; 0x04 add edx, 2
    eb f7                   ; 0x07 jmp 0x00
  `);
  for (const t of [a, b]) {
    let writes = 0;
    const cpu = t.cpu;
    t.mem.mmio.register(MMIO, 0x1000, { read: () => 0, write: () => { if (++writes === 20) cpu.requestStop(); } }, 'stopper');
    load(t, CODE, code, [[3, BigInt(MMIO)]]);
  }
  const ra = a.cpu.run(100000), rb = b.cpu.run(100000);
  assert.equal(ra, rb);
  assert.equal(state(a.cpu, a), state(b.cpu, b));
  assert.equal(a.cpu.instructionCount, 19 * 4 + 1, 'stopped after the 20th store');
  assert.equal(a.cpu.rip, CODE + 2);
  assert.ok(translatedBlocks(a) > 0);
});

test('32-bit code: a store past a data segment limit is #GP(0) mid-block, as interpreted', () => {
  const [a, b] = pair('prot32');
  const code = hex(`
    40                      ; 0x00 inc eax
    89 03                   ; 0x01 mov [ebx], eax     (#GP(0) once ebx passes DS.limit)
    83 c3 10                ; 0x03 add ebx, 0x10
    83 c2 01                ; 0x06 add edx, 1
    eb f5                   ; 0x09 jmp 0x00
  `);
  for (const t of [a, b]) {
    t.cpu.setSegCache(DS_SEG, 0x18, 0, 0x3ff, 0x4093); // limit 0x3ff, 32-bit data
    load(t, CODE, code);
  }
  runBoth(a, b);
  assert.deepEqual(a.exceptions, [[13, 0]]);
  assert.equal(a.cpu.rip, CODE + 1);
  assert.equal(a.cpu.r[3 * 2], 0x400);
  assert.ok(translatedBlocks(a) > 0);
});
