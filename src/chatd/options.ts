/** What a `ChatDaemon` is given (DESIGN.md §3, §5): its store, its knobs and their defaults. */
import type { ToolRegistry } from "../chatloop/tools.ts";
import type { RetryPolicy } from "../chatretry/policy.ts";
import type { Transport } from "../provider/index.ts";
import type { Store } from "../store/contract.ts";
import type { Chat } from "../store/types.ts";
import type { WorkspaceContextSource } from "./instructions.ts";
import type { ModelFactory } from "./models.ts";
import { DEFAULT_TITLE_TIMEOUT_MS } from "./title.ts";

/** The part of the store the daemon uses. */
export type DaemonStore = Pick<
  Store,
  | "events"
  | "signals"
  | "acquireChats"
  | "heartbeat"
  | "releaseChat"
  | "recoverStaleChats"
  | "drainQueuedMessages"
  | "listMessages"
  | "saveMessage"
  | "deleteMessage"
  | "getModel"
  | "mayUseModel"
  | "getProvider"
  | "providerConfig"
  | "deploymentSettings"
  | "userPreferences"
  | "updateChat"
  | "getChat"
  | "clearCompactionRequest"
  | "spendLimits"
>;

export interface DaemonLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface ChatDaemonOptions {
  store: DaemonStore;
  /** The one HTTP client every model shares; the daemon makes (and closes) its own if absent. */
  transport?: Transport;
  /** The tools models may call (default: none); `toolsFor` decides per chat when given. */
  tools?: ToolRegistry;
  /**
   * The tools of one chat's turns, e.g. its workspace's and the MCP servers' (default: `tools` for
   * every chat). Asked once per turn.
   */
  toolsFor?: (chat: Chat) => ToolRegistry | Promise<ToolRegistry>;
  /**
   * Default: `hostname:pid:random`. `keel server` passes its replica id, kept in its data dir, so
   * that a restart after a crash takes back the chats the dead run owned at once (see `start`).
   */
  workerId?: string;
  /** Chats run at once by this daemon (default 500); more wait `pending` for a slot. */
  concurrency?: number;
  /** How often to look for pending chats besides `pending` signals (default 2 s). */
  pollIntervalMs?: number;
  /** How often owned chats are heartbeated (default 5 s). */
  heartbeatIntervalMs?: number;
  /** A `running` chat whose heartbeat is older than this is taken over (default 30 s). */
  staleMs?: number;
  /** How often stale chats are looked for (default 5 s; also once at start). */
  recoverIntervalMs?: number;
  /** shutdown() gives running turns this long to persist and release (default 8 s). */
  shutdownTimeoutMs?: number;
  /** Retry policy (KEEL_RETRY_*), silence guard (KEEL_STREAM_SILENCE_TIMEOUT_MS). */
  policy?: Partial<RetryPolicy>;
  silenceMs?: number;
  /** Turn knobs: delta flush interval, model steps per turn, overall deadline, system prompt. */
  flushIntervalMs?: number;
  maxSteps?: number;
  turnDeadlineMs?: number;
  systemPrompt?: string;
  /**
   * The workspaces' agents, for a workspace chat's environment (OS, directory) and its
   * `AGENTS.md` (default: none, so no workspace layer).
   */
  workspaces?: WorkspaceContextSource;
  /** Bound on reading a workspace's `AGENTS.md` at the start of a turn (default 5 s). */
  workspaceReadTimeoutMs?: number;
  /**
   * After a chat's first reply, have a model title it (the deployment's title model, else the
   * chat's own), off the turn's path (default false; `keel server` turns it on).
   */
  titles?: boolean;
  /** A title request's bound (default 20 s); past it the chat keeps its first-line title. */
  titleTimeoutMs?: number;
  /** Builds a model from a provider config (default `createChatModel`). */
  modelFactory?: ModelFactory;
  logger?: DaemonLogger;
}

export const DAEMON_DEFAULTS = {
  concurrency: 500,
  pollIntervalMs: 2_000,
  heartbeatIntervalMs: 5_000,
  staleMs: 30_000,
  recoverIntervalMs: 5_000,
  shutdownTimeoutMs: 8_000,
  titles: false,
  titleTimeoutMs: DEFAULT_TITLE_TIMEOUT_MS,
};

export const consoleLogger: DaemonLogger = {
  warn: (message, fields) => console.warn(`chatd: ${message}`, fields ?? ""),
  error: (message, fields) => console.error(`chatd: ${message}`, fields ?? ""),
};
