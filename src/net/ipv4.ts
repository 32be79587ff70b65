/**
 * IPv4 headers (RFC 791). Parsing checks version, IHL, total length against the bytes
 * present (trailing Ethernet padding is trimmed) and the header checksum.
 *
 *   0 ver|IHL | 1 TOS | 2 total length | 4 id | 6 flags|fragment offset | 8 TTL | 9 protocol
 *   10 header checksum | 12 source | 16 destination | 20 options (IHL*4 - 20) | payload
 */
import { checksum } from './checksum.js';
import { Malformed } from './malformed.js';

export const IPV4_HEADER = 20;
export const PROTO_ICMP = 1;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
const MF = 0x2000;

export class Ipv4Packet {
  constructor(
    readonly src: number,
    readonly dst: number,
    readonly protocol: number,
    readonly payload: Uint8Array,
    readonly ttl = 64,
    readonly id = 0,
    readonly tos = 0,
    /** Flags (bits 15..13) and fragment offset (12..0), as on the wire. */
    readonly flagsFragment = 0x4000,
  ) {}

  /** True for any fragment (MF set or non-zero offset); Nestvisor does not reassemble. */
  get isFragment(): boolean {
    return (this.flagsFragment & MF) !== 0 || (this.flagsFragment & 0x1fff) !== 0;
  }

  static parse(b: Uint8Array): Ipv4Packet | Malformed {
    if (b.length < IPV4_HEADER) return new Malformed('ip-short');
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const vihl = b[0]!;
    if (vihl >>> 4 !== 4) return new Malformed('ip-version');
    const ihl = (vihl & 15) * 4;
    const total = v.getUint16(2);
    if (ihl < IPV4_HEADER || total < ihl || total > b.length) return new Malformed('ip-length');
    if (checksum(b, 0, ihl) !== 0) return new Malformed('ip-checksum');
    return new Ipv4Packet(v.getUint32(12), v.getUint32(16), b[9]!, b.subarray(ihl, total), b[8]!, v.getUint16(4), b[1]!, v.getUint16(6));
  }

  /** Header (no options) and payload, with the header checksum filled in. */
  write(): Uint8Array {
    const b = new Uint8Array(IPV4_HEADER + this.payload.length);
    const v = new DataView(b.buffer);
    b[0] = 0x45;
    b[1] = this.tos;
    v.setUint16(2, b.length);
    v.setUint16(4, this.id);
    v.setUint16(6, this.flagsFragment);
    b[8] = this.ttl;
    b[9] = this.protocol;
    v.setUint32(12, this.src);
    v.setUint32(16, this.dst);
    v.setUint16(10, checksum(b, 0, IPV4_HEADER));
    b.set(this.payload, IPV4_HEADER);
    return b;
  }
}
