/*
 * The L2 payload of vmxbench (minivisor built with -DVMXBENCH): minivisor copies it to L2
 * guest-physical 0x8000 like l2.S and writes the benchmark parameters to guest-physical
 * 0x7000 (mode: 0 = CPU-bound loop, 1 = CPUID exits) and 0x7008 (count). The loop
 * (bench_loop) is the very code L1 runs itself in mode "l1", so the two speeds compare the
 * same instructions. Position-independent, register-only. Ends with HLT (an exit minivisor
 * reports as "L2 halted", status 1).
 */
  .text
  .code64
  .globl l2_payload_start, l2_payload_end, bench_loop
l2_payload_start:
  mov 0x7000, %rax
  mov 0x7008, %rdi
  test %rax, %rax
  jnz 3f
  call bench_loop
  hlt
3:
  test %rdi, %rdi
  jz 5f
4:
  xor %eax, %eax
  xor %ecx, %ecx
  cpuid                    /* an unconditional VM exit: L2 -> L1 -> L2 */
  dec %rdi
  jnz 4b
5:
  hlt
  jmp 5b

/* u64 bench_loop(u64 n): n rounds of xorshift64 summed (CPU-bound, no memory accesses) */
bench_loop:
  movabs $88172645463325252, %rax
  xor %edx, %edx
  test %rdi, %rdi
  jz 2f
1:
  mov %rax, %rcx
  shl $13, %rcx
  xor %rcx, %rax
  mov %rax, %rcx
  shr $7, %rcx
  xor %rcx, %rax
  mov %rax, %rcx
  shl $17, %rcx
  xor %rcx, %rax
  add %rax, %rdx
  dec %rdi
  jnz 1b
2:
  mov %rdx, %rax
  ret
l2_payload_end:

  .section .note.GNU-stack, "", @progbits
