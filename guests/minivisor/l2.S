/*
 * The L2 payload: a tiny 64-bit guest that minivisor copies to L2 guest-physical 0x8000 and
 * enters in 64-bit mode (paging on, its page tables built by minivisor in L2 memory).
 * Position-independent (RIP-relative data), since it runs at another address than it is
 * linked at. It prints its greeting through COM1's data port byte by byte (each OUT exits to
 * minivisor, which forwards it), executes CPUID leaf 1 (answered by minivisor with the VMX
 * bit cleared), hands ECX to minivisor with VMCALL (RAX = that ECX), then halts.
 */
  .section .rodata
  .code64
  .globl l2_payload_start, l2_payload_end
l2_payload_start:
  lea l2_msg(%rip), %rsi
  mov $0x3f8, %dx
1:
  movb (%rsi), %al
  test %al, %al
  jz 2f
  outb %al, %dx
  inc %rsi
  jmp 1b
2:
  mov $1, %eax
  xor %ecx, %ecx
  cpuid
  mov %rcx, %rax
  vmcall
  hlt
  jmp 2b
l2_msg:
  .asciz "Hello from L2\n"
l2_payload_end:

  .section .note.GNU-stack, "", @progbits
