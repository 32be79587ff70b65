/**
 * The L0 network: the virtual switches, host vNICs and NATs of this Nestvisor process,
 * built from the inventory's VMSwitch / NetIPAddress / NetNat objects (a NetworkSnapshot
 * handed over by management) and the VM adapters of running partitions plugged into them.
 *
 * - every VMSwitch becomes a src/net VirtualSwitch of its type;
 * - an Internal switch (or External with AllowManagementOS) gets its host vNIC
 *   "vEthernet (NAME)": a HostStack with the addresses New-NetIPAddress gave it;
 * - a NetNat whose internal prefix holds a vNIC address translates for that vNIC;
 * - a running VM's adapter is a switch port whose policy follows MacAddressSpoofing, which
 *   takes effect at once when changed (seed: "Get-VMNetworkAdapter -VMName <VMName> |
 *   Set-VMNetworkAdapter -MacAddressSpoofing On").
 */
import { realTimers, type NetTimers } from '../net/clock.js';
import { HostStack } from '../net/host-stack.js';
import { parseIp, parseMac, sameSubnet } from '../net/mac.js';
import { NetNat, parseNatPrefix } from '../net/nat.js';
import { PcapWriter } from '../net/pcap.js';
import { VirtualSwitch, type PortCounters, type SwitchPort, type SwitchType } from '../net/switch.js';
import { uplinkUnavailableReason } from '../net/uplink.js';

export interface NetworkSnapshot {
  readonly switches: ReadonlyArray<{ name: string; switchType: SwitchType; netAdapterName: string | null; allowManagementOS: boolean }>;
  /** Host adapters created by switches (vEthernet), with their MACs ("00-15-5D-..."). */
  readonly hostAdapters: ReadonlyArray<{ name: string; macAddress: string; switchName: string | null }>;
  readonly ipAddresses: ReadonlyArray<{ ipAddress: string; interfaceAlias: string; prefixLength: number; addressFamily: string }>;
  readonly nats: ReadonlyArray<{ name: string; internalIPInterfaceAddressPrefix: string;
    /** Add-NetNatStaticMapping: the host listens on 127.0.0.1:externalPort (loopback only) for internalIPAddress:internalPort. */
    staticMappings?: ReadonlyArray<{ id: number; externalPort: number; internalIPAddress: string; internalPort: number }> }>;
  /** Current MacAddressSpoofing of every adapter, by adapter id. */
  readonly adapters: ReadonlyArray<{ id: string; macAddressSpoofing: 'On' | 'Off' }>;
}

/** A VM adapter as a partition starts with it. */
export interface AdapterConfig {
  readonly id: string;
  readonly name: string;
  /** Twelve hex digits. */
  readonly macAddress: string;
  readonly switchName: string | null;
  readonly macAddressSpoofing: 'On' | 'Off';
}

/** The guest side of an adapter (a virtio-net device): frames in, frames out. */
export interface NicEndpoint {
  receive(frame: Uint8Array): void;
  sink: (frame: Uint8Array) => void;
}

export interface PortStatistics {
  switchName: string;
  portName: string;
  vmName: string | null;
  adapterId: string | null;
  /** The VM adapter's name ("Network Adapter"), or null for the host vNIC / uplink. */
  adapterName: string | null;
  macAddress: string | null;
  macAddressSpoofing: boolean;
  counters: PortCounters;
}

interface SwitchEntry {
  sw: VirtualSwitch;
  type: SwitchType;
  host: { stack: HostStack; port: SwitchPort; alias: string } | null;
  nat: NetNat | null;
  natName: string | null;
  /** Static mappings applied to nat, by "externalPort>ip:port"; error is why listening failed. */
  mappings: Map<string, { id: number; port: number; error: string | null }>;
  uplinkError: string | null;
}

interface Attached { vmName: string; adapter: AdapterConfig; port: SwitchPort; switchName: string }

/** A running pcap capture (Start-NestvisorCapture): a whole switch, or the ports of some adapters on it. */
export interface CaptureInfo {
  readonly id: number;
  readonly switchName: string;
  readonly vmName: string | null;
  readonly adapterIds: readonly string[];
  readonly path: string;
  /** Frames and bytes written so far. */
  frames: number;
  bytes: number;
}

interface Capture { info: CaptureInfo; writer: PcapWriter; stop: () => void }

export class L0Network {
  private readonly switches = new Map<string, SwitchEntry>();
  private readonly adapters = new Map<string, Attached>();
  private readonly captures = new Map<number, Capture>();
  private nextCaptureId = 1;
  private readonly timers: NetTimers;
  private readonly pending = new Set<Promise<unknown>>();

  constructor(opts: { timers?: NetTimers } = {}) {
    this.timers = opts.timers ?? realTimers();
  }

