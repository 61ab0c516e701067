/**
 * The store's contract: everything chatd and api may ask of the database. One implementation
 * serves both PGlite (embedded, in the data dir) and external PostgreSQL; the schema and the
 * migrations are the same.
 */
import type { ProviderConfig, Usage } from "../provider/types.ts";
import type {
  Chat,
  ChatErrorRecord,
  ChatEvent,
  ChatStatus,
  Message,
  MessagePart,
  MessageRole,
  ModelRecord,
  Page,
  Pricing,
  ProviderRecord,
  Role,
  User,
} from "./types.ts";

export interface StoreOptions {
  /** External PostgreSQL; without it, PGlite in `dataDir`. */
  postgresUrl?: string;
  /** Where PGlite keeps its files and where the server key lives (unless `secretKey`). */
  dataDir: string;
  /** 32-byte key (base64 or hex) for encrypting provider API keys; else `<dataDir>/secret.key`. */
  secretKey?: string;
}

/**
 * Thrown when a write breaks a uniqueness or reference rule (an email already used, a second first
 * user, a model for a provider that does not exist, deleting a model that chats still use).
 */
export class ConflictError extends Error {
  override readonly name = "ConflictError";
}

/** Thrown by `listChats` for a `before` cursor it did not hand out. */
export class InvalidCursorError extends Error {
  override readonly name = "InvalidCursorError";
}

export interface NewProvider {
  type: ProviderConfig["type"];
  name: string;
  base_url?: string | null;
  api_key?: string | null;
  options?: Record<string, unknown>;
}

export interface NewModel {
  provider_id: string;
  model: string;
  display_name?: string;
  context_window?: number | null;
  pricing?: Pricing | null;
  enabled?: boolean;
}

export interface NewMessage {
  role: MessageRole;
  parts: MessagePart[];
  usage?: Usage | null;
  model_id?: string | null;
  /** Pre-allocated id (the streaming message's id, so deltas and the final message agree). */
  id?: string;
}

export interface ChatEvents {
  /**
   * Appends an event with the chat's next sequence number (allocated in the database, so every
   * replica agrees) and publishes it to every subscriber on every replica.
   */
  append(chatId: string, type: string, data: unknown): Promise<ChatEvent>;
  /** Persisted events with `seq > afterSeq`, in order. */
  listAfter(chatId: string, afterSeq: number, limit?: number): Promise<ChatEvent[]>;
  /**
   * Live events of one chat, from this replica and others (LISTEN/NOTIFY), each delivered once and
   * in `seq` order: a gap (an event that overtook another, a NOTIFY lost while the LISTEN
   * connection was down, an event too big for NOTIFY) is read from the table before going on.
   * With `afterSeq`, delivery starts with the persisted events after it and then goes live with
   * nothing lost or repeated (what an SSE client with `Last-Event-ID` needs). Without it, delivery
   * starts after the chat's last event when the subscription is made (an append in flight on
   * another replica at that moment may fall before the start: pass `afterSeq` for exactness).
   */
  subscribe(chatId: string, onEvent: (event: ChatEvent) => void, afterSeq?: number): () => void;
}

/** Cross-replica nudges (NOTIFY), not persisted: a missed one is covered by polling. */
export type ChatSignal =
  | { type: "interrupt"; chat_id: string }
  | { type: "pending"; chat_id: string };

export interface ChatSignals {
  send(signal: ChatSignal): Promise<void>;
  /** Every signal from every replica, this one included. */
  listen(onSignal: (signal: ChatSignal) => void): () => void;
}

export interface Store {
  readonly kind: "pglite" | "postgres";
  readonly events: ChatEvents;
  readonly signals: ChatSignals;

  // users, sessions, API tokens (tokens are stored hashed; the plaintext is returned once)
  countUsers(): Promise<number>;
  /** Creates the first user as admin; ConflictError if any user exists (atomic). */
  createFirstUser(input: { username: string; email: string; password: string }): Promise<User>;
  createUser(input: {
    username: string;
    email: string;
    password: string;
    role: Role;
  }): Promise<User>;
  getUser(id: string): Promise<User | null>;
  /** The user whose password matches, or null. Constant-time comparison. */
  verifyPassword(email: string, password: string): Promise<User | null>;
  /** Mints a token; `kind` "session" expires after `ttlMs`, "api" when deleted. */
  createToken(
    userId: string,
    kind: "session" | "api",
    options?: { name?: string; ttlMs?: number },
  ): Promise<string>;
  /** The user a presented token belongs to, or null (unknown, expired). */
  userForToken(token: string): Promise<User | null>;

