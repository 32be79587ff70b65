/**
 * MAC and IPv4 addresses as plain numbers: a MAC is a 48-bit integer (exact in a double),
 * an IPv4 address an unsigned 32-bit integer. No allocation on the frame path.
 *
 *   MAC 00-15-5D-0A-0B-01 = 0x00155d0a0b01; bit 40 (the I/G bit of the first octet) = group
 */

export const BROADCAST_MAC = 0xffffffffffff;
const TWO32 = 2 ** 32;

/** Reads a MAC at `off` (network order). */
export function readMac(v: DataView, off: number): number {
  return v.getUint16(off) * TWO32 + v.getUint32(off + 2);
}

export function writeMac(v: DataView, off: number, mac: number): void {
  v.setUint16(off, Math.floor(mac / TWO32));
  v.setUint32(off + 2, mac >>> 0);
}

/** Group (multicast or broadcast) address: the I/G bit of the first octet. */
export function isGroupMac(mac: number): boolean {
  return (Math.floor(mac / 2 ** 40) & 1) === 1;
}

/** "00-15-5D-0A-0B-01", Hyper-V's display form. */
export function formatMac(mac: number, sep = '-'): string {
  const h = mac.toString(16).toUpperCase().padStart(12, '0');
  return h.match(/../g)!.join(sep);
}

/** Accepts 12 hex digits with or without '-' / ':' separators; null otherwise. */
export function parseMac(text: string): number | null {
  const h = text.replace(/[-:.]/g, '');
  if (!/^[0-9a-fA-F]{12}$/.test(h)) return null;
  return parseInt(h, 16);
}

export function formatIp(ip: number): string {
  return `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`;
}

export function parseIp(text: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text.trim());
  if (!m) return null;
  const o = m.slice(1).map(Number);
  if (o.some((x) => x > 255)) return null;
  return ((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0;
}

/** The network mask of a prefix length (0..32). */
export function prefixMask(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

export function sameSubnet(a: number, b: number, len: number): boolean {
  const m = prefixMask(len);
  return ((a & m) >>> 0) === ((b & m) >>> 0);
}
