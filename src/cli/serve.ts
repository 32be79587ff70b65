/**
 * `nestvisor serve`: the same management service as the shell, kept running, with a small
 * HTTP API on loopback so other clients share one inventory and the VMs it runs.
 *   GET  /v1/health            → {"status":"ok"}
 *   POST /v1/actions  {Action} → {"output":[{typeName,props}],"errors":[{message,category,errorId}],"warnings":[]}
 *   POST /v1/run      {"script":"Get-VM"} → {"output":"<text>","errors":"<error records>","success":true}
 * Requests are applied one at a time, in arrival order.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Action } from '../management/actions.js';
import { ManagementError } from '../management/errors.js';
import { InventoryError, resolveHome } from '../management/inventory.js';
import { openService, type Service } from '../management/service.js';
import { BufferHost, createSession } from '../shell/index.js';

const MAX_BODY = 1 << 20;

export interface ServeOptions { home: string; port: number; onListening?: (port: number) => void }

async function body(req: IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, 'request body too large');
    chunks.push(c as Buffer);
  }
  try { return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'); } catch { throw new HttpError(400, 'request body is not JSON'); }
}

class HttpError extends Error { constructor(readonly status: number, message: string) { super(message); } }

function send(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Starts the server; resolves with a function that stops it. */
export async function startServer(svc: Service, port: number): Promise<{ port: number; close(): Promise<void> }> {
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(f: () => Promise<T>): Promise<T> => { const r = queue.then(f, f); queue = r.catch(() => undefined); return r; };
  const server = createServer((req, res) => {
    void (async () => {
      try {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        if (req.method === 'GET' && url.pathname === '/v1/health') return send(res, 200, { status: 'ok' });
        if (req.method === 'POST' && url.pathname === '/v1/actions') {
          const action = (await body(req)) as Action;
          if (!action || typeof action !== 'object' || typeof action.kind !== 'string') throw new HttpError(400, 'expected an action object with a "kind"');
          const r = await serial(() => svc.controller.apply(action));
          return send(res, 200, {
            output: r.output, warnings: r.warnings,
            errors: r.errors.map((e: ManagementError) => ({ message: e.message, category: e.category, errorId: e.errorId, targetName: e.targetName })),
          });
        }
        if (req.method === 'POST' && url.pathname === '/v1/run') {
          const b = (await body(req)) as { script?: unknown };
          if (typeof b.script !== 'string') throw new HttpError(400, 'expected {"script": "<PowerShell text>"}');
          const out = await serial(async () => {
            const host = new BufferHost();
            const session = createSession(svc.controller, host);
            const r = await session.run(b.script as string);
            return { output: host.stdout, errors: host.stderr, success: !r.terminated && session.lastSuccess, exitCode: r.exitCode ?? null };
          });
          return send(res, 200, out);
        }
        throw new HttpError(404, `no such endpoint: ${req.method} ${url.pathname}`);
      } catch (e) {
        if (e instanceof HttpError) return send(res, e.status, { error: e.message });
        return send(res, 500, { error: (e as Error).message });
      }
    })();
  });
  await new Promise<void>((res, rej) => { server.once('error', rej); server.listen(port, '127.0.0.1', () => res()); });
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : port,
    close: () => new Promise<void>((res) => server.close(() => res())),
  };
}

export async function serveCommand(argv: string[]): Promise<number> {
  let values: { home?: string; port?: string; help?: boolean };
  try {
    ({ values } = parseArgs({ args: argv, options: { home: { type: 'string' }, port: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (e) {
    process.stderr.write(`nestvisor serve: ${(e as Error).message}\n`);
    return 64;
  }
  if (values.help) {
    process.stdout.write('Usage: nestvisor serve [--home DIR] [--port N]   (HTTP API on 127.0.0.1, default port 8686)\n');
    return 0;
  }
  const port = values.port === undefined ? 8686 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) { process.stderr.write(`nestvisor serve: invalid port '${values.port}'\n`); return 64; }
  const home = resolve(resolveHome(values.home));
  let svc: Service;
  try { svc = openService({ home }); } catch (e) {
    if (e instanceof InventoryError) { process.stderr.write(`nestvisor: ${e.message}\n`); return 1; }
    throw e;
  }
  const srv = await startServer(svc, port);
  process.stdout.write(`nestvisor serve: listening on http://127.0.0.1:${srv.port} (inventory ${home})\n`);
  await new Promise<void>((res) => {
    process.once('SIGINT', res);
    process.once('SIGTERM', res);
  });
  await srv.close();
  await svc.close();
  return 0;
}
