/**
 * A 16550A UART as a pure state machine (STYLE habit 1). Offsets 0–7 are the eight
 * registers of the National Semiconductor PC16550D datasheet ("PC16550D UART with FIFOs",
 * Table II); src/machine places them at COM1 (0x3f8) on the port bus.
 *
 * The transmitter is infinitely fast: a byte written to THR reaches the sink at once and
 * THR/TSR are empty again before the next instruction, so LSR.THRE and LSR.TEMT read 1
 * whenever the guest looks. The receiver takes bytes from a host-side queue; the guest
 * sees at most one FIFO's worth (16 bytes, 1 without FIFOs) and the rest waits in the
 * queue instead of overrunning, as if the host honoured flow control. Without a clock,
 * the FIFO character-timeout interrupt is reported as soon as data sits below the
 * trigger level (QEMU arms a 4-character timer for it; guests cannot tell the difference
 * except by timing).
 *
 * Guest nonsense never throws: reserved bits are dropped, unknown offsets read as 0.
 */
import { ByteSink, IrqLine } from './lines.js';

// Register offsets (datasheet Table II).
export const UART_RBR_THR = 0; // DLAB=0: receive buffer (read) / transmit holding (write); DLAB=1: DLL
export const UART_IER = 1; //     DLAB=0: interrupt enable; DLAB=1: DLM
export const UART_IIR_FCR = 2; // interrupt identification (read) / FIFO control (write)
export const UART_LCR = 3;
export const UART_MCR = 4;
export const UART_LSR = 5;
export const UART_MSR = 6;
export const UART_SCR = 7;

//  IER   7..4 reserved (read 0) | 3 EDSSI | 2 ELSI | 1 ETBEI | 0 ERBFI
const IER_RDA = 0x01, IER_THRE = 0x02, IER_RLS = 0x04, IER_MS = 0x08;
//  IIR   7..6 FIFOs enabled (11) | 3..1 interrupt ID | 0 no interrupt pending
const IIR_NONE = 0x01, IIR_RLS = 0x06, IIR_RDA = 0x04, IIR_TIMEOUT = 0x0c, IIR_THRE = 0x02, IIR_MS = 0x00;
const IIR_FIFO_BITS = 0xc0;
//  FCR   7..6 RX trigger | 3 DMA mode | 2 clear TX FIFO | 1 clear RX FIFO | 0 FIFO enable
const FCR_ENABLE = 0x01, FCR_CLEAR_RX = 0x02;
const RX_TRIGGER = [1, 4, 8, 14];
//  LCR   7 DLAB | 6 break | 5 stick parity | 4 even parity | 3 parity enable | 2 stop | 1..0 length
const LCR_DLAB = 0x80;
//  MCR   7..5 reserved (read 0) | 4 LOOP | 3 OUT2 | 2 OUT1 | 1 RTS | 0 DTR
const MCR_DTR = 0x01, MCR_RTS = 0x02, MCR_OUT1 = 0x04, MCR_OUT2 = 0x08, MCR_LOOP = 0x10;
//  LSR   7 RX FIFO error | 6 TEMT | 5 THRE | 4 BI | 3 FE | 2 PE | 1 OE | 0 DR
const LSR_DR = 0x01, LSR_OE = 0x02, LSR_THRE = 0x20, LSR_TEMT = 0x40, LSR_ERRORS = 0x1e;
//  MSR   7 DCD | 6 RI | 5 DSR | 4 CTS | 3 ΔDCD | 2 TERI | 1 ΔDSR | 0 ΔCTS
const MSR_CTS = 0x10, MSR_DSR = 0x20, MSR_RI = 0x40, MSR_DCD = 0x80, MSR_DELTAS = 0x0f;

/** Host-side bytes held beyond one FIFO; a paste bigger than this is cut (a host limit). */
const RX_QUEUE_CAPACITY = 64 * 1024;

/** Snapshot of a Uart16550 (STYLE habit 8: typed and versioned, never positional). */
export interface Uart16550State {
  version: 1;
  ier: number; lcr: number; mcr: number; lsr: number; msr: number; scr: number;
  fcr: number; dll: number; dlm: number;
  /** THRE interrupt armed (cleared by reading IIR or writing THR; datasheet Table IV). */
  thrInterrupt: boolean;
  /** Received bytes not yet read by the guest, oldest first. */
  rx: number[];
}

