/**
 * `Store` over a `Database`: every query Keel runs, plain PostgreSQL 15 and later. The few places
 * where one server and several differ (only an external PostgreSQL has other replicas to NOTIFY)
 * ask `db.shared`.
 */
import { randomUUID } from "node:crypto";
import {
  type AuditEntry,
  type AuditStore,
  auditParams,
  insertAudit,
  SqlAuditStore,
} from "./audit.ts";
import { CATALOG_METHODS, SqlCatalog } from "./catalog.ts";
import { type Announce, type StoreEvent, StoreEvents } from "./chat-events.ts";
import { CHAT_LIBRARY_METHODS, SqlChatLibrary } from "./chat-library.ts";
import { type ChatRetentionStore, SqlChatRetention } from "./chat-retention.ts";
import {
  type ChatEvents,
  type ChatSignals,
  ConflictError,
  type DeploymentSettingsStore,
  type McpServerStore,
  type NewMessage,
  type RewindRequest,
  type RewindResult,
  type SignInLimitStore,
  type StatusChange,
  type Store,
  type StoreOptions,
  type UserPreferencesStore,
  type WorkspaceStore,
} from "./contract.ts";
import type { Database, Queryable } from "./db.ts";
import { SqlDeploymentSettingsStore } from "./deployment-settings.ts";
import { GROUP_METHODS, SqlGroups } from "./groups.ts";
import { SqlMcpServerStore } from "./mcp-servers.ts";
import { publicMessage, type TruncatedEventData } from "./public.ts";
import { CACHE_CHANNEL, ReadCache } from "./read-cache.ts";
import {
  CHAT_COLUMNS,
  type ChatRow,
  chatColumns,
  int,
  json,
  jsonOrNull,
  MESSAGE_COLUMNS,
  type MessageRow,
  QUEUED_MESSAGE_COLUMNS,
  type QueuedMessageRow,
  toChat,
  toMessage,
  toQueuedMessage,
} from "./rows.ts";
import { FINGERPRINT_SETTING, keyFingerprint, SecretKeyError } from "./secrets.ts";
import { SqlSignInLimitStore } from "./signin-limits.ts";
import { type SpendLimitStore, SqlSpendLimitStore } from "./spend-limits.ts";
import { Assignments, conflict, must } from "./sql.ts";
import type {
  Chat,
  ChatErrorRecord,
  ChatStatus,
  Message,
  MessagePart,
  QueuedMessage,
} from "./types.ts";
import { METERED_COLUMNS, METERED_UPDATES, meteredValues } from "./usage.ts";
import { SqlUsageStore, type UsageStore } from "./usage-report.ts";
import { SqlUserPreferencesStore } from "./user-preferences.ts";
import { SqlUsers, USER_METHODS } from "./users.ts";
import { SqlWorkspaceStore } from "./workspaces.ts";

const FINGERPRINT_KEY = FINGERPRINT_SETTING;

/**
 * Records the server key's fingerprint in the database at open. A different key is refused while
 * any provider key is encrypted under the recorded one (its ciphertexts would be unreadable);
 * with no encrypted keys yet the new key is simply adopted.
 */
export async function checkSecretKey(db: Database, key: Buffer): Promise<void> {
  const fingerprint = keyFingerprint(key);
  await db.transaction(async (tx) => {
    await tx.query(
      "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
      [FINGERPRINT_KEY, fingerprint],
    );
    const [row] = await tx.query<{ value: string }>(
      "SELECT value FROM settings WHERE key = $1 FOR UPDATE",
      [FINGERPRINT_KEY],
    );
    if (row?.value === fingerprint) return;
    const [used] = await tx.query(
      `SELECT 1 FROM providers
        WHERE api_key_encrypted IS NOT NULL OR secret_options_encrypted IS NOT NULL
       UNION ALL SELECT 1 FROM mcp_servers WHERE headers_encrypted IS NOT NULL LIMIT 1`,
    );
    if (used) {
      throw new SecretKeyError(
        "this server's secret key (KEEL_SECRET_KEY or <data dir>/secret.key) is not the one the " +
          "database's provider API keys were encrypted with; every server sharing a database " +
          "needs the same key",
      );
    }
    await tx.query("UPDATE settings SET value = $2 WHERE key = $1", [FINGERPRINT_KEY, fingerprint]);
  });
}

/** Binds `names` of `source` onto `target`, so `target.name(…)` runs `source.name(…)`. */
function delegate<T extends object>(target: object, source: T, names: readonly (keyof T)[]): void {
  for (const name of names) {
    const method = source[name];
    if (typeof method === "function") {
      Object.defineProperty(target, name, {
        value: method.bind(source),
        enumerable: false,
        writable: true,
        configurable: true,
      });
    }
  }
}

