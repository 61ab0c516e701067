/**
 * `Database` on PGlite: PostgreSQL compiled to WebAssembly, embedded in this process, its files in
 * `<dataDir>/pgdata`. One connection, serialized by PGlite's own mutex; a transaction holds it
 * exclusively, so code inside `transaction` must use the `tx` it is given (the store always does).
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { PGlite, type Transaction } from "@electric-sql/pglite";
import type { Database, Queryable, Row } from "./db.ts";

export async function openPglite(dataDir: string): Promise<Database> {
  const dir = join(dataDir, "pgdata");
  await mkdir(dir, { recursive: true });
  const pg = await PGlite.create(dir);
  return new PgliteDatabase(pg);
}

function wrap(target: PGlite | Transaction): Queryable {
  return {
    async query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]> {
      const result = await target.query<T>(sql, params ? [...params] : undefined);
      return result.rows;
    },
    async exec(sql: string): Promise<void> {
      await target.exec(sql);
    },
  };
}

class PgliteDatabase implements Database {
  readonly kind = "pglite";
  readonly shared = false;
  readonly #pg: PGlite;
  readonly #q: Queryable;

  constructor(pg: PGlite) {
    this.#pg = pg;
    this.#q = wrap(pg);
  }

  query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    return this.#q.query<T>(sql, params);
  }

  exec(sql: string): Promise<void> {
    return this.#q.exec(sql);
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.#pg.transaction((tx) => fn(wrap(tx)));
  }

  async listen(
    channels: readonly string[],
    onNotification: (channel: string, payload: string) => void,
  ): Promise<() => Promise<void>> {
    // In-process: the connection cannot drop, so there is never a reconnect to report.
    const stops = await Promise.all(
      channels.map((channel) =>
        this.#pg.listen(channel, (payload) => onNotification(channel, payload)),
      ),
    );
    return async () => {
      if (this.#pg.closed) return;
      for (const stop of stops) await stop();
    };
  }

  async notify(channel: string, payload: string): Promise<void> {
    await this.#pg.query("SELECT pg_notify($1, $2)", [channel, payload]);
  }

  async close(): Promise<void> {
    if (!this.#pg.closed) await this.#pg.close();
  }
}
