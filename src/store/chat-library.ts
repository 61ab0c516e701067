/**
 * Chats as their owner manages them: the list (pinned first, then by last activity; archived
 * chats in a list of their own), full-text search over titles and message text, the owner's
 * changes (title, model, pin, archive) and deleting a chat for good.
 *
 * Search uses the GIN indexes of migration 12 (`to_tsvector('simple', title)` and
 * `to_tsvector('simple', keel_message_text(parts))`); the expressions below must stay exactly
 * those for the indexes to apply. The last word of a query matches as a prefix, so results narrow
 * while someone types. Pages are keyset cursors that say which order they belong to.
 */
import {
  type ChatHit,
  type ChatListOptions,
  type ChatManagement,
  InvalidCursorError,
  type Store,
} from "./contract.ts";
import type { Database } from "./db.ts";
import { CHAT_COLUMNS, type ChatRow, chatColumns, toChat } from "./rows.ts";
import { Assignments, conflict } from "./sql.ts";
import type { Chat, Page } from "./types.ts";

export const CHAT_LIBRARY_METHODS = [
  "listChats",
  "searchChats",
  "manageChat",
  "deleteChat",
  "lastModelId",
] as const satisfies ReadonlyArray<keyof Store>;

/** A snippet's length bound, in characters (ts_headline's own bounds are in words). */
const SNIPPET_CHARS = 240;

const TITLE_VECTOR = "to_tsvector('simple'::regconfig, c.title)";
const MESSAGE_VECTOR = "to_tsvector('simple'::regconfig, keel_message_text(m.parts))";

/**
 * The tsquery of `$n`: `plainto_tsquery` (every word must match, no syntax to get wrong), with its
 * last lexeme made a prefix (`:*`) unless the query ends in a space (the last word is complete).
 */
function tsquery(param: string, prefix: string): string {
  return `(CASE WHEN ${prefix} THEN regexp_replace(plainto_tsquery('simple', ${param})::text, '''$', ''':*')
           ELSE plainto_tsquery('simple', ${param})::text END)::tsquery`;
}

