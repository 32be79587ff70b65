/*
 * The L2 program as minivisor carries it: the flat image of l2net.elf64 (guests/Makefile builds
 * it first and passes its directory to the assembler with -I), copied by build_l2() to L2
 * guest-physical 1 MiB.
 */
  .section .rodata
  .balign 16
  .globl l2_payload_start, l2_payload_end
l2_payload_start:
  .incbin "l2net.bin"
l2_payload_end:

  .section .note.GNU-stack, "", @progbits
