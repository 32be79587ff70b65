/**
 * UDP (RFC 768). The checksum covers the IPv4 pseudo-header; 0 means "none" and a
 * computed 0 is sent as 0xFFFF.
 *
 *   0 source port | 2 destination port | 4 length (header + data) | 6 checksum | 8 data
 */
import { finish, pseudoHeaderSum, sumBytes } from './checksum.js';
import { PROTO_UDP } from './ipv4.js';
import { Malformed } from './malformed.js';

export const UDP_HEADER = 8;

export class UdpDatagram {
  constructor(readonly srcPort: number, readonly dstPort: number, readonly data: Uint8Array) {}

  static parse(b: Uint8Array, srcIp: number, dstIp: number): UdpDatagram | Malformed {
    if (b.length < UDP_HEADER) return new Malformed('udp-short');
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const len = v.getUint16(4);
    if (len < UDP_HEADER || len > b.length) return new Malformed('udp-length');
    if (v.getUint16(6) !== 0 && finish(sumBytes(b, 0, len, pseudoHeaderSum(srcIp, dstIp, PROTO_UDP, len))) !== 0) {
      return new Malformed('udp-checksum');
    }
    return new UdpDatagram(v.getUint16(0), v.getUint16(2), b.subarray(UDP_HEADER, len));
  }

  write(srcIp: number, dstIp: number): Uint8Array {
    const len = UDP_HEADER + this.data.length;
    const b = new Uint8Array(len);
    const v = new DataView(b.buffer);
    v.setUint16(0, this.srcPort);
    v.setUint16(2, this.dstPort);
    v.setUint16(4, len);
    b.set(this.data, UDP_HEADER);
    const c = finish(sumBytes(b, 0, len, pseudoHeaderSum(srcIp, dstIp, PROTO_UDP, len)));
    v.setUint16(6, c === 0 ? 0xffff : c);
    return b;
  }
}
