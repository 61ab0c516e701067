/**
 * Rows → records. node-postgres returns `bigint` as a string and `timestamptz` as a Date, so every
 * column goes through one of these. Timestamps are `timestamptz(3)`: millisecond precision, so an ISO string read back
 * is exactly the stored value (cursors depend on that).
 */
import type { ModelSettings } from "../provider/settings.ts";
import type { ProviderType, Usage } from "../provider/types.ts";
import type {
  Chat,
  ChatErrorRecord,
  ChatEvent,
  ChatStatus,
  Message,
  MessagePart,
  MessageRole,
  ModelRecord,
  Pricing,
  ProviderRecord,
  QueuedMessage,
  RetryRecord,
  Role,
  User,
} from "./types.ts";

export function iso(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "string" || typeof value === "number") {
    return new Date(value).toISOString();
  }
  throw new TypeError(`not a timestamp: ${typeof value}`);
}

export function isoOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : iso(value);
}

export function int(value: unknown): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new TypeError("not a number");
  return n;
}

/**
 * JSON for a jsonb parameter (`$n::jsonb`); `undefined` becomes JSON null. jsonb cannot hold
 * U+0000 nor an unpaired UTF-16 surrogate (PostgreSQL rejects the whole value), so either one
 * inside a string or a key (a tool's output of a binary file, a model's stream cut inside a
 * surrogate pair) is stored as U+FFFD instead of failing the write. This is the one place every
 * jsonb value passes through; everything else round-trips exactly.
 */
export function json(value: unknown): string {
  const text = JSON.stringify(value ?? null);
  // JSON.stringify writes both as escapes (`\u0000`, `\udxxx`); without one, nothing to do.
  return UNSTORABLE_ESCAPE.test(text) ? JSON.stringify(storable(value ?? null)) : text;
}

const UNSTORABLE_ESCAPE = /\\u(0000|d[89a-f][0-9a-f]{2})/i;

/** `value` with U+0000 and unpaired surrogates in its strings and keys replaced by U+FFFD. */
function storable(value: unknown): unknown {
  if (typeof value === "string") return storableString(value);
  if (value === null || typeof value !== "object") return value;
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") return value;
  if (Array.isArray(value)) return value.map(storable);
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[storableString(key)] = storable(item);
  return out;
}

function storableString(value: string): string {
  return value.replaceAll("\0", "\uFFFD").toWellFormed();
}

export function jsonOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : json(value);
}

export interface UserRow {
  id: string;
  username: string;
  email: string;
  role: string;
  active: boolean;
  created_at: unknown;
  [column: string]: unknown;
}

export const USER_COLUMNS =
  "id, username, email, role, deactivated_at IS NULL AS active, created_at";

export function toUser(row: UserRow): User {
  return {
    id: row.id,
    username: row.username,
    email: row.email,
    role: row.role as Role,
    active: row.active === true,
    created_at: iso(row.created_at),
  };
}

export interface ProviderRow {
  id: string;
  type: string;
  name: string;
  base_url: string | null;
  options: Record<string, unknown> | null;
  has_api_key: boolean;
  secret_option_names: string[] | null;
  created_at: unknown;
  updated_at: unknown;
  [column: string]: unknown;
}

/** Never selects a ciphertext: only whether there is one, and which secret options are set. */
export const PROVIDER_COLUMNS =
  "id, type, name, base_url, options, api_key_encrypted IS NOT NULL AS has_api_key, secret_option_names, created_at, updated_at";

/** The value a secret option shows outside the store. */
export const SECRET_OPTION_PLACEHOLDER = "[redacted]";

