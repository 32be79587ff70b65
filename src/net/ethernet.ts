/**
 * Ethernet II frames as they cross a virtual switch: no preamble, no FCS (IEEE 802.3
 * clause 3; virtio-net and TAP devices carry frames this way).
 *
 *   0 destination MAC (6) | 6 source MAC (6) | 12 EtherType or 802.3 length (2) | 14 payload
 *
 * A type/length field below 0x0600 is an 802.3 length (at most 1500, and no more than the
 * payload present); 1501..1535 is invalid. Frames shorter than a header or longer than
 * 1518 bytes (1500-byte MTU plus an 802.1Q tag) are malformed. Short frames (below the
 * 60-byte wire minimum) are accepted: virtio and TAP do not pad.
 */
import { Malformed } from './malformed.js';
import { readMac, writeMac } from './mac.js';

export const ETH_HEADER = 14;
export const ETH_MTU = 1500;
/** Largest frame accepted: header, 1500-byte payload, one 802.1Q tag. */
export const ETH_MAX_FRAME = ETH_HEADER + ETH_MTU + 4;
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_VLAN = 0x8100;
export const ETHERTYPE_IPV6 = 0x86dd;

export class EthernetFrame {
  private constructor(
    readonly bytes: Uint8Array,
    readonly dst: number,
    readonly src: number,
    /** The EtherType, or the 802.3 length when below 0x0600. */
    readonly etherType: number,
  ) {}

  get payload(): Uint8Array {
    return this.bytes.subarray(ETH_HEADER);
  }

  /** Validates and parses; never throws. */
  static parse(bytes: Uint8Array): EthernetFrame | Malformed {
    if (bytes.length < ETH_HEADER) return new Malformed('runt');
    if (bytes.length > ETH_MAX_FRAME) return new Malformed('oversize');
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const type = v.getUint16(12);
    if (type < 0x0600) {
      if (type > ETH_MTU || type > bytes.length - ETH_HEADER) return new Malformed('bad-length');
    }
    return new EthernetFrame(bytes, readMac(v, 0), readMac(v, 6), type);
  }

  /** Builds a frame around `payload`. */
  static build(dst: number, src: number, etherType: number, payload: Uint8Array): Uint8Array {
    const out = new Uint8Array(ETH_HEADER + payload.length);
    writeEthernetHeader(out, dst, src, etherType);
    out.set(payload, ETH_HEADER);
    return out;
  }
}

export function writeEthernetHeader(out: Uint8Array, dst: number, src: number, etherType: number): void {
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  writeMac(v, 0, dst);
  writeMac(v, 6, src);
  v.setUint16(12, etherType);
}

/** The source MAC of a frame of at least 12 bytes, without building an object. */
export function frameSource(bytes: Uint8Array): number {
  return readMac(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), 6);
}
