/**
 * The backends the store's tests run on: PGlite always, PostgreSQL too when
 * `KEEL_TEST_POSTGRES_URL` is set. Each PostgreSQL test database is created fresh on that URL's
 * server (`keel_test_<random>`) and dropped afterwards, so test files running in parallel never
 * share one.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type { StoreOptions } from "./contract.ts";
import type { Database } from "./db.ts";
import { openDatabase, startStore } from "./index.ts";
import { loadSecretKey } from "./secrets.ts";
import type { SqlStore } from "./store.ts";

export type BackendName = "pglite" | "postgres";

export const POSTGRES_URL = process.env.KEEL_TEST_POSTGRES_URL || undefined;

/** The backends to run on, for `describe.each`. */
export const BACKENDS: BackendName[] = POSTGRES_URL ? ["pglite", "postgres"] : ["pglite"];

/** A store with its database handle, for assertions on what is actually stored. */
export interface Opened {
  store: SqlStore;
  db: Database;
}

export interface TestDatabase {
  readonly backend: BackendName;
  readonly dataDir: string;
  /** Whether several stores may open it at once (PostgreSQL; PGlite's dir has one owner). */
  readonly multiReplica: boolean;
  options(extra?: Partial<StoreOptions>): StoreOptions;
  open(extra?: Partial<StoreOptions>): Promise<Opened>;
  /** Drops the database and the data dir. Closes the stores opened through `open` first. */
  cleanup(): Promise<void>;
}

export async function createTestDatabase(backend: BackendName): Promise<TestDatabase> {
  const dataDir = await mkdtemp(join(tmpdir(), "keel-store-"));
  const postgresUrl = backend === "postgres" ? await createPostgresDatabase() : undefined;
  const opened: Opened[] = [];
  const options = (extra: Partial<StoreOptions> = {}): StoreOptions => ({
    dataDir,
    ...(postgresUrl ? { postgresUrl } : {}),
    ...extra,
  });
  return {
    backend,
    dataDir,
    multiReplica: backend === "postgres",
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
      if (postgresUrl) await dropPostgresDatabase(postgresUrl);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A fresh, empty database on the server of `KEEL_TEST_POSTGRES_URL`; returns its URL. */
export async function createPostgresDatabase(): Promise<string> {
  if (!POSTGRES_URL) throw new Error("KEEL_TEST_POSTGRES_URL is not set");
  const name = `keel_test_${randomBytes(6).toString("hex")}`;
  await withAdmin((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropPostgresDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  if (!/^keel_test_[0-9a-f]+$/.test(name)) throw new Error(`not a test database: ${name}`);
  await withAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
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
