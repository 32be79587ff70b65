/**
 * The PowerShell Direct message protocol between Nestvisor and a guest agent, carried on a
 * virtio-vsock stream (docs/guest-channel.md is the specification; guests/lib/agent.c the C
 * side). Compact binary, little-endian, so a freestanding C agent parses it with a cursor and
 * no allocator:
 *
 *   frame:   0 magic "NVPD" | 4 u8 version (1) | 5 u8 type | 6 u16 reserved (0)
 *            8 u32 request id | 12 u32 payload length (≤ MAX_PAYLOAD) | 16 payload
 *   string:  u16 length + UTF-8 bytes
 *   value:   u8 tag: 0 null | 1 string | 2 int64 (8 bytes) | 3 bool (u8) | 4 string list (u8 count + strings)
 *
 *   HELLO        host → guest   (empty)
 *   HELLO_REPLY  guest → host   string agent name, u8 count + strings: the commands it runs
 *   REQUEST      host → guest   u8 route count + strings (VM names below this guest, outermost first),
 *                               u8 command count, each: string name, u8 arg count, each: string name + value
 *   RESPONSE     guest → host   u16 item count, each: u8 kind 1 object: string type name, u8 count, (string, value)*
 *                                                      kind 2 error: strings message, category,
 *                                                      FullyQualifiedErrorId, activity, target name, exception type
 *   FAULT        either way     string message: the peer could not use a frame (bad version, unparsable)
 *
 * Decoders validate everything and return null rather than throw (STYLE habit 10).
 */

export const FRAME_MAGIC = 0x4450564e; // "NVPD" read as a little-endian u32
export const PROTOCOL_VERSION = 1;
export const FRAME_HEADER_LEN = 16;
export const MAX_PAYLOAD = 60 * 1024;
export const FrameType = { HELLO: 1, HELLO_REPLY: 2, REQUEST: 3, RESPONSE: 4, FAULT: 5 } as const;
export type FrameTypeCode = (typeof FrameType)[keyof typeof FrameType];

export type AgentValue = null | string | number | boolean | readonly string[];

export interface AgentCommand {
  readonly name: string;
  readonly args: ReadonlyArray<readonly [string, AgentValue]>;
}

export interface AgentRequest {
  /** VM names to forward through, outermost first; empty for this guest itself. */
  readonly route: readonly string[];
  /** A pipeline: each command's output objects are the next one's input. */
  readonly pipeline: readonly AgentCommand[];
}

export interface AgentObject { readonly kind: 'object'; readonly typeName: string; readonly props: ReadonlyArray<readonly [string, AgentValue]> }
export interface AgentError {
  readonly kind: 'error'; readonly message: string; readonly category: string; readonly fullyQualifiedErrorId: string;
  readonly activity: string; readonly targetName: string; readonly exceptionType: string;
}
export type AgentItem = AgentObject | AgentError;

export interface Frame { readonly type: number; readonly id: number; readonly payload: Uint8Array }

export interface HelloReply { readonly agent: string; readonly commands: readonly string[] }

// ---- writer ----

class Writer {
  private buf = new Uint8Array(256);
  private n = 0;
  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const b = new Uint8Array(Math.max(this.buf.length * 2, this.n + k));
    b.set(this.buf.subarray(0, this.n));
    this.buf = b;
  }
  u8(v: number): this { this.room(1); this.buf[this.n++] = v & 0xff; return this; }
  u16(v: number): this { return this.u8(v).u8(v >>> 8); }
  u32(v: number): this { return this.u16(v & 0xffff).u16(v >>> 16); }
  str(s: string): this {
    const b = new TextEncoder().encode(s);
    if (b.length > 0xffff) throw new RangeError('string longer than 65535 bytes');
    this.u16(b.length); this.room(b.length); this.buf.set(b, this.n); this.n += b.length;
    return this;
  }
  count(n: number, max: number): this {
    if (n > max) throw new RangeError(`more than ${max} items`);
    return max > 255 ? this.u16(n) : this.u8(n);
  }
  value(v: AgentValue): this {
    if (v === null) return this.u8(0);
    if (typeof v === 'string') return this.u8(1).str(v);
    if (typeof v === 'number') {
      const n = Math.trunc(v);
      const lo = Number(BigInt.asUintN(32, BigInt(n))), hi = Number(BigInt.asUintN(32, BigInt(n) >> 32n));
      return this.u8(2).u32(lo).u32(hi);
    }
    if (typeof v === 'boolean') return this.u8(3).u8(v ? 1 : 0);
    this.u8(4).count(v.length, 255);
    for (const s of v) this.str(s);
    return this;
  }
  bytes(): Uint8Array { return this.buf.slice(0, this.n); }
}

