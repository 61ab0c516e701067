/**
 * `keel data migrate --from-pglite`: moves a data directory made by a Keel that kept its database
 * in PGlite (`<data dir>/pgdata`) to the embedded PostgreSQL, once. PGlite's own `pg_dump`
 * (`@electric-sql/pglite-tools`, loaded by this command alone) dumps it as SQL; the dump is
 * restored in one transaction into a new cluster built beside the real one
 * (`postgres.migrating`); every table's row count is compared; only then does the new cluster
 * become `postgres` and the PGlite files move to `pgdata.pglite-backup` (kept: nothing is
 * deleted). `secret.key` stays where it is, so the providers' keys decrypt as before. A failure at
 * any step leaves the PGlite files as they were, and the command can simply run again.
 */
import { chmod, rename, stat } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";
import { EmbeddedPostgres } from "./cluster.ts";
import { EmbeddedPostgresError } from "./errors.ts";
import { exists, makePrivate } from "./files.ts";
import { EMBEDDED_DATABASE, embeddedPaths } from "./paths.ts";

export interface PgliteMigrationOptions {
  dataDir: string;
  osUser?: string;
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

export interface PgliteMigrationReport {
  /** Every table of the PGlite database with its row count (equal in the new cluster). */
  tables: { name: string; rows: number }[];
  /** Where the PGlite files are now. */
  backup: string;
}

/** The minimum of PGlite's API this command uses. */
interface PgliteLike {
  query<T>(sql: string): Promise<{ rows: T[] }>;
  close(): Promise<void>;
}

export async function migrateFromPglite(
  options: PgliteMigrationOptions,
): Promise<PgliteMigrationReport> {
  const paths = embeddedPaths(options.dataDir);
  if (!(await exists(join(paths.pglite, "PG_VERSION")))) {
    throw new EmbeddedPostgresError(
      `${options.dataDir} holds no PGlite database (${paths.pglite} is not one): nothing to migrate.`,
    );
  }
  if (await exists(paths.cluster)) {
    throw new EmbeddedPostgresError(
      `${options.dataDir} already has an embedded PostgreSQL cluster (${paths.cluster}): either ` +
        "the migration ran before, or a server started there fresh. Nothing was changed. To " +
        `migrate again, move ${paths.cluster} away first.`,
    );
  }
  // Keel's PGlite releases made the data dir readable by everyone (0755, files 0644); the
  // embedded PostgreSQL refuses such a directory, so the migration makes it private first.
  const before = (await stat(options.dataDir)).mode & 0o777;
  if ((before & 0o077) !== 0) {
    await chmod(options.dataDir, 0o700);
    options.log?.(`made ${options.dataDir} private (its mode was ${before.toString(8)})`);
  }
  const building = `${paths.cluster}.migrating`;
  const cluster = await EmbeddedPostgres.start({
    dataDir: options.dataDir,
    clusterDir: building,
    ...(options.osUser ? { osUser: options.osUser } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  let tables: { name: string; rows: number }[];
  try {
    // A run that stopped half-way left this cluster behind: start its database afresh.
    await admin(cluster, `DROP DATABASE IF EXISTS ${EMBEDDED_DATABASE} WITH (FORCE)`);
    await admin(cluster, `CREATE DATABASE ${EMBEDDED_DATABASE}`);
    const dumped = await dumpPglite(paths.pglite, options.log);
    tables = dumped.tables;
    await restore(cluster.url(), dumped.sql);
    await verify(cluster.url(), tables);
  } finally {
    await cluster.stop();
  }
  await rename(building, paths.cluster);
  let backup = `${paths.pglite}.pglite-backup`;
  if (await exists(backup)) backup = `${backup}-${Date.now()}`;
  await rename(paths.pglite, backup);
  // PGlite left its files readable by everyone; what they hold (password hashes, chats) is not.
  await makePrivate(backup);
  options.log?.("moved the PGlite database to the embedded PostgreSQL", {
    tables: tables.length,
    backup,
  });
  return { tables, backup };
}

async function admin(cluster: EmbeddedPostgres, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: cluster.url("postgres") });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function dumpPglite(
  dir: string,
  log: PgliteMigrationOptions["log"],
): Promise<{ sql: string; tables: { name: string; rows: number }[] }> {
  const { PGlite } = await import("@electric-sql/pglite");
  const { pgDump } = await import("@electric-sql/pglite-tools/pg_dump");
  log?.("reading the PGlite database", { dir });
  let db: InstanceType<typeof PGlite>;
  try {
    db = await PGlite.create(dir);
  } catch (error) {
    throw new EmbeddedPostgresError(`cannot open the PGlite database in ${dir}: ${String(error)}`);
  }
  try {
    const tables = await countRows(db);
    // INSERT statements (not COPY blocks), so the dump runs through node-postgres as it is;
    // no owners or grants: the new cluster has its own superuser.
    const file = await pgDump({
      pg: db,
      args: ["--no-owner", "--no-privileges", "--rows-per-insert=500"],
    });
    return { sql: await file.text(), tables };
  } finally {
    await db.close();
  }
}

async function countRows(db: PgliteLike): Promise<{ name: string; rows: number }[]> {
  const { rows } = await db.query<{ tablename: string }>(
    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
  );
  const tables: { name: string; rows: number }[] = [];
  for (const { tablename } of rows) {
    const counted = await db.query<{ n: unknown }>(
      `SELECT count(*) AS n FROM public."${tablename.replaceAll('"', '""')}"`,
    );
    tables.push({ name: tablename, rows: Number(counted.rows[0]?.n ?? 0) });
  }
  return tables;
}

/** The whole dump in one transaction: it lands complete or not at all. */
async function restore(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("BEGIN");
    try {
      await client.query(sql);
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw new EmbeddedPostgresError(
        `the PGlite dump could not be restored into the embedded PostgreSQL: ${String(error)}. ` +
          "The PGlite files are untouched.",
      );
    }
  } finally {
    await client.end();
  }
}

async function verify(url: string, expected: { name: string; rows: number }[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const got = await countRows({
      query: async <T>(sql: string) => ({ rows: (await client.query(sql)).rows as T[] }),
      close: () => client.end(),
    });
    const differ = expected.filter(
      (table) => got.find((g) => g.name === table.name)?.rows !== table.rows,
    );
    if (differ.length > 0 || got.length !== expected.length) {
      throw new EmbeddedPostgresError(
        `the restored database does not match the PGlite one (${differ.map((t) => t.name).join(", ") || "tables differ"}). ` +
          "The PGlite files are untouched.",
      );
    }
  } finally {
    await client.end().catch(() => {});
  }
}
