/**
 * A PowerShell Direct session with the agent in a guest: a vsock stream to AGENT_PORT, the
 * HELLO exchange, then one REQUEST frame per pipeline and one RESPONSE frame back
 * (src/hypervisor/agent-protocol.ts, docs/guest-channel.md). Everything the guest sends is
 * untrusted: frames that do not decode are dropped and counted; a stream that loses frame
 * sync, closes, or stays silent past the time-out ends the session with GuestAgentError —
 * never a host exception of another kind.
 */
import {
  FrameReader, FrameType, decodeFault, decodeHelloReply, decodeResponse, encodeFrame, encodeRequest,
  type AgentItem, type AgentRequest, type Frame,
} from './agent-protocol.js';
import { VsockConnectError, type VsockHost, type VsockStream } from './vsock-host.js';

/** The vsock port the agent listens on: 5985, the port PowerShell remoting (WinRM over HTTP) uses on a network. */
export const AGENT_PORT = 5985;

export type GuestAgentFailure = 'no-agent' | 'session-ended';

export class GuestAgentError extends Error {
  constructor(readonly reason: GuestAgentFailure, detail: string) {
    super(detail);
    this.name = 'GuestAgentError';
  }
}

export interface GuestAgentCounters { badFrames: number; requests: number; faults: number }

export interface GuestAgentOptions {
  /** How long to wait for the agent to accept and greet (the guest may still be booting). */
  readonly connectTimeoutMs: number;
  /** How long one request may take. */
  readonly requestTimeoutMs: number;
  readonly port?: number;
}

export class GuestAgentSession {
  readonly counters: GuestAgentCounters = { badFrames: 0, requests: 0, faults: 0 };
  private readonly reader = new FrameReader();
  private readonly waiting = new Map<number, { resolve: (f: Frame) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private ended: GuestAgentError | null = null;
  agent = '';
  commands: readonly string[] = [];

  private constructor(private readonly stream: VsockStream, private readonly opts: GuestAgentOptions) {
    stream.onData = (d) => this.onData(d);
    stream.onClose = (why) => this.end(new GuestAgentError('session-ended', `the guest closed the channel (${why})`));
  }

  /** Connects and exchanges HELLO; GuestAgentError('no-agent') when nobody answers in time. */
  static async open(host: VsockHost, opts: GuestAgentOptions): Promise<GuestAgentSession> {
    const deadline = Date.now() + opts.connectTimeoutMs;
    const { stream, opened } = host.connect(opts.port ?? AGENT_PORT);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => { stream.close(); reject(new GuestAgentError('no-agent', `no agent answered within ${opts.connectTimeoutMs} ms`)); }, opts.connectTimeoutMs);
    });
    try {
      await Promise.race([opened, timeout]);
    } catch (e) {
      clearTimeout(timer);
      if (e instanceof GuestAgentError) throw e;
      throw new GuestAgentError('no-agent', e instanceof VsockConnectError ? e.message : String(e));
    }
    clearTimeout(timer);
    const s = new GuestAgentSession(stream, opts);
    try {
      const hello = await s.exchange(FrameType.HELLO, new Uint8Array(0), Math.max(1, deadline - Date.now()));
      const h = hello.type === FrameType.HELLO_REPLY ? decodeHelloReply(hello.payload) : null;
      if (!h) throw new GuestAgentError('no-agent', 'the guest did not greet with HELLO_REPLY');
      s.agent = h.agent;
      s.commands = h.commands;
    } catch (e) {
      s.close();
      throw e instanceof GuestAgentError && e.reason === 'no-agent' ? e : new GuestAgentError('no-agent', (e as Error).message);
    }
    return s;
  }

  /** Runs one pipeline in the guest (or, with a route, in a VM below it). */
  async request(req: AgentRequest): Promise<AgentItem[]> {
    this.counters.requests++;
    const f = await this.exchange(FrameType.REQUEST, encodeRequest(req), this.opts.requestTimeoutMs);
    if (f.type === FrameType.FAULT) {
      this.counters.faults++;
      throw new GuestAgentError('session-ended', `the agent could not use the request: ${decodeFault(f.payload) ?? '(unreadable fault)'}`);
    }
    const items = f.type === FrameType.RESPONSE ? decodeResponse(f.payload) : null;
    if (!items) { this.counters.badFrames++; throw new GuestAgentError('session-ended', 'the agent sent an unreadable response'); }
    return items;
  }

  close(): void {
    this.end(new GuestAgentError('session-ended', 'the session was closed'));
    this.stream.close();
  }

  private exchange(type: number, payload: Uint8Array, timeoutMs: number): Promise<Frame> {
    if (this.ended) return Promise.reject(this.ended);
    const id = this.nextId++;
    return new Promise<Frame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new GuestAgentError('session-ended', `the agent did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, {
        resolve: (f) => { clearTimeout(timer); resolve(f); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      this.stream.write(encodeFrame(type, id, payload));
    });
  }

  private onData(d: Uint8Array): void {
    for (const f of this.reader.push(d)) {
      const w = this.waiting.get(f.id);
      if (!w || (f.type !== FrameType.HELLO_REPLY && f.type !== FrameType.RESPONSE && f.type !== FrameType.FAULT)) {
        this.counters.badFrames++; // unsolicited, duplicate or of a type the guest may not send
        continue;
      }
      this.waiting.delete(f.id);
      w.resolve(f);
    }
    if (this.reader.desync) {
      this.counters.badFrames++;
      this.end(new GuestAgentError('session-ended', 'the agent sent bytes that are not a frame'));
      this.stream.close();
    }
  }

  private end(e: GuestAgentError): void {
    if (this.ended) return;
    this.ended = e;
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
  }
}
