/**
 * The store: `openStore` connects (PGlite in `<dataDir>/pgdata`, or external PostgreSQL), applies
 * the migrations under a lock, checks the server key against the database, and starts the
 * replica's LISTEN connection.
 */
import type { Store, StoreOptions } from "./contract.ts";
import type { Database } from "./db.ts";
import { openPglite } from "./db-pglite.ts";
import { openPostgres, type PostgresOptions } from "./db-postgres.ts";
import { migrate } from "./migrations.ts";
import { loadSecretKey } from "./secrets.ts";
import { checkSecretKey, SqlStore } from "./store.ts";

export type {
  ChatEvents,
  ChatSignal,
  ChatSignals,
  NewMessage,
  NewModel,
  NewProvider,
  StatusChange,
  Store,
  StoreOptions,
  WorkspaceStore,
} from "./contract.ts";
export { ConflictError, InvalidCursorError, LastAdminError } from "./contract.ts";
export { SecretKeyError } from "./secrets.ts";
export type * from "./types.ts";

export async function openStore(options: StoreOptions): Promise<Store> {
  return openSqlStore(options);
}

/** Connects to the database `options` name, without migrating (tests and tools). */
export function openDatabase(
  options: StoreOptions,
  postgres: PostgresOptions = {},
): Promise<Database> {
  return options.postgresUrl
    ? openPostgres(options.postgresUrl, postgres)
    : openPglite(options.dataDir);
}

/** `openStore`, returning the concrete class (tests reach its database through `openDatabase`). */
export async function openSqlStore(
  options: StoreOptions,
  postgres: PostgresOptions = {},
): Promise<SqlStore> {
  // The key first: a bad KEEL_SECRET_KEY fails before anything touches the database.
  const key = await loadSecretKey(options.dataDir, options.secretKey);
  const db = await openDatabase(options, postgres);
  try {
    return await startStore(db, key);
  } catch (error) {
    await db.close().catch(() => {});
    throw error;
  }
}

/** Migrates `db`, checks `key` against it, and starts a store on it (which then owns `db`). */
export async function startStore(db: Database, key: Buffer): Promise<SqlStore> {
  await migrate(db);
  await checkSecretKey(db, key);
  const store = new SqlStore(db, key);
  await store.start();
  return store;
}