export function encodeFrame(type: number, id: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  if (payload.length > MAX_PAYLOAD) throw new RangeError(`frame payload of ${payload.length} bytes exceeds ${MAX_PAYLOAD}`);
  const f = new Uint8Array(FRAME_HEADER_LEN + payload.length);
  const v = new DataView(f.buffer);
  v.setUint32(0, FRAME_MAGIC, true);
  f[4] = PROTOCOL_VERSION; f[5] = type;
  v.setUint32(8, id >>> 0, true);
  v.setUint32(12, payload.length, true);
  f.set(payload, FRAME_HEADER_LEN);
  return f;
}

export function encodeRequest(r: AgentRequest): Uint8Array {
  const w = new Writer();
  w.count(r.route.length, 255);
  for (const s of r.route) w.str(s);
  w.count(r.pipeline.length, 255);
  for (const c of r.pipeline) {
    w.str(c.name).count(c.args.length, 255);
    for (const [k, v] of c.args) w.str(k).value(v);
  }
  return w.bytes();
}

export function encodeHelloReply(h: HelloReply): Uint8Array {
  const w = new Writer().str(h.agent).count(h.commands.length, 255);
  for (const c of h.commands) w.str(c);
  return w.bytes();
}

export function encodeResponse(items: readonly AgentItem[]): Uint8Array {
  const w = new Writer().count(items.length, 0xffff);
  for (const it of items) {
    if (it.kind === 'object') {
      w.u8(1).str(it.typeName).count(it.props.length, 255);
      for (const [k, v] of it.props) w.str(k).value(v);
    } else {
      w.u8(2).str(it.message).str(it.category).str(it.fullyQualifiedErrorId).str(it.activity).str(it.targetName).str(it.exceptionType);
    }
  }
  return w.bytes();
}

export function encodeFault(message: string): Uint8Array {
  return new Writer().str(message).bytes();
}

// ---- reader ----

class Reader {
  private o = 0;
  ok = true;
  constructor(private readonly b: Uint8Array) {}
  private need(k: number): boolean { if (this.o + k > this.b.length) this.ok = false; return this.ok; }
  u8(): number { return this.need(1) ? this.b[this.o++]! : 0; }
  u16(): number { return this.need(2) ? this.b[this.o++]! | (this.b[this.o++]! << 8) : 0; }
  u32(): number { return (this.u16() + this.u16() * 0x10000) >>> 0; }
  str(): string {
    const n = this.u16();
    if (!this.need(n)) return '';
    const s = this.b.subarray(this.o, this.o + n);
    this.o += n;
    try { return new TextDecoder('utf-8', { fatal: true }).decode(s); } catch { this.ok = false; return ''; }
  }
  value(): AgentValue {
    switch (this.u8()) {
      case 0: return null;
      case 1: return this.str();
      case 2: {
        const lo = this.u32(), hi = this.u32();
        const n = Number(BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)));
        return n;
      }
      case 3: { const x = this.u8(); if (x > 1) this.ok = false; return x === 1; }
      case 4: { const n = this.u8(); const out: string[] = []; for (let i = 0; i < n && this.ok; i++) out.push(this.str()); return out; }
      default: this.ok = false; return null;
    }
  }
  get done(): boolean { return this.ok && this.o === this.b.length; }
}

