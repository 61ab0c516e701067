/**
 * Vitest's global setup: one PostgreSQL for the whole run, and a migrated template database on it
 * from which each test suite makes its own database in milliseconds (`CREATE DATABASE … TEMPLATE`,
 * see `src/store/test-support.ts`).
 *
 * The engine is the embedded PostgreSQL (started here once, in a temporary data dir), or, with
 * `KEEL_TEST_POSTGRES_URL` set, that server (no cluster is started). End-to-end tests that start
 * `keel server` without `--postgres-url` run their own embedded cluster either way.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { openPostgres } from "../src/store/db-postgres.ts";
import { EmbeddedPostgres } from "../src/store/embedded/index.ts";
import { migrate } from "../src/store/migrations.ts";

export interface TestPostgres {
  /** `embedded` (started by this setup) or `external` (`KEEL_TEST_POSTGRES_URL`). */
  engine: "embedded" | "external";
  /** A URL with the rights to create and drop databases (any database name in it is replaced). */
  adminUrl: string;
  /** The migrated database each suite's database is made from. */
  template: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    keelTestPostgres: TestPostgres;
  }
}

/** One statement on a connection of its own (`CREATE DATABASE` / `DROP DATABASE` cannot run in
 *  a pool's transaction). */
export async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** `url` with its database name replaced. */
export function withDatabase(url: string, database: string): string {
  if (url.startsWith("postgresql://keel@/")) {
    return url.replace(/^(postgresql:\/\/keel@\/)[^?]*/, `$1${database}`);
  }
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.KEEL_TEST_POSTGRES_URL || undefined;
  let dataDir: string | undefined;
  let cluster: EmbeddedPostgres | undefined;
  let adminUrl: string;
  if (external) {
    adminUrl = external;
  } else {
    dataDir = await mkdtemp(join(tmpdir(), "keel-test-pg-"));
    cluster = await EmbeddedPostgres.start({ dataDir });
    adminUrl = cluster.url("postgres");
  }
  const template = `keel_template_${randomBytes(6).toString("hex")}`;
  const admin = (sql: string) => adminQuery(adminUrl, sql);
  await admin(`CREATE DATABASE ${template}`);
  const db = await openPostgres(withDatabase(adminUrl, template), { poolSize: 1 });
  try {
    await migrate(db);
  } finally {
    await db.close();
  }
  project.provide("keelTestPostgres", {
    engine: external ? "external" : "embedded",
    adminUrl,
    template,
  });
  return async () => {
    await admin(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`).catch(() => {});
    await cluster?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  };
}
