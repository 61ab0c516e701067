/**
 * The store's contract: everything chatd and api may ask of the database. One implementation
 * serves the embedded PostgreSQL (in the data dir) and an external one alike.
 */

import type { ModelSettings } from "../provider/settings.ts";
import type { ProviderConfig, Usage } from "../provider/types.ts";
import type { AuditEntry, AuditStore } from "./audit.ts";
import type { ChatRetentionStore } from "./chat-retention.ts";
import type { GroupMethods } from "./groups.ts";
import type { SpendLimit, SpendLimitStore } from "./spend-limits.ts";
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
  QueuedMessage,
  RetryRecord,
  Role,
  User,
  Workspace,
} from "./types.ts";
import type { UsageStore } from "./usage-report.ts";

export interface StoreOptions {
  /** External PostgreSQL; without it, the embedded PostgreSQL in `dataDir`. */
  postgresUrl?: string;
  /** Where the embedded cluster keeps its files and where the server key lives (unless `secretKey`). */
  dataDir: string;
  /** 32-byte key (base64 or hex) for encrypting provider API keys; else `<dataDir>/secret.key`. */
  secretKey?: string;
  /** The OS user the embedded cluster runs as when Keel runs as root (default `keel-postgres`). */
  postgresOsUser?: string;
  /** What the embedded cluster has to say (first start, an orphan stopped, ready). */
  log?: (message: string, fields?: Record<string, unknown>) => void;
  /** Connections of the query pool (default 20; LISTEN has its own). */
  poolSize?: number;
  /** Troubles the store works around (a group commit retried, an event dropped); stderr if unset. */
  warn?: (message: string, fields?: Record<string, unknown>) => void;
}

/**
 * Thrown when a write breaks a uniqueness or reference rule (an email already used, a second first
 * user, a model for a provider that does not exist, deleting a model that chats still use).
 */
export class ConflictError extends Error {
  override readonly name = "ConflictError";
}

/**
 * Thrown by `updateUser` when the change would leave no active admin (demoting or deactivating
 * the last one); nothing was changed.
 */
export class LastAdminError extends Error {
  override readonly name = "LastAdminError";
}

/**
 * Thrown by `updateUser` when someone other than the owner (the first user) would demote or
 * deactivate the owner; nothing was changed.
 */
export class OwnerOnlyError extends Error {
  override readonly name = "OwnerOnlyError";
}

/**
 * Thrown when this process already runs (and queues) as many password hashes as it allows
 * (`PASSWORD_HASHING` in credentials.ts): nothing was hashed or written; try again shortly.
 */
export class PasswordHashingBusyError extends Error {
  override readonly name = "PasswordHashingBusyError";
  /** A hash takes well under a second: a retry a second later finds a free slot. */
  readonly retryAfterSeconds = 1;
  constructor(message = "too many password hashes in progress") {
    super(message);
  }
}

/** Thrown by `listChats` for a `before` cursor it did not hand out. */
export class InvalidCursorError extends Error {
  override readonly name = "InvalidCursorError";
}

/** A page of `listChats` or `searchChats`. */
export interface ChatListOptions {
  limit: number;
  /** `next_cursor` of the previous page (of the same list or search). */
  before?: string;
  /** true: the archived chats instead of the others. */
  archived?: boolean;
}

/** A chat `searchChats` found, with a short excerpt of its best matching message, if one matched. */
export interface ChatHit {
  chat: Chat;
  snippet: string | null;
}

/** What a chat's owner may change (`manageChat`). */
export type ChatManagement = Partial<{
  title: string;
  model_id: string;
  pinned: boolean;
  archived: boolean;
}>;

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
  /** The model's settings as a whole (an update replaces them); absent ones: the provider's default. */
  settings?: ModelSettings;
}

export interface NewMessage {
  role: MessageRole;
  parts: MessagePart[];
  usage?: Usage | null;
  model_id?: string | null;
  /** Pre-allocated id (the streaming message's id, so deltas and the final message agree). */
  id?: string;
  /** Saved while its step still streams (see `Message.in_progress`); default false. */
  in_progress?: boolean;
  /** See `Message.stopped`; default false. */
  stopped?: boolean;
  /** See `Message.retries`; default null. */
  retries?: RetryRecord | null;
  /** See `Message.cost_usd` (kept only with `usage`); default null. */
  cost_usd?: number | null;
}

