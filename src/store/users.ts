/**
 * Users, their passwords and their tokens (sessions and API tokens, stored hashed): the `Store`
 * contract's user methods. Every change of a user's role or active flag is serialised by one
 * advisory lock so that an active admin is always left.
 */
import {
  ConflictError,
  LastAdminError,
  OwnerOnlyError,
  PasswordHashingBusyError,
  type Store,
} from "./contract.ts";
import {
  hashPassword,
  hashToken,
  needsRehash,
  newToken,
  passwordHashing,
  TOKEN_PREFIX,
  verifyPassword,
} from "./credentials.ts";
import type { Database } from "./db.ts";
import { LOCK_ADMINS, LOCK_FIRST_USER, LOCK_NAMESPACE } from "./migrations.ts";
import { int, toUser, USER_COLUMNS, type UserRow } from "./rows.ts";
import { conflict, must } from "./sql.ts";
import type { Role, User } from "./types.ts";

const DAY_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_SESSION_TTL_MS = 30 * DAY_MS;
/** `last_used_at` is refreshed at most this often, so a busy token is not a write per request. */
const TOKEN_TOUCH_INTERVAL = "1 minute";

/** The `Store` methods this module implements. */
export const USER_METHODS = [
  "countUsers",
  "createFirstUser",
  "createUser",
  "getUser",
  "listUsers",
  "updateUser",
  "verifyPassword",
  "passwordHashingBusy",
  "createToken",
  "userForToken",
  "mayStillRead",
  "revokeToken",
] as const satisfies ReadonlyArray<keyof Store>;

export class SqlUsers implements Pick<Store, (typeof USER_METHODS)[number]> {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async countUsers(): Promise<number> {
    const [row] = await this.#db.query<{ n: unknown }>("SELECT count(*) AS n FROM users");
    return int(row?.n ?? 0);
  }

  async createFirstUser(input: {
    username: string;
    email: string;
    password: string;
  }): Promise<User> {
    const passwordHash = await hashPassword(input.password);
    // The advisory lock makes concurrent calls queue; the second sees the first's committed row.
    const row = await this.#db
      .transaction(async (tx) => {
        await tx.query("SELECT pg_advisory_xact_lock($1, $2)", [LOCK_NAMESPACE, LOCK_FIRST_USER]);
        const [inserted] = await tx.query<UserRow>(
          `INSERT INTO users (username, email, role, password_hash)
           SELECT $1, $2, 'admin', $3 WHERE NOT EXISTS (SELECT 1 FROM users)
           RETURNING ${USER_COLUMNS}`,
          [input.username, input.email, passwordHash],
        );
        return inserted;
      })
      .catch(conflict("a user with this email or username already exists"));
    if (!row) throw new ConflictError("the first user already exists");
    return toUser(row);
  }

  async createUser(input: {
    username: string;
    email: string;
    password: string;
    role: Role;
  }): Promise<User> {
    if (input.role !== "admin" && input.role !== "member") {
      throw new TypeError(`unknown role: ${String(input.role)}`);
    }
    const passwordHash = await hashPassword(input.password);
    const [row] = await this.#db
      .query<UserRow>(
        `INSERT INTO users (username, email, role, password_hash) VALUES ($1, $2, $3, $4)
         RETURNING ${USER_COLUMNS}`,
        [input.username, input.email, input.role, passwordHash],
      )
      .catch(conflict("a user with this email or username already exists"));
    return toUser(must(row));
  }

