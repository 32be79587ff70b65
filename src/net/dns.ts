/**
 * The DNS messages NAT's resolver path needs (RFC 1035 §4): a query with one question in,
 * a response with A records out. Names are read with compression pointers followed
 * (bounded, so a pointer loop is malformed, not a hang).
 *
 *   header: 0 id | 2 flags (QR opcode AA TC RD | RA Z RCODE) | 4 QDCOUNT | 6 ANCOUNT | 8 NSCOUNT | 10 ARCOUNT
 *   question: QNAME (labels) | QTYPE | QCLASS
 *   answer:   NAME (pointer 0xC00C) | TYPE | CLASS | TTL | RDLENGTH | RDATA
 */
import { Malformed } from './malformed.js';

export const DNS_TYPE_A = 1;
export const DNS_CLASS_IN = 1;
export const RCODE_NOERROR = 0, RCODE_FORMERR = 1, RCODE_SERVFAIL = 2, RCODE_NXDOMAIN = 3, RCODE_NOTIMP = 4;

export class DnsQuery {
  constructor(
    readonly id: number,
    readonly flags: number,
    readonly name: string,
    readonly qtype: number,
    readonly qclass: number,
    /** The question section as received, echoed in the response. */
    readonly question: Uint8Array,
  ) {}

  get recursionDesired(): boolean { return (this.flags & 0x0100) !== 0; }

  static parse(b: Uint8Array): DnsQuery | Malformed {
    if (b.length < 12) return new Malformed('dns-short');
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const flags = v.getUint16(2);
    if (flags & 0x8000) return new Malformed('dns-not-query');
    if (v.getUint16(4) !== 1) return new Malformed('dns-qdcount');
    const labels: string[] = [];
    let i = 12;
    for (let hops = 0; ; hops++) {
      if (i >= b.length || hops > 127) return new Malformed('dns-name');
      const len = b[i]!;
      if (len === 0) { i++; break; }
      if (len >= 0xc0) return new Malformed('dns-name'); // no pointers in a query's question
      if (len > 63 || i + 1 + len > b.length) return new Malformed('dns-name');
      labels.push(Buffer.from(b.subarray(i + 1, i + 1 + len)).toString('latin1'));
      i += 1 + len;
    }
    if (i + 4 > b.length) return new Malformed('dns-question');
    const name = labels.join('.');
    if (name.length > 253) return new Malformed('dns-name');
    return new DnsQuery(v.getUint16(0), flags, name, v.getUint16(i), v.getUint16(i + 2), b.slice(12, i + 4));
  }

  /** A response echoing the question, with A records for `addresses` (uint32s). */
  respond(rcode: number, addresses: readonly number[] = [], ttl = 60): Uint8Array {
    const answers = rcode === RCODE_NOERROR ? addresses : [];
    const out = new Uint8Array(12 + this.question.length + answers.length * 16);
    const v = new DataView(out.buffer);
    v.setUint16(0, this.id);
    // QR=1, opcode 0, RD copied, RA=1
    v.setUint16(2, 0x8000 | (this.flags & 0x0100) | 0x0080 | (rcode & 15));
    v.setUint16(4, 1);
    v.setUint16(6, answers.length);
    out.set(this.question, 12);
    let o = 12 + this.question.length;
    for (const a of answers) {
      v.setUint16(o, 0xc00c);
      v.setUint16(o + 2, DNS_TYPE_A);
      v.setUint16(o + 4, DNS_CLASS_IN);
      v.setUint32(o + 6, ttl);
      v.setUint16(o + 10, 4);
      v.setUint32(o + 12, a >>> 0);
      o += 16;
    }
    return out;
  }

  /** Builds a query (for tests and the test kernels' expectations). */
  static build(id: number, name: string, qtype = DNS_TYPE_A): Uint8Array {
    const parts = name.split('.').filter((x) => x.length);
    const q: number[] = [];
    for (const p of parts) { q.push(p.length, ...Buffer.from(p, 'latin1')); }
    q.push(0, qtype >> 8, qtype & 255, 0, DNS_CLASS_IN);
    const out = new Uint8Array(12 + q.length);
    const v = new DataView(out.buffer);
    v.setUint16(0, id);
    v.setUint16(2, 0x0100);
    v.setUint16(4, 1);
    out.set(q, 12);
    return out;
  }
}

/** Reads the A records of a response (tests). */
export function parseDnsAnswers(b: Uint8Array): { id: number; rcode: number; addresses: number[] } {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const an = v.getUint16(6);
  let i = 12;
  while (b[i] !== 0) i += 1 + b[i]!;
  i += 5;
  const addresses: number[] = [];
  for (let k = 0; k < an; k++) {
    i += 2; // pointer
    const type = v.getUint16(i); const len = v.getUint16(i + 8);
    if (type === DNS_TYPE_A && len === 4) addresses.push(v.getUint32(i + 10));
    i += 10 + len;
  }
  return { id: v.getUint16(0), rcode: v.getUint16(2) & 15, addresses };
}
