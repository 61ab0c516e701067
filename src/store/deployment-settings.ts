/**
 * Deployment settings an admin sets for the whole server (DESIGN.md §7): the deployment's system
 * prompt, told to every model after Keel's built-in one, the model that titles new chats, and the
 * model that writes compaction summaries, the model new chats start with (`default_model_id`), and
 * every user's spend limit unless they have their own (`default_limit`, JSON text), and chat
 * retention (`chat_archive_after_days`, `chat_delete_after_days`: `chat-retention.ts`).
 * Each is one row of the key/value `settings` table; `null` is the absence of the row, so a
 * server that never had a setting and one whose setting was cleared read the same.
 */
import type { DeploymentSettings, DeploymentSettingsStore } from "./contract.ts";
import type { Database } from "./db.ts";
import { cacheKeys, type ReadCache } from "./read-cache.ts";
import { parseLimit } from "./spend-limits.ts";

const KEYS = {
  system_prompt: "deployment.system_prompt",
  title_model_id: "deployment.title_model_id",
  summary_model_id: "deployment.summary_model_id",
  default_model_id: "deployment.default_model_id",
  default_limit: "deployment.default_limit",
  chat_archive_after_days: "retention.chat_archive_after_days",
  chat_delete_after_days: "retention.chat_delete_after_days",
} as const satisfies Record<keyof DeploymentSettings, string>;

const FIELDS = Object.keys(KEYS) as Array<keyof DeploymentSettings>;

export class SqlDeploymentSettingsStore implements DeploymentSettingsStore {
  readonly #db: Database;
  readonly #cache: ReadCache;

  constructor(db: Database, cache: ReadCache) {
    this.#db = db;
    this.#cache = cache;
  }

  get(): Promise<DeploymentSettings> {
    return this.#cache.get(cacheKeys.settings, () => this.#read());
  }

  async #read(): Promise<DeploymentSettings> {
    const rows = await this.#db.query<{ key: string; value: string }>(
      "SELECT key, value FROM settings WHERE key = ANY($1::text[])",
      [Object.values(KEYS)],
    );
    const values = new Map(rows.map((row) => [row.key, row.value]));
    return {
      system_prompt: values.get(KEYS.system_prompt) ?? null,
      title_model_id: values.get(KEYS.title_model_id) ?? null,
      summary_model_id: values.get(KEYS.summary_model_id) ?? null,
      default_model_id: values.get(KEYS.default_model_id) ?? null,
      default_limit: parseLimit(values.get(KEYS.default_limit)),
      chat_archive_after_days: days(values.get(KEYS.chat_archive_after_days)),
      chat_delete_after_days: days(values.get(KEYS.chat_delete_after_days)),
    };
  }

  async update(patch: Partial<DeploymentSettings>): Promise<DeploymentSettings> {
    await this.#db.transaction(async (tx) => {
      for (const field of FIELDS) {
        const value = patch[field];
        if (value === undefined) continue;
        if (value === null) {
          await tx.query("DELETE FROM settings WHERE key = $1", [KEYS[field]]);
        } else {
          await tx.query(
            `INSERT INTO settings (key, value) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
            [KEYS[field], typeof value === "string" ? value : JSON.stringify(value)],
          );
        }
      }
    });
    await this.#cache.changed(cacheKeys.settings);
    return this.get();
  }
}

/** A number of days as stored (JSON text); anything else reads as unset. */
function days(value: string | undefined): number | null {
  const n = value === undefined ? Number.NaN : Number(value);
  return Number.isInteger(n) && n > 0 ? n : null;
}