export class Uart16550 {
  private ier = 0;
  private lcr = 0;
  private mcr = 0;
  private lsr = LSR_THRE | LSR_TEMT;
  /** Modem inputs when not in loopback: a connected terminal asserts DCD, DSR and CTS (as QEMU does). */
  private msr = MSR_DCD | MSR_DSR | MSR_CTS;
  private scr = 0;
  private fcr = 0;
  private dll = 0x0c; // 9600 baud after reset, as PC BIOSes leave it
  private dlm = 0;
  private thrInterrupt = false;
  private readonly rx = new Uint8Array(RX_QUEUE_CAPACITY);
  private rxHead = 0;
  private rxCount = 0;
  private irqLevel = false;

  constructor(private readonly irq: IrqLine, private readonly out: ByteSink) {}

  /** Host input: queue bytes for the guest to read. Returns how many were accepted. */
  receive(bytes: ArrayLike<number>): number {
    let n = 0;
    for (; n < bytes.length && this.rxCount < RX_QUEUE_CAPACITY; n++) this.push(bytes[n]! & 0xff);
    this.update();
    return n;
  }

  read(offset: number, _size: number): number {
    switch (offset) {
      case UART_RBR_THR: return this.lcr & LCR_DLAB ? this.dll : this.readRbr();
      case UART_IER: return this.lcr & LCR_DLAB ? this.dlm : this.ier;
      case UART_IIR_FCR: {
        const iir = this.iir();
        // Reading IIR while THRE is the reported source clears it (datasheet Table IV).
        if ((iir & 0x0f) === IIR_THRE) { this.thrInterrupt = false; this.update(); }
        return iir;
      }
      case UART_LCR: return this.lcr;
      case UART_MCR: return this.mcr;
      case UART_LSR: {
        const v = this.lsr | (this.visibleRx() > 0 ? LSR_DR : 0);
        // OE, PE, FE and BI clear on read (datasheet, Line Status Register).
        if (v & LSR_ERRORS) { this.lsr &= ~LSR_ERRORS; this.update(); }
        return v;
      }
      case UART_MSR: {
        const v = this.modemInputs() | (this.msr & MSR_DELTAS);
        if (v & MSR_DELTAS) { this.msr &= ~MSR_DELTAS; this.update(); }
        return v;
      }
      case UART_SCR: return this.scr;
      default: return 0;
    }
  }

  write(offset: number, _size: number, value: number): void {
    value &= 0xff;
    switch (offset) {
      case UART_RBR_THR:
        if (this.lcr & LCR_DLAB) { this.dll = value; return; }
        this.transmit(value);
        return;
      case UART_IER:
        if (this.lcr & LCR_DLAB) { this.dlm = value; return; }
        {
          const was = this.ier;
          this.ier = value & 0x0f;
          // Enabling ETBEI while THR is empty raises THRE at once (datasheet; QEMU serial.c does the same).
          if (!(was & IER_THRE) && (this.ier & IER_THRE)) this.thrInterrupt = true;
        }
        this.update();
        return;
      case UART_IIR_FCR:
        if ((value ^ this.fcr) & FCR_ENABLE) this.clearRx(); // toggling FIFO mode resets both FIFOs
        if (value & FCR_CLEAR_RX) this.clearRx();
        // Bit 2 clears the TX FIFO: ours is always empty. Bits 1, 2 are self-clearing.
        this.fcr = value & (value & FCR_ENABLE ? 0xc9 : 0x00);
        this.update();
        return;
      case UART_LCR: this.lcr = value; return;
      case UART_MCR: {
        const before = this.modemInputs();
        this.mcr = value & 0x1f;
        this.noteModemChange(before, this.modemInputs());
        this.update();
        return;
      }
      case UART_LSR: return; // read-only here (factory test only on real parts)
      case UART_MSR: return; // read-only
      case UART_SCR: this.scr = value; return;
      default: return;
    }
  }

  get state(): Uart16550State {
    const rx: number[] = [];
    for (let i = 0; i < this.rxCount; i++) rx.push(this.rx[(this.rxHead + i) % RX_QUEUE_CAPACITY]!);
    return {
      version: 1, ier: this.ier, lcr: this.lcr, mcr: this.mcr, lsr: this.lsr, msr: this.msr, scr: this.scr,
      fcr: this.fcr, dll: this.dll, dlm: this.dlm, thrInterrupt: this.thrInterrupt, rx,
    };
  }