/**
 * The one `Store`: users (`users.ts`), providers and models (`catalog.ts`), workspaces, settings,
 * MCP servers and sign-in limits (their own modules) — and here, chats, messages, their ownership
 * by chatd, and their events and signals, which share one transaction discipline (`#changing`).
 */
export class SqlStore implements Store {
  // Users and tokens (`users.ts`), providers and models (`catalog.ts`): bound in the constructor.
  declare readonly countUsers: Store["countUsers"];
  declare readonly createFirstUser: Store["createFirstUser"];
  declare readonly createUser: Store["createUser"];
  declare readonly getUser: Store["getUser"];
  declare readonly listUsers: Store["listUsers"];
  declare readonly updateUser: Store["updateUser"];
  declare readonly verifyPassword: Store["verifyPassword"];
  declare readonly passwordHashingBusy: Store["passwordHashingBusy"];
  declare readonly createToken: Store["createToken"];
  declare readonly userForToken: Store["userForToken"];
  declare readonly mayStillRead: Store["mayStillRead"];
  declare readonly revokeToken: Store["revokeToken"];
  declare readonly createProvider: Store["createProvider"];
  declare readonly getProvider: Store["getProvider"];
  declare readonly listProviders: Store["listProviders"];
  declare readonly updateProvider: Store["updateProvider"];
  declare readonly deleteProvider: Store["deleteProvider"];
  declare readonly providerConfig: Store["providerConfig"];
  declare readonly createModel: Store["createModel"];
  declare readonly getModel: Store["getModel"];
  declare readonly listModels: Store["listModels"];
  declare readonly updateModel: Store["updateModel"];
  declare readonly deleteModel: Store["deleteModel"];
  // Groups and model access (`groups.ts`).
  declare readonly createGroup: Store["createGroup"];
  declare readonly getGroup: Store["getGroup"];
  declare readonly listGroups: Store["listGroups"];
  declare readonly updateGroup: Store["updateGroup"];
  declare readonly deleteGroup: Store["deleteGroup"];
  declare readonly modelGroupIds: Store["modelGroupIds"];
  declare readonly setModelGroups: Store["setModelGroups"];
  declare readonly mayUseModel: Store["mayUseModel"];
  // The owner's view of chats (`chat-library.ts`): list, search, manage, delete.
  declare readonly listChats: Store["listChats"];
  declare readonly searchChats: Store["searchChats"];
  declare readonly manageChat: Store["manageChat"];
  declare readonly deleteChat: Store["deleteChat"];
  declare readonly lastModelId: Store["lastModelId"];
  readonly kind: "embedded" | "external";
  readonly events: ChatEvents;
  readonly signals: ChatSignals;
  readonly workspaces: WorkspaceStore;
  readonly usage: UsageStore;
  readonly signInLimits: SignInLimitStore;
  readonly deploymentSettings: DeploymentSettingsStore;
  readonly userPreferences: UserPreferencesStore;
  readonly mcpServers: McpServerStore;
  readonly spendLimits: SpendLimitStore;
  readonly audit: AuditStore;
  readonly chatRetention: ChatRetentionStore;
  /** Identifies this store's NOTIFYs, so it skips its own (already delivered locally). */
  readonly instanceId = randomUUID();
  readonly #db: Database;
  readonly #events: StoreEvents;
  readonly #cache: ReadCache;
  #unlisten: (() => Promise<void>) | undefined;
  #closed = false;

