/**
 * The persistent inventory: one SQLite file (better-sqlite3) under the data directory.
 * Every change is one IMMEDIATE transaction that re-reads what another process may have
 * committed, applies the change to a copy, and writes only the rows that differ — so a
 * SIGKILL at any instant leaves either the old or the new inventory, never half of one
 * (WAL journal, synchronous=FULL). A file that is not a Nestvisor inventory, or fails
 * SQLite's integrity check, is reported and left exactly as it was.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { emptyState, type InventoryState } from './model.js';

const SCHEMA_VERSION = 1;
/** PRAGMA application_id: "NVSR", so a foreign SQLite file is told apart from ours. */
const APPLICATION_ID = 0x4e565352;
export const INVENTORY_FILE = 'inventory.db';

export class InventoryError extends Error {
  constructor(message: string) { super(message); this.name = 'InventoryError'; }
}

/** The data directory: --home beats NESTVISOR_HOME beats ~/.nestvisor. */
export function resolveHome(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? env.NESTVISOR_HOME ?? join(homedir(), '.nestvisor');
}

type Rows = Map<string, string>; // "kind\0key" -> JSON

/** Flatten the state into keyed rows; the host settings are a single row. */
function toRows(s: InventoryState): Rows {
  const rows: Rows = new Map();
  const put = (kind: string, key: string, v: unknown) => rows.set(`${kind}\0${key}`, JSON.stringify(v));
  put('host', 'host', s.host);
  for (const r of s.runtime) put('runtime', r.vmId, r);
  for (const v of s.vms) put('vm', v.id, v);
  for (const n of s.vmNics) put('vmnic', n.id, n);
  for (const w of s.switches) put('switch', w.id, w);
  for (const a of s.hostAdapters) put('netadapter', a.name.toLowerCase(), a);
  for (const i of s.ipAddresses) put('ipaddress', `${i.interfaceAlias.toLowerCase()}|${i.ipAddress}`, i);
  for (const r of s.routes) put('route', `${r.interfaceAlias.toLowerCase()}|${r.destinationPrefix}|${r.nextHop}`, r);
  for (const n of s.nats) put('netnat', n.name.toLowerCase(), n);
  for (const d of s.dns) put('dns', `${d.interfaceAlias.toLowerCase()}|${d.addressFamily}`, d);
  return rows;
}

function fromRows(rows: Array<{ kind: string; json: string }>, macPrefixByte: number): InventoryState {
  const s = emptyState(macPrefixByte);
  s.hostAdapters = [];
  let sawHost = false;
  for (const r of rows) {
    const v = JSON.parse(r.json);
    switch (r.kind) {
      case 'host': s.host = v; sawHost = true; break;
      case 'runtime': s.runtime.push(v); break;
      case 'vm': s.vms.push(v); break;
      case 'vmnic': s.vmNics.push(v); break;
      case 'switch': s.switches.push(v); break;
      case 'netadapter': s.hostAdapters.push(v); break;
      case 'ipaddress': s.ipAddresses.push(v); break;
      case 'route': s.routes.push(v); break;
      case 'netnat': s.nats.push(v); break;
      case 'dns': s.dns.push(v); break;
      default: throw new InventoryError(`The inventory contains an unknown kind of object '${r.kind}'.`);
    }
  }
  if (!sawHost) return emptyState(macPrefixByte);
  return s;
}

export interface InventoryOptions {
  /** Used only when a new inventory is created. */
  readonly macPrefixByte?: number;
}

export class Inventory {
  private readonly db: Database.Database;
  private cached: InventoryState;
  private cachedRows: Rows;
  private dataVersion = -1;

  private constructor(db: Database.Database, private readonly macPrefixByte: number) {
    this.db = db;
    this.cached = emptyState(macPrefixByte);
    this.cachedRows = new Map();
    this.refresh();
  }