  async getUser(id: string): Promise<User | null> {
    const [row] = await this.#db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [
      id,
    ]);
    return row ? toUser(row) : null;
  }

  async listUsers(): Promise<User[]> {
    const rows = await this.#db.query<UserRow>(
      `SELECT ${USER_COLUMNS} FROM users ORDER BY created_at, id`,
    );
    return rows.map(toUser);
  }

  /**
   * Every such change takes the same advisory lock, so they run one after another; each checks,
   * after its own UPDATE and before committing, that an active admin is left (READ COMMITTED: that
   * check sees every change committed before the lock was granted). Two concurrent demotions of
   * the last two admins therefore cannot both succeed: the second sees the first and rolls back.
   * Nothing else removes an admin (creating users only adds them).
   */
  async updateUser(
    id: string,
    patch: { role?: Role; active?: boolean },
    by?: string,
  ): Promise<User | null> {
    if (patch.role !== undefined && patch.role !== "admin" && patch.role !== "member") {
      throw new TypeError(`unknown role: ${String(patch.role)}`);
    }
    return this.#db.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock($1, $2)", [LOCK_NAMESPACE, LOCK_ADMINS]);
      if (by !== undefined && by !== id && (patch.role === "member" || patch.active === false)) {
        // The owner is the first user: the oldest row (nothing else creates one before it).
        const [owner] = await tx.query<{ id: string }>(
          "SELECT id FROM users ORDER BY created_at, id LIMIT 1",
        );
        if (owner?.id === id) {
          throw new OwnerOnlyError("only the owner may demote or deactivate the owner");
        }
      }
      const [row] = await tx.query<UserRow>(
        `UPDATE users SET role = COALESCE($2::text, role),
           deactivated_at = CASE WHEN $3::boolean IS NULL THEN deactivated_at
                                 WHEN $3::boolean THEN NULL
                                 ELSE COALESCE(deactivated_at, now()) END,
           updated_at = now()
         WHERE id = $1 RETURNING ${USER_COLUMNS}`,
        [id, patch.role ?? null, patch.active ?? null],
      );
      if (!row) return null;
      const [admin] = await tx.query(
        "SELECT 1 FROM users WHERE role = 'admin' AND deactivated_at IS NULL LIMIT 1",
      );
      if (!admin) throw new LastAdminError("the change would leave no active admin");
      if (patch.active === false) {
        await tx.query("DELETE FROM api_tokens WHERE user_id = $1", [id]);
      }
      return toUser(row);
    });
  }

  async verifyPassword(email: string, password: string): Promise<User | null> {
    const [row] = await this.#db.query<UserRow & { password_hash: string }>(
      `SELECT ${USER_COLUMNS}, password_hash FROM users WHERE lower(email) = lower($1)`,
      [email],
    );
    // An unknown email costs the same hash as a wrong password.
    const ok = await verifyPassword(password, row?.password_hash ?? null);
    if (!ok || !row) return null;
    if (needsRehash(row.password_hash)) await this.#rehash(row.id, row.password_hash, password);
    return toUser(row);
  }

  passwordHashingBusy(): boolean {
    return passwordHashing.saturated;
  }

  /** Replaces an old scheme's hash (scrypt) with the current one, unless it changed meanwhile. */
  async #rehash(userId: string, old: string, password: string): Promise<void> {
    try {
      const hash = await hashPassword(password);
      await this.#db.query(
        "UPDATE users SET password_hash = $3 WHERE id = $1 AND password_hash = $2",
        [userId, old, hash],
      );
    } catch (error) {
      // Busy: the sign-in stands, and the next one rehashes.
      if (!(error instanceof PasswordHashingBusyError)) throw error;
    }
  }

  async createToken(
    userId: string,
    kind: "session" | "api",
    options: { name?: string; ttlMs?: number } = {},
  ): Promise<string> {
    if (kind !== "session" && kind !== "api") throw new TypeError(`unknown token kind: ${kind}`);
    const ttlMs = options.ttlMs ?? (kind === "session" ? DEFAULT_SESSION_TTL_MS : undefined);
    const token = newToken();
    await this.#db
      .query(
        `INSERT INTO api_tokens (user_id, token_hash, kind, name, expires_at)
         VALUES ($1, $2, $3, $4,
           CASE WHEN $5::float8 IS NULL THEN NULL ELSE now() + $5::float8 * interval '1 millisecond' END)`,
        [userId, hashToken(token), kind, options.name ?? null, ttlMs ?? null],
      )
      .catch(conflict("unknown user"));
    return token;
  }

  async mayStillRead(
    pairs: ReadonlyArray<readonly [token: string, chatId: string]>,
  ): Promise<boolean[]> {
    if (pairs.length === 0) return [];
    const rows = await this.#db.query<{ i: unknown }>(
      `SELECT p.i FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS p(token_hash, chat_id, i)
         JOIN api_tokens t ON t.token_hash = p.token_hash
                          AND (t.expires_at IS NULL OR t.expires_at > now())
         JOIN users u ON u.id = t.user_id AND u.deactivated_at IS NULL
         JOIN chats c ON c.id = p.chat_id AND (c.owner_id = u.id OR u.role = 'admin')`,
      [
        pairs.map(([token]) => (token.startsWith(TOKEN_PREFIX) ? hashToken(token) : "")),
        pairs.map(([, chat]) => chat),
      ],
    );
    const allowed = new Set(rows.map((row) => Number(row.i)));
    return pairs.map((_, index) => allowed.has(index + 1));
  }

  async userForToken(token: string): Promise<User | null> {
    if (!token.startsWith(TOKEN_PREFIX)) return null;
    const [row] = await this.#db.query<UserRow & { token_id: string; stale: boolean }>(
      `SELECT u.id, u.username, u.email, u.role, true AS active, u.created_at, t.id AS token_id,
         (t.last_used_at IS NULL OR t.last_used_at < now() - interval '${TOKEN_TOUCH_INTERVAL}') AS stale
       FROM api_tokens t JOIN users u ON u.id = t.user_id
       WHERE t.token_hash = $1 AND (t.expires_at IS NULL OR t.expires_at > now())
         AND u.deactivated_at IS NULL`,
      [hashToken(token)],
    );
    if (!row) return null;
    if (row.stale) {
      await this.#db.query("UPDATE api_tokens SET last_used_at = now() WHERE id = $1", [
        row.token_id,
      ]);
    }
    return toUser(row);
  }

  async revokeToken(token: string): Promise<boolean> {
    if (!token.startsWith(TOKEN_PREFIX)) return false;
    const rows = await this.#db.query("DELETE FROM api_tokens WHERE token_hash = $1 RETURNING id", [
      hashToken(token),
    ]);
    return rows.length > 0;
  }
}