  /** Brings switches, vNICs and NATs in line with the inventory. */
  sync(s: NetworkSnapshot): void {
    const key = (n: string) => n.toLowerCase();
    for (const [k, e] of [...this.switches]) {
      const rec = s.switches.find((w) => key(w.name) === k);
      if (!rec || rec.switchType !== e.type) this.dropSwitch(k, e);
    }
    for (const w of s.switches) {
      let e = this.switches.get(key(w.name));
      if (!e) {
        e = { sw: new VirtualSwitch(w.name, w.switchType, { timers: this.timers }), type: w.switchType, host: null, nat: null, natName: null, mappings: new Map(),
          uplinkError: w.switchType === 'External' ? uplinkUnavailableReason(w.name, w.netAdapterName) : null };
        this.switches.set(key(w.name), e);
      }
      const vEth = s.hostAdapters.find((a) => a.switchName !== null && key(a.switchName) === key(w.name));
      if (vEth && !e.host) {
        const mac = parseMac(vEth.macAddress) ?? 0x00155d00ffff;
        let port: SwitchPort | null = null;
        const stack = new HostStack({ mac, timers: this.timers, output: (f) => port?.send(f) });
        port = e.sw.connect({ name: vEth.name, kind: 'host', mac, deliver: (f) => stack.receive(f) });
        e.host = { stack, port, alias: vEth.name };
      } else if (!vEth && e.host) {
        e.sw.disconnect(e.host.port);
        e.host = null;
      }
      if (e.host) {
        const want = s.ipAddresses.filter((i) => i.addressFamily === 'IPv4' && key(i.interfaceAlias) === key(e!.host!.alias));
        const st = e.host.stack;
        for (const a of [...st.addresses]) if (!want.some((i) => parseIp(i.ipAddress) === a.ip)) st.removeAddress(a.ip);
        for (const i of want) { const ip = parseIp(i.ipAddress); if (ip !== null) st.addAddress(ip, i.prefixLength); }
        // seed: New-NetNat –InternalIPInterfaceAddressPrefix: the NAT whose prefix holds a vNIC address serves it
        const nat = s.nats.find((n) => { const p = parseNatPrefix(n.internalIPInterfaceAddressPrefix); return p && st.addresses.some((a) => sameSubnet(a.ip, p.network, p.length)); });
        if (e.nat && (!nat || nat.name !== e.natName)) { void e.nat.close(); e.nat = null; e.natName = null; e.mappings = new Map(); }
        if (nat && !e.nat) {
          e.nat = new NetNat({ name: nat.name, stack: st, prefix: parseNatPrefix(nat.internalIPInterfaceAddressPrefix)!, timers: this.timers });
          e.natName = nat.name;
        }
        if (nat && e.nat) this.syncMappings(e, e.nat, nat.staticMappings ?? []);
      }
    }
    for (const a of s.adapters) {
      const at = this.adapters.get(a.id);
      if (at) at.port.macAddressSpoofing = a.macAddressSpoofing === 'On';
    }
  }

  /** Listens for new static mappings and stops those the inventory no longer has. */
  private syncMappings(e: SwitchEntry, nat: NetNat, want: NonNullable<NetworkSnapshot['nats'][number]['staticMappings']>): void {
    const k = (m: { externalPort: number; internalIPAddress: string; internalPort: number }) => `${m.externalPort}>${m.internalIPAddress}:${m.internalPort}`;
    for (const [key, m] of [...e.mappings]) {
      if (want.some((w) => k(w) === key)) continue;
      e.mappings.delete(key);
      if (!m.error) this.track(nat.removeStaticMapping(m.port));
    }
    for (const w of want) {
      if (e.mappings.has(k(w))) continue;
      const m = { id: w.id, port: w.externalPort, error: null as string | null };
      e.mappings.set(k(w), m);
      const p = nat.addStaticMapping({ protocol: 'TCP', externalPort: w.externalPort, internalIPAddress: w.internalIPAddress, internalPort: w.internalPort });
      this.track(p.then(
        () => { if (e.mappings.get(k(w)) !== m) return nat.removeStaticMapping(w.externalPort); },
        (err: Error) => { m.error = (err as NodeJS.ErrnoException).code ?? err.message; },
      ));
    }
  }

  private track(p: Promise<unknown>): void {
    const q = p.catch(() => {}).finally(() => this.pending.delete(q));
    this.pending.add(q);
  }

  /** Resolves once every static mapping asked for so far listens (or failed to). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  /** Static mappings of the NAT named so, as applied: listening, or why not. */
  staticMappingStates(natName: string): Array<{ id: number; externalPort: number; error: string | null }> {
    for (const e of this.switches.values()) {
      if (e.natName !== null && e.natName.toLowerCase() === natName.toLowerCase()) return [...e.mappings.values()].map((m) => ({ id: m.id, externalPort: m.port, error: m.error }));
    }
    return [];
  }

  /** The live NetNat of that name, if a vNIC address lies in its prefix. */
  natByName(natName: string): NetNat | null {
    for (const e of this.switches.values()) if (e.natName !== null && e.natName.toLowerCase() === natName.toLowerCase()) return e.nat;
    return null;
  }

