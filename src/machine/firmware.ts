/**
 * The few bytes of "BIOS" a reset needs. Nestvisor boots kernels directly (like QEMU
 * -kernel) and has no firmware image, but after a reset the processor starts at the reset
 * vector, and guests that reset themselves (kvm-unit-tests' init test, Linux's reboot)
 * expect what a PC BIOS does there: read the CMOS shutdown status byte (0x0F) and either
 * resume through the 40:67 vector or boot again (IBM PC/AT BIOS; SeaBIOS handle_resume).
 *
 * The stub lives in RAM where the BIOS is shadowed (0xF0000-0xFFFFF, reserved in the
 * memory map the loader reports): a far jump at F000:FFF0 to the traditional POST entry
 * F000:E05B, and there, in real mode:
 *
 *   e05b: fa             cli
 *         b0 8f          mov al, 0x8f           ; CMOS index 0x0F, NMIs masked
 *         e6 70          out 0x70, al
 *         e4 71          in al, 0x71            ; shutdown status
 *         3c 05          cmp al, 0x05           ; 05h: EOI the PICs, jump via 40:67
 *         74 0b          je eoi
 *         3c 0a          cmp al, 0x0a           ; 0Ah: jump via 40:67
 *         74 0d          je resume
 *   boot: ba fe 04       mov dx, 0x4fe          ; anything else: boot the kernel again
 *         ee             out dx, al             ; → the board's firmwareBoot()
 *         f4             hlt
 *         eb f9          jmp boot
 *   eoi:  b0 20          mov al, 0x20
 *         e6 a0          out 0xa0, al
 *         e6 20          out 0x20, al
 *   resume:
 *         b0 8f          mov al, 0x8f
 *         e6 70          out 0x70, al
 *         30 c0          xor al, al             ; status back to 0, as SeaBIOS does
 *         e6 71          out 0x71, al
 *         31 c0          xor ax, ax
 *         8e d8          mov ds, ax
 *         ff 2e 67 04    jmp far [0x467]
 *
 * Port 0x4FE is the board's "boot" doorbell (no PC device uses it): the board then does
 * what a BIOS POST followed by QEMU's multiboot option ROM would — devices to their
 * power-on state and the kernel loaded and entered again.
 */
import type { PhysicalMemory } from '../memory/physical.js';

export const FIRMWARE_BOOT_PORT = 0x4fe;
/** Real-mode reset vector F000:FFF0 and POST entry F000:E05B. */
export const RESET_VECTOR_PHYS = 0xffff0, POST_ENTRY_PHYS = 0xfe05b;

const RESET_JUMP = [0xea, 0x5b, 0xe0, 0x00, 0xf0]; // jmp far F000:E05B
const POST = [
  0xfa, 0xb0, 0x8f, 0xe6, 0x70, 0xe4, 0x71, 0x3c, 0x05, 0x74, 0x0b, 0x3c,
  0x0a, 0x74, 0x0d, 0xba, 0xfe, 0x04, 0xee, 0xf4, 0xeb, 0xf9, 0xb0, 0x20,
  0xe6, 0xa0, 0xe6, 0x20, 0xb0, 0x8f, 0xe6, 0x70, 0x30, 0xc0, 0xe6, 0x71,
  0x31, 0xc0, 0x8e, 0xd8, 0xff, 0x2e, 0x67, 0x04,
];

/** Writes the stub into the shadow-BIOS area (no-op with less than 1 MiB of RAM). */
export function installFirmwareStub(mem: PhysicalMemory): boolean {
  if (mem.size < 0x100000) return false;
  // through load(), so a reset that rewrites the stub also drops stale decoded instructions
  mem.load(RESET_VECTOR_PHYS, Uint8Array.from(RESET_JUMP));
  mem.load(POST_ENTRY_PHYS, Uint8Array.from(POST));
  return true;
}
