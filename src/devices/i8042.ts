/**
 * The 8042 keyboard controller, only as far as a PC board needs it without a keyboard:
 * the status register, the command byte, the self tests, and the output port whose bit 0
 * is the CPU reset line (IBM PC/AT Technical Reference, "Keyboard controller"). Offset 0
 * is the data port (0x60), offset 4 the command/status port (0x64).
 *
 * Reset: command 0xFE pulses the reset line; so does command 0xD1 writing an output port
 * value with bit 0 clear. Both call the injected `reset` (src/machine makes it a board
 * reset, as QEMU's i8042 does). No keyboard or mouse is attached: no scan codes arrive,
 * and the PS/2 port interrupts (IRQ 1/12) never fire.
 *
 *   Status  7 parity err | 6 timeout | 5 aux data | 4 inhibit (1 = not inhibited) |
 *           3 last write was a command | 2 system flag | 1 input full | 0 output full
 */

export interface I8042State { version: 1; commandByte: number; outputPort: number; pendingCommand: number; out: number[]; lastWasCommand: boolean }

const ST_OUTPUT_FULL = 0x01, ST_SYSTEM = 0x04, ST_COMMAND = 0x08, ST_UNLOCKED = 0x10;
/** Output port: 0 reset line (1 = running), 1 A20 gate. */
const OUT_RESET = 0x01, OUT_A20 = 0x02;

export class I8042 {
  /** Command byte: translate (bit 6), system flag (bit 2), IRQs off (no devices). */
  private commandByte = 0x44;
  private outputPort = OUT_RESET | OUT_A20;
  /** A command waiting for its data byte on port 0x60 (0 = none). */
  private pendingCommand = 0;
  private readonly out: number[] = [];
  private lastWasCommand = false;

  constructor(private readonly reset: () => void) {}

  read(offset: number, _size: number): number {
    if (offset === 4) {
      return (this.out.length > 0 ? ST_OUTPUT_FULL : 0) | ST_SYSTEM | ST_UNLOCKED | (this.lastWasCommand ? ST_COMMAND : 0);
    }
    if (offset === 0) return this.out.length > 0 ? this.out.shift()! : 0;
    return 0xff;
  }

  write(offset: number, _size: number, value: number): void {
    value &= 0xff;
    if (offset === 4) { this.lastWasCommand = true; this.command(value); return; }
    if (offset !== 0) return;
    this.lastWasCommand = false;
    const c = this.pendingCommand;
    this.pendingCommand = 0;
    switch (c) {
      case 0x60: this.commandByte = value; return;
      case 0xd1: this.writeOutputPort(value); return;
      default: return; // keyboard data with no keyboard: dropped
    }
  }

  private command(c: number): void {
    switch (c) {
      case 0x20: this.out.push(this.commandByte); return;
      case 0x60: case 0xd1: this.pendingCommand = c; return;
      case 0xaa: this.out.push(0x55); return; // controller self test passed
      case 0xab: this.out.push(0x00); return; // keyboard interface test passed
      case 0xd0: this.out.push(this.outputPort); return;
      case 0xfe: this.reset(); return; // pulse output port bit 0
      default:
        // 0xF0-0xFF pulse output lines; bit 0 is the reset line
        if (c >= 0xf0 && (c & 1) === 0) this.reset();
    }
  }

  private writeOutputPort(v: number): void {
    this.outputPort = v | OUT_RESET; // the reset line returns high after the pulse
    if ((v & OUT_RESET) === 0) this.reset();
  }

  get state(): I8042State {
    return { version: 1, commandByte: this.commandByte, outputPort: this.outputPort, pendingCommand: this.pendingCommand, out: [...this.out], lastWasCommand: this.lastWasCommand };
  }

  set state(s: I8042State) {
    if (s.version !== 1) throw new Error(`unsupported I8042 state version ${String(s.version)}`);
    this.commandByte = s.commandByte & 0xff; this.outputPort = s.outputPort & 0xff; this.pendingCommand = s.pendingCommand;
    this.out.length = 0; this.out.push(...s.out); this.lastWasCommand = s.lastWasCommand;
  }
}

/**
 * The PIIX/ICH reset control register at 0xCF9 (82371AB datasheet, "RC—Reset Control"):
 * a write with bit 2 RST_CPU set starts a reset (as QEMU's piix rcr_write); bit 1 SYS_RST chooses a hard reset
 * (the whole board) over a soft one (INIT# to the processors only). It sits in the middle of
 * PCI configuration mechanism #1's CONFIG_ADDRESS, which only dword accesses reach, so
 * `ResetControl.wrap` routes byte accesses at offset 1 here and everything else to PCI.
 */
export class ResetControl {
  private value = 0;
  constructor(private readonly reset: (hard: boolean) => void) {}

  read(): number { return this.value; }

  write(v: number): void {
    this.value = v & 0x02; // RST_CPU reads back 0
    if ((v & 0x04) !== 0) this.reset((v & 0x02) !== 0);
  }

  clear(): void { this.value = 0; }

  /** A port handler for 0xCF8-0xCFF: byte accesses at 0xCF9 → this register, the rest → `pci`. */
  wrap(pci: { read(o: number, s: number): number; write(o: number, s: number, v: number): void }) {
    return {
      read: (o: number, s: number): number => (o === 1 && s === 1 ? this.read() : pci.read(o, s)),
      write: (o: number, s: number, v: number): void => { if (o === 1 && s === 1) this.write(v); else pci.write(o, s, v); },
    };
  }
}
