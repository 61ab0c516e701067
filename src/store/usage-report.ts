/**
 * Totals of usage and cost over a period (GET /usage, `keel usage`, the admin page): one
 * aggregate statement over the metered messages (src/store/usage.ts), grouped by user, model,
 * provider, chat or UTC day — a day optionally split by user, model or provider — with the totals
 * of the period as one more grouping set of the same statement. The steps are the metered messages
 * and the usage of those since deleted (`meteredSteps`), each read by its range on `created_at`
 * through the indexes of migration 17. The
 * messages are first summed per group and chat (so "distinct chats" counts those few rows, not
 * every message), then per group; names are joined last, on the few rows left.
 */
import type { Database } from "./db.ts";
import { int } from "./rows.ts";
import { meteredSteps } from "./usage.ts";

export const USAGE_GROUPS = ["user", "model", "provider", "day", "chat"] as const;
export type UsageGroup = (typeof USAGE_GROUPS)[number];
export const USAGE_SPLITS = ["user", "model", "provider"] as const;
export type UsageSplit = (typeof USAGE_SPLITS)[number];

export interface UsageQuery {
  group_by: UsageGroup;
  /** Only with `group_by: "day"`: each day's rows, one per user, model or provider. */
  split_by?: UsageSplit;
  /** Inclusive. */
  since: Date;
  /** Exclusive. */
  until: Date;
  /** Only this user's usage. */
  user_id?: string;
  /** At most this many rows (the costliest first; days are all returned, oldest first). */
  limit?: number;
}

export interface UsageTotals {
  /** The known costs summed; `unpriced_messages` had no pricing and count for nothing here. */
  cost_usd: number;
  /** Every input token, the cached ones included. */
  input_tokens: number;
  output_tokens: number;
  /** Input tokens read from the provider's cache (part of `input_tokens`). */
  cached_input_tokens: number;
  /** Input tokens written to the provider's cache (part of `input_tokens`). */
  cache_write_tokens: number;
  /** Output tokens spent reasoning (part of `output_tokens`, as the providers count them). */
  reasoning_tokens: number;
  /** Model steps. */
  messages: number;
  unpriced_messages: number;
  /** Distinct chats the steps belong to. */
  chats: number;
}

export interface UsageRow extends UsageTotals {
  /** The user's, model's, provider's or chat's id (null: a model since deleted), or the day. */
  key: string | null;
  name: string;
  /** With `split_by`. */
  split_key?: string | null;
  split_name?: string;
  /** With `group_by: "chat"`: whose chat it is. */
  owner_id?: string;
  owner_name?: string;
}

export interface UsageReport {
  rows: UsageRow[];
  totals: UsageTotals;
}

export interface UsageStore {
  report(query: UsageQuery): Promise<UsageReport>;
}

/** A grouping's key over `messages` and how its name is found after aggregating. */
interface Dimension {
  key: string;
  /** LEFT JOIN of the named table as `alias` on the aggregated column `column`. */
  join: (alias: string, column: string) => string;
  name: (alias: string, column: string) => string;
}

const byId = (table: string) => (alias: string, column: string) =>
  `LEFT JOIN ${table} AS ${alias} ON ${alias}.id = agg.${column}`;

const DIMENSIONS: Record<UsageGroup, Dimension> = {
  user: {
    key: "user_id",
    join: byId("users"),
    name: (a) => `COALESCE(${a}.username, 'Deleted user')`,
  },
  model: {
    key: "model_id",
    join: byId("models"),
    name: (a) => `COALESCE(${a}.display_name, 'Deleted model')`,
  },
  provider: {
    key: "provider_id",
    join: byId("providers"),
    name: (a) => `COALESCE(${a}.name, 'Deleted provider')`,
  },
  // Days in UTC whatever the session's time zone: AT TIME ZONE 'UTC' gives the UTC wall clock.
  day: {
    key: "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
    join: () => "",
    name: (_a, column) => `agg.${column}`,
  },
  chat: {
    key: "chat_id",
    join: byId("chats"),
    name: (a) => `COALESCE(${a}.title, 'Deleted chat')`,
  },
};

/** Per group and chat: the messages' sums (a hash aggregate over the rows of the period). */
const CHAT_SUMS = `
  sum(cost_usd) AS cost_usd,
  sum(input_tokens) AS input_tokens,
  sum(output_tokens) AS output_tokens,
  sum(cache_read_tokens) AS cached_input_tokens,
  sum(cache_write_tokens) AS cache_write_tokens,
  sum(reasoning_tokens) AS reasoning_tokens,
  count(*) AS messages,
  count(*) FILTER (WHERE cost_usd IS NULL) AS unpriced_messages`;

/** Per group, and for the period, from the per-chat sums: `chats` a distinct count of far fewer
 * rows than the messages (count(DISTINCT) over the messages themselves sorted them all). */
