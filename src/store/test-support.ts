/**
 * TEST-ONLY. Each test suite's own database, on the one PostgreSQL of the test run
 * (`test/global-setup.ts`: the embedded cluster, or the server of `KEEL_TEST_POSTGRES_URL`), made
 * from the run's migrated template in milliseconds and dropped afterwards, so suites running in
 * parallel never share one.
 */

import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { inject } from "vitest";
import { withDatabase } from "../../test/global-setup.ts";
import type { StoreOptions } from "./contract.ts";
import type { Database } from "./db.ts";
import { openDatabase, startStore } from "./index.ts";
import { loadSecretKey } from "./secrets.ts";
import type { SqlStore } from "./store.ts";
import type { ChatEvent } from "./types.ts";

/** Which PostgreSQL the run uses: `embedded` (started for the run) or `external`. */
export function testEngine(): "embedded" | "external" {
  return inject("keelTestPostgres").engine;
}

/** A store with its database handle, for assertions on what is actually stored. */
export interface Opened {
  store: SqlStore;
  db: Database;
}

export interface TestDatabase {
  /** The database's URL (several stores may open it at once, as replicas would). */
  readonly url: string;
  readonly dataDir: string;
  options(extra?: Partial<StoreOptions>): StoreOptions;
  open(extra?: Partial<StoreOptions>): Promise<Opened>;
  /** Closes the stores opened through `open`, drops the database and removes the data dir. */
  cleanup(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const dataDir = await mkdtemp(join(tmpdir(), "keel-store-"));
  const url = await createPostgresDatabase();
  const opened: Opened[] = [];
  const options = (extra: Partial<StoreOptions> = {}): StoreOptions => ({
    dataDir,
    postgresUrl: url,
    ...extra,
  });
  return {
    url,
    dataDir,
    options,
    async open(extra) {
      const opts = options(extra);
      const key = await loadSecretKey(opts.dataDir, opts.secretKey);
      const db = await openDatabase(opts, { poolSize: 5 });
      try {
        const store = await startStore(db, key);
        const result = { store, db };
        opened.push(result);
        return result;
      } catch (error) {
        await db.close();
        throw error;
      }
    },
    async cleanup() {
      await Promise.all(opened.map(({ store }) => store.close().catch(() => {})));
      await dropPostgresDatabase(url);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A fresh database on the run's PostgreSQL; returns its URL. Migrated (a copy of the run's
 * template) unless `empty`.
 */
export async function createPostgresDatabase(options: { empty?: boolean } = {}): Promise<string> {
  const { adminUrl, template } = inject("keelTestPostgres");
  const name = `keel_test_${randomBytes(6).toString("hex")}`;
  await withAdmin((client) =>
    client.query(`CREATE DATABASE ${name}${options.empty ? "" : ` TEMPLATE ${template}`}`),
  );
  return withDatabase(adminUrl, name);
}

export async function dropPostgresDatabase(url: string): Promise<void> {
  const name = /keel_test_[0-9a-f]+/.exec(url)?.[0];
  if (!name) throw new Error(`not a test database: ${url}`);
  await withAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: inject("keelTestPostgres").adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Polls `check` until it returns true (or throws after `timeoutMs`). */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5_000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function unique(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

/** An append the test knows is numbered by this store (it owns the chat, or no replica does). */
export async function appended(pending: Promise<ChatEvent | null>): Promise<ChatEvent> {
  const event = await pending;
  if (!event) throw new Error("the event was handed to the replica that owns the chat");
  return event;
}