  constructor(db: Database, key: Buffer, warn?: StoreOptions["warn"]) {
    this.#db = db;
    this.kind = db.kind;
    this.#events = new StoreEvents(db, this.instanceId, warn ?? stderrWarning);
    delegate(this, new SqlUsers(db), USER_METHODS);
    this.#cache = new ReadCache(db, this.instanceId);
    delegate(this, new SqlCatalog(db, key, this.#cache), CATALOG_METHODS);
    delegate(this, new SqlChatLibrary(db), CHAT_LIBRARY_METHODS);
    delegate(this, new SqlGroups(db, this.#cache), GROUP_METHODS);
    this.workspaces = new SqlWorkspaceStore(db);
    this.usage = new SqlUsageStore(db);
    this.signInLimits = new SqlSignInLimitStore(db);
    this.deploymentSettings = new SqlDeploymentSettingsStore(db, this.#cache);
    this.userPreferences = new SqlUserPreferencesStore(db, this.#cache);
    this.mcpServers = new SqlMcpServerStore(db, key);
    this.spendLimits = new SqlSpendLimitStore(db, this.#cache, this.deploymentSettings);
    this.audit = new SqlAuditStore(db);
    this.chatRetention = new SqlChatRetention(db);
    this.events = this.#events.events;
    this.signals = this.#events.signals;
  }

  /** Starts the LISTEN connection (external PostgreSQL only: the embedded one has no other replica). */
  async start(): Promise<void> {
    if (!this.#db.shared) return;
    this.#unlisten = await this.#db.listen(
      [...this.#events.channels, CACHE_CHANNEL],
      (channel, payload) => {
        if (channel === CACHE_CHANNEL) this.#cache.onNotification(payload);
        else this.#events.onNotification(channel, payload);
      },
      () => {
        this.#cache.clear();
        this.#events.onReconnect();
      },
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#events.close();
    await this.#unlisten?.().catch(() => {});
    await this.#db.close();
  }

  // ---- chats and messages --------------------------------------------------------------------

  /**
   * One statement (a burst of new chats is a burst of these): the chat, its first message, and
   * their `message` and `status: pending` events, seqs 1 and 2. Ids and the message's time are
   * made here, so the `message` event is built before the row exists. No NOTIFY: nobody can be
   * following a chat before its id is known.
   */
  async createChat(input: {
    owner_id: string;
    model_id: string;
    title: string;
    workspace_id?: string | null;
    first_message: MessagePart[];
    audit?: AuditEntry;
  }): Promise<{ chat: Chat; message: Message }> {
    const chatId = randomUUID();
    const audit = input.audit && {
      ...input.audit,
      target: { type: "chat", id: chatId, name: input.title },
    };
    const message: Message = {
      id: randomUUID(),
      chat_id: chatId,
      role: "user",
      parts: input.first_message,
      usage: null,
      model_id: null,
      in_progress: false,
      stopped: false,
      retries: null,
      cost_usd: null,
      created_at: new Date().toISOString(),
    };
    const [row] = await this.#db
      .query<ChatRow>(audit ? CREATE_CHAT_AUDITED : CREATE_CHAT, [
        chatId,
        input.owner_id,
        input.model_id,
        input.title,
        input.workspace_id ?? null,
        message.id,
        json(message.parts),
        message.created_at,
        json(messageEvent(message).data),
        json(statusEvent("pending").data),
        ...(audit ? auditParams(audit) : []),
      ])
      .catch(conflict("unknown owner or model"));
    const chat = toChat(must(row));
    // Its stream, opened next (from the start), is served from memory.
    const at = chat.created_at;
    this.#events.committed([
      { chat_id: chat.id, seq: 1, created_at: at, ...messageEvent(message) },
      { chat_id: chat.id, seq: 2, created_at: at, ...statusEvent("pending") },
    ]);
    return { chat: { ...chat, last_event_seq: 2 }, message };
  }

  async getChat(id: string): Promise<Chat | null> {
    const [row] = await this.#db.query<ChatRow>(`SELECT ${CHAT_COLUMNS} FROM chats WHERE id = $1`, [
      id,
    ]);
    if (!row) return null;
    const chat = toChat(row);
    // Owned here: its newest event may be a delta not yet in the table.
    const local = this.#events.lastPublished(id);
    return local !== undefined && local > chat.last_event_seq
      ? { ...chat, last_event_seq: local }
      : chat;
  }

  async updateChat(
    id: string,
    patch: Partial<{
      title: string;
      model_id: string;
      archived: boolean;
      last_error: ChatErrorRecord | null;
    }>,
  ): Promise<Chat | null> {
    const set = new Assignments();
    if (patch.title !== undefined) set.add("title", patch.title);
    if (patch.model_id !== undefined) set.add("model_id", patch.model_id);
    if (patch.archived !== undefined) set.add("archived", patch.archived);
    if (patch.last_error !== undefined)
      set.add("last_error", jsonOrNull(patch.last_error), "jsonb");
    const [row] = await this.#db
      .query<ChatRow>(
        `UPDATE chats SET ${set.sql()}updated_at = now() WHERE id = $1 RETURNING ${CHAT_COLUMNS}`,
        [id, ...set.params],
      )
      .catch(conflict("no model with this id"));
    return row ? toChat(row) : null;
  }

  async insertMessage(chatId: string, message: NewMessage): Promise<Message> {
    const [row] = await this.#db
      .query<MessageRow>(
        `WITH m AS (
           INSERT INTO messages (id, chat_id, role, parts, usage, model_id, in_progress, stopped,
             retries, ${METERED_COLUMNS})
           VALUES (COALESCE($1, gen_random_uuid()::text), $2, $3, $4::jsonb, $5::jsonb, $6, $7, $8,
             $9::jsonb, ${METERED_VALUES})
           RETURNING ${MESSAGE_COLUMNS}
         ), touched AS (
           UPDATE chats SET updated_at = now() WHERE id = $2
         )
         SELECT * FROM m`,
        messageParams(chatId, message),
      )
      .catch(conflict("a message with this id exists, or the chat or model does not"));
    return toMessage(must(row));
  }

  /**
   * Insert, or replace the content of the message with this id (same chat and role) in place:
   * its `pos`, and so its place in the transcript, is the one of the first save.
   */
  async saveMessage(chatId: string, message: NewMessage & { id: string }): Promise<Message> {
    const [row] = await this.#db
      .query<MessageRow>(
        `WITH m AS (
           INSERT INTO messages AS old (id, chat_id, role, parts, usage, model_id, in_progress,
             stopped, retries, ${METERED_COLUMNS})
           VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7, $8, $9::jsonb, ${METERED_VALUES})
           ON CONFLICT (id) DO UPDATE SET parts = excluded.parts, usage = excluded.usage,
             model_id = excluded.model_id, in_progress = excluded.in_progress,
             stopped = excluded.stopped, retries = excluded.retries, ${METERED_UPDATES}
           WHERE old.chat_id = excluded.chat_id AND old.role = excluded.role
           RETURNING ${MESSAGE_COLUMNS}
         ), touched AS (
           UPDATE chats SET updated_at = now() WHERE id = $2
         )
         SELECT * FROM m`,
        messageParams(chatId, message),
      )
      .catch(conflict("the chat or the model does not exist"));
    if (!row) throw new ConflictError("a message with this id belongs to another chat or role");
    return toMessage(row);
  }

  async deleteMessage(chatId: string, id: string): Promise<boolean> {
    const rows = await this.#db.query(
      "DELETE FROM messages WHERE id = $1 AND chat_id = $2 RETURNING id",
      [id, chatId],
    );
    return rows.length > 0;
  }

  async listMessages(chatId: string): Promise<Message[]> {
    const rows = await this.#db.query<MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE chat_id = $1 ORDER BY pos`,
      [chatId],
    );
    return rows.map(toMessage);
  }

  async listQueuedMessages(chatId: string): Promise<QueuedMessage[]> {
    const rows = await this.#db.query<QueuedMessageRow>(
      `SELECT ${QUEUED_MESSAGE_COLUMNS} FROM queued_messages WHERE chat_id = $1 ORDER BY id`,
      [chatId],
    );
    return rows.map(toQueuedMessage);
  }

  /**
   * A user's new message, decided under the chat row's lock (so it cannot race a worker taking
   * or releasing the chat):
   * - `running`: a turn is in progress and has already read the history, so the message waits in
   *   `queued_messages`; the worker drains it when the turn ends (`drainQueuedMessages`), and
   *   `releaseChat` moves anything still queued into the transcript.
   * - `pending`: a turn is scheduled but has not started; it reads the history when it starts, so
   *   the message is appended to the transcript now and the chat stays `pending`.
   * - `waiting` / `error`: appended now; the chat becomes `pending` and `last_error` is cleared.
   * An appended message's `message` event, and the `status: pending` event of a chat that was not
   * pending yet, are appended in the same transaction: a worker polling for pending chats cannot
   * claim it (and announce `running`) before they are in the log.
   * Returns the appended message, or null when it was queued. Throws if the chat does not exist.
   */
  async enqueueUserMessage(
    chatId: string,
    parts: MessagePart[],
    audit?: AuditEntry,
  ): Promise<{ appended: Message | null }> {
    return this.#events.changing(async (tx, announce) => {
      const [chat] = await tx.query<{ status: string }>(
        "SELECT status FROM chats WHERE id = $1 FOR UPDATE",
        [chatId],
      );
      if (!chat) throw new Error(`chat ${chatId} does not exist`);
      await insertAudit(tx, audit);
      if (chat.status === "running") {
        await tx.query("INSERT INTO queued_messages (chat_id, parts) VALUES ($1, $2::jsonb)", [
          chatId,
          json(parts),
        ]);
        return { appended: null };
      }
      const [row] = await tx.query<MessageRow>(
        `INSERT INTO messages (chat_id, role, parts) VALUES ($1, 'user', $2::jsonb)
         RETURNING ${MESSAGE_COLUMNS}`,
        [chatId, json(parts)],
      );
      await tx.query(
        `UPDATE chats SET status = 'pending', worker_id = NULL, heartbeat_at = NULL,
           last_error = NULL, updated_at = now() WHERE id = $1`,
        [chatId],
      );
      const appended = toMessage(must(row));
      await announce(chatId, messageEvent(appended));
      if (chat.status !== "pending") await announce(chatId, statusEvent("pending"));
      return { appended };
    });
  }

