/*
 * A BIOS boot sector for running guest kernels under Bochs, which has no -kernel option:
 * loads a flat image (objcopy -O binary of a kernel linked at 1 MiB, NSECT sectors from
 * LBA 1) with INT 13h AH=42h to 0x10000, enables A20, enters 32-bit flat protected mode,
 * zeroes 1..6 MiB (the kernel's .bss), copies the image to 1 MiB and jumps to ENTRY the
 * way a Multiboot 1 loader does: EAX = 0x2BADB002, EBX = an all-zero information block
 * (no memory map, no command line). NSECT and ENTRY come from run.sh (--defsym).
 */
  .code16
  .globl _start
_start:
  cli
  xor %ax, %ax
  mov %ax, %ds
  mov %ax, %es
  mov %ax, %ss
  mov $0x7c00, %sp
  mov %dl, drive
  in $0x92, %al
  or $2, %al
  out %al, $0x92
  mov $NSECT, %cx
1:
  mov $64, %ax
  cmp %ax, %cx
  jae 2f
  mov %cx, %ax
2:
  mov %ax, dap_count
  push %cx
  push %ax
  mov $0x42, %ah
  mov drive, %dl
  mov $dap, %si
  int $0x13
  jc fail
  pop %ax
  pop %cx
  sub %ax, %cx
  addl $64, dap_lba
  addw $0x800, dap_seg
  test %cx, %cx
  jnz 1b
  lgdt gdtdesc
  mov %cr0, %eax
  or $1, %eax
  mov %eax, %cr0
  ljmp $0x08, $pm
fail:
  mov $0x3f8, %dx
  mov $'E', %al
  out %al, %dx
  hlt
  jmp fail
  .code32
pm:
  mov $0x10, %ax
  mov %ax, %ds
  mov %ax, %es
  mov %ax, %ss
  mov %ax, %fs
  mov %ax, %gs
  mov $0x7c00, %esp
  /* zero 1 MiB .. 6 MiB (bss) then copy the image */
  mov $0x100000, %edi
  mov $(0x500000/4), %ecx
  xor %eax, %eax
  cld
  rep stosl
  mov $0x10000, %esi
  mov $0x100000, %edi
  mov $(NSECT*128), %ecx
  rep movsl
  /* zeroed multiboot info at 0x9000 */
  mov $0x9000, %edi
  mov $32, %ecx
  xor %eax, %eax
  rep stosl
  mov $0x9000, %ebx
  mov $0x2BADB002, %eax
  mov $ENTRY, %ecx
  jmp *%ecx

  .align 8
gdt:
  .quad 0
  .quad 0x00cf9a000000ffff
  .quad 0x00cf92000000ffff
gdtdesc:
  .word 23
  .long gdt
  .align 4
dap:
  .byte 16, 0
dap_count: .word 0
  .word 0
dap_seg: .word 0x1000
dap_lba: .quad 1
drive: .byte 0x80
  .org 510
  .byte 0x55, 0xaa
