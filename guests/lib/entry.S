/*
 * Exception entry stubs for vectors 0-31 and fault_try(), the recovery point tests use
 * to survive an expected exception.
 *
 * The CPU pushes an error code for #DF(8), #TS(10), #NP(11), #SS(12), #GP(13), #PF(14),
 * #AC(17), #CP(21), #VC(29) and #SX(30) only (SDM Vol. 3A §6.15); the other stubs push a
 * zero so that every frame has the same shape (struct frame in rt.h).
 */
  .text
  .code64

.macro stub vector, has_error
  .align 16
stub_\vector:
  .if \has_error == 0
  push $0
  .endif
  push $\vector
  jmp exception_common
.endm

  stub 0, 0
  stub 1, 0
  stub 2, 0
  stub 3, 0
  stub 4, 0
  stub 5, 0
  stub 6, 0
  stub 7, 0
  stub 8, 1
  stub 9, 0
  stub 10, 1
  stub 11, 1
  stub 12, 1
  stub 13, 1
  stub 14, 1
  stub 15, 0
  stub 16, 0
  stub 17, 1
  stub 18, 0
  stub 19, 0
  stub 20, 0
  stub 21, 1
  stub 22, 0
  stub 23, 0
  stub 24, 0
  stub 25, 0
  stub 26, 0
  stub 27, 0
  stub 28, 0
  stub 29, 1
  stub 30, 1
  stub 31, 0

  .section .rodata
  .align 8
  .globl exception_stubs
exception_stubs:
  .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
  .quad stub_\v
  .endr

  .text
exception_common:
  push %rax
  push %rbx
  push %rcx
  push %rdx
  push %rsi
  push %rdi
  push %rbp
  push %r8
  push %r9
  push %r10
  push %r11
  push %r12
  push %r13
  push %r14
  push %r15
  cld
  mov %rsp, %rdi
  mov %rsp, %rbx
  and $-16, %rsp            /* the SysV ABI wants a 16-byte aligned stack at the call */
  call exception_handler
  mov %rbx, %rsp
  pop %r15
  pop %r14
  pop %r13
  pop %r12
  pop %r11
  pop %r10
  pop %r9
  pop %r8
  pop %rbp
  pop %rdi
  pop %rsi
  pop %rdx
  pop %rcx
  pop %rbx
  pop %rax
  add $16, %rsp             /* vector and error code */
  iretq

/*
 * int fault_try(void (*fn)(void *), void *arg)
 * Saves the callee-saved registers and RSP, publishes a recovery RIP, and calls fn(arg).
 * exception_handler (idt.c) redirects a caught exception to fault_recovered with RSP
 * restored, so the function returns the vector as if fn had returned.
 */
  .globl fault_try
fault_try:
  push %rbx
  push %rbp
  push %r12
  push %r13
  push %r14
  push %r15
  mov %rsp, fault_recover_rsp(%rip)
  lea fault_recovered(%rip), %rax
  mov %rax, fault_recover_rip(%rip)
  mov %rdi, %rax
  mov %rsi, %rdi
  call *%rax
  mov $-1, %eax
  jmp 1f
fault_recovered:
  mov fault_vector(%rip), %eax
1:
  movq $0, fault_recover_rip(%rip)
  pop %r15
  pop %r14
  pop %r13
  pop %r12
  pop %rbp
  pop %rbx
  ret

  .section .note.GNU-stack, "", @progbits