export function toProvider(row: ProviderRow): ProviderRecord {
  return {
    id: row.id,
    type: row.type as ProviderType,
    name: row.name,
    base_url: row.base_url,
    options: {
      ...row.options,
      ...Object.fromEntries(
        (row.secret_option_names ?? []).map((n) => [n, SECRET_OPTION_PLACEHOLDER]),
      ),
    },
    has_api_key: row.has_api_key,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

export interface ModelRow {
  id: string;
  provider_id: string;
  model: string;
  display_name: string;
  context_window: unknown;
  pricing: Pricing | null;
  enabled: boolean;
  settings: ModelSettings | null;
  created_at: unknown;
  updated_at: unknown;
  [column: string]: unknown;
}

export const MODEL_COLUMNS =
  "id, provider_id, model, display_name, context_window, pricing, enabled, settings, created_at, updated_at";

export function toModel(row: ModelRow): ModelRecord {
  return {
    id: row.id,
    provider_id: row.provider_id,
    model: row.model,
    display_name: row.display_name,
    context_window: row.context_window === null ? null : int(row.context_window),
    pricing: row.pricing ?? null,
    enabled: row.enabled,
    settings: row.settings ?? {},
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

export interface ChatRow {
  id: string;
  owner_id: string;
  title: string;
  status: string;
  model_id: string;
  workspace_id: string | null;
  archived: boolean;
  pinned: boolean;
  worker_id: string | null;
  heartbeat_at: unknown;
  last_error: ChatErrorRecord | null;
  last_event_seq: unknown;
  compact_requested: boolean;
  created_at: unknown;
  updated_at: unknown;
  [column: string]: unknown;
}

const CHAT_TABLE_COLUMNS =
  "id, owner_id, title, status, model_id, workspace_id, archived, pinned, worker_id, heartbeat_at, last_error, compact_requested, created_at, updated_at";

/**
 * A chat's columns, `alias`-qualified (for joins and `UPDATE … FROM`). Its `last_event_seq` is
 * its newest persisted event, not the column of that name: while a replica owns the chat, its
 * events are numbered in memory past the column (`chat-events.ts`).
 */
export function chatColumns(
  alias: string,
  newest = `(SELECT COALESCE(max(ev.seq), 0) FROM chat_events ev WHERE ev.chat_id = ${alias}.id)`,
): string {
  const own = CHAT_TABLE_COLUMNS.split(", ").map((column) => `${alias}.${column}`);
  return [...own, `${newest} AS last_event_seq`].join(", ");
}

export const CHAT_COLUMNS = chatColumns("chats");

export function toChat(row: ChatRow): Chat {
  return {
    id: row.id,
    owner_id: row.owner_id,
    title: row.title,
    status: row.status as ChatStatus,
    model_id: row.model_id,
    workspace_id: row.workspace_id,
    archived: row.archived,
    pinned: row.pinned === true,
    worker_id: row.worker_id,
    heartbeat_at: isoOrNull(row.heartbeat_at),
    last_error: row.last_error ?? null,
    last_event_seq: int(row.last_event_seq),
    compact_requested: row.compact_requested === true,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

export interface MessageRow {
  id: string;
  chat_id: string;
  role: string;
  parts: MessagePart[];
  usage: Usage | null;
  model_id: string | null;
  in_progress: boolean;
  stopped: boolean;
  retries: RetryRecord | null;
  cost_usd: number | null;
  created_at: unknown;
  [column: string]: unknown;
}

export const MESSAGE_COLUMNS =
  "id, chat_id, role, parts, usage, model_id, in_progress, stopped, retries, cost_usd, created_at";

export function toMessage(row: MessageRow): Message {
  return {
    id: row.id,
    chat_id: row.chat_id,
    role: row.role as MessageRole,
    parts: row.parts,
    usage: row.usage ?? null,
    model_id: row.model_id,
    in_progress: row.in_progress === true,
    stopped: row.stopped === true,
    retries: row.retries ?? null,
    cost_usd: row.cost_usd ?? null,
    created_at: iso(row.created_at),
  };
}

export interface QueuedMessageRow {
  message_id: string;
  chat_id: string;
  parts: MessagePart[];
  created_at: unknown;
  [column: string]: unknown;
}

export const QUEUED_MESSAGE_COLUMNS = "message_id, chat_id, parts, created_at";

export function toQueuedMessage(row: QueuedMessageRow): QueuedMessage {
  return {
    id: row.message_id,
    chat_id: row.chat_id,
    parts: row.parts,
    created_at: iso(row.created_at),
  };
}

export interface EventRow {
  chat_id: string;
  seq: unknown;
  type: string;
  data: unknown;
  created_at: unknown;
  [column: string]: unknown;
}

export const EVENT_COLUMNS = "chat_id, seq, type, data, created_at";

export function toEvent(row: EventRow): ChatEvent {
  return {
    chat_id: row.chat_id,
    seq: int(row.seq),
    type: row.type,
    data: row.data,
    created_at: iso(row.created_at),
  };
}
