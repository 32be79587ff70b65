/*
 * The VM-exit entry point and the first launch.
 *
 * On every VM exit the processor loads RSP from HOST_RSP (vmexit_stack_top) and RIP from
 * HOST_RIP (vmexit_entry) and leaves the L2 general registers other than RSP as they were
 * (SDM Vol. 3C §28.5: only RSP, RIP and the host state fields are loaded). The stub saves
 * them as a struct guest_regs, lets C handle the exit, restores them (the handler may
 * change them, e.g. CPUID results) and executes VMRESUME. Each exit starts again at the
 * top of the same stack, so nothing accumulates.
 */
  .text
  .code64

  .globl vmexit_entry
vmexit_entry:
  /* pushed so that the save area reads rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8..r15 upward:
   * the architectural register numbers (SDM Vol. 2A §2.1.5), the order hook functions index
   * (guests/minivisor/hypercalls.h). The RSP slot is a placeholder: L2's RSP is in the VMCS. */
  push %r15
  push %r14
  push %r13
  push %r12
  push %r11
  push %r10
  push %r9
  push %r8
  push %rdi
  push %rsi
  push %rbp
  push $0                 /* rsp slot */
  push %rbx
  push %rdx
  push %rcx
  push %rax
  mov %rsp, %rdi          /* struct guest_regs * */
  call vmexit_handler     /* 16 pushes from a 16-aligned top: aligned for the call */
  pop %rax
  pop %rcx
  pop %rdx
  pop %rbx
  add $8, %rsp            /* rsp slot */
  pop %rbp
  pop %rsi
  pop %rdi
  pop %r8
  pop %r9
  pop %r10
  pop %r11
  pop %r12
  pop %r13
  pop %r14
  pop %r15
  vmresume
  /* only reached when VMRESUME fails (VMfailInvalid / VMfailValid) */
  pushfq
  pop %rdi
  and $-16, %rsp
  call vmresume_failed

/*
 * u64 vmx_launch(void): VMLAUNCH with every L2 general register zero. On success control
 * never comes back here (exits go to vmexit_entry); on VMfail it returns RFLAGS.
 * The callee-saved registers are kept so the caller can report the failure.
 */
  .globl vmx_launch
vmx_launch:
  push %rbx
  push %rbp
  push %r12
  push %r13
  push %r14
  push %r15
  xor %eax, %eax
  xor %ebx, %ebx
  xor %ecx, %ecx
  xor %edx, %edx
  xor %esi, %esi
  xor %edi, %edi
  xor %ebp, %ebp
  xor %r8d, %r8d
  xor %r9d, %r9d
  xor %r10d, %r10d
  xor %r11d, %r11d
  xor %r12d, %r12d
  xor %r13d, %r13d
  xor %r14d, %r14d
  xor %r15d, %r15d
  vmlaunch
  pushfq
  pop %rax
  pop %r15
  pop %r14
  pop %r13
  pop %r12
  pop %rbp
  pop %rbx
  ret

  .section .bss
  .align 16
  .skip 16384
  .globl vmexit_stack_top
vmexit_stack_top:

  .section .note.GNU-stack, "", @progbits