  /**
   * Edit and rerun / regenerate (see the contract). Decided under the chat row's lock, like a new
   * message: a worker cannot claim the chat between the truncation and its `pending`, and a turn
   * that runs refuses it (`running`) rather than having its history cut under it. The deleted
   * messages are gone for good: the `truncated` event tells clients which ones left.
   */
  async rewindChat(chatId: string, request: RewindRequest): Promise<RewindResult> {
    return this.#events.changing(async (tx, announce): Promise<RewindResult> => {
      const [chat] = await tx.query<{ status: string; archived: boolean }>(
        "SELECT status, archived FROM chats WHERE id = $1 FOR UPDATE",
        [chatId],
      );
      if (!chat) return { ok: false, reason: "no_chat" };
      if (chat.archived) return { ok: false, reason: "archived" };
      const [target] = await tx.query<MessageRow & { pos: unknown }>(
        request.message_id === undefined
          ? `SELECT ${MESSAGE_COLUMNS}, pos FROM messages WHERE chat_id = $1 AND role = 'user'
             ORDER BY pos DESC LIMIT 1`
          : `SELECT ${MESSAGE_COLUMNS}, pos FROM messages WHERE chat_id = $1 AND id = $2`,
        request.message_id === undefined ? [chatId] : [chatId, request.message_id],
      );
      if (!target) return { ok: false, reason: "no_message" };
      if (target.role !== "user") return { ok: false, reason: "not_user" };
      // After the message's checks: an edit that would be refused anyway stops no turn.
      if (chat.status === "running") return { ok: false, reason: "running" };
      await insertAudit(tx, request.audit);
      const removed = await tx.query<{ id: string }>(
        `DELETE FROM messages WHERE chat_id = $1 AND pos > $2 RETURNING id, pos`,
        [chatId, target.pos],
      );
      // Messages queued behind a turn that has since ended were moved already; any left would
      // follow the rerun message, so they go too (a Stop sent just before moves them first).
      const unqueued = await tx.query<{ message_id: string }>(
        "DELETE FROM queued_messages WHERE chat_id = $1 RETURNING message_id",
        [chatId],
      );
      let message = toMessage(target);
      if (request.parts !== undefined) {
        const [edited] = await tx.query<MessageRow>(
          `UPDATE messages SET parts = $2::jsonb WHERE id = $1 RETURNING ${MESSAGE_COLUMNS}`,
          [target.id, json(request.parts)],
        );
        message = toMessage(must(edited));
      }
      await tx.query(
        `UPDATE chats SET status = 'pending', worker_id = NULL, heartbeat_at = NULL,
           last_error = NULL, updated_at = now() WHERE id = $1`,
        [chatId],
      );
      const ids = [...removed.map((row) => row.id), ...unqueued.map((row) => row.message_id)];
      if (ids.length > 0) {
        await announce(chatId, truncatedEvent({ after_message_id: target.id, message_ids: ids }));
      }
      if (request.parts !== undefined) await announce(chatId, messageEvent(message));
      if (chat.status !== "pending") await announce(chatId, statusEvent("pending"));
      return { ok: true, message, removed: ids, status: "pending" };
    });
  }

  async requestCompaction(chatId: string, audit?: AuditEntry): Promise<StatusChange | null> {
    const change = await this.#events.changing(async (tx, announce) => {
      const [chat] = await tx.query<{ status: string }>(
        "SELECT status FROM chats WHERE id = $1 FOR UPDATE",
        [chatId],
      );
      if (!chat) return null;
      await insertAudit(tx, audit);
      const idle = chat.status === "waiting" || chat.status === "error";
      await tx.query(
        `UPDATE chats SET compact_requested = true, updated_at = now(),
           status = CASE WHEN $2 THEN 'pending' ELSE status END,
           last_error = CASE WHEN $2 THEN NULL ELSE last_error END
         WHERE id = $1`,
        [chatId, idle],
      );
      if (idle) await announce(chatId, statusEvent("pending"));
      return {
        applied: true,
        status: (idle ? "pending" : chat.status) as ChatStatus,
        moved: [],
      } satisfies StatusChange;
    });
    if (change?.status === "pending") {
      await this.#events.sendSignal({ type: "pending", chat_id: chatId }).catch(() => {});
    }
    return change;
  }

  async clearCompactionRequest(chatId: string): Promise<void> {
    await this.#db.query("UPDATE chats SET compact_requested = false WHERE id = $1", [chatId]);
  }

  /**
   * One statement, no lock on the chat's row (a group commit of the chat's events must not wait
   * behind it): a message queued concurrently either is moved here or stays queued for the next
   * drain or the release, which moves it under the row's lock.
   */
  async drainQueuedMessages(chatId: string): Promise<Message[]> {
    const rows = await this.#db.query<MessageRow & { pos: unknown }>(DRAIN_QUEUED, [chatId]);
    return rows.sort((a, b) => int(a.pos) - int(b.pos)).map(toMessage);
  }

  // ---- chatd: ownership ----------------------------------------------------------------------

  async acquireChats(workerId: string, limit: number): Promise<Chat[]> {
    if (limit <= 0) return [];
    const claimed = await this.#events.changing(async (tx, announce) => {
      const rows = await tx.query<ChatRow>(
        `UPDATE chats c SET status = 'running', worker_id = $1, heartbeat_at = now(), updated_at = now()
         FROM (
           SELECT id FROM chats WHERE status = 'pending' AND NOT archived
           ORDER BY updated_at, id LIMIT $2 FOR UPDATE SKIP LOCKED
         ) p
         WHERE c.id = p.id
         RETURNING ${chatColumns("c")}`,
        [workerId, Math.floor(limit)],
      );
      const chats = rows.map(toChat);
      // One statement for all of them: a claim of 200 chats is not 200 round trips.
      const running =
        chats.length > 0
          ? await announce.toEach(
              chats.map((chat) => chat.id),
              statusEvent("running"),
            )
          : [];
      return { chats, running };
    });
    // From here on this replica numbers their events (the claim is committed).
    for (const event of claimed.running) this.#events.claimed(workerId, event);
    return claimed.chats.map((chat) => {
      const seq = claimed.running.find((event) => event.chat_id === chat.id)?.seq;
      return seq === undefined ? chat : { ...chat, last_event_seq: seq };
    });
  }

  async heartbeat(workerId: string, chatIds: string[]): Promise<string[]> {
    if (chatIds.length === 0) return [];
    const rows = await this.#db.query<{ id: string }>(
      `UPDATE chats SET heartbeat_at = now()
       WHERE id = ANY($2::text[]) AND worker_id = $1 AND status = 'running'
       RETURNING id`,
      [workerId, chatIds],
    );
    const kept = new Set(rows.map((row) => row.id));
    const lost = chatIds.filter((id) => !kept.has(id));
    for (const id of lost) this.#events.released(id);
    return lost;
  }

  /**
   * Ends `workerId`'s ownership (not applied, changing nothing, if it no longer owns the chat).
   * `last_error`: set to `lastError` when given; with `status` `error` and no `lastError` it is
   * kept; any other status clears it. Messages still queued (sent after the turn's last drain) are
   * moved into the transcript and the chat becomes `pending` instead, so a message is never
   * stranded behind a finished turn. Their `message` events and the `status` event are appended
   * in the transaction (a user message sent just as the turn ends cannot put its `pending` before
   * this `waiting`); when messages were moved, a `pending` signal follows the commit.
   */
  async releaseChat(
    chatId: string,
    workerId: string,
    status: ChatStatus,
    lastError?: ChatErrorRecord | null,
  ): Promise<StatusChange> {
    checkIdleStatus(status);
    let change: StatusChange;
    try {
      // Every event this replica numbered is persisted first; the release continues after them.
      let last: number | undefined;
      try {
        last = await this.#events.settle(chatId);
      } catch {
        return notApplied(); // lost meanwhile: another replica took the chat over
      }
      change = await this.#events.changing(async (tx, announce) => {
        const rows = await tx.query(
          `UPDATE chats SET status = $3, worker_id = NULL, heartbeat_at = NULL, updated_at = now(),
             last_error = CASE WHEN $4::boolean THEN $5::jsonb
                               WHEN $3 = 'error' THEN last_error ELSE NULL END,
             last_event_seq = GREATEST(last_event_seq, COALESCE($6::bigint, 0))
           WHERE id = $1 AND worker_id = $2 AND status = 'running'
           RETURNING id`,
          [chatId, workerId, status, lastError !== undefined, jsonOrNull(lastError), last ?? null],
        );
        if (rows.length === 0) return notApplied();
        return settle(tx, announce, chatId, "running", status, true);
      });
    } finally {
      this.#events.released(chatId);
    }
    await this.#signalIfRequeued(chatId, change, status);
    return change;
  }

  async recoverStaleChats(
    staleMs: number,
    previousRunOf?: string,
  ): Promise<Array<{ chat_id: string; moved: Message[] }>> {
    return this.#events.changing(async (tx, announce) => {
      const rows = await tx.query<{ id: string }>(
        `UPDATE chats SET status = 'pending', worker_id = NULL, heartbeat_at = NULL
         WHERE status = 'running'
           AND (heartbeat_at IS NULL OR heartbeat_at < now() - $1::float8 * interval '1 millisecond'
                OR worker_id = $2)
         RETURNING id`,
        [staleMs, previousRunOf ?? null],
      );
      await this.#events.skipPastDeadRuns(
        tx,
        rows.map((row) => row.id),
      );
      const recovered: Array<{ chat_id: string; moved: Message[] }> = [];
      for (const row of rows) {
        await announceUnannounced(tx, announce, row.id);
        const change = await settle(tx, announce, row.id, "running", "pending");
        recovered.push({ chat_id: row.id, moved: change.moved });
      }
      return recovered;
    });
  }

  /**
   * Sets `status` without owning the chat; any owner loses it (its next heartbeat reports the
   * chat lost). `running` needs an owner, so it is refused: use `acquireChats`. Queued messages
   * and events as in `releaseChat`.
   */
  async setStatus(chatId: string, status: ChatStatus): Promise<StatusChange> {
    checkIdleStatus(status);
    const change = await this.#events.changing(async (tx, announce) => {
      const [row] = await tx.query<{ status: string }>(
        "SELECT status FROM chats WHERE id = $1 FOR UPDATE",
        [chatId],
      );
      if (!row) return notApplied();
      // Its owner, if any, loses it: numbering goes on past what that owner handed out.
      if (row.status === "running") {
        await this.#events.skipPastDeadRuns(tx, [chatId]);
        await announceUnannounced(tx, announce, chatId);
      }
      await tx.query(
        `UPDATE chats SET status = $2, worker_id = NULL, heartbeat_at = NULL, updated_at = now(),
           last_error = CASE WHEN $2 = 'error' THEN last_error ELSE NULL END,
           compact_requested = compact_requested AND $2 = 'pending'
         WHERE id = $1`,
        [chatId, status],
      );
      return settle(tx, announce, chatId, row.status as ChatStatus, status);
    });
    await this.#signalIfRequeued(chatId, change, status);
    return change;
  }

  /**
   * `setStatus`, only while the chat is `from` and unowned — decided by the UPDATE itself, under
   * the row lock, so a concurrent `acquireChats` (which needs the same lock) either claims the chat
   * first (nothing applies) or finds it no longer pending.
   */
  async setStatusIf(chatId: string, from: ChatStatus, to: ChatStatus): Promise<StatusChange> {
    checkIdleStatus(from);
    checkIdleStatus(to);
    const change = await this.#events.changing(async (tx, announce) => {
      const rows = await tx.query(
        `UPDATE chats SET status = $3, worker_id = NULL, heartbeat_at = NULL, updated_at = now(),
           last_error = CASE WHEN $3 = 'error' THEN last_error ELSE NULL END,
           compact_requested = compact_requested AND $3 = 'pending'
         WHERE id = $1 AND status = $2 AND worker_id IS NULL
         RETURNING id`,
        [chatId, from, to],
      );
      if (rows.length === 0) return notApplied();
      return settle(tx, announce, chatId, from, to);
    });
    await this.#signalIfRequeued(chatId, change, to);
    return change;
  }

  /** Queued messages were moved into the transcript, which made the chat pending: a turn must
   * answer them, so every replica hears of it at once. */
  async #signalIfRequeued(chatId: string, change: StatusChange, asked: ChatStatus): Promise<void> {
    if (change.status === "pending" && asked !== "pending") {
      await this.#events.sendSignal({ type: "pending", chat_id: chatId }).catch(() => {});
    }
  }
}

