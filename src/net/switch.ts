/**
 * A Hyper-V virtual switch carrying real Ethernet frames between ports.
 *
 * Switch types (seed: "New-VMSwitch -Name VmNAT -SwitchType Internal"): Private connects VM
 * adapters only; Internal adds one host vNIC port, "vEthernet (NAME)"; External adds an
 * uplink port (src/net/uplink.ts decides whether the host can give it one).
 *
 * Port policy, as Hyper-V applies it (seed: "Usurpation des adresses MAC"):
 * - a frame a VM adapter sends with a source MAC other than the adapter's own is dropped
 *   and counted (`macSpoofing`) unless the adapter has MacAddressSpoofing On;
 * - a VM adapter without spoofing owns exactly its MAC (a static table entry) and receives
 *   only frames for that MAC, broadcast and multicast; an adapter with spoofing On learns
 *   the source MACs it sends (so L2 guests bridged by an L1 hypervisor become reachable)
 *   and also receives unknown unicast, as do host and uplink ports.
 * Learned entries age out after `agingMs` of silence (virtual time from NetTimers).
 * Malformed frames (runt, oversize, bad 802.3 length, group source MAC) are dropped and
 * counted; nothing a guest sends can throw out of `send`.
 *
 * Forwarding is iterative: a frame sent while another is being forwarded (a host stack
 * answering inside its deliver callback) is queued, so replies never recurse.
 */
import { EthernetFrame, ETH_HEADER } from './ethernet.js';
import { isGroupMac, formatMac } from './mac.js';
import { isMalformed } from './malformed.js';
import type { NetTimers } from './clock.js';

export type SwitchType = 'Private' | 'Internal' | 'External';
export type PortKind = 'vm' | 'host' | 'uplink';
export type DropReason = 'malformed' | 'macSpoofing' | 'disconnected';

/** Per-port counters, from the adapter's side: "sent" entered the switch from it, "received" left the switch to it. */
export interface PortCounters {
  sentFrames: number;
  sentBytes: number;
  receivedFrames: number;
  receivedBytes: number;
  /** Frames the adapter sent that the switch dropped, by reason. */
  dropped: Record<DropReason, number>;
  /** Frames addressed to other MACs that the port policy kept from this adapter. */
  filtered: number;
}

export interface PortOptions {
  name: string;
  kind: PortKind;
  /** The adapter's MAC (VM and host ports). */
  mac?: number;
  macAddressSpoofing?: boolean;
  /** Receives every frame the switch delivers to this port. */
  deliver: (frame: Uint8Array) => void;
}

export type TapDirection = 'sent' | 'received';
export type Tap = (frame: Uint8Array, port: SwitchPort, direction: TapDirection) => void;

export class SwitchPort {
  readonly counters: PortCounters = {
    sentFrames: 0, sentBytes: 0, receivedFrames: 0, receivedBytes: 0,
    dropped: { malformed: 0, macSpoofing: 0, disconnected: 0 }, filtered: 0,
  };
  connected = true;
  macAddressSpoofing: boolean;
  private macValue: number | null;

  constructor(private readonly sw: VirtualSwitch, readonly id: number, readonly name: string, readonly kind: PortKind,
    mac: number | null, spoofing: boolean, readonly deliver: (frame: Uint8Array) => void) {
    this.macValue = mac;
    this.macAddressSpoofing = spoofing;
  }

  get mac(): number | null { return this.macValue; }

  /** The adapter changed its MAC (Hyper-V allows it only while the VM is off). */
  setMac(mac: number | null): void {
    this.sw.rekey(this, this.macValue, mac);
    this.macValue = mac;
  }

  /** The adapter sends a frame into the switch. Never throws on bad frames. */
  send(frame: Uint8Array): void {
    this.sw.ingress(this, frame);
  }

  get switchName(): string { return this.sw.name; }
}

interface Learned { port: SwitchPort; at: number }

export interface SwitchOptions {
  timers: NetTimers;
  /** Learned-entry lifetime; Hyper-V and most switches use 300 s. */
  agingMs?: number;
  /** Learned entries kept at most (a MAC flood cannot grow the table without bound). */
  maxLearned?: number;
}

export class VirtualSwitch {
  private readonly ports: SwitchPort[] = [];
  private readonly staticMacs = new Map<number, SwitchPort>();
  private readonly learned = new Map<number, Learned>();
  private readonly taps = new Set<{ tap: Tap; port: SwitchPort | null }>();
  private readonly queue: Array<[SwitchPort, Uint8Array]> = [];
  private forwarding = false;
  /** Exceptions thrown by endpoints' deliver callbacks (bugs on the host side, kept for diagnostics). */
  endpointErrors = 0;
  lastEndpointError: unknown = null;
  private nextPortId = 1;
  readonly agingMs: number;
  private readonly maxLearned: number;

  constructor(readonly name: string, readonly type: SwitchType, private readonly opts: SwitchOptions) {
    this.agingMs = opts.agingMs ?? 300_000;
    this.maxLearned = opts.maxLearned ?? 4096;
  }

  /** Connects an adapter. Refuses what the switch type does not allow (a wiring error). */
  connect(o: PortOptions): SwitchPort {
    if (o.kind === 'host' && this.type === 'Private') throw new Error(`the private virtual switch '${this.name}' has no host adapter`);
    if (o.kind === 'uplink' && this.type !== 'External') throw new Error(`only an external virtual switch has an uplink ('${this.name}' is ${this.type})`);
    if (o.kind !== 'vm' && this.ports.some((p) => p.kind === o.kind)) throw new Error(`the virtual switch '${this.name}' already has a ${o.kind} port`);
    const p = new SwitchPort(this, this.nextPortId++, o.name, o.kind, o.mac ?? null, o.macAddressSpoofing ?? false, o.deliver);
    this.ports.push(p);
    if (p.mac !== null) this.staticMacs.set(p.mac, p);
    return p;
  }

