/**
 * ARP for IPv4 over Ethernet (RFC 826). Only htype 1 / ptype 0x0800 / hlen 6 / plen 4.
 *
 *   0 htype | 2 ptype | 4 hlen | 5 plen | 6 op | 8 sha(6) | 14 spa(4) | 18 tha(6) | 24 tpa(4)
 */
import { Malformed } from './malformed.js';
import { readMac, writeMac } from './mac.js';

export const ARP_LEN = 28;
export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;

export class ArpPacket {
  constructor(
    readonly op: number,
    readonly senderMac: number,
    readonly senderIp: number,
    readonly targetMac: number,
    readonly targetIp: number,
  ) {}

  static parse(b: Uint8Array): ArpPacket | Malformed {
    if (b.length < ARP_LEN) return new Malformed('arp-short');
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    if (v.getUint16(0) !== 1 || v.getUint16(2) !== 0x0800 || b[4] !== 6 || b[5] !== 4) return new Malformed('arp-unsupported');
    const op = v.getUint16(6);
    if (op !== ARP_REQUEST && op !== ARP_REPLY) return new Malformed('arp-op');
    return new ArpPacket(op, readMac(v, 8), v.getUint32(14), readMac(v, 18), v.getUint32(24));
  }

  write(): Uint8Array {
    const b = new Uint8Array(ARP_LEN);
    const v = new DataView(b.buffer);
    v.setUint16(0, 1);
    v.setUint16(2, 0x0800);
    b[4] = 6; b[5] = 4;
    v.setUint16(6, this.op);
    writeMac(v, 8, this.senderMac);
    v.setUint32(14, this.senderIp);
    writeMac(v, 18, this.targetMac);
    v.setUint32(24, this.targetIp);
    return b;
  }
}
