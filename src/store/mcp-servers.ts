/**
 * Admin-configured MCP servers (migration 10). Their headers carry credentials (typically
 * `Authorization`), so they are kept like a provider's API key: one AES-256-GCM ciphertext of
 * their JSON under the server key, bound to the row (`<id>:headers` as associated data), written
 * only while the database records this server's key (so no replica stores a secret the others
 * cannot read). Only the header names are plain; the values leave the store through `config` and
 * `enabledConfigs`, which only the MCP manager calls.
 */
import { randomUUID } from "node:crypto";
import {
  ConflictError,
  type McpServerConfig,
  type McpServerPatch,
  type McpServerRecord,
  type McpServerStore,
  type NewMcpServer,
} from "./contract.ts";
import { type Database, type Queryable, sqlState, UNIQUE_VIOLATION } from "./db.ts";
import { iso } from "./rows.ts";
import {
  decryptSecret,
  encryptSecret,
  FINGERPRINT_SETTING,
  keyFingerprint,
  SecretKeyError,
} from "./secrets.ts";

const COLUMNS =
  "id, name, url, header_names, enabled, tools_allow, tools_deny, created_at, updated_at";

type McpServerRow = {
  id: string;
  name: string;
  url: string;
  header_names: string[] | null;
  enabled: boolean;
  tools_allow: string[] | null;
  tools_deny: string[] | null;
  created_at: unknown;
  updated_at: unknown;
  headers_encrypted?: string | null;
};