// ---- helpers ----

function stderrWarning(message: string, fields?: Record<string, unknown>): void {
  process.stderr.write(`${JSON.stringify({ level: "warn", msg: message, ...fields })}\n`);
}

// ---- more helpers ---------------------------------------------------------------------------------

/**
 * A takeover: the messages the dead owner saved but whose `message` event it never got out (it
 * died between the row and the event's commit) are announced now, before the chat's `pending`,
 * so a client following the stream has every message `GET /chats/{id}` shows. A message still
 * `in_progress` is the next turn's to settle and announce.
 */
async function announceUnannounced(
  tx: Queryable,
  announce: Announce,
  chatId: string,
): Promise<void> {
  const rows = await tx.query<MessageRow>(
    `SELECT ${MESSAGE_COLUMNS} FROM messages
      WHERE chat_id = $1 AND NOT in_progress
        AND id NOT IN (SELECT data->'message'->>'id' FROM chat_events
                        WHERE chat_id = $1 AND type = 'message'
                          AND data->'message'->>'id' IS NOT NULL)
      ORDER BY pos`,
    [chatId],
  );
  for (const row of rows) await announce(chatId, messageEvent(toMessage(row)));
}

/** `createChat`: `$1`–`$5` the chat, `$6`–`$8` its first message, `$9`/`$10` the events' data. */
const CREATE_CHAT = `
  WITH c AS (
    INSERT INTO chats (id, owner_id, model_id, title, workspace_id, status, last_event_seq)
    VALUES ($1, $2, $3, $4, $5, 'pending', 2)
    RETURNING ${chatColumns("chats", "2")}
  ), m AS (
    INSERT INTO messages (id, chat_id, role, parts, created_at)
    SELECT $6, c.id, 'user', $7::jsonb, $8::timestamptz FROM c
    RETURNING id
  ), e AS (
    INSERT INTO chat_events (chat_id, seq, type, data)
    SELECT c.id, 1, 'message', $9::jsonb FROM c JOIN m ON true
    UNION ALL
    SELECT c.id, 2, 'status', $10::jsonb FROM c
    RETURNING seq
  )
  SELECT c.*, (SELECT count(*) FROM e) AS events FROM c`;