export class SqlChatLibrary implements Pick<Store, (typeof CHAT_LIBRARY_METHODS)[number]> {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async listChats(ownerId: string | undefined, options: ChatListOptions): Promise<Page<Chat>> {
    const limit = pageSize(options.limit);
    const params: unknown[] = [options.archived === true];
    const where = ["archived = $1"];
    if (ownerId !== undefined) {
      params.push(ownerId);
      where.push(`owner_id = $${params.length}`);
    }
    if (options.before !== undefined && options.before !== "") {
      const [pinned, updatedAt, id] = decodeListCursor(options.before);
      params.push(pinned, updatedAt, id);
      const n = params.length;
      where.push(`(pinned, updated_at, id) < ($${n - 2}, $${n - 1}::timestamptz, $${n})`);
    }
    params.push(limit + 1);
    const rows = await this.#db.query<ChatRow>(
      `SELECT ${CHAT_COLUMNS} FROM chats WHERE ${where.join(" AND ")}
       ORDER BY pinned DESC, updated_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    const items = rows.slice(0, limit).map(toChat);
    const last = items.at(-1);
    return {
      items,
      next_cursor:
        rows.length > limit && last ? encode(["l", last.pinned, last.updated_at, last.id]) : null,
    };
  }

  async searchChats(
    ownerId: string,
    query: string,
    options: ChatListOptions,
  ): Promise<Page<ChatHit>> {
    const limit = pageSize(options.limit);
    // Nothing a word is made of: no lexeme, nothing can match (and PostgreSQL would only warn).
    if (!/[\p{L}\p{N}]/u.test(query)) return { items: [], next_cursor: null };
    const params: unknown[] = [ownerId, options.archived === true, query, !/\s$/u.test(query)];
    let after = "";
    if (options.before !== undefined && options.before !== "") {
      const [rank, updatedAt, id] = decodeSearchCursor(options.before);
      params.push(rank, updatedAt, id);
      after = "WHERE (s.rank, c.updated_at, c.id) < ($5::numeric, $6::timestamptz, $7)";
    }
    params.push(limit + 1);
    // Each chat's rank: its best hit, a title hit counting double (a title says what the chat is
    // about). The snippet comes from its best message hit, written for the page's rows only.
    const rows = await this.#db.query<ChatRow & { rank: string; snippet: string | null }>(
      `WITH q AS (SELECT ${tsquery("$3", "$4")} AS query),
       hits AS (
         SELECT c.id AS chat_id, ts_rank(${TITLE_VECTOR}, q.query) * 2 AS rank,
                NULL::text AS message_id, NULL::bigint AS pos
           FROM chats c, q
          WHERE c.owner_id = $1 AND c.archived = $2 AND ${TITLE_VECTOR} @@ q.query
         UNION ALL
         SELECT m.chat_id, ts_rank(${MESSAGE_VECTOR}, q.query), m.id, m.pos
           FROM messages m JOIN chats c ON c.id = m.chat_id, q
          WHERE c.owner_id = $1 AND c.archived = $2 AND ${MESSAGE_VECTOR} @@ q.query
       ),
       scored AS (
         SELECT chat_id, round(max(rank)::numeric, 6) AS rank,
                (array_agg(message_id ORDER BY rank DESC, pos DESC)
                   FILTER (WHERE message_id IS NOT NULL))[1] AS message_id
           FROM hits GROUP BY chat_id
       ),
       page AS (
         SELECT ${chatColumns("c")}, s.rank, s.message_id AS hit_message_id
           FROM scored s JOIN chats c ON c.id = s.chat_id
           ${after}
          ORDER BY s.rank DESC, c.updated_at DESC, c.id DESC
          LIMIT $${params.length}
       )
       SELECT page.*,
              left(ts_headline('simple', keel_message_text(m.parts), q.query,
                'MaxWords=20, MinWords=8, ShortWord=1, MaxFragments=1, StartSel="", StopSel=""'),
                ${SNIPPET_CHARS}) AS snippet
         FROM page CROSS JOIN q LEFT JOIN messages m ON m.id = page.hit_message_id
        ORDER BY page.rank DESC, page.updated_at DESC, page.id DESC`,
      params,
    );
    const items = rows.slice(0, limit).map((row) => ({
      chat: toChat(row),
      snippet: row.snippet === null ? null : row.snippet.replace(/\s+/gu, " ").trim(),
      rank: row.rank,
    }));
    const last = items.at(-1);
    return {
      items: items.map(({ chat, snippet }) => ({ chat, snippet })),
      next_cursor:
        rows.length > limit && last
          ? encode(["s", String(last.rank), last.chat.updated_at, last.chat.id])
          : null,
    };
  }

  async manageChat(id: string, patch: ChatManagement): Promise<Chat | null> {
    const set = new Assignments();
    if (patch.title !== undefined) set.add("title", patch.title);
    if (patch.model_id !== undefined) set.add("model_id", patch.model_id);
    if (patch.pinned !== undefined) set.add("pinned", patch.pinned);
    if (patch.archived !== undefined) set.add("archived", patch.archived);
    // `updated_at` is the chat's last activity (the list's order): renaming or pinning a chat is
    // not activity, so it keeps its place.
    const assignments = set.sql().replace(/, $/u, "");
    if (assignments === "") {
      const [row] = await this.#db.query<ChatRow>(
        `SELECT ${CHAT_COLUMNS} FROM chats WHERE id = $1`,
        [id],
      );
      return row ? toChat(row) : null;
    }
    const [row] = await this.#db
      .query<ChatRow>(`UPDATE chats SET ${assignments} WHERE id = $1 RETURNING ${CHAT_COLUMNS}`, [
        id,
        ...set.params,
      ])
      .catch(conflict("no model with this id"));
    return row ? toChat(row) : null;
  }

  async deleteChat(id: string): Promise<boolean> {
    // Messages, queued messages and events go with it (ON DELETE CASCADE, migration 1).
    const rows = await this.#db.query("DELETE FROM chats WHERE id = $1 RETURNING id", [id]);
    return rows.length > 0;
  }

  async lastModelId(ownerId: string): Promise<string | null> {
    const [row] = await this.#db.query<{ model_id: string }>(
      `SELECT model_id FROM chats WHERE owner_id = $1
       ORDER BY updated_at DESC, id DESC LIMIT 1`,
      [ownerId],
    );
    return row?.model_id ?? null;
  }
}

function pageSize(limit: number): number {
  return Math.max(1, Math.floor(limit));
}

function encode(value: unknown[]): string {
  return Buffer.from(JSON.stringify(value), "utf8").toString("base64url");
}

function decode(cursor: string): unknown[] | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    return Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

/**
 * A time exactly as `iso` writes it (so `2026-02-30` or `1`, which JavaScript's Date accepts and
 * PostgreSQL does not, are refused) and an id PostgreSQL can compare (no U+0000).
 */
function validTimeAndId(time: unknown, id: unknown): time is string {
  return (
    typeof time === "string" &&
    typeof id === "string" &&
    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(time) &&
    !time.startsWith("0000") &&
    new Date(time).toISOString() === time &&
    id.length <= 100 &&
    !id.includes("\0")
  );
}

/** A cursor of the list (`["l", pinned, updated_at, id]`). */
function decodeListCursor(cursor: string): [boolean, string, string] {
  const value = decode(cursor);
  if (value?.length === 4 && value[0] === "l" && typeof value[1] === "boolean") {
    const [, pinned, time, id] = value;
    if (validTimeAndId(time, id)) return [pinned as boolean, time, id as string];
  }
  throw new InvalidCursorError("invalid page cursor");
}

/** A cursor of a search (`["s", rank, updated_at, id]`; the rank a decimal, as PostgreSQL wrote it). */
function decodeSearchCursor(cursor: string): [string, string, string] {
  const value = decode(cursor);
  if (value?.length === 4 && value[0] === "s" && typeof value[1] === "string") {
    const [, rank, time, id] = value;
    if (/^\d{1,6}(\.\d{1,6})?$/.test(rank as string) && validTimeAndId(time, id)) {
      return [rank as string, time, id as string];
    }
  }
  throw new InvalidCursorError("invalid page cursor");
}
