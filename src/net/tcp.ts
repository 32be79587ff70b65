/**
 * TCP segments (RFC 793 §3.1; MSS option RFC 879). The checksum covers the IPv4
 * pseudo-header. Options other than MSS are skipped; a malformed option list is malformed.
 *
 *   0 source port | 2 destination port | 4 sequence | 8 acknowledgment
 *   12 data offset (4 bits) | 13 flags CWR ECE URG ACK PSH RST SYN FIN | 14 window
 *   16 checksum | 18 urgent pointer | 20 options | data
 */
import { finish, pseudoHeaderSum, sumBytes } from './checksum.js';
import { PROTO_TCP } from './ipv4.js';
import { Malformed } from './malformed.js';

export const TCP_HEADER = 20;
export const FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10, URG = 0x20;

export class TcpSegment {
  constructor(
    readonly srcPort: number,
    readonly dstPort: number,
    readonly seq: number,
    readonly ack: number,
    readonly flags: number,
    readonly window: number,
    readonly data: Uint8Array,
    /** The MSS option, if present (SYN segments). */
    readonly mss: number | null = null,
  ) {}

  has(flag: number): boolean { return (this.flags & flag) !== 0; }

  /** Sequence space the segment occupies: data plus one for SYN and one for FIN. */
  get seqLength(): number {
    return this.data.length + (this.flags & SYN ? 1 : 0) + (this.flags & FIN ? 1 : 0);
  }

  static parse(b: Uint8Array, srcIp: number, dstIp: number): TcpSegment | Malformed {
    if (b.length < TCP_HEADER) return new Malformed('tcp-short');
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const off = (b[12]! >>> 4) * 4;
    if (off < TCP_HEADER || off > b.length) return new Malformed('tcp-offset');
    if (finish(sumBytes(b, 0, b.length, pseudoHeaderSum(srcIp, dstIp, PROTO_TCP, b.length))) !== 0) return new Malformed('tcp-checksum');
    let mss: number | null = null;
    for (let i = TCP_HEADER; i < off;) {
      const kind = b[i]!;
      if (kind === 0) break;
      if (kind === 1) { i++; continue; }
      if (i + 1 >= off) return new Malformed('tcp-options');
      const len = b[i + 1]!;
      if (len < 2 || i + len > off) return new Malformed('tcp-options');
      if (kind === 2 && len === 4) mss = v.getUint16(i + 2);
      i += len;
    }
    return new TcpSegment(v.getUint16(0), v.getUint16(2), v.getUint32(4), v.getUint32(8), b[13]!, v.getUint16(14), b.subarray(off), mss);
  }

  write(srcIp: number, dstIp: number): Uint8Array {
    const opt = this.mss !== null ? 4 : 0;
    const hdr = TCP_HEADER + opt;
    const b = new Uint8Array(hdr + this.data.length);
    const v = new DataView(b.buffer);
    v.setUint16(0, this.srcPort);
    v.setUint16(2, this.dstPort);
    v.setUint32(4, this.seq >>> 0);
    v.setUint32(8, this.ack >>> 0);
    b[12] = (hdr / 4) << 4;
    b[13] = this.flags;
    v.setUint16(14, this.window);
    if (this.mss !== null) { b[20] = 2; b[21] = 4; v.setUint16(22, this.mss); }
    b.set(this.data, hdr);
    v.setUint16(16, finish(sumBytes(b, 0, b.length, pseudoHeaderSum(srcIp, dstIp, PROTO_TCP, b.length))));
    return b;
  }
}
