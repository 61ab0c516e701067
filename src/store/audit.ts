/**
 * The audit log (docs/governance.md, "The audit log"): one append-only row per mutating action —
 * who (a user, the system, a workspace agent), what (`provider.update`), on what (the target),
 * from where, whether it worked, and what changed (secrets as `"[changed]"`, never their values).
 *
 * A successful change and its row commit together: `audited` runs the change in an ambient
 * transaction (`Database.transaction`) and inserts the row in it, so a change without its row
 * cannot exist. Nothing here updates a row; only `prune` (the retention job) deletes, the rows
 * older than the retention setting, in batches, one replica at a time.
 */
import type { Database, Queryable } from "./db.ts";
import type { Migration } from "./migrations.ts";

export const AUDIT_MIGRATION: Migration = {
  version: 16,
  name: "audit log",
  sql: `
CREATE TABLE audit_events (
  id text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  time timestamptz(3) NOT NULL DEFAULT now(),
  actor_type text NOT NULL CHECK (actor_type IN ('user', 'system', 'agent')),
  actor_id text,
  actor_name text,
  action text NOT NULL,
  target_type text,
  target_id text,
  target_name text,
  source_address text,
  user_agent text,
  outcome text NOT NULL CHECK (outcome IN ('success', 'failure')),
  error text,
  changes jsonb
);
-- The newest first, by a keyset cursor (time, id); each filter with the same order.
CREATE INDEX audit_events_time ON audit_events (time DESC, id DESC);
CREATE INDEX audit_events_actor_id ON audit_events (actor_id, time DESC);
CREATE INDEX audit_events_actor_name ON audit_events (lower(actor_name), time DESC);
-- text_pattern_ops: an action prefix ('provider.%') uses it whatever the collation.
CREATE INDEX audit_events_action ON audit_events (action text_pattern_ops, time DESC);
CREATE INDEX audit_events_target ON audit_events (target_type, target_id, time DESC);
`,
};

/**
 * The advisory lock of the retention job (with `LOCK_NAMESPACE`). Numbered after this part's
 * migration, so the other governance parts' locks (their own slots) cannot collide with it.
 */
export const LOCK_AUDIT_RETENTION = 16;
/** migrations.ts's LOCK_NAMESPACE ("keel"): not imported, as migrations.ts imports this module. */
const LOCK_NAMESPACE = 0x6b65656c;

/** The settings row of the retention, in days (absent: the default). */
const RETENTION_KEY = "audit.retention_days";
export const DEFAULT_AUDIT_RETENTION_DAYS = 365;

export type AuditActorType = "user" | "system" | "agent";
export type AuditOutcome = "success" | "failure";

/** What a changed secret field reads as in `changes`: never its value, old or new. */
export const SECRET_CHANGED = "[changed]";

export interface AuditActor {
  type: AuditActorType;
  id: string | null;
  name: string | null;
}

export interface AuditTarget {
  type: string;
  id: string | null;
  name: string | null;
}

export type AuditChange = { from?: unknown; to?: unknown } | typeof SECRET_CHANGED;
export type AuditChanges = Record<string, AuditChange>;

export interface AuditSource {
  address: string | null;
  user_agent: string | null;
}

/** One row to write. */
export interface AuditEntry {
  actor: AuditActor;
  action: string;
  target: AuditTarget | null;
  source: AuditSource;
  outcome: AuditOutcome;
  error: string | null;
  changes: AuditChanges | null;
}

/** A row as read: the API's `AuditEvent`. */
export interface AuditEvent extends AuditEntry {
  id: string;
  /** ISO 8601. */
  time: string;
}

/** What a change fills in while it runs: its target (a created row's id) and its diff. */
export interface AuditNote {
  target: AuditTarget | null;
  changes: AuditChanges | null;
  /** Known only once the change ran (the first user is their own creator). */
  actor?: AuditActor;
}

export interface AuditFilter {
  /** A user id or a name (an attempted sign-in's name is the actor's name). */
  actor?: string;
  /** Exact, or a prefix: `provider.` or `provider*`. */
  action?: string;
  target?: { type: string; id?: string };
  since?: Date;
  until?: Date;
  /** From a previous page's `next_cursor`. */
  cursor?: string;
  limit: number;
}

