/**
 * Hyper-V's rules that do not depend on the rest of the inventory: memory sizes, buffer and
 * priority ranges, names, MAC addresses, IP prefixes. Each returns an error message or null,
 * so the controller can wrap it in the framing its cmdlet uses.
 */
export const MB = 1024 * 1024;
export const GB = 1024 * MB;

/** Hyper-V assigns memory in 2 MB units. */
export function memoryMultipleError(what: string, bytes: number): string | null {
  if (!Number.isInteger(bytes) || bytes <= 0) return `The ${what} must be a positive number of bytes.`;
  if (bytes % (2 * MB) !== 0) return `The ${what} (${bytes / MB} MB) must be a multiple of 2 MB.`;
  return null;
}

export function memoryRangeError(bytes: number, what: string, hostCapacity: number): string | null {
  if (bytes < 32 * MB) return `The ${what} (${bytes / MB} MB) is below the minimum of 32 MB.`;
  if (bytes > hostCapacity) return `The ${what} (${bytes / MB} MB) exceeds the memory available on the host (${hostCapacity / MB} MB).`;
  return null;
}

/** Dynamic memory: MinimumBytes ≤ StartupBytes ≤ MaximumBytes. */
export function memoryOrderError(min: number, startup: number, max: number): string | null {
  if (min > startup) return `The minimum amount of memory (${min / MB} MB) cannot be greater than the startup amount (${startup / MB} MB).`;
  if (startup > max) return `The startup amount of memory (${startup / MB} MB) cannot be greater than the maximum amount (${max / MB} MB).`;
  return null;
}

export function bufferError(buffer: number): string | null {
  return Number.isInteger(buffer) && buffer >= 5 && buffer <= 2000 ? null
    : `The memory buffer percentage must be between 5 and 2000 (got ${buffer}).`;
}

export function priorityError(priority: number): string | null {
  return Number.isInteger(priority) && priority >= 0 && priority <= 100 ? null
    : `The memory weight (priority) must be between 0 and 100 (got ${priority}).`;
}

export function nameError(kind: string, name: string): string | null {
  if (name.trim() === '') return `The ${kind} name cannot be empty.`;
  if (name.length > 100) return `The ${kind} name is longer than 100 characters.`;
  if (/[\\/:*?"<>|]/.test(name)) return `The ${kind} name '${name}' contains a character that is not allowed (\\ / : * ? " < > |).`;
  return null;
}

/** A static MAC: 12 hex digits (separators - or : allowed), unicast. Returns it canonical. */
export function parseMac(text: string): string | null {
  const hex = text.replace(/[-:]/g, '').toUpperCase();
  if (!/^[0-9A-F]{12}$/.test(hex)) return null;
  if (parseInt(hex.slice(0, 2), 16) & 1) return null; // multicast bit
  return hex;
}

// ---- IPv4 ----

export function parseIPv4(text: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function maskOf(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

export interface Prefix { network: number; length: number }

export function parsePrefix(text: string): Prefix | null {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(text.trim());
  if (!m) return null;
  const addr = parseIPv4(m[1]);
  const length = Number(m[2]);
  if (addr === null || length > 32) return null;
  return { network: (addr & maskOf(length)) >>> 0, length };
}

export function prefixesOverlap(a: Prefix, b: Prefix): boolean {
  const len = Math.min(a.length, b.length);
  const m = maskOf(len);
  return ((a.network & m) >>> 0) === ((b.network & m) >>> 0);
}

export function inPrefix(addr: number, p: Prefix): boolean {
  return ((addr & maskOf(p.length)) >>> 0) === p.network;
}

/** An address is valid for a prefix when it is neither the network nor the broadcast address. */
export function hostAddressError(ip: string, prefixLength: number): string | null {
  const a = parseIPv4(ip);
  if (a === null) return `'${ip}' is not a valid IPv4 address.`;
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > 32) return `The prefix length ${prefixLength} is not valid for IPv4 (0-32).`;
  if (a === 0 || a >>> 28 === 14 || a >>> 28 === 15) return `'${ip}' is not a valid unicast address.`;
  if (prefixLength <= 30) {
    const host = (a & ~maskOf(prefixLength)) >>> 0;
    const all = (~maskOf(prefixLength)) >>> 0;
    if (host === 0) return `'${ip}' is the network address of its /${prefixLength} prefix and cannot be assigned to an interface.`;
    if (host === all) return `'${ip}' is the broadcast address of its /${prefixLength} prefix and cannot be assigned to an interface.`;
  }
  return null;
}
