/**
 * The records the store keeps, as the rest of Keel sees them. Timestamps are ISO-8601 strings;
 * ids are UUIDs (text). Only `src/store` writes SQL; everything else goes through `Store`.
 */
import type { ModelSettings } from "../provider/settings.ts";
import type { ProviderType, Usage } from "../provider/types.ts";

export type Role = "admin" | "member";

export interface User {
  id: string;
  username: string;
  email: string;
  role: Role;
  /** False once an admin deactivated the user: no sign-in, no token authenticates. */
  active: boolean;
  created_at: string;
}

/** Where a chat's tools run; its `keel agent` connects with the workspace's agent token. */
export interface Workspace {
  id: string;
  owner_id: string;
  name: string;
  /** A directory on the server's machine that `keel server` runs an agent for itself; or null. */
  directory: string | null;
  agent: { connected: boolean; version: string | null; last_seen_at: string | null };
  created_at: string;
}

export interface ProviderRecord {
  id: string;
  type: ProviderType;
  name: string;
  base_url: string | null;
  options: Record<string, unknown>;
  /** Whether an API key is stored. The key itself never leaves the store except via `Store.providerConfig`. */
  has_api_key: boolean;
  created_at: string;
  updated_at: string;
}

export interface Pricing {
  input_per_mtok: number;
  output_per_mtok: number;
  cache_read_per_mtok?: number;
  cache_write_per_mtok?: number;
}

export interface ModelRecord {
  id: string;
  provider_id: string;
  /** The provider's model id, e.g. "claude-sonnet-4-5". */
  model: string;
  display_name: string;
  context_window: number | null;
  pricing: Pricing | null;
  enabled: boolean;
  /** Temperature, output limit and reasoning effort; `{}` leaves every one to the provider. */
  settings: ModelSettings;
  created_at: string;
  updated_at: string;
}

export type ChatStatus = "pending" | "running" | "waiting" | "error";

/** The last terminal error of a chat (status `error`), as shown to its owner. */
export interface ChatErrorRecord {
  kind: string;
  message: string;
  status_code?: number;
  detail?: string;
}

export interface Chat {
  id: string;
  owner_id: string;
  title: string;
  status: ChatStatus;
  model_id: string;
  workspace_id: string | null;
  archived: boolean;
  /** Shown before the owner's other chats. */
  pinned: boolean;
  /** The server process that runs the chat now (status `running`), and its last heartbeat. */
  worker_id: string | null;
  heartbeat_at: string | null;
  last_error: ChatErrorRecord | null;
  /**
   * The seq of the chat's newest event when the row was read: load the transcript, then stream
   * with `Last-Event-ID: last_event_seq` to get only what comes after (de-duplicate messages by id).
   */
  last_event_seq: number;
  /** A compaction was asked for (`POST /chats/{id}/compact`): chatd compacts when it next runs the chat. */
  compact_requested: boolean;
  created_at: string;
  updated_at: string;
}

export type MessagePart =
  | { type: "text"; text: string }
  | { type: "reasoning"; text: string; provider_metadata?: Record<string, Record<string, unknown>> }
  | {
      type: "tool_call";
      tool_call_id: string;
      name: string;
      input: unknown;
      provider_metadata?: Record<string, Record<string, unknown>>;
    }
  | { type: "tool_result"; tool_call_id: string; name: string; output: unknown; is_error: boolean }
  /**
   * A summary of the conversation before it (an assistant message of its own): later prompts
   * start from the latest one (DESIGN.md §7).
   */
  | { type: "compaction"; text: string }
  /**
   * A turn's terminal error, where it happened (an assistant message of its own, written with the
   * `error` event): the transcript keeps it after the next turn. Never sent to the model.
   */
  | { type: "error"; kind: string; message: string; status_code?: number };

/**
 * A step that was retried: how many times, and why the last time — its error kind and the
 * server's sentence for it (a retryable failure's states only the fact: "Anthropic is
 * overloaded (529).").
 */
export interface RetryRecord {
  count: number;
  kind: string;
  message: string;
}

export type MessageRole = "user" | "assistant" | "tool";

export interface Message {
  id: string;
  chat_id: string;
  role: MessageRole;
  parts: MessagePart[];
  usage: Usage | null;
  model_id: string | null;
  /**
   * Saved while its model step still streams (`Store.saveMessage`): the parts that were complete
   * so far. Its tool calls come from an unfinished stream and are never run; the next turn of the
   * chat settles such a message (a process died mid-step).
   */
  in_progress: boolean;
  /** The step was stopped (Stop) before it finished: its parts are what streamed until then. */
  stopped: boolean;
  /** The step's attempts that failed and were retried; null when the first attempt went through. */
  retries: RetryRecord | null;
  /** What the step cost in USD, with the pricing in force when it ran; null without usage or
   * pricing (src/store/usage.ts). */
  cost_usd: number | null;
  created_at: string;
}

/**
 * A user message waiting in a chat's queue (sent while a turn ran). `id` is the id it keeps when
 * it moves into the transcript, so a client can match the two.
 */
export interface QueuedMessage {
  id: string;
  chat_id: string;
  parts: MessagePart[];
  created_at: string;
}

/** One event of a chat's stream, as persisted: `seq` is the chat's monotonic event sequence. */
export interface ChatEvent {
  chat_id: string;
  seq: number;
  type: string;
  data: unknown;
  created_at: string;
}

/** A page of a list, newest first; pass `next_cursor` back as `before` for the next page. */
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}