  /** Opens (creating if needed) the inventory of a data directory. */
  static open(home: string, options: InventoryOptions = {}): Inventory {
    mkdirSync(home, { recursive: true });
    const file = join(home, INVENTORY_FILE);
    let db: Database.Database | undefined;
    try {
      db = new Database(file);
      const fresh = checkFile(db, file);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
      if (fresh) {
        // One transaction creates the table and stamps the file, so a crash during creation
        // leaves an empty file that the next open treats as fresh again.
        const d = db;
        d.transaction(() => {
          d.exec('CREATE TABLE IF NOT EXISTS objects (kind TEXT NOT NULL, key TEXT NOT NULL, json TEXT NOT NULL, PRIMARY KEY (kind, key))');
          d.pragma(`application_id = ${APPLICATION_ID}`);
          d.pragma(`user_version = ${SCHEMA_VERSION}`);
        }).immediate();
      }
    } catch (e) {
      try { db?.close(); } catch { /* already closed */ }
      if (e instanceof InventoryError) throw e;
      throw corrupt(file, (e as Error).message);
    }
    const inv = new Inventory(db, options.macPrefixByte ?? 0x0a);
    if (!inv.hasHostRow()) inv.transact(() => undefined); // write the initial host row
    return inv;
  }

  private hasHostRow(): boolean {
    return this.db.prepare(`SELECT 1 FROM objects WHERE kind = 'host'`).get() !== undefined;
  }

  /** Re-read the file if another connection committed since we last looked. */
  private refresh(): void {
    const v = Number(this.db.pragma('data_version', { simple: true }));
    if (v === this.dataVersion) return;
    const rows = this.db.prepare('SELECT kind, key, json FROM objects ORDER BY rowid').all() as Array<{ kind: string; key: string; json: string }>;
    this.cached = fromRows(rows, this.macPrefixByte);
    this.cachedRows = new Map(rows.map((r) => [`${r.kind}\0${r.key}`, r.json]));
    this.dataVersion = v;
  }

  /** The current inventory without copying it: callers must not mutate it. */
  peek(): Readonly<InventoryState> {
    this.refresh();
    return this.cached;
  }

  /** A read-only view of the current inventory (a copy: callers may not mutate it). */
  read(): InventoryState {
    this.refresh();
    return structuredClone(this.cached);
  }

  /**
   * Applies `change` to a copy of the inventory and commits the difference atomically. If
   * `change` throws, nothing is written and the error propagates.
   */
  transact<T>(change: (state: InventoryState) => T): T {
    const run = this.db.transaction(() => {
      this.refresh();
      const next = structuredClone(this.cached);
      const result = change(next);
      const rows = toRows(next);
      const del = this.db.prepare('DELETE FROM objects WHERE kind = ? AND key = ?');
      const put = this.db.prepare('INSERT INTO objects (kind, key, json) VALUES (?, ?, ?) ON CONFLICT (kind, key) DO UPDATE SET json = excluded.json');
      for (const k of this.cachedRows.keys()) {
        if (!rows.has(k)) { const [kind, key] = k.split('\0'); del.run(kind, key); }
      }
      for (const [k, json] of rows) {
        if (this.cachedRows.get(k) !== json) { const [kind, key] = k.split('\0'); put.run(kind, key, json); }
      }
      return { result, next, rows };
    });
    const { result, next, rows } = run.immediate();
    this.cached = next;
    this.cachedRows = rows;
    this.dataVersion = Number(this.db.pragma('data_version', { simple: true }));
    return result;
  }

  close(): void {
    this.db.close();
  }
}

function corrupt(file: string, why: string): InventoryError {
  return new InventoryError(
    `The Nestvisor inventory '${file}' cannot be opened: ${why}. ` +
    'The file was left untouched; move it aside or restore it from a backup, then try again.');
}

/** Checks an opened file; returns true when it is empty (new, or created by a killed process). */
function checkFile(db: Database.Database, file: string): boolean {
  const appId = Number(db.pragma('application_id', { simple: true }));
  const userVersion = Number(db.pragma('user_version', { simple: true }));
  const tables = Number((db.prepare('SELECT count(*) AS n FROM sqlite_master').get() as { n: number }).n);
  if (appId === 0 && userVersion === 0 && tables === 0) return true;
  if (appId !== APPLICATION_ID) throw corrupt(file, 'it is not a Nestvisor inventory (wrong application id)');
  if (userVersion > SCHEMA_VERSION) {
    throw new InventoryError(`The Nestvisor inventory '${file}' was written by a newer Nestvisor (schema ${userVersion}); this one reads schema ${SCHEMA_VERSION}.`);
  }
  const check = db.pragma('quick_check', { simple: true });
  if (check !== 'ok') throw corrupt(file, `SQLite's integrity check failed (${String(check)})`);
  return false;
}