/** A frame's header, when the first 16 bytes are one; `length` says how many bytes the whole frame takes. */
export function peekFrame(b: Uint8Array): { ok: true; type: number; id: number; length: number } | { ok: false } {
  if (b.length < FRAME_HEADER_LEN) return { ok: false };
  const v = new DataView(b.buffer, b.byteOffset, FRAME_HEADER_LEN);
  const len = v.getUint32(12, true);
  if (v.getUint32(0, true) !== FRAME_MAGIC || b[4] !== PROTOCOL_VERSION || v.getUint16(6, true) !== 0 || len > MAX_PAYLOAD) return { ok: false };
  return { ok: true, type: b[5]!, id: v.getUint32(8, true), length: FRAME_HEADER_LEN + len };
}

export function decodeRequest(p: Uint8Array): AgentRequest | null {
  const r = new Reader(p);
  const route: string[] = [];
  for (let i = 0, n = r.u8(); i < n && r.ok; i++) route.push(r.str());
  const pipeline: AgentCommand[] = [];
  for (let i = 0, n = r.u8(); i < n && r.ok; i++) {
    const name = r.str();
    const args: Array<[string, AgentValue]> = [];
    for (let j = 0, m = r.u8(); j < m && r.ok; j++) args.push([r.str(), r.value()]);
    pipeline.push({ name, args });
  }
  return r.done ? { route, pipeline } : null;
}

export function decodeHelloReply(p: Uint8Array): HelloReply | null {
  const r = new Reader(p);
  const agent = r.str();
  const commands: string[] = [];
  for (let i = 0, n = r.u8(); i < n && r.ok; i++) commands.push(r.str());
  return r.done ? { agent, commands } : null;
}

export function decodeResponse(p: Uint8Array): AgentItem[] | null {
  const r = new Reader(p);
  const items: AgentItem[] = [];
  for (let i = 0, n = r.u16(); i < n && r.ok; i++) {
    const kind = r.u8();
    if (kind === 1) {
      const typeName = r.str();
      const props: Array<[string, AgentValue]> = [];
      for (let j = 0, m = r.u8(); j < m && r.ok; j++) props.push([r.str(), r.value()]);
      items.push({ kind: 'object', typeName, props });
    } else if (kind === 2) {
      items.push({ kind: 'error', message: r.str(), category: r.str(), fullyQualifiedErrorId: r.str(), activity: r.str(),
        targetName: r.str(), exceptionType: r.str() });
    } else {
      return null;
    }
  }
  return r.done ? items : null;
}

export function decodeFault(p: Uint8Array): string | null {
  const r = new Reader(p);
  const m = r.str();
  return r.done ? m : null;
}

/**
 * Splits a byte stream into frames. Bytes that cannot start a frame (bad magic, version or
 * length) make the stream unusable: there is no way to find the next frame boundary, so the
 * reader reports `desync` and the session ends (docs/guest-channel.md, "Errors").
 */
export class FrameReader {
  private buf = new Uint8Array(0);
  desync = false;

  push(data: Uint8Array): Frame[] {
    if (this.desync) return [];
    const b = new Uint8Array(this.buf.length + data.length);
    b.set(this.buf); b.set(data, this.buf.length);
    this.buf = b;
    const out: Frame[] = [];
    for (;;) {
      if (this.buf.length < FRAME_HEADER_LEN) break;
      const h = peekFrame(this.buf);
      if (!h.ok) { this.desync = true; this.buf = new Uint8Array(0); break; }
      if (this.buf.length < h.length) break;
      out.push({ type: h.type, id: h.id, payload: this.buf.slice(FRAME_HEADER_LEN, h.length) });
      this.buf = this.buf.slice(h.length);
    }
    return out;
  }
}
