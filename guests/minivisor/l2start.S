/*
 * The L2 program's entry (l2net.ld puts .l2start first, at L2 guest-physical 1 MiB, where
 * minivisor sets GUEST_RIP). minivisor enters it in 64-bit mode with paging on; it takes its
 * own stack and runs main(); if main returns, it halts (an HLT exit: "minivisor: L2 halted").
 */
  .section .l2start, "ax"
  .code64
  .globl l2_start
l2_start:
  mov $l2_stack_top, %rsp
  call main
1:
  hlt
  jmp 1b

  .section .bss
  .balign 16
  .skip 32768
l2_stack_top:

  .section .note.GNU-stack, "", @progbits