function toRecord(row: McpServerRow): McpServerRecord {
  return {
    id: row.id,
    name: row.name,
    url: row.url,
    header_names: row.header_names ?? [],
    enabled: row.enabled === true,
    tools_allow: row.tools_allow ?? null,
    tools_deny: row.tools_deny ?? null,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

/** Binds a headers ciphertext to its server (and apart from any other secret of the same id). */
function headersContext(id: string): string {
  return `${id}:headers`;
}

export class SqlMcpServerStore implements McpServerStore {
  readonly #db: Database;
  readonly #key: Buffer;
  readonly #fingerprint: string;

  constructor(db: Database, key: Buffer) {
    this.#db = db;
    this.#key = key;
    this.#fingerprint = keyFingerprint(key);
  }

  async create(input: NewMcpServer): Promise<McpServerRecord> {
    const id = randomUUID();
    const headers = input.headers ?? {};
    const sealed = this.#seal(id, headers);
    return this.#db.transaction(async (tx) => {
      if (sealed !== null) await this.#checkKey(tx);
      const [row] = await tx
        .query<McpServerRow>(
          `INSERT INTO mcp_servers (id, name, url, headers_encrypted, header_names, enabled,
                                    tools_allow, tools_deny)
           VALUES ($1, $2, $3, $4, $5::text[], $6, $7::text[], $8::text[])
           RETURNING ${COLUMNS}`,
          [
            id,
            input.name,
            input.url,
            sealed,
            Object.keys(headers),
            input.enabled ?? true,
            input.tools_allow ?? null,
            input.tools_deny ?? null,
          ],
        )
        .catch(nameTaken(input.name));
      if (!row) throw new Error("the database returned no row");
      return toRecord(row);
    });
  }

  async get(id: string): Promise<McpServerRecord | null> {
    const [row] = await this.#db.query<McpServerRow>(
      `SELECT ${COLUMNS} FROM mcp_servers WHERE id = $1`,
      [id],
    );
    return row ? toRecord(row) : null;
  }

  async list(): Promise<McpServerRecord[]> {
    const rows = await this.#db.query<McpServerRow>(
      `SELECT ${COLUMNS} FROM mcp_servers ORDER BY created_at, id`,
    );
    return rows.map(toRecord);
  }

  async update(id: string, patch: McpServerPatch): Promise<McpServerRecord | null> {
    return this.#db.transaction(async (tx) => {
      const [current] = await tx.query<McpServerRow>(
        `SELECT ${COLUMNS}, headers_encrypted FROM mcp_servers WHERE id = $1 FOR UPDATE`,
        [id],
      );
      if (!current) return null;
      const set: string[] = [];
      const params: unknown[] = [id];
      const add = (column: string, value: unknown, cast = "") => {
        params.push(value);
        set.push(`${column} = $${params.length}${cast}`);
      };
      if (patch.name !== undefined) add("name", patch.name);
      if (patch.url !== undefined) add("url", patch.url);
      if (patch.enabled !== undefined) add("enabled", patch.enabled);
      if (patch.tools_allow !== undefined) add("tools_allow", patch.tools_allow, "::text[]");
      if (patch.tools_deny !== undefined) add("tools_deny", patch.tools_deny, "::text[]");
      if (patch.headers !== undefined) {
        const headers =
          patch.headers === null
            ? {}
            : mergeHeaders(this.#open(id, current.headers_encrypted ?? null), patch.headers);
        const sealed = this.#seal(id, headers);
        if (sealed !== null) await this.#checkKey(tx);
        add("headers_encrypted", sealed);
        add("header_names", Object.keys(headers), "::text[]");
      }
      const [row] = await tx
        .query<McpServerRow>(
          `UPDATE mcp_servers SET ${set.map((s) => `${s}, `).join("")}updated_at = now()
            WHERE id = $1 RETURNING ${COLUMNS}`,
          params,
        )
        .catch(nameTaken(patch.name ?? current.name));
      return row ? toRecord(row) : null;
    });
  }

  async delete(id: string): Promise<boolean> {
    const rows = await this.#db.query("DELETE FROM mcp_servers WHERE id = $1 RETURNING id", [id]);
    return rows.length > 0;
  }

  async config(id: string): Promise<McpServerConfig | null> {
    const [row] = await this.#db.query<McpServerRow>(
      `SELECT ${COLUMNS}, headers_encrypted FROM mcp_servers WHERE id = $1`,
      [id],
    );
    return row ? this.#toConfig(row) : null;
  }

  async enabledConfigs(): Promise<McpServerConfig[]> {
    const rows = await this.#db.query<McpServerRow>(
      `SELECT ${COLUMNS}, headers_encrypted FROM mcp_servers WHERE enabled ORDER BY created_at, id`,
    );
    return rows.map((row) => this.#toConfig(row));
  }

  #toConfig(row: McpServerRow): McpServerConfig {
    return { ...toRecord(row), headers: this.#open(row.id, row.headers_encrypted ?? null) };
  }

  #seal(id: string, headers: Record<string, string>): string | null {
    if (Object.keys(headers).length === 0) return null;
    return encryptSecret(this.#key, JSON.stringify(headers), headersContext(id));
  }

  #open(id: string, sealed: string | null): Record<string, string> {
    if (sealed === null) return {};
    const value: unknown = JSON.parse(decryptSecret(this.#key, sealed, headersContext(id)));
    if (value === null || typeof value !== "object" || Array.isArray(value)) return {};
    return Object.fromEntries(
      Object.entries(value).filter((entry): entry is [string, string] => {
        return typeof entry[1] === "string";
      }),
    );
  }

  /** Refuses to store a secret under a key other than the one the database records. */
  async #checkKey(q: Queryable): Promise<void> {
    const rows = await q.query("SELECT 1 FROM settings WHERE key = $1 AND value = $2", [
      FINGERPRINT_SETTING,
      this.#fingerprint,
    ]);
    if (rows.length === 0) {
      throw new SecretKeyError(
        "this server's secret key is not the one recorded in the database; refusing to store an " +
          "MCP server's headers under it (every server sharing a database needs the same key)",
      );
    }
  }
}

/** `current` with `patch` over it, header names compared case-insensitively (as HTTP does). */
export function mergeHeaders(
  current: Record<string, string>,
  patch: Record<string, string | null>,
): Record<string, string> {
  const out = new Map<string, [string, string]>();
  for (const [name, value] of Object.entries(current)) out.set(name.toLowerCase(), [name, value]);
  for (const [name, value] of Object.entries(patch)) {
    if (value === null) out.delete(name.toLowerCase());
    else out.set(name.toLowerCase(), [name, value]);
  }
  return Object.fromEntries(out.values());
}

function nameTaken(name: string): (error: unknown) => never {
  return (error) => {
    if (sqlState(error) === UNIQUE_VIOLATION) {
      throw new ConflictError(
        `An MCP server named "${name}" already exists; choose another name (it prefixes the tools' names).`,
      );
    }
    throw error;
  };
}
