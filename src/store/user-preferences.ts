/**
 * What a user sets for themselves (DESIGN.md §7): their own instructions, told to the model of
 * every chat of theirs, and their compaction threshold, which can only lower the model's.
 */
import type { UserPreferences, UserPreferencesStore } from "./contract.ts";
import type { Database } from "./db.ts";
import { cacheKeys, type ReadCache } from "./read-cache.ts";

type PreferencesRow = {
  instructions: string | null;
  compact_at: number | string | null;
};

function toPreferences(row: PreferencesRow): UserPreferences {
  return {
    instructions: row.instructions,
    compact_at: row.compact_at === null ? null : Number(row.compact_at),
  };
}

const NONE: UserPreferences = { instructions: null, compact_at: null };

export class SqlUserPreferencesStore implements UserPreferencesStore {
  readonly #db: Database;
  readonly #cache: ReadCache;

  constructor(db: Database, cache: ReadCache) {
    this.#db = db;
    this.#cache = cache;
  }

  get(userId: string): Promise<UserPreferences> {
    return this.#cache.get(cacheKeys.preferences(userId), async () => {
      const [row] = await this.#db.query<PreferencesRow>(
        "SELECT instructions, compact_at FROM users WHERE id = $1",
        [userId],
      );
      return row ? toPreferences(row) : NONE;
    });
  }

  async update(
    userId: string,
    patch: Partial<UserPreferences>,
  ): Promise<UserPreferences | undefined> {
    const set: string[] = [];
    const params: unknown[] = [userId];
    if (patch.instructions !== undefined) {
      params.push(patch.instructions?.trim() ? patch.instructions : null);
      set.push(`instructions = $${params.length}`);
    }
    if (patch.compact_at !== undefined) {
      params.push(patch.compact_at);
      set.push(`compact_at = $${params.length}`);
    }
    const [row] = await this.#db.query<PreferencesRow>(
      `UPDATE users SET ${[...set, "updated_at = now()"].join(", ")} WHERE id = $1
       RETURNING instructions, compact_at`,
      params,
    );
    await this.#cache.changed(cacheKeys.preferences(userId));
    return row ? toPreferences(row) : undefined;
  }
}