  // providers (API keys encrypted at rest with the server key)
  createProvider(input: NewProvider): Promise<ProviderRecord>;
  getProvider(id: string): Promise<ProviderRecord | null>;
  listProviders(): Promise<ProviderRecord[]>;
  /** `api_key: null` removes the key; `undefined` keeps it. */
  updateProvider(id: string, patch: Partial<NewProvider>): Promise<ProviderRecord | null>;
  deleteProvider(id: string): Promise<boolean>;
  /** The decrypted config to build a model with. Only chatd calls this. */
  providerConfig(id: string): Promise<ProviderConfig | null>;

  // models
  createModel(input: NewModel): Promise<ModelRecord>;
  getModel(id: string): Promise<ModelRecord | null>;
  listModels(options?: { enabledOnly?: boolean }): Promise<ModelRecord[]>;
  updateModel(id: string, patch: Partial<NewModel>): Promise<ModelRecord | null>;
  deleteModel(id: string): Promise<boolean>;

  // chats and messages
  /** Creates the chat (status pending) with its first user message, atomically. */
  createChat(input: {
    owner_id: string;
    model_id: string;
    title: string;
    workspace_id?: string | null;
    first_message: MessagePart[];
  }): Promise<{ chat: Chat; message: Message }>;
  getChat(id: string): Promise<Chat | null>;
  /** The owner's chats (all chats when `ownerId` is undefined), newest first, archived left out. */
  listChats(
    ownerId: string | undefined,
    options: { limit: number; before?: string },
  ): Promise<Page<Chat>>;
  updateChat(
    id: string,
    patch: Partial<{
      title: string;
      model_id: string;
      archived: boolean;
      last_error: ChatErrorRecord | null;
    }>,
  ): Promise<Chat | null>;
  insertMessage(chatId: string, message: NewMessage): Promise<Message>;
  listMessages(chatId: string): Promise<Message[]>;

  /**
   * A user's message, decided under the chat row's lock. `running`: it waits in the queue until
   * the turn ends (the turn already read the history). `pending`: appended now (the scheduled turn
   * reads the history when it starts); the chat stays `pending`. `waiting`/`error`: appended now,
   * the chat becomes `pending` and `last_error` is cleared. Returns the message when appended,
   * null when queued. Throws if the chat does not exist.
   */
  enqueueUserMessage(chatId: string, parts: MessagePart[]): Promise<{ appended: Message | null }>;
  /** Moves the oldest queued messages into the transcript (in order); returns them. */
  drainQueuedMessages(chatId: string): Promise<Message[]>;

  // chatd: ownership under a heartbeat
  /**
   * Claims up to `limit` pending chats for `workerId` (`FOR UPDATE SKIP LOCKED`), sets them
   * `running` with a fresh heartbeat, and returns them.
   */
  acquireChats(workerId: string, limit: number): Promise<Chat[]>;
  /** Refreshes the heartbeat of the chats `workerId` still owns; returns the ids it lost. */
  heartbeat(workerId: string, chatIds: string[]): Promise<string[]>;
  /**
   * Ends `workerId`'s ownership, setting `status` (pending to hand over, waiting, error); false if
   * it no longer owns the chat. `lastError` sets `last_error`; without it, `error` keeps the
   * current one and other statuses clear it. Messages still queued are moved into the transcript
   * and the chat becomes `pending` instead (with a `pending` signal), so none is stranded.
   */
  releaseChat(
    chatId: string,
    workerId: string,
    status: ChatStatus,
    lastError?: ChatErrorRecord | null,
  ): Promise<boolean>;
  /**
   * Returns `running` chats whose heartbeat (by the database's clock) is older than `staleMs` to
   * `pending`; their queued messages move into the transcript. Returns how many.
   */
  recoverStaleChats(staleMs: number): Promise<number>;
  /**
   * Sets a chat's status without owning it (e.g. pending after a new message); a current owner
   * loses the chat. Not `running` (that needs `acquireChats`). Queued messages: as `releaseChat`.
   */
  setStatus(chatId: string, status: ChatStatus): Promise<void>;

  close(): Promise<void>;
}
