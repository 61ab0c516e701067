/**
 * Failed sign-ins, counted in `signin_limits` (migration 7) so that every replica enforces the
 * same limits and a restart forgets nothing: DESIGN §8 keeps security controls in the database.
 *
 * One row per key with a failure count and the end of its window, which starts at the key's first
 * failure. Time is the database's clock, so replicas agree. Ended windows are swept at most once
 * a minute per process, by the failures that arrive (the index on `window_ends_at` keeps it cheap).
 */
import type { SignInLimit, SignInLimitStore } from "./contract.ts";
import type { Database } from "./db.ts";

const SWEEP_INTERVAL_MS = 60_000;

export class SqlSignInLimitStore implements SignInLimitStore {
  readonly #db: Database;
  #lastSweep = 0;

  constructor(db: Database) {
    this.#db = db;
  }

  async blockedFor(limits: readonly SignInLimit[]): Promise<number> {
    if (limits.length === 0) return 0;
    const [row] = await this.#db.query<{ ms: unknown }>(
      `SELECT ceil(max(extract(epoch FROM s.window_ends_at - now())) * 1000) AS ms
         FROM signin_limits s
         JOIN unnest($1::text[], $2::int[]) AS l(key, max_failures) ON l.key = s.key
        WHERE s.failures >= l.max_failures AND s.window_ends_at > now()`,
      [limits.map((l) => l.key), limits.map((l) => l.maxFailures)],
    );
    const ms = Number(row?.ms ?? 0);
    return Number.isFinite(ms) && ms > 0 ? ms : 0;
  }

  async fail(limits: readonly SignInLimit[]): Promise<void> {
    if (limits.length === 0) return;
    await this.#db.query(
      `INSERT INTO signin_limits AS s (key, failures, window_ends_at)
       SELECT key, 1, now() + window_ms * interval '1 millisecond'
         FROM unnest($1::text[], $2::float8[]) AS l(key, window_ms)
       ON CONFLICT (key) DO UPDATE SET
         failures = CASE WHEN s.window_ends_at > now() THEN s.failures + 1 ELSE 1 END,
         window_ends_at = CASE WHEN s.window_ends_at > now() THEN s.window_ends_at
                               ELSE excluded.window_ends_at END`,
      [limits.map((l) => l.key), limits.map((l) => l.windowMs)],
    );
    if (Date.now() - this.#lastSweep >= SWEEP_INTERVAL_MS) await this.sweep();
  }

  async clear(key: string): Promise<void> {
    await this.#db.query("DELETE FROM signin_limits WHERE key = $1", [key]);
  }

  async sweep(): Promise<number> {
    this.#lastSweep = Date.now();
    const rows = await this.#db.query(
      "DELETE FROM signin_limits WHERE window_ends_at <= now() RETURNING key",
    );
    return rows.length;
  }
}
