/**
 * Providers (their API keys and credential options encrypted at rest under the server key, bound
 * to the row) and the models offered through them: the `Store` contract's catalog methods.
 */

import { randomUUID } from "node:crypto";
import { PROVIDER_TYPES, type ProviderConfig } from "../provider/types.ts";
import { ConflictError, type NewModel, type NewProvider, type Store } from "./contract.ts";
import type { Database, Queryable } from "./db.ts";
import { cacheKeys, type ReadCache } from "./read-cache.ts";
import {
  json,
  jsonOrNull,
  MODEL_COLUMNS,
  type ModelRow,
  PROVIDER_COLUMNS,
  type ProviderRow,
  toModel,
  toProvider,
} from "./rows.ts";
import {
  decryptSecret,
  encryptSecret,
  FINGERPRINT_SETTING,
  keyFingerprint,
  SecretKeyError,
} from "./secrets.ts";
import { Assignments, conflict, must } from "./sql.ts";
import type { ModelRecord, ProviderRecord } from "./types.ts";

const FINGERPRINT_KEY = FINGERPRINT_SETTING;

/** Provider options that are credentials: encrypted at rest like the API key. */
const SECRET_OPTIONS: readonly string[] = ["secret_access_key", "session_token", "headers"];

/** Binds an options ciphertext to its provider (and apart from the API key's). */
function optionsContext(providerId: string): string {
  return `${providerId}:options`;
}

/** The `Store` methods this module implements. */
export const CATALOG_METHODS = [
  "createProvider",
  "getProvider",
  "listProviders",
  "updateProvider",
  "deleteProvider",
  "providerConfig",
  "createModel",
  "getModel",
  "listModels",
  "updateModel",
  "deleteModel",
] as const satisfies ReadonlyArray<keyof Store>;

export class SqlCatalog implements Pick<Store, (typeof CATALOG_METHODS)[number]> {
  readonly #db: Database;
  readonly #key: Buffer;
  readonly #fingerprint: string;
  readonly #cache: ReadCache;

  constructor(db: Database, key: Buffer, cache: ReadCache) {
    this.#db = db;
    this.#key = key;
    this.#cache = cache;
    this.#fingerprint = keyFingerprint(key);
  }

