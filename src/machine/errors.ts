/**
 * Errors a boot loader reports about the image it was given. They carry a plain,
 * user-facing message (the CLI prints it as one line) and never wrap host errors.
 */

/** Base class: something is wrong with the kernel image or how it was asked to load. */
export class BootError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** No valid Multiboot 1 header in the first 8 KiB (Multiboot 1 spec §3.1.1). */
export class NotMultibootError extends BootError {}

/** The header asks for something this loader cannot give, or its address fields are inconsistent. */
export class MultibootHeaderError extends BootError {}

/** The image (or its memory requirement) does not fit in the machine's RAM. */
export class ImageTooLargeError extends BootError {}

/** A boot module (--initrd) does not fit in RAM after the kernel: about the module, not the kernel. */
export class ModuleTooLargeError extends ImageTooLargeError {}

/** The ELF container is truncated or malformed. */
export class BadElfError extends BootError {}
