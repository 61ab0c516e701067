/**
 * `Database` on PostgreSQL through node-postgres — the one adapter, for the embedded cluster (over
 * its Unix socket) and for an external server alike: a pool for queries and transactions, and one
 * dedicated connection per store for LISTEN that reconnects when it drops (a restarted server, a
 * proxy's idle timeout, `pg_terminate_backend`). Nothing here logs: the connection string may
 * hold a password.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { createHash } from "node:crypto";
import pg from "pg";
import type { Database, Queryable, Row } from "./db.ts";

export interface PostgresOptions {
  /** Pool size (default 10). */
  poolSize?: number;
  /** How often the LISTEN connection proves it is alive (default 30 s). */
  listenPingMs?: number;
}

/** How the database was reached: the embedded cluster this process runs, or a server's URL. */
export interface Reached {
  kind: Database["kind"];
  /** Runs after the pool has closed (the embedded cluster stops there). */
  onClose?: () => Promise<void>;
}

export async function openPostgres(
  url: string,
  options: PostgresOptions = {},
  reached: Reached = { kind: "external" },
): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 20,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: "keel",
  });
  // An idle pooled connection that dies (server restart, terminated backend) emits `error` on the
  // pool; the pool drops it and opens a new one on demand. Without a listener, Node would crash.
  pool.on("error", () => {});
  // Fail at open, with the driver's own error, when the server cannot be reached.
  const client = await pool.connect();
  client.release();
  return new PostgresDatabase(url, pool, options.listenPingMs ?? 30_000, reached);
}

/**
 * A statement with parameters runs as a named prepared statement: each connection parses and
 * plans it once, not at every call (the event path's CTEs are parsed thousands of times a minute
 * otherwise). The name is the text's hash, so the same text is the same statement everywhere.
 */
const statementNames = new Map<string, string>();
function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (name === undefined) {
    name = `keel_${createHash("sha256").update(sql).digest("hex").slice(0, 24)}`;
    statementNames.set(sql, name);
  }
  return name;
}

function wrap(client: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]> {
      const result = params
        ? await client.query<T>({ name: statementName(sql), text: sql, values: [...params] })
        : await client.query<T>(sql);
      return result.rows;
    },
    async exec(sql: string): Promise<void> {
      await client.query(sql);
    },
  };
}

/**
 * The transaction a call runs in (see `Database.transaction`). `open` turns false at its end: a
 * timer or promise started inside it and run later goes back to the pool, not to a connection
 * that was handed back.
 */
interface Ambient {
  readonly q: Queryable;
  open: boolean;
  savepoints: number;
  readonly afterCommit: Array<() => void | Promise<void>>;
}

class PostgresDatabase implements Database {
  readonly kind: Database["kind"];
  readonly shared: boolean;
  readonly #onClose: (() => Promise<void>) | undefined;
  readonly #url: string;
  readonly #pool: pg.Pool;
  readonly #q: Queryable;
  readonly #pingMs: number;
  readonly #listeners = new Set<Listener>();
  readonly #ambient = new AsyncLocalStorage<Ambient>();
  #closed = false;

  constructor(url: string, pool: pg.Pool, pingMs: number, reached: Reached) {
    this.kind = reached.kind;
    // The embedded cluster has one keel server; an external one may have several replicas.
    this.shared = reached.kind === "external";
    this.#onClose = reached.onClose;
    this.#url = url;
    this.#pool = pool;
    this.#q = wrap(pool);
    this.#pingMs = pingMs;
  }

