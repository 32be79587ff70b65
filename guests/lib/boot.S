/*
 * Multiboot 1 entry: from 32-bit protected mode to C in 64-bit long mode.
 *
 * The boot loader (QEMU -kernel, `nestvisor run`) enters _start with EAX = 0x2BADB002,
 * EBX = physical address of the Multiboot information, flat 4 GiB segments, paging off
 * and interrupts disabled, and no stack (Multiboot 1 spec §3.2 "Machine state"). We build
 * 4-level page tables that identity-map the first 1 GiB with 2 MiB pages, enable PAE,
 * EFER.LME and CR0.PG (SDM Vol. 3A §10.8.5 "Initializing IA-32e Mode"), load a GDT with a
 * 64-bit code segment and far-jump into it.
 *
 * The image is linked as ELF64 and converted to ELF32 with objcopy (as kvm-unit-tests
 * does for its .flat files), because QEMU's Multiboot loader refuses ELF64 kernels. The
 * header therefore needs no a.out-kludge addresses: flags ask only for memory information.
 */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000002 /* bit 1: mem_* and mmap fields wanted */

#define CR0_PE 0x00000001
#define CR0_PG 0x80000000
#define CR4_PAE 0x00000020
#define MSR_EFER 0xC0000080
#define EFER_LME 0x00000100
#define PTE_P_W 0x003
#define PDE_PS 0x080

  .section .multiboot, "a"
  .align 4
  .long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

  .section .boot, "ax"
  .code32
  .globl _start
_start:
  cli
  mov $boot_stack_top, %esp
  mov %eax, mb_magic
  mov %ebx, mb_info

  /* PML4[0] -> PDPT, PDPT[0] -> PD; PD[i] = i * 2 MiB, present, writable, 2 MiB page. */
  mov $pdpt + PTE_P_W, %eax
  mov %eax, pml4
  mov $pd + PTE_P_W, %eax
  mov %eax, pdpt
  xor %ecx, %ecx
1:
  mov %ecx, %eax
  shl $21, %eax
  or $(PTE_P_W | PDE_PS), %eax
  mov %eax, pd(, %ecx, 8)
  movl $0, pd + 4(, %ecx, 8)
  inc %ecx
  cmp $512, %ecx
  jb 1b

  mov %cr4, %eax
  or $CR4_PAE, %eax
  mov %eax, %cr4
  mov $pml4, %eax
  mov %eax, %cr3
  mov $MSR_EFER, %ecx
  rdmsr
  or $EFER_LME, %eax
  wrmsr
  mov %cr0, %eax
  or $(CR0_PE | CR0_PG), %eax
  mov %eax, %cr0

  lgdt gdt_desc
  ljmp $0x08, $start64

  .code64
start64:
  mov $0x10, %eax
  mov %eax, %ds
  mov %eax, %es
  mov %eax, %ss
  mov %eax, %fs
  mov %eax, %gs
  mov $boot_stack_top, %rsp
  xor %ebp, %ebp
  call rt_start
2:
  cli
  hlt
  jmp 2b

  .section .data
  .align 16
  .globl gdt
gdt:
  .quad 0                    /* 0x00 null */
  .quad 0x00af9a000000ffff   /* 0x08 64-bit code, DPL 0 (L=1, D=0) */
  .quad 0x00cf92000000ffff   /* 0x10 data, DPL 0, flat 4 GiB */
  .quad 0x00cf9a000000ffff   /* 0x18 32-bit code, DPL 0, flat 4 GiB */
gdt_end:
gdt_desc:
  .word gdt_end - gdt - 1
  .quad gdt

  .globl mb_magic, mb_info
  .align 4
mb_magic: .long 0
mb_info: .long 0

  .section .bss
  .align 4096
pml4: .skip 4096
pdpt: .skip 4096
pd: .skip 4096
  .align 16
  .skip 65536
boot_stack_top:

  .section .note.GNU-stack, "", @progbits
