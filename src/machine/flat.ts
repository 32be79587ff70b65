/**
 * The flat-image loader: raw machine code copied to one physical address and entered
 * there in the Multiboot machine state (32-bit protected mode, flat segments), with no
 * information structure. Handy for hand-assembled tests (`nasm -f bin`, `objcopy -O binary`).
 */
import { PhysicalMemory } from '../memory/physical.js';
import { ImageTooLargeError } from './errors.js';

export const FLAT_LOAD_ADDRESS = 0x100000;

export function loadFlat(mem: PhysicalMemory, image: Uint8Array, at = FLAT_LOAD_ADDRESS): { entry: number; imageEnd: number } {
  if (!mem.isRam(at, image.length)) {
    throw new ImageTooLargeError(`a ${image.length}-byte image at 0x${at.toString(16)} does not fit in ${mem.size} bytes of RAM`);
  }
  mem.load(at, image);
  return { entry: at, imageEnd: at + image.length };
}
