/**
 * The Internet checksum (RFC 1071): the one's complement of the one's complement sum of
 * 16-bit words. `sum` accumulates without folding so pseudo-headers can be added first.
 */

/** Adds bytes [off, off+len) as big-endian 16-bit words to `acc` (an odd tail is padded with zero). */
export function sumBytes(b: Uint8Array, off: number, len: number, acc = 0): number {
  let s = acc;
  const end = off + len;
  let i = off;
  for (; i + 1 < end; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  if (i < end) s += b[i]! << 8;
  return s;
}

/** Folds a sum to 16 bits and complements it. */
export function finish(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}

export function checksum(b: Uint8Array, off = 0, len = b.length - off): number {
  return finish(sumBytes(b, off, len));
}

/** The IPv4 pseudo-header sum for TCP/UDP (RFC 793 §3.1, RFC 768). */
export function pseudoHeaderSum(src: number, dst: number, protocol: number, length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}