/**
 * What `rewindChat` is asked: the user message to rerun from (default: the transcript's last
 * user message) and, to edit it, its new content.
 */
export interface RewindRequest {
  message_id?: string;
  parts?: MessagePart[];
  /** The action's audit row, written in the rewind's transaction when it applies. */
  audit?: AuditEntry;
}

/**
 * What `rewindChat` did, or why it did nothing: `running` — a turn runs (stop it first);
 * `not_user` — the message is not a user message; `no_message` — the chat has no such message
 * (or no user message at all); `no_chat`.
 */
export type RewindResult =
  | { ok: true; message: Message; removed: string[]; status: ChatStatus }
  | { ok: false; reason: "no_chat" | "no_message" | "not_user" | "running" | "archived" };

/**
 * What a status change did. The store appended its events in the same transaction as the change:
 * a `message` event for each queued message it moved into the transcript, then a `status` event
 * when the status changed — so no claim by a worker can slip in between the change and its events.
 */
export interface StatusChange {
  /** Whether the change applied (`releaseChat`: the worker still owned the chat; `setStatusIf`:
   * the chat was in `from` and unowned; `setStatus`: the chat exists). */
  applied: boolean;
  /** The chat's status now: `pending` instead of the one asked for when queued messages were
   * moved; null when nothing applied. */
  status: ChatStatus | null;
  /** Queued user messages moved into the transcript, oldest first. */
  moved: Message[];
}