export interface AuditPage {
  events: AuditEvent[];
  next_cursor: string | null;
}

/** A cursor that is not one this store made. */
export class AuditCursorError extends Error {}

export interface AuditStore {
  /** Writes `entry` on its own (a failure, or an action that changes no row). */
  record(entry: AuditEntry): Promise<void>;
  /**
   * Runs `change` and writes a `success` row in the same transaction (`note` as `change` left
   * it); if either throws, nothing of it is kept and the error is the caller's (who records the
   * failure with `record`). Not for chat changes that wait on the chat event log: see
   * docs/governance.md.
   */
  audited<T>(
    entry: Omit<AuditEntry, "outcome" | "error" | "changes" | "target"> & Partial<AuditNote>,
    change: (note: AuditNote) => Promise<T>,
  ): Promise<T>;
  /** Newest first; AuditCursorError for a cursor this store did not make. */
  list(filter: AuditFilter): Promise<AuditPage>;
  /** Days an audit row is kept; null keeps them forever. */
  retentionDays(): Promise<number | null>;
  setRetentionDays(days: number | null): Promise<void>;
  /**
   * Deletes rows older than the retention, `batch` at a time, unless another replica is at it
   * (then 0 at once). The number deleted.
   */
  prune(batch?: number): Promise<number>;
}

type AuditRow = {
  id: string;
  time: Date;
  actor_type: AuditActorType;
  actor_id: string | null;
  actor_name: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  target_name: string | null;
  source_address: string | null;
  user_agent: string | null;
  outcome: AuditOutcome;
  error: string | null;
  changes: AuditChanges | null;
};

const COLUMNS =
  "id, time, actor_type, actor_id, actor_name, action, target_type, target_id, target_name, " +
  "source_address, user_agent, outcome, error, changes";

const INSERT = `INSERT INTO audit_events (actor_type, actor_id, actor_name, action, target_type,
  target_id, target_name, source_address, user_agent, outcome, error, changes)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb)`;

/** `INSERT`'s parameters for `entry` (also for a store statement that inserts the row in a CTE). */
export function auditParams(entry: AuditEntry): unknown[] {
  return [
    entry.actor.type,
    entry.actor.id,
    entry.actor.name,
    entry.action,
    entry.target?.type ?? null,
    entry.target?.id ?? null,
    entry.target?.name ?? null,
    entry.source.address,
    entry.source.user_agent,
    entry.outcome,
    entry.error,
    entry.changes === null ? null : JSON.stringify(entry.changes),
  ];
}

/** Writes `entry` in a store's own transaction (`tx`): the chat changes that record themselves. */
export async function insertAudit(tx: Queryable, entry: AuditEntry | undefined): Promise<void> {
  if (entry !== undefined) await tx.query(INSERT, auditParams(entry));
}

function toEvent(row: AuditRow): AuditEvent {
  return {
    id: row.id,
    time: row.time.toISOString(),
    actor: { type: row.actor_type, id: row.actor_id, name: row.actor_name },
    action: row.action,
    target:
      row.target_type === null
        ? null
        : { type: row.target_type, id: row.target_id, name: row.target_name },
    source: { address: row.source_address, user_agent: row.user_agent },
    outcome: row.outcome,
    error: row.error,
    changes: row.changes,
  };
}