/** `CREATE_CHAT` with the chat's audit row (`audit.ts`): one statement, one commit. */
const CREATE_CHAT_AUDITED = CREATE_CHAT.replace(
  "\n  SELECT c.*",
  `, a AS (
    INSERT INTO audit_events (actor_type, actor_id, actor_name, action, target_type, target_id,
      target_name, source_address, user_agent, outcome, error, changes)
    SELECT $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22::jsonb FROM c
  )
  SELECT c.*`,
);

/** `moveQueued` in one statement, touching the chat's `updated_at` only when something moved. */
const DRAIN_QUEUED = `
  WITH q AS (
    DELETE FROM queued_messages WHERE chat_id = $1 RETURNING id, message_id, parts
  ), m AS (
    INSERT INTO messages (id, chat_id, role, parts)
    SELECT message_id, $1, 'user', parts FROM q ORDER BY id
    RETURNING ${MESSAGE_COLUMNS}, pos
  ), touched AS (
    UPDATE chats SET updated_at = now() WHERE id = $1 AND EXISTS (SELECT 1 FROM m)
  )
  SELECT * FROM m`;

/**
 * Moves the chat's queued messages into its transcript, oldest first; returns them in order. Each
 * keeps the id it was listed with in the queue (`message_id`).
 */
async function moveQueued(tx: Queryable, chatId: string): Promise<Message[]> {
  const rows = await tx.query<MessageRow & { pos: unknown }>(
    `WITH q AS (
       DELETE FROM queued_messages WHERE chat_id = $1 RETURNING id, message_id, parts
     )
     INSERT INTO messages (id, chat_id, role, parts)
     SELECT message_id, $1, 'user', parts FROM q ORDER BY id
     RETURNING ${MESSAGE_COLUMNS}, pos`,
    [chatId],
  );
  return rows.sort((a, b) => int(a.pos) - int(b.pos)).map(toMessage);
}