export interface ChatEvents {
  /**
   * Appends an event with the chat's next sequence number and publishes it to every subscriber on
   * every replica. While this replica owns the chat (its daemon claimed it), the number is given
   * here, in memory, and the event persisted in the next group commit (a `message_part` is
   * published at once, any other event once committed: the promise resolves then); while another
   * replica owns it, the event is handed to that replica (null: its number is that replica's to
   * give); otherwise it is appended in a transaction under the chat row's lock.
   */
  append(chatId: string, type: string, data: unknown): Promise<ChatEvent | null>;
  /**
   * An event of a chat this replica's daemon claimed, numbered by the claim (as `append` does for
   * an owned chat), and never anywhere else: once the claim is released or lost it rejects, so a
   * run that lost its chat cannot add to the log of the run that took it over.
   */
  appendClaimed(chatId: string, type: string, data: unknown): Promise<ChatEvent>;
  /** Persisted events with `seq > afterSeq`, in order. */
  listAfter(chatId: string, afterSeq: number, limit?: number): Promise<ChatEvent[]>;
  /** The `seq` of the newest event of one of `types` with `seq <= atOrBefore`; 0 when none. */
  lastSeqOfType(chatId: string, types: readonly string[], atOrBefore: number): Promise<number>;
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

/** Workspaces and their agents' connection state (see `workspaces.ts`). */
export interface WorkspaceStore {
  /** Creates a workspace and mints its agent token (returned once, stored hashed). */
  create(input: {
    owner_id: string;
    name: string;
    directory: string | null;
  }): Promise<{ workspace: Workspace; agent_token: string }>;
  get(id: string): Promise<Workspace | null>;
  /** The owner's workspaces (all when `ownerId` is undefined), oldest first. */
  list(ownerId: string | undefined): Promise<Workspace[]>;
  /** Deletes it; chats bound to it keep their history and lose their tools. */
  delete(id: string): Promise<boolean>;
  /** The workspace an agent token belongs to; null when unknown or its owner is deactivated. */
  forAgentToken(token: string): Promise<Workspace | null>;
  /** Mints a new agent token (the old one stops working); null for an unknown workspace. */
  rotateAgentToken(id: string): Promise<string | null>;
  /** The agent connected to `replica` (and said where it runs: its OS and directory). */
  agentConnected(
    id: string,
    replica: string,
    version: string,
    environment?: AgentEnvironment,
  ): Promise<void>;
  /**
   * `replica` still holds these agents' connections. Returns those recorded with another replica
   * meanwhile: their agent (or another agent of the workspace) connected there since.
   */
  agentsSeen(ids: readonly string[], replica: string): Promise<string[]>;
  /** The agent's connection to `replica` closed (a no-op if it is now held elsewhere). */
  agentDisconnected(id: string, replica: string): Promise<void>;
  /** The replica holding the workspace's agent now (recently vouched for), or null. */
  agentHolder(id: string): Promise<string | null>;
  /** Every agent a replica holds now (recently vouched for), with where it runs. */
  heldAgents(): Promise<Array<{ id: string; replica: string } & AgentEnvironment>>;
  /** The MCP tools (JSON) the agent offered `replica`; ignored if it is held elsewhere now. */
  setAgentMcpTools(id: string, replica: string, toolsJson: string): Promise<void>;
  /** The MCP tools (JSON) the agent's current connection offered, or null (none yet). */
  agentMcpTools(id: string): Promise<string | null>;
  /**
   * Names this process's replica: the directory workspaces it creates from now on are run by it
   * (the machine that holds the directory). Unnamed, they are recorded with no replica.
   */
  setReplica(replica: string): void;
  /** Every workspace with a server-side directory, and the replica that runs it (null: legacy). */
  directoryWorkspaces(): Promise<Array<{ id: string; directory: string; replica: string | null }>>;
  /** Tool calls relayed to the replica holding a workspace's agent (`agent-calls.ts`). */
  readonly calls: AgentCallStore;
}

/** Where a workspace's agent runs, as its hello said (each null when it did not say). */
export interface AgentEnvironment {
  platform: string | null;
  directory: string | null;
}

/** A NOTIFY between replicas about a relayed tool call (see `agent-calls.ts`). */
export type RelayMessage =
  /** To the target: a call to claim (read the row). */
  | { t: "call"; id: string }
  /** To the target: Stop. */
  | { t: "cancel"; id: string }
  /** To the origin: a piece of the call's streamed output, from the target `from`. */
  | { t: "out"; id: string; from: string; d: string }
  /** To the origin: the result is in the row. */
  | { t: "done"; id: string; from: string }
  /** To the origin: the target lost the agent before it answered; send the call again. */
  | { t: "gone"; id: string; from: string }
  /** To every replica: the workspace's agent connected or disconnected somewhere. */
  | { t: "agent"; id: string };

export interface NewAgentCall {
  id: string;
  workspace_id: string;
  origin: string;
  target: string;
  tool: string;
  input: unknown;
}

export interface ClaimedAgentCall {
  id: string;
  workspace_id: string;
  origin: string;
  tool: string;
  input: unknown;
  /** Stop came before the target claimed it: it must not be sent to the agent. */
  cancelled: boolean;
}

export interface AgentCallState {
  id: string;
  state: "pending" | "sent" | "done";
  target: string | null;
  result: { output: string; is_error: boolean } | null;
}

export interface AgentCallStore {
  /**
   * LISTENs on `replica`'s channel, and on the one where every replica hears of agents that
   * connect or disconnect; `onReconnect` after notifications may have been lost.
   */
  listen(
    replica: string,
    onMessage: (message: RelayMessage) => void,
    onReconnect: () => void,
  ): Promise<() => Promise<void>>;
  /** Writes (or retargets) the call and tells its target. */
  send(call: NewAgentCall): Promise<void>;
  /** The target takes a pending call addressed to it, once; null when it is not (any more). */
  claim(id: string, replica: string): Promise<ClaimedAgentCall | null>;
  /** Calls pending for `replica` (after its LISTEN connection was down). */
  pendingFor(replica: string): Promise<string[]>;
  /** Streamed output, from target `from` to `origin` (chunked to fit NOTIFY). */
  output(origin: string, from: string, id: string, delta: string): Promise<void>;
  /** The result, written once, and `origin` told. */
  finish(
    origin: string,
    from: string,
    id: string,
    result: { output: string; is_error: boolean },
  ): Promise<void>;
  /** Target `from` gives the call back unanswered (it lost the agent, or stops). */
  release(origin: string, from: string, id: string): Promise<void>;
  /**
   * At a replica's start: gives back every call an earlier run of it had claimed (that run's
   * connections are gone) and tells their origins. Returns their ids.
   */
  releaseClaimed(replica: string): Promise<string[]>;
  /** Stop: recorded on the row and told to its target. */
  cancel(id: string): Promise<void>;
  states(ids: readonly string[]): Promise<AgentCallState[]>;
  remove(id: string): Promise<void>;
  /** Deletes rows older than this (their origin is gone). */
  prune(olderThanMs: number): Promise<void>;
}

/** What an admin sets for the whole deployment (see `deployment-settings.ts`). */
export interface DeploymentSettings {
  /** Told to every model after Keel's built-in system prompt (DESIGN.md §7); null: none. */
  system_prompt: string | null;
  /** The model that titles new chats; null: each chat's own model. */
  title_model_id: string | null;
  /** The model that writes compaction summaries; null: each chat's own model. */
  summary_model_id: string | null;
  /** The model a new chat preselects when its user has none of their own yet; null: the first. */
  default_model_id: string | null;
  /** Every user's spend limit unless they have their own (`spend-limits.ts`); null: none. */
  default_limit: SpendLimit | null;
  /** Archive chats idle this many days (`chat-retention.ts`); null: never. */
  chat_archive_after_days: number | null;
  /** Delete archived chats this many days after they were archived; null: never. */
  chat_delete_after_days: number | null;
}

/** What a user sets for themselves. */
export interface UserPreferences {
  /** Told to the model of every chat of theirs after the deployment's prompt; null: none. */
  instructions: string | null;
  /** Their compaction threshold (a share of the window); only lowers the model's. null: the model's. */
  compact_at: number | null;
}

export interface UserPreferencesStore {
  /** An unknown user has none. */
  get(userId: string): Promise<UserPreferences>;
  /**
   * Sets the fields given (`null` clears one; blank instructions are none); what is stored now,
   * or undefined for an unknown user.
   */
  update(userId: string, patch: Partial<UserPreferences>): Promise<UserPreferences | undefined>;
}

/** The deployment's settings, in the key/value `settings` table. */
export interface DeploymentSettingsStore {
  get(): Promise<DeploymentSettings>;
  /** Sets the fields given (`null` clears one, `undefined` keeps it), atomically; the result. */
  update(patch: Partial<DeploymentSettings>): Promise<DeploymentSettings>;
}

/** One failure count: `key` may fail `maxFailures` times within `windowMs` of its first failure. */
export interface SignInLimit {
  key: string;
  maxFailures: number;
  windowMs: number;
}

/**
 * Failed sign-ins, counted in the database so every replica enforces the same limits (see
 * `signin-limits.ts`). A window starts at a key's first failure and lasts `windowMs`; a key with
 * `maxFailures` failures in its window is blocked until it ends.
 */
export interface SignInLimitStore {
  /** Milliseconds until every one of `limits` allows another attempt; 0 when all allow it now. */
  blockedFor(limits: readonly SignInLimit[]): Promise<number>;
  /** Counts one failure against each of `limits` (distinct keys), in one statement. */
  fail(limits: readonly SignInLimit[]): Promise<void>;
  /** Forgets `key`'s failures (a successful sign-in clears its own email + address key). */
  clear(key: string): Promise<void>;
  /** Deletes the windows that have ended; how many. */
  sweep(): Promise<number>;
}

/** An MCP server as admins and the API see it: its header values never leave the store. */
export interface McpServerRecord {
  id: string;
  /** The prefix of its tools' names (`<name>__<tool>`): `^[a-zA-Z0-9_-]{1,30}$`, no `__`. */
  name: string;
  url: string;
  /** The names of the headers sent with every request (their values are encrypted at rest). */
  header_names: string[];
  enabled: boolean;
  /** null: every tool of the server; else only these (the server's own tool names). */
  tools_allow: string[] | null;
  /** These tools are left out (after `tools_allow`). */
  tools_deny: string[] | null;
  created_at: string;
  updated_at: string;
}

/** What connecting needs: the record and its decrypted headers. Only the MCP manager reads it. */
export interface McpServerConfig extends McpServerRecord {
  headers: Record<string, string>;
}

export interface NewMcpServer {
  name: string;
  url: string;
  headers?: Record<string, string>;
  enabled?: boolean;
  tools_allow?: string[] | null;
  tools_deny?: string[] | null;
}

/**
 * A change of an MCP server. `headers` is merged by name (case-insensitively): a value sets the
 * header, null removes it, a header left out is kept; `headers: null` removes them all.
 */
export type McpServerPatch = Partial<Omit<NewMcpServer, "headers">> & {
  headers?: Record<string, string | null> | null;
};

/** Admin-configured MCP servers (see `mcp-servers.ts`); ConflictError for a name already used. */
export interface McpServerStore {
  create(input: NewMcpServer): Promise<McpServerRecord>;
  get(id: string): Promise<McpServerRecord | null>;
  /** Every server, oldest first. */
  list(): Promise<McpServerRecord[]>;
  update(id: string, patch: McpServerPatch): Promise<McpServerRecord | null>;
  delete(id: string): Promise<boolean>;
  /** One server with its headers decrypted; null when unknown. */
  config(id: string): Promise<McpServerConfig | null>;
  /** The enabled servers with their headers decrypted, oldest first. */
  enabledConfigs(): Promise<McpServerConfig[]>;
}

export interface Store {
  /** `embedded`: the PostgreSQL this server runs in its data dir; `external`: `--postgres-url`. */
  readonly kind: "embedded" | "external";
  readonly events: ChatEvents;
  readonly signals: ChatSignals;
  readonly workspaces: WorkspaceStore;
  /** Totals of usage and cost over a period (src/store/usage-report.ts). */
  readonly usage: UsageStore;
  readonly signInLimits: SignInLimitStore;
  readonly deploymentSettings: DeploymentSettingsStore;
  readonly userPreferences: UserPreferencesStore;
  readonly mcpServers: McpServerStore;
  /** Spend limits and each user's spend this period (`spend-limits.ts`). */
  readonly spendLimits: SpendLimitStore;
  /** The audit log (`audit.ts`). */
  readonly audit: AuditStore;
  /** Archiving idle chats and deleting archived ones (`chat-retention.ts`). */
  readonly chatRetention: ChatRetentionStore;

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
  /** Every user, deactivated ones included, oldest first. */
  listUsers(): Promise<User[]>;
  /**
   * Changes a user's role and/or active flag; null for an unknown id. Deactivating deletes every
   * token of the user (sessions and API tokens; reactivating does not bring them back). Atomic
   * against leaving no active admin: such a change is refused with LastAdminError, also when two
   * run at once (they are serialised, and each checks after its own update). With `by` (the
   * acting user's id), demoting or deactivating the owner (the first user) is refused with
   * OwnerOnlyError unless `by` is the owner.
   */
  updateUser(
    id: string,
    patch: { role?: Role; active?: boolean },
    by?: string,
  ): Promise<User | null>;
  /**
   * The user whose password matches, or null. Constant-time comparison. A deactivated user is
   * returned too (with `active: false`): refusing them is the caller's decision. A match against
   * a hash of an older scheme (scrypt) or weaker parameters is rehashed with the current ones.
   * `createFirstUser`, `createUser` and this throw `PasswordHashingBusyError` when the process's
   * password hashing is saturated.
   */
  verifyPassword(email: string, password: string): Promise<User | null>;
  /**
   * Whether a password hash asked for now would be refused with `PasswordHashingBusyError`, so a
   * caller can refuse before doing any other work (a sign-in flood then costs no queries).
   */
  passwordHashingBusy(): boolean;
  /** Mints a token; `kind` "session" expires after `ttlMs`, "api" when deleted. */
  createToken(
    userId: string,
    kind: "session" | "api",
    options?: { name?: string; ttlMs?: number },
  ): Promise<string>;
  /** The user a presented token belongs to, or null (unknown, expired, user deactivated). */
  userForToken(token: string): Promise<User | null>;
  /**
   * For each `[token, chat]` pair, whether that token's user may read that chat now (the token
   * valid, its user active, and the chat theirs or the user an admin): every open event stream's
   * access, checked in one statement.
   */
  mayStillRead(pairs: ReadonlyArray<readonly [token: string, chatId: string]>): Promise<boolean[]>;
  /** Deletes a token (sign-out); whether it existed. */
  revokeToken(token: string): Promise<boolean>;

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
  /** `usableBy`: only the models that user may use (see `groups.ts`). */
  listModels(options?: { enabledOnly?: boolean; usableBy?: string }): Promise<ModelRecord[]>;
  updateModel(id: string, patch: Partial<NewModel>): Promise<ModelRecord | null>;
  deleteModel(id: string): Promise<boolean>;

