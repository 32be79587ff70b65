/**
 * QEMU's isa-debug-exit (hw/misc/debugexit.c): any write stops the machine, and QEMU exits
 * with status (value << 1) | 1, so a guest can never produce status 0. Reads return 0.
 * The device only reports the code; src/machine decides what stopping means.
 */

/** Where the exit request goes: the machine's run loop. */
export interface ExitSink {
  exit(code: number): void;
}

export interface DebugExitState {
  version: 1;
  /** The last exit code requested, or null when the guest has not written yet. */
  exitCode: number | null;
}

export class DebugExit {
  private exitCode: number | null = null;

  constructor(private readonly sink: ExitSink) {}

  read(_offset: number, _size: number): number {
    return 0;
  }

  /** The value is what the guest wrote at its access width (OUTB, OUTW or OUTL); the port offset is ignored as in QEMU. */
  write(_offset: number, size: number, value: number): void {
    const v = size === 1 ? value & 0xff : size === 2 ? value & 0xffff : value >>> 0;
    // (v << 1) | 1 computed without 32-bit wrap: an OUTL of 0x80000000 gives 0x100000001.
    const code = v * 2 + 1;
    this.exitCode = code;
    this.sink.exit(code);
  }

  get state(): DebugExitState {
    return { version: 1, exitCode: this.exitCode };
  }

  set state(s: DebugExitState) {
    if (s.version !== 1) throw new Error(`unsupported DebugExit state version ${String(s.version)}`);
    this.exitCode = s.exitCode;
  }
}