/** `%`, `_` and `\` taken literally in a LIKE pattern. */
function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/gu, (ch) => `\\${ch}`)}%`;
}

function encodeCursor(event: AuditEvent): string {
  return Buffer.from(JSON.stringify([event.time, event.id]), "utf8").toString("base64url");
}

function decodeCursor(cursor: string): { time: Date; id: string } {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(value) && value.length === 2) {
      const [time, id] = value as unknown[];
      if (typeof time === "string" && typeof id === "string" && !id.includes("\u0000")) {
        const date = new Date(time);
        if (!Number.isNaN(date.getTime()) && date.toISOString() === time) return { time: date, id };
      }
    }
  } catch {
    // Not base64url JSON: refused below.
  }
  throw new AuditCursorError("not a cursor of this list");
}

export class SqlAuditStore implements AuditStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async record(entry: AuditEntry): Promise<void> {
    await this.#db.query(INSERT, auditParams(entry));
  }

  audited<T>(
    entry: Omit<AuditEntry, "outcome" | "error" | "changes" | "target"> & Partial<AuditNote>,
    change: (note: AuditNote) => Promise<T>,
  ): Promise<T> {
    const note: AuditNote = { target: entry.target ?? null, changes: entry.changes ?? null };
    return this.#db.ambient(async () => {
      const result = await change(note);
      await this.record({
        actor: note.actor ?? entry.actor,
        action: entry.action,
        source: entry.source,
        target: note.target,
        changes: note.changes,
        outcome: "success",
        error: null,
      });
      return result;
    });
  }

  async list(filter: AuditFilter): Promise<AuditPage> {
    const where: string[] = [];
    const params: unknown[] = [];
    const param = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    if (filter.actor !== undefined) {
      const p = param(filter.actor);
      where.push(`(actor_id = ${p} OR lower(actor_name) = lower(${p}))`);
    }
    if (filter.action !== undefined) {
      const action = filter.action;
      if (action.endsWith("*")) where.push(`action LIKE ${param(likePrefix(action.slice(0, -1)))}`);
      else if (action.endsWith(".")) where.push(`action LIKE ${param(likePrefix(action))}`);
      else where.push(`action = ${param(action)}`);
    }
    if (filter.target !== undefined) {
      where.push(`target_type = ${param(filter.target.type)}`);
      if (filter.target.id !== undefined) where.push(`target_id = ${param(filter.target.id)}`);
    }
    if (filter.since !== undefined) where.push(`time >= ${param(filter.since)}`);
    if (filter.until !== undefined) where.push(`time <= ${param(filter.until)}`);
    if (filter.cursor !== undefined) {
      const after = decodeCursor(filter.cursor);
      where.push(`(time, id) < (${param(after.time)}, ${param(after.id)})`);
    }
    const limit = Math.max(1, Math.floor(filter.limit));
    const rows = await this.#db.query<AuditRow>(
      `SELECT ${COLUMNS} FROM audit_events
        ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
        ORDER BY time DESC, id DESC LIMIT ${param(limit + 1)}`,
      params,
    );
    const events = rows.slice(0, limit).map(toEvent);
    const last = events.at(-1);
    return {
      events,
      next_cursor: rows.length > limit && last !== undefined ? encodeCursor(last) : null,
    };
  }

  async retentionDays(): Promise<number | null> {
    const [row] = await this.#db.query<{ value: string }>(
      "SELECT value FROM settings WHERE key = $1",
      [RETENTION_KEY],
    );
    if (row === undefined) return DEFAULT_AUDIT_RETENTION_DAYS;
    // "forever" is stored as such: the absence of the row is the default, not "keep forever".
    if (row.value === "forever") return null;
    const days = Number(row.value);
    return Number.isInteger(days) && days >= 1 ? days : DEFAULT_AUDIT_RETENTION_DAYS;
  }

  async setRetentionDays(days: number | null): Promise<void> {
    await this.#db.query(
      `INSERT INTO settings (key, value) VALUES ($1, $2)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
      [RETENTION_KEY, days === null ? "forever" : String(days)],
    );
  }

  async prune(batch = 1000): Promise<number> {
    const days = await this.retentionDays();
    if (days === null) return 0;
    let total = 0;
    for (;;) {
      // Each batch is its own short transaction under the lock (a transaction-level lock: no
      // connection holds it between batches, and a replica that dies mid-run frees it).
      const deleted = await this.#db.transaction(async (tx) => {
        const [lock] = await tx.query<{ ok: boolean }>(
          "SELECT pg_try_advisory_xact_lock($1, $2) AS ok",
          [LOCK_NAMESPACE, LOCK_AUDIT_RETENTION],
        );
        if (!lock?.ok) return null;
        const rows = await tx.query(
          `DELETE FROM audit_events WHERE id IN (
             SELECT id FROM audit_events WHERE time < now() - make_interval(days => $1::int)
              ORDER BY time LIMIT $2)
           RETURNING 1 AS one`,
          [days, batch],
        );
        return rows.length;
      });
      if (deleted === null) return total;
      total += deleted;
      if (deleted < batch) return total;
    }
  }
}