  /** Plugs a running VM's adapter into its switch; an adapter with no switch stays unplugged. */
  attach(vmName: string, a: AdapterConfig, nic: NicEndpoint): void {
    this.detach(a.id);
    if (!a.switchName) { nic.sink = () => {}; return; }
    const e = this.switches.get(a.switchName.toLowerCase());
    if (!e) throw new Error(`the virtual switch '${a.switchName}' does not exist`);
    const mac = parseMac(a.macAddress);
    if (mac === null) throw new Error(`'${a.macAddress}' is not a MAC address`);
    const port = e.sw.connect({ name: `${vmName}/${a.name}`, kind: 'vm', mac, macAddressSpoofing: a.macAddressSpoofing === 'On', deliver: (f) => nic.receive(f) });
    nic.sink = (f) => port.send(f);
    this.adapters.set(a.id, { vmName, adapter: a, port, switchName: e.sw.name });
  }

  detach(adapterId: string): void {
    const at = this.adapters.get(adapterId);
    if (!at) return;
    this.switches.get(at.switchName.toLowerCase())?.sw.disconnect(at.port);
    this.adapters.delete(adapterId);
  }

  setMacAddressSpoofing(adapterId: string, on: boolean): void {
    const at = this.adapters.get(adapterId);
    if (at) at.port.macAddressSpoofing = on;
  }

  switchOf(name: string): VirtualSwitch | null { return this.switches.get(name.toLowerCase())?.sw ?? null; }
  hostStack(switchName: string): HostStack | null { return this.switches.get(switchName.toLowerCase())?.host?.stack ?? null; }
  nat(switchName: string): NetNat | null { return this.switches.get(switchName.toLowerCase())?.nat ?? null; }
  uplinkError(switchName: string): string | null { return this.switches.get(switchName.toLowerCase())?.uplinkError ?? null; }

  statistics(): PortStatistics[] {
    const out: PortStatistics[] = [];
    for (const e of this.switches.values()) {
      for (const p of e.sw.portList) {
        const at = [...this.adapters.entries()].find(([, x]) => x.port === p);
        out.push({ switchName: e.sw.name, portName: p.name, vmName: at ? at[1].vmName : null, adapterId: at ? at[0] : null,
          adapterName: at ? at[1].adapter.name : null,
          macAddress: p.mac === null ? null : p.mac.toString(16).toUpperCase().padStart(12, '0'), macAddressSpoofing: p.macAddressSpoofing,
          counters: structuredClone(p.counters) });
      }
    }
    return out;
  }

  /** The counters of a running VM adapter's switch port, or null when it has none (VM off, no switch). */
  portCounters(adapterId: string): PortCounters | null {
    const at = this.adapters.get(adapterId);
    return at ? structuredClone(at.port.counters) : null;
  }

  /**
   * Starts a pcap capture of a whole switch (every frame it accepts) or, with adapter ids, of
   * those adapters' ports (what they send — dropped frames included — and what they receive).
   * The file is created (or truncated) at once; it is complete when stopCapture closes it.
   */
  startCapture(o: { switchName: string; path: string; adapterIds?: readonly string[]; vmName?: string | null }): CaptureInfo {
    const e = this.switches.get(o.switchName.toLowerCase());
    if (!e) throw new Error(`the virtual switch '${o.switchName}' does not exist`);
    const ports: SwitchPort[] = [];
    for (const id of o.adapterIds ?? []) {
      const at = this.adapters.get(id);
      if (!at || at.switchName.toLowerCase() !== o.switchName.toLowerCase()) throw new Error('that network adapter is not connected to this switch in a running virtual machine');
      ports.push(at.port);
    }
    if (o.adapterIds && ports.length === 0) throw new Error('no network adapter to capture');
    const writer = PcapWriter.toFile(o.path, () => Date.now());
    const info: CaptureInfo = { id: this.nextCaptureId++, switchName: e.sw.name, vmName: o.vmName ?? null, adapterIds: [...(o.adapterIds ?? [])], path: o.path, frames: 0, bytes: 0 };
    const tap = (f: Uint8Array) => { writer.write(f); info.frames++; info.bytes += f.length; };
    const offs = ports.length ? ports.map((p) => e.sw.addTap(tap, p)) : [e.sw.addTap(tap, null)];
    this.captures.set(info.id, { info, writer, stop: () => { for (const off of offs) off(); writer.close(); } });
    return { ...info };
  }

  /** The running captures, oldest first. */
  captureList(): CaptureInfo[] {
    return [...this.captures.values()].map((c) => ({ ...c.info }));
  }

  /** Stops a capture and closes its file; returns what it wrote, or null when no such capture runs. */
  stopCapture(id: number): CaptureInfo | null {
    const c = this.captures.get(id);
    if (!c) return null;
    c.stop();
    this.captures.delete(id);
    return { ...c.info };
  }

  async close(): Promise<void> {
    for (const id of [...this.captures.keys()]) this.stopCapture(id);
    for (const [k, e] of [...this.switches]) this.dropSwitch(k, e);
  }

  private dropSwitch(k: string, e: SwitchEntry): void {
    if (e.nat) void e.nat.close();
    for (const [id, at] of [...this.adapters]) if (at.switchName.toLowerCase() === k) this.detach(id);
    this.switches.delete(k);
  }
}
