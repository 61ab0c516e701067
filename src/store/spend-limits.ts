/**
 * Spend limits (DESIGN.md §8): how much a user may spend in USD per calendar period (a day, a
 * week from Monday, a month; all in UTC) — their own override (`user_limits`, migration 19), else
 * their groups' (`group_limits`: the most generous, compared per day), else the deployment's
 * default (`settings`, key `deployment.default_limit`) — and what they spent in
 * the current period: the sum of `messages.cost_usd` over their chats since the period began
 * (`messages.user_id`, migration 17, names the chat's owner), deleted messages' steps included
 * (`usage_removed`).
 *
 * The check runs before every model step of every turn, so it must cost next to nothing: the
 * user's own limit and the default are read through the `ReadCache` (dropped on every replica by
 * NOTIFY when they change); their groups' limit is read with the same freshness as the spend
 * (membership belongs to the groups module, so nothing tells this one it changed), and only while
 * some group has a limit at all (a cached yes/no); and
 * the spend is kept per user in memory with the period it counts. It is read from the database
 * when a user is first asked about, when their period rolls over (or their limit's period
 * changes), and when it is older than `spendTtlMs` (a few seconds: what another replica spent
 * reaches this one within that); in between, each step this process finishes adds its own cost
 * (`record`). So a replica may see another's spend up to `spendTtlMs` late — the limit is
 * enforced to within one step per replica in that window — and never misses its own.
 */
import type { DeploymentSettingsStore } from "./contract.ts";
import type { Database } from "./db.ts";
import type { Migration } from "./migrations.ts";
import type { ReadCache } from "./read-cache.ts";

export const SPEND_LIMITS_MIGRATION: Migration = {
  version: 19,
  name: "spend limits",
  sql: `
-- A user's own spend limit, over the deployment's default (settings 'deployment.default_limit').
CREATE TABLE user_limits (
  user_id text PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  usd double precision NOT NULL CHECK (usd > 0 AND usd < 'Infinity'),
  period text NOT NULL CHECK (period IN ('day', 'week', 'month')),
  updated_at timestamptz(3) NOT NULL DEFAULT now()
);
-- A group's limit: its members' unless they have their own (the most generous of their groups').
CREATE TABLE group_limits (
  group_id text PRIMARY KEY REFERENCES groups (id) ON DELETE CASCADE,
  usd double precision NOT NULL CHECK (usd > 0 AND usd < 'Infinity'),
  period text NOT NULL CHECK (period IN ('day', 'week', 'month')),
  updated_at timestamptz(3) NOT NULL DEFAULT now()
);
`,
};

export const LIMIT_PERIODS = ["day", "week", "month"] as const;
export type LimitPeriod = (typeof LIMIT_PERIODS)[number];

/** A limit: at most `usd` per `period`. */
export interface SpendLimit {
  usd: number;
  period: LimitPeriod;
}

/** A user's own limit, as stored. */
export interface UserLimit extends SpendLimit {
  user_id: string;
  updated_at: string;
}

/** A group's limit, as stored. */
export interface GroupLimit extends SpendLimit {
  group_id: string;
  updated_at: string;
}

/** The limit that applies to a user, and where it comes from. */
export interface EffectiveLimit extends SpendLimit {
  source: "user" | "group" | "default";
}

/** What a user spent in their current period, against the limit that applies to them. */
export interface SpendStatus {
  user_id: string;
  spent_usd: number;
  /** The limit's period; a month when no limit applies. */
  period: LimitPeriod;
  period_start: Date;
  resets_at: Date;
  limit: EffectiveLimit | null;
  /** The spend reached the limit: no new turn, no further step. */
  over: boolean;
}

