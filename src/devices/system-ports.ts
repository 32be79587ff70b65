/**
 * Two legacy PC ports with nothing behind them but a latch:
 *  - POST diagnostic port 0x80 (offset 0 of PostPort): BIOSes and Linux write progress
 *    codes there, and Linux uses it as an I/O delay. We keep the last code for debugging.
 *  - System control port A, 0x92 (offset 0 of SystemControlA; IBM PS/2 and PIIX "Port 92"):
 *    bit 1 = A20 gate ("fast A20"), bit 0 = fast CPU reset. Nestvisor's memory does not
 *    wrap at 1 MiB, so the A20 bit starts set (A20 enabled) and is only remembered. Bit 0
 *    is read/write and INITs the CPUs on its 0→1 transition (82371AB PIIX4 datasheet,
 *    Port 92h: "must be cleared before it can be set again"); it stays 1 until software
 *    clears it or a hard reset does (hardReset()), which is how kvm-unit-tests' init test
 *    tells a soft reset from a hard one.
 */

export interface PostPortState { version: 1; lastCode: number }

export class PostPort {
  private lastCode = 0;
  read(_offset: number, size: number): number {
    // QEMU's ioport80 reads back 0xff for a byte; be generous with wider reads too.
    return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
  }
  write(_offset: number, _size: number, value: number): void {
    this.lastCode = value & 0xff;
  }
  get state(): PostPortState { return { version: 1, lastCode: this.lastCode }; }
  set state(s: PostPortState) { this.lastCode = s.lastCode & 0xff; }
}

export interface SystemControlAState { version: 1; value: number }

const A20 = 0x02, FAST_RESET = 0x01;

export class SystemControlA {
  /** Bits 1 (A20) and 0 (fast reset). */
  private value = A20;

  constructor(private readonly onReset: (() => void) | null = null) {}

  get a20Enabled(): boolean { return (this.value & A20) !== 0; }

  read(_offset: number, _size: number): number {
    return this.value;
  }

  write(_offset: number, _size: number, value: number): void {
    // Only bits 1 and 0 are defined (82371AB PIIX4 datasheet, Port 92h).
    const old = this.value;
    this.value = value & (A20 | FAST_RESET);
    if ((value & FAST_RESET) !== 0 && (old & FAST_RESET) === 0 && this.onReset) this.onReset();
  }

  /** A hard reset of the board (not INIT) clears the fast-reset bit. */
  hardReset(): void { this.value &= ~FAST_RESET; }

  get state(): SystemControlAState { return { version: 1, value: this.value }; }
  set state(s: SystemControlAState) { this.value = s.value & (A20 | FAST_RESET); }
}