  // groups and model access (`groups.ts`)
  createGroup: GroupMethods["createGroup"];
  getGroup: GroupMethods["getGroup"];
  listGroups: GroupMethods["listGroups"];
  updateGroup: GroupMethods["updateGroup"];
  deleteGroup: GroupMethods["deleteGroup"];
  modelGroupIds: GroupMethods["modelGroupIds"];
  setModelGroups: GroupMethods["setModelGroups"];
  mayUseModel: GroupMethods["mayUseModel"];

  // chats and messages
  //
  // Events: the store itself appends, in the transaction of the change, the `status` event of
  // every status change it makes (`createChat`, `enqueueUserMessage`, `acquireChats`,
  // `releaseChat`, `recoverStaleChats`, `setStatus`, `setStatusIf`) and the `message` event of
  // every user message it writes into the transcript on its own (the first message, an appended
  // one, queued ones it moves) — except `drainQueuedMessages`, whose caller (the chat's owner)
  // announces them in order with the turn's events. Assistant and tool messages are the turn's to
  // announce. A status event therefore always follows the events of what caused it, and a worker
  // cannot claim a chat between its `pending` status and the `pending` event.

  /**
   * Creates the chat (status pending) with its first user message, atomically, and appends that
   * message's `message` event and the `status: pending` event.
   */
  createChat(input: {
    owner_id: string;
    model_id: string;
    title: string;
    workspace_id?: string | null;
    first_message: MessagePart[];
    /** Its audit row, written by the same statement (the target's id and name filled in). */
    audit?: AuditEntry;
  }): Promise<{ chat: Chat; message: Message }>;
  getChat(id: string): Promise<Chat | null>;
  /**
   * The owner's chats (all chats when `ownerId` is undefined): pinned first, then by last activity
   * (`updated_at`), newest first. Archived chats are left out, or only they with `archived`.
   * InvalidCursorError for a `before` it did not hand out.
   */
  listChats(ownerId: string | undefined, options: ChatListOptions): Promise<Page<Chat>>;
  /**
   * The owner's chats whose title or message text matches `query` (full-text, every word, the
   * last one as a prefix unless followed by a space), best match first, then by last activity;
   * archived ones only with `archived`. Only this owner's chats, whatever the caller's role.
   */
  searchChats(ownerId: string, query: string, options: ChatListOptions): Promise<Page<ChatHit>>;
  /**
   * An owner's change (rename, model, pin, archive). The chat keeps its last activity
   * (`updated_at`) and so its place in the list. ConflictError for an unknown model; null for an
   * unknown chat.
   */
  manageChat(id: string, patch: ChatManagement): Promise<Chat | null>;
  /** Deletes the chat with its messages, queue and events; false if there was none. */
  deleteChat(id: string): Promise<boolean>;
  /** The model of the owner's most recently active chat (archived ones too); null: no chat. */
  lastModelId(ownerId: string): Promise<string | null>;
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
  /**
   * Upserts a message by id: inserts it (at the end of the transcript), or replaces the parts,
   * usage, model and `in_progress` of the message with that id, keeping its place. A turn saves
   * its streaming assistant message this way as parts complete (`in_progress: true`), and once
   * more when the step's message is final. ConflictError if the id belongs to another chat or
   * role, or the chat or model does not exist. Appends no event.
   */
  saveMessage(chatId: string, message: NewMessage & { id: string }): Promise<Message>;
  /** Deletes a message of the chat (a streaming message whose final content is empty). */
  deleteMessage(chatId: string, id: string): Promise<boolean>;
  /** The transcript, in order. */
  listMessages(chatId: string): Promise<Message[]>;
  /**
   * The user messages waiting in the chat's queue (sent while a turn ran), oldest first. Each
   * keeps its `id` when it moves into the transcript.
   */
  listQueuedMessages(chatId: string): Promise<QueuedMessage[]>;

