/**
 * Chat retention (docs/governance.md, "Retention"): chats idle for N days are archived, and
 * archived chats are deleted — with their messages, queued messages and events — M days after
 * they were archived. Both are off unless an admin sets them (the deployment settings
 * `chat_archive_after_days`, `chat_delete_after_days`).
 *
 * Each pass works in batches, one transaction per batch, and each batch first takes an advisory
 * lock without waiting: with several replicas, one runs it at a time and the others skip. Every
 * chat archived or deleted gets its audit row (actor: the system's retention) in the statement
 * that changes it. A chat that is running or waiting to run is never touched: only `waiting` and
 * `error` chats are idle.
 */
import type { Database, Queryable } from "./db.ts";
import type { Migration } from "./migrations.ts";

export const CHAT_RETENTION_MIGRATION: Migration = {
  version: 20,
  name: "chat retention",
  sql: `
-- When a chat was archived, for deleting archived chats M days later. Kept by a trigger, so every
-- way of archiving (the API, the retention job, a future one) sets it and unarchiving clears it.
ALTER TABLE chats ADD COLUMN archived_at timestamptz(3);
UPDATE chats SET archived_at = updated_at WHERE archived;
CREATE FUNCTION keel_chat_archived_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.archived IS DISTINCT FROM OLD.archived THEN
    NEW.archived_at := CASE WHEN NEW.archived THEN now() ELSE NULL END;
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER chats_archived_at BEFORE UPDATE OF archived ON chats
  FOR EACH ROW EXECUTE FUNCTION keel_chat_archived_at();
CREATE INDEX chats_archived_at ON chats (archived_at) WHERE archived;
CREATE INDEX chats_idle ON chats (updated_at) WHERE NOT archived;
`,
};

/** The retention job's advisory lock (with LOCK_NAMESPACE), numbered after its migration. */
export const LOCK_CHAT_RETENTION = 20;
/** migrations.ts's LOCK_NAMESPACE ("keel"): not imported, as migrations.ts imports this module. */
const LOCK_NAMESPACE = 0x6b65656c;

export interface ChatRetentionPolicy {
  /** Archive chats idle (no activity) for this many days; null: never. */
  archiveAfterDays: number | null;
  /** Delete archived chats this many days after they were archived; null: never. */
  deleteAfterDays: number | null;
}

export interface ChatRetentionResult {
  archived: number;
  deleted: number;
  /** Another replica held the job's lock: this pass did nothing. */
  skipped: boolean;
}

const ACTOR = "retention";
const IDLE = "status IN ('waiting', 'error')";

const ARCHIVE_BATCH = `
WITH picked AS (
  SELECT id FROM chats
   WHERE NOT archived AND ${IDLE} AND updated_at < now() - make_interval(days => $1::int)
   ORDER BY updated_at LIMIT $2
   FOR UPDATE SKIP LOCKED
), changed AS (
  UPDATE chats c SET archived = true FROM picked WHERE c.id = picked.id
  RETURNING c.id, c.title
), audited AS (
  INSERT INTO audit_events (actor_type, actor_name, action, target_type, target_id, target_name,
                            outcome, changes)
  SELECT 'system', '${ACTOR}', 'chat.archive', 'chat', id, title, 'success',
         jsonb_build_object('archived', jsonb_build_object('from', false, 'to', true))
    FROM changed
  RETURNING 1
)
SELECT (SELECT count(*) FROM changed)::int AS n, (SELECT count(*) FROM audited)::int AS audited`;

const DELETE_BATCH = `
WITH picked AS (
  SELECT id FROM chats
   WHERE archived AND ${IDLE} AND archived_at < now() - make_interval(days => $1::int)
   ORDER BY archived_at LIMIT $2
   FOR UPDATE SKIP LOCKED
), changed AS (
  DELETE FROM chats c USING picked WHERE c.id = picked.id
  RETURNING c.id, c.title, c.owner_id, c.archived_at
), audited AS (
  INSERT INTO audit_events (actor_type, actor_name, action, target_type, target_id, target_name,
                            outcome, changes)
  SELECT 'system', '${ACTOR}', 'chat.delete', 'chat', id, title, 'success',
         jsonb_build_object('owner_id', jsonb_build_object('from', owner_id),
                            'archived_at', jsonb_build_object('from', archived_at))
    FROM changed
  RETURNING 1
)
SELECT (SELECT count(*) FROM changed)::int AS n, (SELECT count(*) FROM audited)::int AS audited`;

/**
 * One pass of the policy: batches of `batchSize` until none is full (or `maxBatches` ran). Safe
 * to call from every replica at once.
 */
export async function applyChatRetention(
  db: Database,
  policy: ChatRetentionPolicy,
  options: { batchSize?: number; maxBatches?: number } = {},
): Promise<ChatRetentionResult> {
  const batchSize = options.batchSize ?? 500;
  const maxBatches = options.maxBatches ?? 100;
  const result: ChatRetentionResult = { archived: 0, deleted: 0, skipped: false };
  const steps: Array<["archived" | "deleted", string, number | null]> = [
    ["archived", ARCHIVE_BATCH, policy.archiveAfterDays],
    ["deleted", DELETE_BATCH, policy.deleteAfterDays],
  ];
  let batches = 0;
  for (const [field, sql, days] of steps) {
    if (days === null) continue;
    for (;;) {
      if (batches++ >= maxBatches) return result;
      const n = await db.transaction(async (tx) => {
        if (!(await locked(tx))) return null;
        const [row] = await tx.query<{ n: number }>(sql, [days, batchSize]);
        return row?.n ?? 0;
      });
      if (n === null) return { ...result, skipped: true };
      result[field] += n;
      if (n < batchSize) break;
    }
  }
  return result;
}

async function locked(tx: Queryable): Promise<boolean> {
  const [row] = await tx.query<{ got: boolean }>(
    "SELECT pg_try_advisory_xact_lock($1, $2) AS got",
    [LOCK_NAMESPACE, LOCK_CHAT_RETENTION],
  );
  return row?.got === true;
}

/** The store's face of it (`store.chatRetention`): the housekeeping job calls `apply`. */
export interface ChatRetentionStore {
  apply(
    policy: ChatRetentionPolicy,
    options?: { batchSize?: number; maxBatches?: number },
  ): Promise<ChatRetentionResult>;
}

export class SqlChatRetention implements ChatRetentionStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  apply(
    policy: ChatRetentionPolicy,
    options?: { batchSize?: number; maxBatches?: number },
  ): Promise<ChatRetentionResult> {
    return applyChatRetention(this.#db, policy, options);
  }
}
