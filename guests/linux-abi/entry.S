/*
 * linux-abi: the SYSCALL entry point and the first entry to ring 3.
 *
 * SYSCALL (SDM Vol. 2B "SYSCALL") saves RIP in RCX and RFLAGS in R11, loads CS/SS from
 * IA32_STAR[47:32], masks RFLAGS with IA32_FMASK and jumps to IA32_LSTAR, without touching
 * RSP: we park the user RSP and switch to the kernel stack. Linux's x86-64 system call ABI
 * passes the number in RAX and arguments in RDI, RSI, RDX, R10, R8, R9, returns in RAX and
 * preserves every other register except RCX and R11, so the argument registers, which the
 * C code may clobber, are saved and restored here. The C code is built with
 * -mgeneral-regs-only: the user's x87/SSE/AVX registers pass through untouched, so no
 * XSAVE is needed for a single process.
 */
  .text
  .code64

  .globl syscall_entry
syscall_entry:
  mov %rsp, user_rsp(%rip)
  lea syscall_stack_top(%rip), %rsp
  /* struct sysregs (main.c), lowest address first */
  push user_rsp(%rip)
  push %r11
  push %rcx
  push %r9
  push %r8
  push %r10
  push %rdx
  push %rsi
  push %rdi
  push %rax
  mov %rsp, %rdi
  cld
  call syscall_dispatch     /* the stack is 16-byte aligned here: top aligned, 10 pushes */
  add $8, %rsp              /* the number: RAX carries the result instead */
  pop %rdi
  pop %rsi
  pop %rdx
  pop %r10
  pop %r8
  pop %r9
  pop %rcx
  pop %r11
  pop %rsp                  /* the user stack */
  sysretq

/*
 * void enter_user(u64 rip, u64 rsp): the first entry to ring 3 through IRETQ (SDM Vol. 3A
 * §6.14.3): SS = user data | 3, RSP, RFLAGS = IF | bit 1, CS = 64-bit user code | 3, RIP.
 * The general registers start at zero (RDX = 0: no dynamic-linker exit hook for _start).
 */
  .globl enter_user
enter_user:
  xor %eax, %eax
  mov %ax, %ds
  mov %ax, %es
  pushq $0x23
  push %rsi
  pushq $0x202
  pushq $0x2b
  push %rdi
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
  iretq

  .bss
  .align 16
user_rsp: .quad 0
  .align 16
  .skip 65536
  .globl syscall_stack_top
syscall_stack_top:

  .section .note.GNU-stack, "", @progbits
