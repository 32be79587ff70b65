/**
 * The two ways a device talks to the rest of the board, injected by src/machine (STYLE
 * habit 1, after rust-vmm vm-superio's `Trigger` and output `Write`). A device never knows
 * which interrupt controller or host stream sits behind them.
 */

/** An interrupt request line. Devices drive its level; edge detection is the controller's job. */
export interface IrqLine {
  set(level: boolean): void;
}

/** A byte-wide output stream (a UART's transmitter, a debug console). */
export interface ByteSink {
  write(byte: number): void;
}

/** A line that goes nowhere, for devices whose interrupt is not wired yet. */
export const NO_IRQ: IrqLine = { set(): void {} };

/** A sink that drops everything. */
export const NO_SINK: ByteSink = { write(): void {} };

/** Reads of `size` bytes from nowhere: all ones, zero-extended (ISA/PCI open bus). */
export function allOnes(size: number): number {
  return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
}
