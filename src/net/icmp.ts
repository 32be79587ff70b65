/**
 * ICMP (RFC 792): type, code, checksum over the whole message, then the rest. Echo
 * request/reply carry an identifier and a sequence number in the first four bytes of the rest.
 *
 *   0 type | 1 code | 2 checksum | 4 rest of header (4) | 8 data
 */
import { checksum } from './checksum.js';
import { Malformed } from './malformed.js';

export const ICMP_ECHO_REPLY = 0;
export const ICMP_DEST_UNREACHABLE = 3;
export const ICMP_ECHO_REQUEST = 8;

export class IcmpMessage {
  constructor(
    readonly type: number,
    readonly code: number,
    /** Bytes 4..7 (identifier and sequence for echo). */
    readonly rest: number,
    readonly data: Uint8Array,
  ) {}

  get identifier(): number { return this.rest >>> 16; }
  get sequence(): number { return this.rest & 0xffff; }

  static parse(b: Uint8Array): IcmpMessage | Malformed {
    if (b.length < 8) return new Malformed('icmp-short');
    if (checksum(b) !== 0) return new Malformed('icmp-checksum');
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    return new IcmpMessage(b[0]!, b[1]!, v.getUint32(4), b.subarray(8));
  }

  static echo(type: number, identifier: number, sequence: number, data: Uint8Array): IcmpMessage {
    return new IcmpMessage(type, 0, ((identifier << 16) | (sequence & 0xffff)) >>> 0, data);
  }

  write(): Uint8Array {
    const b = new Uint8Array(8 + this.data.length);
    const v = new DataView(b.buffer);
    b[0] = this.type;
    b[1] = this.code;
    v.setUint32(4, this.rest);
    b.set(this.data, 8);
    v.setUint16(2, checksum(b));
    return b;
  }
}
