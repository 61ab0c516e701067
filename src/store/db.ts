/**
 * The one seam between the store and the database driver: node-postgres (`db-postgres.ts`), on the
 * embedded PostgreSQL Keel runs (`embedded/`) or on an external server. The store above this line
 * writes plain PostgreSQL and never knows which one it talks to.
 */

/** A row as a driver hands it over: column name → parsed value (jsonb parsed, timestamps Dates). */
export type Row = Record<string, unknown>;

export interface Queryable {
  /** One statement with `$1…` parameters; the rows it returned. */
  query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Database extends Queryable {
  /** `embedded`: the cluster this keel server runs in its data dir; `external`: `--postgres-url`. */
  readonly kind: "embedded" | "external";
  /**
   * Whether other keel servers may use the same database (external PostgreSQL). The embedded
   * cluster belongs to one server (it holds the data dir's lock), so there is no other replica to
   * tell anything.
   */
  readonly shared: boolean;
  /**
   * Runs `fn` in one transaction on one connection: COMMIT when it resolves, ROLLBACK if it throws.
   * Inside an `ambient` transaction it is a SAVEPOINT of that one (rolled back alone if `fn`
   * throws).
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * A transaction that is ambient for `fn`'s async calls: `query`, `exec` and `notify` on this
   * `Database` run on its connection and a `transaction` in it is a SAVEPOINT — so a change and
   * its audit row (`store.audit.audited`) commit together whatever store methods made it. Only
   * for what an API request changes: work `fn` starts and does not await (a timer, the chat event
   * log's group commit) would run in it while it is open, so no chat event is appended inside.
   */
  ambient<T>(fn: () => Promise<T>): Promise<T>;
  /** Whether the caller runs inside an `ambient` transaction. */
  inTransaction(): boolean;
  /**
   * Runs `fn` once the `ambient` transaction commits (not at all if it rolls back), or at once
   * outside one: side effects other connections must not see early (cache drops, local events).
   */
  afterCommit(fn: () => void | Promise<void>): Promise<void>;
  /**
   * LISTENs on `channels` with one dedicated connection, reconnecting if it drops. `onReconnect`
   * runs after a reconnect: notifications sent while the connection was down are lost, so the
   * caller catches up from the tables.
   */
  listen(
    channels: readonly string[],
    onNotification: (channel: string, payload: string) => void,
    onReconnect?: () => void,
  ): Promise<() => Promise<void>>;
  /** `NOTIFY channel, payload` (delivered when the surrounding transaction, if any, commits). */
  notify(channel: string, payload: string): Promise<void>;
  close(): Promise<void>;
}

/** The SQLSTATE of a driver error (both drivers put it on `code`), if any. */
export function sqlState(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === "string") return code;
  }
  return undefined;
}

export const UNIQUE_VIOLATION = "23505";
export const FOREIGN_KEY_VIOLATION = "23503";
