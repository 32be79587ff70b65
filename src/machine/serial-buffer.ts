/**
 * Collects the UART's transmitted bytes and hands them to the host in batches: the
 * machine flushes after every run slice and at the end of a run, so a chatty guest costs
 * one host write per slice (or per 4 KiB), not one per OUT instruction.
 */
import { ByteSink } from '../devices/lines.js';

export class SerialBuffer implements ByteSink {
  private readonly buf = new Uint8Array(4096);
  private n = 0;

  constructor(private readonly out: (bytes: Uint8Array) => void) {}

  write(byte: number): void {
    this.buf[this.n++] = byte;
    if (this.n === this.buf.length) this.flush();
  }

  flush(): void {
    if (this.n === 0) return;
    const bytes = this.buf.slice(0, this.n);
    this.n = 0;
    this.out(bytes);
  }
}