const SUMS = `
  COALESCE(sum(cost_usd), 0) AS cost_usd,
  COALESCE(sum(input_tokens), 0) AS input_tokens,
  COALESCE(sum(output_tokens), 0) AS output_tokens,
  COALESCE(sum(cached_input_tokens), 0) AS cached_input_tokens,
  COALESCE(sum(cache_write_tokens), 0) AS cache_write_tokens,
  COALESCE(sum(reasoning_tokens), 0) AS reasoning_tokens,
  COALESCE(sum(messages), 0) AS messages,
  COALESCE(sum(unpriced_messages), 0) AS unpriced_messages,
  count(DISTINCT chat_id) AS chats`;

/** The statement and its parameters for `query` (exported for the plan test). */
export function reportSql(query: UsageQuery): { sql: string; params: unknown[] } {
  const group = DIMENSIONS[query.group_by];
  const split = query.group_by === "day" && query.split_by ? DIMENSIONS[query.split_by] : null;
  const params: unknown[] = [query.since.toISOString(), query.until.toISOString()];
  if (query.user_id !== undefined) params.push(query.user_id);
  const steps = meteredSteps({
    since: "$1::timestamptz",
    until: "$2::timestamptz",
    ...(query.user_id !== undefined ? { user: "$3" } : {}),
  });
  params.push(query.limit ?? null);
  const limit = `$${params.length}::integer`;
  const keys = split ? `${group.key}, ${split.key}` : group.key;
  const splitSelect = split ? `, ${split.key} AS split` : "";
  const outerKeys = split ? "key, split" : "key";
  // A chat's owner is its steps' user (kept when the chat itself is deleted).
  const chats = query.group_by === "chat";
  const owner = chats ? ", COALESCE(o.username, 'Deleted user') AS owner_name" : "";
  const ownerJoin = chats ? "LEFT JOIN users AS o ON o.id = agg.owner_id" : "";
  const order =
    query.group_by === "day"
      ? `agg.key${split ? ", split_name" : ""}`
      : "agg.cost_usd DESC, agg.input_tokens + agg.output_tokens DESC, agg.key";
  const sql = `
WITH per_chat AS (
  SELECT ${group.key} AS key${splitSelect}, chat_id,${CHAT_SUMS}${chats ? ", min(user_id) AS owner_id" : ""}
    FROM ${steps} AS steps
   GROUP BY ${keys}, chat_id
), agg AS (
  SELECT GROUPING(key) AS total, key${split ? ", split" : ""},${SUMS}${chats ? ", min(owner_id) AS owner_id" : ""}
    FROM per_chat
   GROUP BY GROUPING SETS ((${outerKeys}), ())
)
SELECT agg.*, ${group.name("g", "key")} AS name${split ? `, ${split.name("s", "split")} AS split_name` : ""}${owner}
  FROM agg
  ${group.join("g", "key")}
  ${split ? split.join("s", "split") : ""}
  ${ownerJoin}
 ORDER BY agg.total DESC, ${order}
 LIMIT ${limit} + 1`;
  return { sql, params };
}

type ReportRow = Record<string, unknown>;

/** The report's own memory for aggregating (PostgreSQL's `work_mem`, for this statement only). */
const REPORT_WORK_MEM = "32MB";

function totalsOf(row: ReportRow | undefined): UsageTotals {
  return {
    cost_usd: Number(row?.cost_usd ?? 0),
    input_tokens: int(row?.input_tokens ?? 0),
    output_tokens: int(row?.output_tokens ?? 0),
    cached_input_tokens: int(row?.cached_input_tokens ?? 0),
    cache_write_tokens: int(row?.cache_write_tokens ?? 0),
    reasoning_tokens: int(row?.reasoning_tokens ?? 0),
    messages: int(row?.messages ?? 0),
    unpriced_messages: int(row?.unpriced_messages ?? 0),
    chats: int(row?.chats ?? 0),
  };
}

export class SqlUsageStore implements UsageStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async report(query: UsageQuery): Promise<UsageReport> {
    const { sql, params } = reportSql(query);
    // The per-chat sums are hashed in memory rather than sorted on disk: with the default 4 MB,
    // a quarter of a million steps sorted to disk and took twice as long (scratch bench, 1M steps).
    const result = await this.#db.transaction(async (tx) => {
      await tx.exec(`SET LOCAL work_mem = '${REPORT_WORK_MEM}'`);
      return tx.query<ReportRow>(sql, params);
    });
    // The totals' grouping set comes first (ORDER BY total DESC), and always: an aggregate over
    // no rows with the empty grouping set still gives one row.
    const [first, ...rest] = result;
    const totals = first && Number(first.total) === 1 ? totalsOf(first) : totalsOf(undefined);
    const rows = (first && Number(first.total) === 1 ? rest : result).map((row) => {
      const out: UsageRow = {
        key: row.key === null ? null : String(row.key),
        name: String(row.name),
        ...totalsOf(row),
      };
      if ("split_name" in row) {
        out.split_key = row.split === null ? null : String(row.split);
        out.split_name = String(row.split_name);
      }
      if ("owner_name" in row) {
        out.owner_id = String(row.owner_id);
        out.owner_name = String(row.owner_name);
      }
      return out;
    });
    return { rows, totals };
  }
}
