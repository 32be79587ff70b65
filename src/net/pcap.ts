/**
 * Classic libpcap files (the format tcpdump, Wireshark and tshark read): a 24-byte global
 * header with magic 0xA1B2C3D4 (written little-endian), version 2.4, LINKTYPE_ETHERNET (1),
 * then per frame a 16-byte record header (seconds, microseconds, captured length,
 * original length) and the frame bytes.
 *
 * The writer is given an output (a file, or memory for tests) and a clock; it never
 * reaches for Date.now itself. `capture()` taps a whole switch or one of its ports.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { SwitchPort, VirtualSwitch } from './switch.js';

export const PCAP_MAGIC = 0xa1b2c3d4;
export const LINKTYPE_ETHERNET = 1;
export const PCAP_SNAPLEN = 65535;

export interface PcapOutput {
  write(bytes: Uint8Array): void;
  close(): void;
}

export class PcapWriter {
  frames = 0;
  private closed = false;

  /** `nowMs` gives wall-clock milliseconds since the Unix epoch for each record's timestamp. */
  constructor(private readonly out: PcapOutput, private readonly nowMs: () => number) {
    const h = new DataView(new ArrayBuffer(24));
    h.setUint32(0, PCAP_MAGIC, true);
    h.setUint16(4, 2, true);
    h.setUint16(6, 4, true);
    h.setInt32(8, 0, true); //    thiszone
    h.setUint32(12, 0, true); //  sigfigs
    h.setUint32(16, PCAP_SNAPLEN, true);
    h.setUint32(20, LINKTYPE_ETHERNET, true);
    out.write(new Uint8Array(h.buffer));
  }

  /** A pcap file at `path` (created or truncated). */
  static toFile(path: string, nowMs: () => number): PcapWriter {
    const fd = openSync(path, 'w');
    return new PcapWriter({ write: (b) => { writeSync(fd, b); }, close: () => closeSync(fd) }, nowMs);
  }

  write(frame: Uint8Array): void {
    if (this.closed) return;
    const t = this.nowMs();
    const sec = Math.floor(t / 1000);
    const usec = Math.floor((t - sec * 1000) * 1000);
    const cap = Math.min(frame.length, PCAP_SNAPLEN);
    const rec = new Uint8Array(16 + cap);
    const v = new DataView(rec.buffer);
    v.setUint32(0, sec >>> 0, true);
    v.setUint32(4, usec, true);
    v.setUint32(8, cap, true);
    v.setUint32(12, frame.length, true);
    rec.set(frame.subarray(0, cap), 16);
    this.out.write(rec);
    this.frames++;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.out.close();
  }
}

/** Parses a classic little-endian pcap (tests, and tools that check captures). */
export function readPcap(bytes: Uint8Array): { linkType: number; frames: Array<{ sec: number; usec: number; data: Uint8Array }> } {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 24 || v.getUint32(0, true) !== PCAP_MAGIC) throw new Error('not a little-endian classic pcap file');
  const frames = [];
  for (let o = 24; o + 16 <= bytes.length;) {
    const cap = v.getUint32(o + 8, true);
    if (o + 16 + cap > bytes.length) throw new Error('truncated pcap record');
    frames.push({ sec: v.getUint32(o, true), usec: v.getUint32(o + 4, true), data: bytes.slice(o + 16, o + 16 + cap) });
    o += 16 + cap;
  }
  return { linkType: v.getUint32(20, true), frames };
}

/**
 * Captures into `writer`: every frame the switch accepts (port null), or every frame one
 * port sends (dropped ones included, so a capture shows what a guest tried) and receives.
 * Returns the function that stops the capture and closes the writer.
 */
export function capture(sw: VirtualSwitch, writer: PcapWriter, port: SwitchPort | null = null): () => void {
  const off = sw.addTap((frame) => writer.write(frame), port);
  return () => { off(); writer.close(); };
}