  /**
   * A user's message, decided under the chat row's lock. `running`: it waits in the queue until
   * the turn ends (the turn already read the history). `pending`: appended now (the scheduled turn
   * reads the history when it starts); the chat stays `pending`. `waiting`/`error`: appended now,
   * the chat becomes `pending` and `last_error` is cleared. An appended message gets its `message`
   * event, and a chat that became `pending` its `status` event, in the same transaction. Returns
   * the message when appended, null when queued. Throws if the chat does not exist.
   */
  /** `audit`: the action's audit row, written in the same transaction. */
  enqueueUserMessage(
    chatId: string,
    parts: MessagePart[],
    audit?: AuditEntry,
  ): Promise<{ appended: Message | null }>;
  /**
   * Edit and rerun / regenerate, under the chat row's lock: the user message (`message_id`, else
   * the last one) gets its new `parts` if given, every later message and every queued one is
   * deleted, and the chat becomes `pending` with `last_error` cleared. In the same transaction:
   * a `truncated` event naming the deleted messages (when any were), the edited message's
   * `message` event, and the `status: pending` event. Refused while the chat is `running` or
   * archived. The caller signals `pending` after it.
   */
  rewindChat(chatId: string, request: RewindRequest): Promise<RewindResult>;
  /**
   * Asks for the chat to be compacted (`compact_requested`), under the chat row's lock: a
   * `waiting` or `error` chat becomes `pending` (its `status` event appended in the transaction,
   * a `pending` signal after the commit); a `pending` or `running` one keeps its status, and is
   * compacted when it next runs (a released chat whose compaction is still asked for goes back to
   * `pending`). Null for an unknown chat.
   */
  requestCompaction(chatId: string, audit?: AuditEntry): Promise<StatusChange | null>;
  /** The asked-for compaction ran (or was stopped): the flag is cleared. */
  clearCompactionRequest(chatId: string): Promise<void>;
  /**
   * Moves the queued messages into the transcript (oldest first) and returns them, without events:
   * the caller, the chat's owner, announces them in order with its own events.
   */
  drainQueuedMessages(chatId: string): Promise<Message[]>;

