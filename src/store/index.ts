/**
 * The store: `openStore` connects (to the embedded PostgreSQL it starts in `<dataDir>/postgres`,
 * or to the external PostgreSQL of `postgresUrl`), applies the migrations under a lock, checks the
 * server key against the database, and starts the replica's LISTEN connection.
 */
import type { Store, StoreOptions } from "./contract.ts";
import { preparePrivateDataDir } from "./data-dir.ts";
import type { Database } from "./db.ts";
import { openPostgres, type PostgresOptions } from "./db-postgres.ts";
import { EmbeddedPostgres, embeddedPaths } from "./embedded/index.ts";
import { DataDirLock } from "./embedded/lock.ts";
import { migrate } from "./migrations.ts";
import { loadSecretKey, parseSecretKey } from "./secrets.ts";
import { checkSecretKey, SqlStore } from "./store.ts";

export type {
  ChatEvents,
  ChatSignal,
  ChatSignals,
  DeploymentSettings,
  DeploymentSettingsStore,
  NewMessage,
  NewModel,
  NewProvider,
  StatusChange,
  Store,
  StoreOptions,
  WorkspaceStore,
} from "./contract.ts";
export { ConflictError, InvalidCursorError, LastAdminError } from "./contract.ts";
export { DataDirError } from "./data-dir.ts";

/** Takes `<dataDir>/keel.pid` for this process (one keel server per data dir); see `lock.ts`. */
export async function lockDataDir(dataDir: string): Promise<{ release(): void }> {
  await preparePrivateDataDir(dataDir);
  return DataDirLock.acquire(embeddedPaths(dataDir).lock, dataDir);
}
export {
  DEFAULT_OS_USER,
  EmbeddedPostgresError,
  embeddedPaths,
  embeddedUrl,
  PgliteDataDirError,
} from "./embedded/index.ts";
export { SecretKeyError } from "./secrets.ts";
export type * from "./types.ts";

export async function openStore(options: StoreOptions): Promise<Store> {
  return openSqlStore(options);
}

/**
 * Connects to the database `options` name, without migrating (tests and tools): the external
 * server of `postgresUrl`, else the embedded cluster of `dataDir`, started here and stopped when
 * the database is closed.
 */
export async function openDatabase(
  options: StoreOptions,
  postgres: PostgresOptions = {},
): Promise<Database> {
  if (options.postgresUrl) return openPostgres(options.postgresUrl, postgres);
  const cluster = await EmbeddedPostgres.start({
    dataDir: options.dataDir,
    ...(options.postgresOsUser ? { osUser: options.postgresOsUser } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  try {
    return await openPostgres(cluster.url(), postgres, {
      kind: "embedded",
      onClose: () => cluster.stop(),
    });
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}

/** `openStore`, returning the concrete class (tests reach its database through `openDatabase`). */
export async function openSqlStore(
  options: StoreOptions,
  postgres: PostgresOptions = {},
): Promise<SqlStore> {
  // A bad KEEL_SECRET_KEY fails before anything touches the database; a key file is made only
  // once the database is there (its presence says the data dir was used before).
  if (options.secretKey) parseSecretKey(options.secretKey);
  // With an external database the data dir holds only the key; private all the same.
  if (options.postgresUrl) await preparePrivateDataDir(options.dataDir);
  const db = await openDatabase(options, {
    ...(options.poolSize === undefined ? {} : { poolSize: options.poolSize }),
    ...postgres,
  });
  try {
    const key = await loadSecretKey(options.dataDir, options.secretKey);
    return await startStore(db, key, options.warn);
  } catch (error) {
    await db.close().catch(() => {});
    throw error;
  }
}

/** Migrates `db`, checks `key` against it, and starts a store on it (which then owns `db`). */
export async function startStore(
  db: Database,
  key: Buffer,
  warn?: StoreOptions["warn"],
): Promise<SqlStore> {
  await migrate(db);
  await checkSecretKey(db, key);
  const store = new SqlStore(db, key, warn);
  await store.start();
  return store;
}