  #current(): Ambient | undefined {
    const ambient = this.#ambient.getStore();
    return ambient?.open ? ambient : undefined;
  }

  query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    return (this.#current()?.q ?? this.#q).query<T>(sql, params);
  }

  exec(sql: string): Promise<void> {
    return (this.#current()?.q ?? this.#q).exec(sql);
  }

  inTransaction(): boolean {
    return this.#current() !== undefined;
  }

  async afterCommit(fn: () => void | Promise<void>): Promise<void> {
    const ambient = this.#current();
    if (ambient) ambient.afterCommit.push(fn);
    else await fn();
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const outer = this.#current();
    if (outer) return this.#savepoint(outer, fn);
    return this.#begin(fn, false);
  }

  ambient<T>(fn: () => Promise<T>): Promise<T> {
    const outer = this.#current();
    if (outer) return this.#savepoint(outer, fn);
    return this.#begin(fn, true);
  }

  /** A transaction on a connection of its own; with `ambient`, `fn`'s async calls run in it. */
  async #begin<T>(fn: (tx: Queryable) => Promise<T>, ambient: boolean): Promise<T> {
    const client = await this.#pool.connect();
    const state: Ambient = { q: wrap(client), open: true, savepoints: 0, afterCommit: [] };
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      const result = ambient
        ? await this.#ambient.run(state, () => fn(state.q))
        : await fn(state.q);
      state.open = false;
      await client.query("COMMIT");
      // A side effect's failure is not the committed change's: it is the caller's to tolerate.
      for (const after of state.afterCommit) {
        try {
          await after();
        } catch {}
      }
      return result;
    } catch (error) {
      state.open = false;
      try {
        await client.query("ROLLBACK");
      } catch (rollbackError) {
        // The connection itself failed: do not hand it back to the pool.
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      }
      throw error;
    } finally {
      client.release(broken);
    }
  }

  /** A transaction inside the ambient one: a SAVEPOINT, rolled back alone if `fn` throws. */
  async #savepoint<T>(outer: Ambient, fn: (tx: Queryable) => Promise<T>): Promise<T> {
    outer.savepoints += 1;
    const name = `keel_sp_${outer.savepoints}`;
    await outer.q.exec(`SAVEPOINT ${name}`);
    try {
      const result = await fn(outer.q);
      await outer.q.exec(`RELEASE SAVEPOINT ${name}`);
      return result;
    } catch (error) {
      await outer.q.exec(`ROLLBACK TO SAVEPOINT ${name}`);
      throw error;
    }
  }

  async listen(
    channels: readonly string[],
    onNotification: (channel: string, payload: string) => void,
    onReconnect?: () => void,
  ): Promise<() => Promise<void>> {
    const listener = new Listener(this.#url, channels, onNotification, onReconnect, this.#pingMs);
    await listener.start();
    this.#listeners.add(listener);
    return async () => {
      this.#listeners.delete(listener);
      await listener.stop();
    };
  }

  async notify(channel: string, payload: string): Promise<void> {
    // In an ambient transaction, PostgreSQL delivers it at COMMIT (and never on ROLLBACK).
    const ambient = this.#current();
    if (ambient) await ambient.q.query("SELECT pg_notify($1, $2)", [channel, payload]);
    else await this.#pool.query("SELECT pg_notify($1, $2)", [channel, payload]);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#listeners].map((listener) => listener.stop()));
    this.#listeners.clear();
    try {
      await this.#pool.end();
    } finally {
      await this.#onClose?.();
    }
  }
}

const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5_000;

/** One LISTEN connection that keeps itself connected until stopped. */
class Listener {
  readonly #url: string;
  readonly #channels: readonly string[];
  readonly #onNotification: (channel: string, payload: string) => void;
  readonly #onReconnect: (() => void) | undefined;
  readonly #pingMs: number;
  #client: pg.Client | null = null;
  #stopped = false;
  #retryDelay = RECONNECT_MIN_MS;
  #retryTimer: NodeJS.Timeout | undefined;
  #pingTimer: NodeJS.Timeout | undefined;

  constructor(
    url: string,
    channels: readonly string[],
    onNotification: (channel: string, payload: string) => void,
    onReconnect: (() => void) | undefined,
    pingMs: number,
  ) {
    this.#url = url;
    this.#channels = channels;
    this.#onNotification = onNotification;
    this.#onReconnect = onReconnect;
    this.#pingMs = pingMs;
  }

  /** The first connection: its failure is the caller's (the store fails to open). */
  async start(): Promise<void> {
    await this.#connect();
    this.#pingTimer = setInterval(() => this.#ping(), this.#pingMs);
    this.#pingTimer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    clearInterval(this.#pingTimer);
    const client = this.#client;
    this.#client = null;
    if (client) await client.end().catch(() => {});
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.#url,
      keepAlive: true,
      application_name: "keel-listen",
    });
    client.on("notification", (message) => {
      this.#onNotification(message.channel, message.payload ?? "");
    });
    client.on("error", () => this.#lost(client));
    client.on("end", () => this.#lost(client));
    try {
      await client.connect();
      await client.query(this.#channels.map((channel) => `LISTEN ${channel}`).join("; "));
    } catch (error) {
      client.end().catch(() => {});
      throw error;
    }
    if (this.#stopped) {
      await client.end().catch(() => {});
      return;
    }
    this.#client = client;
    this.#retryDelay = RECONNECT_MIN_MS;
  }

  #ping(): void {
    const client = this.#client;
    if (!client) return;
    client.query("SELECT 1").catch(() => this.#lost(client));
  }

  #lost(client: pg.Client): void {
    if (this.#client !== client || this.#stopped) return;
    this.#client = null;
    client.end().catch(() => {});
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#stopped) return;
    const delay = this.#retryDelay;
    this.#retryDelay = Math.min(this.#retryDelay * 2, RECONNECT_MAX_MS);
    this.#retryTimer = setTimeout(() => {
      this.#connect().then(
        () => {
          if (!this.#stopped) this.#onReconnect?.();
        },
        () => this.#scheduleReconnect(),
      );
    }, delay);
    this.#retryTimer.unref();
  }
}