  set state(s: Uart16550State) {
    if (s.version !== 1) throw new Error(`unsupported Uart16550 state version ${String(s.version)}`);
    this.ier = s.ier & 0x0f; this.lcr = s.lcr & 0xff; this.mcr = s.mcr & 0x1f; this.lsr = s.lsr & 0xff;
    this.msr = s.msr & 0xff; this.scr = s.scr & 0xff; this.fcr = s.fcr & 0xc9;
    this.dll = s.dll & 0xff; this.dlm = s.dlm & 0xff; this.thrInterrupt = s.thrInterrupt;
    this.rxHead = 0; this.rxCount = 0;
    for (const b of s.rx.slice(0, RX_QUEUE_CAPACITY)) this.push(b & 0xff);
    this.update();
  }

  private transmit(byte: number): void {
    if (this.mcr & MCR_LOOP) {
      // Loopback: the transmitter feeds the receiver (datasheet, MCR bit 4). A full FIFO
      // overruns: the new character is lost and OE set.
      if (this.rxCount >= this.fifoSize()) this.lsr |= LSR_OE;
      else this.push(byte);
    } else {
      this.out.write(byte);
    }
    // Writing THR clears the THRE interrupt; the byte leaves at once, so it re-arms.
    this.thrInterrupt = (this.ier & IER_THRE) !== 0;
    this.update();
  }

  private readRbr(): number {
    if (this.visibleRx() === 0) return 0;
    const b = this.rx[this.rxHead]!;
    this.rxHead = (this.rxHead + 1) % RX_QUEUE_CAPACITY;
    this.rxCount--;
    this.update();
    return b;
  }

  private push(b: number): void {
    this.rx[(this.rxHead + this.rxCount) % RX_QUEUE_CAPACITY] = b;
    this.rxCount++;
  }

  private clearRx(): void {
    // Only what the guest can see is in the FIFO; queued host bytes stay queued.
    const drop = this.visibleRx();
    this.rxHead = (this.rxHead + drop) % RX_QUEUE_CAPACITY;
    this.rxCount -= drop;
  }

  private fifoSize(): number {
    return this.fcr & FCR_ENABLE ? 16 : 1;
  }

  private visibleRx(): number {
    const f = this.fifoSize();
    return this.rxCount < f ? this.rxCount : f;
  }

  /** MSR bits 7..4. In loopback they mirror MCR: CTS=RTS, DSR=DTR, RI=OUT1, DCD=OUT2. */
  private modemInputs(): number {
    if (!(this.mcr & MCR_LOOP)) return this.msr & 0xf0;
    return (this.mcr & MCR_RTS ? MSR_CTS : 0) | (this.mcr & MCR_DTR ? MSR_DSR : 0) |
      (this.mcr & MCR_OUT1 ? MSR_RI : 0) | (this.mcr & MCR_OUT2 ? MSR_DCD : 0);
  }

  private noteModemChange(before: number, after: number): void {
    const changed = before ^ after;
    if (changed & MSR_CTS) this.msr |= 0x01;
    if (changed & MSR_DSR) this.msr |= 0x02;
    if ((before & MSR_RI) && !(after & MSR_RI)) this.msr |= 0x04; // TERI: trailing edge only
    if (changed & MSR_DCD) this.msr |= 0x08;
  }

  /** IIR by priority (datasheet Table IV): line status, received data/timeout, THRE, modem status. */
  private iir(): number {
    const fifo = this.fcr & FCR_ENABLE ? IIR_FIFO_BITS : 0;
    if ((this.ier & IER_RLS) && (this.lsr & LSR_ERRORS)) return fifo | IIR_RLS;
    const avail = this.visibleRx();
    if ((this.ier & IER_RDA) && avail > 0) {
      if (!(this.fcr & FCR_ENABLE)) return IIR_RDA;
      return fifo | (avail >= RX_TRIGGER[this.fcr >>> 6]! ? IIR_RDA : IIR_TIMEOUT);
    }
    if ((this.ier & IER_THRE) && this.thrInterrupt) return fifo | IIR_THRE;
    if ((this.ier & IER_MS) && (this.msr & MSR_DELTAS)) return fifo | IIR_MS;
    return fifo | IIR_NONE;
  }

  /**
   * On a PC the UART's INTR reaches the PIC only through a buffer enabled by OUT2, and in
   * loopback the OUT pins are forced inactive (datasheet, MCR bit 4), so the line is quiet.
   */
  private update(): void {
    const pending = (this.iir() & IIR_NONE) === 0;
    const level = pending && (this.mcr & (MCR_OUT2 | MCR_LOOP)) === MCR_OUT2;
    if (level !== this.irqLevel) { this.irqLevel = level; this.irq.set(level); }
  }
}