  disconnect(p: SwitchPort): void {
    const i = this.ports.indexOf(p);
    if (i < 0) return;
    this.ports.splice(i, 1);
    p.connected = false;
    if (p.mac !== null && this.staticMacs.get(p.mac) === p) this.staticMacs.delete(p.mac);
    for (const [mac, e] of this.learned) if (e.port === p) this.learned.delete(mac);
    for (const t of this.taps) if (t.port === p) this.taps.delete(t);
  }

  get portList(): readonly SwitchPort[] { return this.ports; }

  /** Observes frames: of one port (sent, even if dropped, and received) or, with port null, every frame the switch accepts. */
  addTap(tap: Tap, port: SwitchPort | null = null): () => void {
    const e = { tap, port };
    this.taps.add(e);
    return () => { this.taps.delete(e); };
  }

  /** The learned (non-expired) and static entries, for diagnostics. */
  macTable(): Array<{ mac: string; port: string; static: boolean; ageMs: number }> {
    const now = this.opts.timers.now();
    const out = [...this.staticMacs].map(([mac, p]) => ({ mac: formatMac(mac), port: p.name, static: true, ageMs: 0 }));
    for (const [mac, e] of this.learned) {
      if (now - e.at <= this.agingMs) out.push({ mac: formatMac(mac), port: e.port.name, static: false, ageMs: now - e.at });
    }
    return out;
  }

  /** @internal SwitchPort.setMac */
  rekey(p: SwitchPort, old: number | null, mac: number | null): void {
    if (old !== null && this.staticMacs.get(old) === p) this.staticMacs.delete(old);
    if (mac !== null && p.connected) this.staticMacs.set(mac, p);
  }

  /** @internal SwitchPort.send */
  ingress(p: SwitchPort, frame: Uint8Array): void {
    this.queue.push([p, frame]);
    if (this.forwarding) return;
    this.forwarding = true;
    try {
      for (let i = 0; i < this.queue.length; i++) {
        const [from, f] = this.queue[i]!;
        try {
          this.forward(from, f);
        } catch (e) {
          // a port's deliver callback failed: that endpoint's bug must not stop the switch
          this.endpointErrors++;
          this.lastEndpointError = e;
        }
      }
    } finally {
      this.queue.length = 0;
      this.forwarding = false;
    }
  }

  private forward(p: SwitchPort, bytes: Uint8Array): void {
    const c = p.counters;
    c.sentFrames++;
    c.sentBytes += bytes.length;
    for (const t of this.taps) if (t.port === p) t.tap(bytes, p, 'sent');
    if (!p.connected) { c.dropped.disconnected++; return; }
    const f = EthernetFrame.parse(bytes);
    if (isMalformed(f) || isGroupMac(f.src)) { c.dropped.malformed++; return; }
    // seed "Usurpation des adresses MAC": only the adapter's own MAC may leave a VM unless spoofing is On.
    if (p.kind === 'vm' && !p.macAddressSpoofing && f.src !== p.mac) { c.dropped.macSpoofing++; return; }
    for (const t of this.taps) if (t.port === null) t.tap(bytes, p, 'sent');
    const now = this.opts.timers.now();
    this.learn(f.src, p, now);
    if (isGroupMac(f.dst)) {
      for (const q of this.ports) if (q !== p) this.egress(q, bytes, f.dst, true);
      return;
    }
    const owner = this.lookup(f.dst, now);
    if (owner) {
      if (owner !== p) this.egress(owner, bytes, f.dst, false);
      return;
    }
    for (const q of this.ports) if (q !== p) this.egress(q, bytes, f.dst, false);
  }

  private learn(src: number, p: SwitchPort, now: number): void {
    const st = this.staticMacs.get(src);
    if (st) return; // a port's own MAC never moves by learning
    const e = this.learned.get(src);
    if (e) { e.port = p; e.at = now; return; }
    if (this.learned.size >= this.maxLearned) {
      for (const [mac, x] of this.learned) if (now - x.at > this.agingMs) this.learned.delete(mac);
      if (this.learned.size >= this.maxLearned) return;
    }
    this.learned.set(src, { port: p, at: now });
  }

  private lookup(dst: number, now: number): SwitchPort | null {
    const st = this.staticMacs.get(dst);
    if (st) return st;
    const e = this.learned.get(dst);
    if (!e) return null;
    if (now - e.at > this.agingMs) { this.learned.delete(dst); return null; }
    return e.port;
  }

  private egress(q: SwitchPort, bytes: Uint8Array, dst: number, group: boolean): void {
    // A VM adapter without spoofing owns one MAC and hears only it (and group frames).
    if (!group && q.kind === 'vm' && !q.macAddressSpoofing && dst !== q.mac) { q.counters.filtered++; return; }
    q.counters.receivedFrames++;
    q.counters.receivedBytes += bytes.length;
    for (const t of this.taps) if (t.port === q) t.tap(bytes, q, 'received');
    q.deliver(bytes);
  }
}

/** Bytes of header a frame needs before the switch reads addresses (re-exported for device code). */
export const FRAME_HEADER_BYTES = ETH_HEADER;