export interface SpendLimitStore {
  /** The user's own limit; null when they have none (the default, if any, applies). */
  userLimit(userId: string): Promise<UserLimit | null>;
  /** Every user's own limit. */
  listUserLimits(): Promise<UserLimit[]>;
  /** Sets the user's own limit; null for an unknown user. */
  setUserLimit(userId: string, limit: SpendLimit): Promise<UserLimit | null>;
  /** Removes the user's own limit (the default applies again); whether they had one. */
  deleteUserLimit(userId: string): Promise<boolean>;
  /** Every group's limit. */
  listGroupLimits(): Promise<GroupLimit[]>;
  /** The group's limit; null when it has none. */
  groupLimit(groupId: string): Promise<GroupLimit | null>;
  /** Sets a group's limit (its members' unless they have their own); null for an unknown group. */
  setGroupLimit(groupId: string, limit: SpendLimit): Promise<GroupLimit | null>;
  /** Removes a group's limit; whether it had one. */
  deleteGroupLimit(groupId: string): Promise<boolean>;
  /** The user's own limit, else their groups' (the most generous), else the default; null: none. */
  effectiveLimit(userId: string): Promise<EffectiveLimit | null>;
  /** The user's spend this period against their limit (the spend from memory when fresh). */
  status(userId: string): Promise<SpendStatus>;
  /** Adds a finished step's cost to the user's spend in memory (its message is already saved). */
  record(userId: string, usd: number): void;
  /** The user's spend since `since`, read from the database now (no cache). */
  spentSince(userId: string, since: Date): Promise<number>;
}

/** The calendar period (UTC) that holds `now`: a day, a week from Monday 00:00, a month. */
export function periodBounds(period: LimitPeriod, now: Date): { start: Date; end: Date } {
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  const d = now.getUTCDate();
  switch (period) {
    case "day":
      return { start: new Date(Date.UTC(y, m, d)), end: new Date(Date.UTC(y, m, d + 1)) };
    case "week": {
      const sinceMonday = (now.getUTCDay() + 6) % 7;
      return {
        start: new Date(Date.UTC(y, m, d - sinceMonday)),
        end: new Date(Date.UTC(y, m, d - sinceMonday + 7)),
      };
    }
    case "month":
      return { start: new Date(Date.UTC(y, m, 1)), end: new Date(Date.UTC(y, m + 1, 1)) };
  }
}

/** A stored default limit (JSON text), or null for none or anything that is not a limit. */
export function parseLimit(text: string | undefined): SpendLimit | null {
  if (text === undefined) return null;
  try {
    const value = JSON.parse(text) as { usd?: unknown; period?: unknown };
    const { usd, period } = value;
    if (typeof usd !== "number" || !(usd > 0) || !Number.isFinite(usd)) return null;
    if (!LIMIT_PERIODS.includes(period as LimitPeriod)) return null;
    return { usd, period: period as LimitPeriod };
  } catch {
    return null;
  }
}

type LimitRow = { user_id: string; usd: number | string; period: string; updated_at: Date };

function toUserLimit(row: LimitRow): UserLimit {
  return {
    user_id: row.user_id,
    usd: Number(row.usd),
    period: row.period as LimitPeriod,
    updated_at: row.updated_at.toISOString(),
  };
}

type GroupLimitRow = { group_id: string; usd: number | string; period: string; updated_at: Date };

function toGroupLimit(row: GroupLimitRow): GroupLimit {
  return {
    group_id: row.group_id,
    usd: Number(row.usd),
    period: row.period as LimitPeriod,
    updated_at: row.updated_at.toISOString(),
  };
}

/** USD a day, to compare limits of different periods (a month counted as 30 days). */
const PER_DAY = { day: 1, week: 1 / 7, month: 1 / 30 } as const;

/** The limit that allows the most of `limits`, compared per day; null for none. */
export function mostGenerous<T extends SpendLimit>(limits: readonly T[]): T | null {
  let best: T | null = null;
  for (const limit of limits) {
    if (!best || limit.usd * PER_DAY[limit.period] > best.usd * PER_DAY[best.period]) best = limit;
  }
  return best;
}

/** One user's spend as this process knows it. */
interface Spend {
  /** The period it counts from (ms). */
  readonly since: number;
  /** When it was read from the database (ms). */
  readonly readAt: number;
  usd: number;
}

export const DEFAULT_SPEND_TTL_MS = 3_000;

export interface SpendLimitOptions {
  /** How long a spend read from the database is trusted (plus this process's own steps). */
  spendTtlMs?: number;
  /** The clock (tests). */
  now?: () => number;
}

const LIMIT_COLUMNS = "user_id, usd, period, updated_at";