  // chatd: ownership under a heartbeat
  /**
   * Claims up to `limit` pending chats for `workerId` (`FOR UPDATE SKIP LOCKED`), sets them
   * `running` with a fresh heartbeat (appending each one's `status: running` event), and returns
   * them.
   */
  acquireChats(workerId: string, limit: number): Promise<Chat[]>;
  /** Refreshes the heartbeat of the chats `workerId` still owns; returns the ids it lost. */
  heartbeat(workerId: string, chatIds: string[]): Promise<string[]>;
  /**
   * Ends `workerId`'s ownership, setting `status` (pending to hand over, waiting, error); not
   * applied if it no longer owns the chat. `lastError` sets `last_error`; without it, `error`
   * keeps the current one and other statuses clear it. Messages still queued are moved into the
   * transcript and the chat becomes `pending` instead, so none is stranded (then a `pending`
   * signal follows the commit). Events as `StatusChange` says.
   */
  releaseChat(
    chatId: string,
    workerId: string,
    status: ChatStatus,
    lastError?: ChatErrorRecord | null,
  ): Promise<StatusChange>;
  /**
   * Returns `running` chats whose heartbeat (by the database's clock) is older than `staleMs` to
   * `pending` — and, with `previousRunOf`, every chat that worker id owns whatever its heartbeat:
   * a restarted server whose previous run died owned them, and takes them back at once. Their
   * queued messages move into the transcript. Each gets the `message` events of its moved
   * messages and a `status: pending` event (which voids the dead run's deltas for clients), in
   * the same transaction. Returns the recovered chats with the messages moved for each.
   */
  recoverStaleChats(
    staleMs: number,
    previousRunOf?: string,
  ): Promise<Array<{ chat_id: string; moved: Message[] }>>;
  /**
   * Sets a chat's status without owning it; a current owner loses the chat. Not `running` (that
   * needs `acquireChats`). Queued messages and events: as `releaseChat`.
   */
  setStatus(chatId: string, status: ChatStatus): Promise<StatusChange>;
  /**
   * Compare-and-set: sets `to` only while the chat is in `from` and no worker owns it (e.g. Stop
   * of a chat no worker has claimed yet: `pending` → `waiting`, which a concurrent claim must
   * win or lose atomically). Neither may be `running`. Queued messages and events: as
   * `releaseChat`, and only when it applied.
   */
  setStatusIf(chatId: string, from: ChatStatus, to: ChatStatus): Promise<StatusChange>;

  close(): Promise<void>;
}