function statusEvent(status: ChatStatus): StoreEvent {
  return { type: "status", data: { status } };
}

function truncatedEvent(data: TruncatedEventData): StoreEvent {
  return { type: "truncated", data };
}

function messageEvent(message: Message): StoreEvent {
  return { type: "message", data: { message: publicMessage(message) } };
}

function notApplied(): StatusChange {
  return { applied: false, status: null, moved: [] };
}

/**
 * After a chat's row was set to `status` (unowned), in the same transaction: queued messages go to
 * the transcript and the chat to `pending`; announces the moved messages, then the status if it
 * changed from `previous`.
 */
async function settle(
  tx: Queryable,
  announce: Announce,
  chatId: string,
  previous: ChatStatus,
  status: ChatStatus,
  requeueCompaction = false,
): Promise<StatusChange> {
  const moved = await moveQueued(tx, chatId);
  let now = status;
  // A compaction still asked for: the chat goes back to pending to run it (see requestCompaction).
  const [flag] =
    requeueCompaction && moved.length === 0 && status !== "pending"
      ? await tx.query<{ compact_requested: boolean }>(
          "SELECT compact_requested FROM chats WHERE id = $1",
          [chatId],
        )
      : [];
  if (moved.length > 0 || flag?.compact_requested === true) {
    await tx.query(
      "UPDATE chats SET status = 'pending', last_error = NULL, updated_at = now() WHERE id = $1",
      [chatId],
    );
    now = "pending";
  }
  for (const message of moved) await announce(chatId, messageEvent(message));
  if (now !== previous) await announce(chatId, statusEvent(now));
  return { applied: true, status: now, moved };
}

function messageParams(chatId: string, message: NewMessage): unknown[] {
  return [
    message.id ?? null,
    chatId,
    message.role,
    json(message.parts),
    jsonOrNull(message.usage),
    message.model_id ?? null,
    message.in_progress ?? false,
    message.stopped ?? false,
    jsonOrNull(message.retries),
    message.cost_usd ?? null,
  ];
}

/** A message's metered columns (src/store/usage.ts), from `messageParams`' parameters. */
const METERED_VALUES = meteredValues({ usage: "$5", cost: "$10", chat: "$2", model: "$6" });

function checkIdleStatus(status: ChatStatus): void {
  if (status !== "pending" && status !== "waiting" && status !== "error") {
    throw new TypeError(`a chat can be set to pending, waiting or error here, not ${status}`);
  }
}