export class SqlSpendLimitStore implements SpendLimitStore {
  readonly #db: Database;
  readonly #cache: ReadCache;
  readonly #settings: DeploymentSettingsStore;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #spend = new Map<string, Spend>();
  /** Reads in flight, so concurrent checks of one user share one query. */
  readonly #reading = new Map<string, Promise<number>>();
  /** Each user's groups' limit as last read (`#groupLimitOf`), with when. */
  readonly #groupLimits = new Map<string, { readAt: number; limit: Promise<SpendLimit | null> }>();

  constructor(
    db: Database,
    cache: ReadCache,
    settings: DeploymentSettingsStore,
    options: SpendLimitOptions = {},
  ) {
    this.#db = db;
    this.#cache = cache;
    this.#settings = settings;
    this.#ttlMs = options.spendTtlMs ?? DEFAULT_SPEND_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  userLimit(userId: string): Promise<UserLimit | null> {
    return this.#cache.get(limitKey(userId), async () => {
      const [row] = await this.#db.query<LimitRow>(
        `SELECT ${LIMIT_COLUMNS} FROM user_limits WHERE user_id = $1`,
        [userId],
      );
      return row ? toUserLimit(row) : null;
    });
  }

  async listUserLimits(): Promise<UserLimit[]> {
    const rows = await this.#db.query<LimitRow>(
      `SELECT ${LIMIT_COLUMNS} FROM user_limits ORDER BY user_id`,
    );
    return rows.map(toUserLimit);
  }

  async setUserLimit(userId: string, limit: SpendLimit): Promise<UserLimit | null> {
    const [row] = await this.#db.query<LimitRow>(
      `INSERT INTO user_limits (user_id, usd, period)
       SELECT id, $2, $3 FROM users WHERE id = $1
       ON CONFLICT (user_id) DO UPDATE
         SET usd = EXCLUDED.usd, period = EXCLUDED.period, updated_at = now()
       RETURNING ${LIMIT_COLUMNS}`,
      [userId, limit.usd, limit.period],
    );
    await this.#cache.changed(limitKey(userId));
    return row ? toUserLimit(row) : null;
  }

  async deleteUserLimit(userId: string): Promise<boolean> {
    const rows = await this.#db.query("DELETE FROM user_limits WHERE user_id = $1 RETURNING 1", [
      userId,
    ]);
    await this.#cache.changed(limitKey(userId));
    return rows.length > 0;
  }

  async listGroupLimits(): Promise<GroupLimit[]> {
    const rows = await this.#db.query<GroupLimitRow>(
      "SELECT group_id, usd, period, updated_at FROM group_limits ORDER BY group_id",
    );
    return rows.map(toGroupLimit);
  }

  async groupLimit(groupId: string): Promise<GroupLimit | null> {
    const [row] = await this.#db.query<GroupLimitRow>(
      "SELECT group_id, usd, period, updated_at FROM group_limits WHERE group_id = $1",
      [groupId],
    );
    return row ? toGroupLimit(row) : null;
  }

  async setGroupLimit(groupId: string, limit: SpendLimit): Promise<GroupLimit | null> {
    const [row] = await this.#db.query<GroupLimitRow>(
      `INSERT INTO group_limits (group_id, usd, period)
       SELECT id, $2, $3 FROM groups WHERE id = $1
       ON CONFLICT (group_id) DO UPDATE
         SET usd = EXCLUDED.usd, period = EXCLUDED.period, updated_at = now()
       RETURNING group_id, usd, period, updated_at`,
      [groupId, limit.usd, limit.period],
    );
    await this.#groupLimitsChanged();
    return row ? toGroupLimit(row) : null;
  }

  async deleteGroupLimit(groupId: string): Promise<boolean> {
    const rows = await this.#db.query("DELETE FROM group_limits WHERE group_id = $1 RETURNING 1", [
      groupId,
    ]);
    await this.#groupLimitsChanged();
    return rows.length > 0;
  }

  async effectiveLimit(userId: string): Promise<EffectiveLimit | null> {
    const own = await this.userLimit(userId);
    if (own) return { usd: own.usd, period: own.period, source: "user" };
    const group = await this.#groupLimitOf(userId);
    if (group) return { usd: group.usd, period: group.period, source: "group" };
    const { default_limit } = await this.#settings.get();
    return default_limit ? { ...default_limit, source: "default" } : null;
  }

  async status(userId: string): Promise<SpendStatus> {
    const limit = await this.effectiveLimit(userId);
    const period = limit?.period ?? "month";
    const { start, end } = periodBounds(period, new Date(this.#now()));
    const spent = await this.#spent(userId, start.getTime());
    return {
      user_id: userId,
      spent_usd: spent,
      period,
      period_start: start,
      resets_at: end,
      limit,
      over: limit !== null && spent >= limit.usd,
    };
  }

  record(userId: string, usd: number): void {
    if (!(usd > 0)) return;
    const known = this.#spend.get(userId);
    // Only a spend of the current period grows: one of an ended period is read afresh anyway.
    if (known) known.usd += usd;
  }

  async spentSince(userId: string, since: Date): Promise<number> {
    // messages.user_id (migration 17) is the chat owner's, set on every metered message, and its
    // index holds the cost; usage_removed keeps the steps of deleted messages (a deleted chat,
    // retention, a rerun), so deleting chats never lowers a spend. Two index-only sums.
    const [row] = await this.#db.query<{ usd: number | string | null }>(
      `SELECT (SELECT coalesce(sum(cost_usd), 0) FROM messages
                WHERE user_id = $1 AND user_id IS NOT NULL AND created_at >= $2)
            + (SELECT coalesce(sum(cost_usd), 0) FROM usage_removed
                WHERE user_id = $1 AND created_at >= $2) AS usd`,
      [userId, since],
    );
    return Number(row?.usd ?? 0);
  }

  /**
   * The most generous limit of the user's groups: read again when older than the spend's TTL
   * (a membership change is not announced here), and not at all while no group has a limit.
   */
  async #groupLimitOf(userId: string): Promise<SpendLimit | null> {
    const any = await this.#cache.get(ANY_GROUP_LIMIT, async () => {
      const [row] = await this.#db.query("SELECT 1 FROM group_limits LIMIT 1");
      return row !== undefined;
    });
    if (!any) return null;
    const now = this.#now();
    const known = this.#groupLimits.get(userId);
    if (known && now - known.readAt < this.#ttlMs) return known.limit;
    const limit = this.#db
      .query<{ usd: number | string; period: string }>(
        `SELECT l.usd, l.period FROM group_limits l
           JOIN group_members m ON m.group_id = l.group_id
          WHERE m.user_id = $1`,
        [userId],
      )
      .then((rows) =>
        mostGenerous(rows.map((r) => ({ usd: Number(r.usd), period: r.period as LimitPeriod }))),
      );
    this.#groupLimits.set(userId, { readAt: now, limit });
    limit.catch(() => this.#groupLimits.delete(userId));
    return limit;
  }

  /** A group's limit changed: every user's groups' limit is read again (here at once). */
  async #groupLimitsChanged(): Promise<void> {
    this.#groupLimits.clear();
    await this.#cache.changed(ANY_GROUP_LIMIT);
  }

  /** The spend since `since` (ms): from memory while fresh and of that period, else read. */
  async #spent(userId: string, since: number): Promise<number> {
    const known = this.#spend.get(userId);
    const now = this.#now();
    if (known && known.since === since && now - known.readAt < this.#ttlMs) return known.usd;
    const key = `${userId}@${since}`;
    let reading = this.#reading.get(key);
    if (!reading) {
      const readAt = now;
      reading = this.spentSince(userId, new Date(since)).then((usd) => {
        this.#spend.set(userId, { since, readAt, usd });
        return usd;
      });
      const shared = reading;
      this.#reading.set(key, shared);
      void shared.then(
        () => this.#reading.delete(key),
        () => this.#reading.delete(key),
      );
    }
    return reading;
  }
}

/** The `ReadCache` key of whether any group has a limit. */
const ANY_GROUP_LIMIT = "group-limits:any";

/** The `ReadCache` key of a user's own limit. */
function limitKey(userId: string): string {
  return `limit:${userId}`;
}