  async createProvider(input: NewProvider): Promise<ProviderRecord> {
    checkProviderType(input.type);
    const id = randomUUID();
    const encrypted = input.api_key ? encryptSecret(this.#key, input.api_key, id) : null;
    const options = this.#splitOptions(id, input.options ?? {});
    const [row] = await this.#db
      .query<ProviderRow>(
        `INSERT INTO providers (id, type, name, base_url, options, api_key_encrypted,
                              secret_options_encrypted, secret_option_names)
       SELECT $1, $2, $3, $4, $5::jsonb, $6, $9, $10::text[]
       WHERE ($6::text IS NULL AND $9::text IS NULL)
          OR EXISTS (SELECT 1 FROM settings WHERE key = $7 AND value = $8)
       RETURNING ${PROVIDER_COLUMNS}`,
        [
          id,
          input.type,
          input.name,
          input.base_url ?? null,
          json(options.plain),
          encrypted,
          FINGERPRINT_KEY,
          this.#fingerprint,
          options.encrypted,
          options.names,
        ],
      )
      .catch(nameTaken(input.name));
    if (!row) throw keyMismatch();
    return toProvider(row);
  }

  getProvider(id: string): Promise<ProviderRecord | null> {
    return this.#cache.get(cacheKeys.provider(id), async () => {
      const [row] = await this.#db.query<ProviderRow>(
        `SELECT ${PROVIDER_COLUMNS} FROM providers WHERE id = $1`,
        [id],
      );
      return row ? toProvider(row) : null;
    });
  }

  async listProviders(): Promise<ProviderRecord[]> {
    const rows = await this.#db.query<ProviderRow>(
      `SELECT ${PROVIDER_COLUMNS} FROM providers ORDER BY created_at, id`,
    );
    return rows.map(toProvider);
  }

  async updateProvider(id: string, patch: Partial<NewProvider>): Promise<ProviderRecord | null> {
    if (patch.type !== undefined) checkProviderType(patch.type);
    const set = new Assignments();
    if (patch.type !== undefined) set.add("type", patch.type);
    if (patch.name !== undefined) set.add("name", patch.name);
    if (patch.base_url !== undefined) set.add("base_url", patch.base_url);
    if (patch.options !== undefined) {
      const options = this.#splitOptions(id, patch.options);
      set.add("options", json(options.plain), "jsonb");
      set.add("secret_options_encrypted", options.encrypted);
      set.add("secret_option_names", options.names, "text[]");
    }
    if (patch.api_key !== undefined) {
      set.add(
        "api_key_encrypted",
        patch.api_key ? encryptSecret(this.#key, patch.api_key, id) : null,
      );
    }
    const storesKey =
      Boolean(patch.api_key) || SECRET_OPTIONS.some((name) => patch.options?.[name] !== undefined);
    const updated = await this.#db.transaction(async (tx) => {
      if (storesKey && !(await this.#fingerprintMatches(tx))) throw keyMismatch();
      const [row] = await tx
        .query<ProviderRow>(
          `UPDATE providers SET ${set.sql()}updated_at = now() WHERE id = $1 RETURNING ${PROVIDER_COLUMNS}`,
          [id, ...set.params],
        )
        .catch(nameTaken(patch.name ?? ""));
      return row ? toProvider(row) : null;
    });
    await this.#cache.changed(cacheKeys.provider(id));
    return updated;
  }

  /**
   * Refused while models use the provider, with their count and what to do; the foreign key
   * still refuses one added between the count and the delete.
   */
  async deleteProvider(id: string): Promise<boolean> {
    const models = await this.#count("SELECT count(*) AS n FROM models WHERE provider_id = $1", id);
    if (models > 0) throw providerInUse(models);
    const rows = await this.#db
      .query("DELETE FROM providers WHERE id = $1 RETURNING id", [id])
      .catch(conflict(providerInUse().message));
    await this.#cache.changed(cacheKeys.provider(id));
    return rows.length > 0;
  }

  async #count(sql: string, id: string): Promise<number> {
    const [row] = await this.#db.query<{ n: unknown }>(sql, [id]);
    return Number(row?.n ?? 0);
  }

  async providerConfig(id: string): Promise<ProviderConfig | null> {
    const [row] = await this.#db.query<{
      type: string;
      name: string;
      base_url: string | null;
      options: Record<string, unknown> | null;
      api_key_encrypted: string | null;
      secret_options_encrypted: string | null;
    }>(
      `SELECT type, name, base_url, options, api_key_encrypted, secret_options_encrypted
         FROM providers WHERE id = $1`,
      [id],
    );
    if (!row) return null;
    const secrets: Record<string, unknown> =
      row.secret_options_encrypted === null
        ? {}
        : JSON.parse(decryptSecret(this.#key, row.secret_options_encrypted, optionsContext(id)));
    const config: ProviderConfig = {
      type: row.type as ProviderConfig["type"],
      name: row.name,
      options: { ...row.options, ...secrets },
    };
    if (row.base_url !== null) config.base_url = row.base_url;
    if (row.api_key_encrypted !== null) {
      config.api_key = decryptSecret(this.#key, row.api_key_encrypted, id);
    }
    return config;
  }

  /** Options that are credentials leave the plain column: encrypted, and only named outside. */
  #splitOptions(
    id: string,
    options: Record<string, unknown>,
  ): { plain: Record<string, unknown>; encrypted: string | null; names: string[] } {
    const plain: Record<string, unknown> = {};
    const secret: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(options)) {
      if (SECRET_OPTIONS.includes(name)) secret[name] = value;
      else plain[name] = value;
    }
    const names = Object.keys(secret).sort();
    const encrypted = names.length
      ? encryptSecret(this.#key, JSON.stringify(secret), optionsContext(id))
      : null;
    return { plain, encrypted, names };
  }

  async #fingerprintMatches(q: Queryable): Promise<boolean> {
    const rows = await q.query("SELECT 1 FROM settings WHERE key = $1 AND value = $2", [
      FINGERPRINT_KEY,
      this.#fingerprint,
    ]);
    return rows.length > 0;
  }

  // ---- models --------------------------------------------------------------------------------

  async createModel(input: NewModel): Promise<ModelRecord> {
    const [row] = await this.#db
      .query<ModelRow>(
        `INSERT INTO models (provider_id, model, display_name, context_window, pricing, enabled, settings)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7::jsonb) RETURNING ${MODEL_COLUMNS}`,
        [
          input.provider_id,
          input.model,
          input.display_name || input.model,
          input.context_window ?? null,
          jsonOrNull(input.pricing),
          input.enabled ?? true,
          JSON.stringify(input.settings ?? {}),
        ],
      )
      .catch(conflict("no provider with this id"));
    return toModel(must(row));
  }

  getModel(id: string): Promise<ModelRecord | null> {
    return this.#cache.get(cacheKeys.model(id), async () => {
      const [row] = await this.#db.query<ModelRow>(
        `SELECT ${MODEL_COLUMNS} FROM models WHERE id = $1`,
        [id],
      );
      return row ? toModel(row) : null;
    });
  }

  async listModels(
    options: { enabledOnly?: boolean; usableBy?: string } = {},
  ): Promise<ModelRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (options.enabledOnly) where.push("enabled");
    if (options.usableBy !== undefined) {
      // As `SqlGroups.mayUseModel`: an admin, an unrestricted model, or one of its groups.
      params.push(options.usableBy);
      where.push(`(EXISTS (SELECT 1 FROM users u WHERE u.id = $1 AND u.role = 'admin')
        OR NOT EXISTS (SELECT 1 FROM model_groups mg WHERE mg.model_id = models.id)
        OR EXISTS (SELECT 1 FROM model_groups mg
                     JOIN group_members gm ON gm.group_id = mg.group_id AND gm.user_id = $1
                    WHERE mg.model_id = models.id))`);
    }
    const rows = await this.#db.query<ModelRow>(
      `SELECT ${MODEL_COLUMNS} FROM models ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY created_at, id`,
      params,
    );
    return rows.map(toModel);
  }

  async updateModel(id: string, patch: Partial<NewModel>): Promise<ModelRecord | null> {
    const set = new Assignments();
    if (patch.provider_id !== undefined) set.add("provider_id", patch.provider_id);
    if (patch.model !== undefined) set.add("model", patch.model);
    if (patch.display_name !== undefined) set.add("display_name", patch.display_name);
    if (patch.context_window !== undefined) set.add("context_window", patch.context_window);
    if (patch.pricing !== undefined) set.add("pricing", jsonOrNull(patch.pricing), "jsonb");
    if (patch.enabled !== undefined) set.add("enabled", patch.enabled);
    if (patch.settings !== undefined) {
      set.add("settings", JSON.stringify(patch.settings), "jsonb");
    }
    const [row] = await this.#db
      .query<ModelRow>(
        `UPDATE models SET ${set.sql()}updated_at = now() WHERE id = $1 RETURNING ${MODEL_COLUMNS}`,
        [id, ...set.params],
      )
      .catch(conflict("no provider with this id"));
    await this.#cache.changed(cacheKeys.model(id));
    return row ? toModel(row) : null;
  }

  /** Refused while chats use the model (their history names it): disabling is the way out. */
  async deleteModel(id: string): Promise<boolean> {
    const chats = await this.#count("SELECT count(*) AS n FROM chats WHERE model_id = $1", id);
    if (chats > 0) throw modelInUse(chats);
    const rows = await this.#db
      .query("DELETE FROM models WHERE id = $1 RETURNING id", [id])
      .catch(conflict(modelInUse().message));
    await this.#cache.changed(cacheKeys.model(id));
    return rows.length > 0;
  }
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** Without a count: the foreign key refused a model added after the count. */
function providerInUse(models?: number): ConflictError {
  const them = models === 1 ? "it" : "them";
  const has = models === undefined ? "models" : plural(models, "model", "models");
  return new ConflictError(
    `This provider has ${has}: delete ${them} or move ${them} to another provider first.`,
  );
}

function modelInUse(chats?: number): ConflictError {
  const who =
    chats === undefined
      ? "Chats use"
      : `${plural(chats, "chat", "chats")} ${chats === 1 ? "uses" : "use"}`;
  return new ConflictError(
    `${who} this model — disable it instead: nobody can pick it for a new chat then, and the chats keep their history.`,
  );
}

/** A unique violation of `providers_name_key`: the name is taken (case aside). */
function nameTaken(name: string): (error: unknown) => never {
  return conflict(`A provider named "${name}" already exists: choose another name.`);
}

function keyMismatch(): SecretKeyError {
  return new SecretKeyError(
    "this server's secret key is not the one recorded in the database; refusing to store a " +
      "provider API key under it (every server sharing a database needs the same key)",
  );
}

function checkProviderType(type: string): void {
  if (!(PROVIDER_TYPES as readonly string[]).includes(type)) {
    throw new TypeError(`unknown provider type: ${type}`);
  }
}
