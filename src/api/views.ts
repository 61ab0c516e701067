/**
 * Store records → the API's response shapes. Internal fields (owner, worker, heartbeat, archived,
 * opaque provider metadata) stay out; secrets never leave: a provider's key is only `has_api_key`,
 * and credential-like option values read "[redacted]".
 */
import { publicMessage } from "../chatd/index.ts";
import { contextWindowOf } from "../provider/context-windows.ts";
import { publicPart } from "../store/public.ts";
import type {
  Chat,
  Message,
  ModelRecord,
  ProviderRecord,
  QueuedMessage,
  User,
  Workspace,
} from "../store/types.ts";
import { REDACTED } from "./log.ts";

export function userView(u: User) {
  return {
    id: u.id,
    username: u.username,
    email: u.email,
    role: u.role,
    active: u.active,
    created_at: u.created_at,
  };
}

/** Option names whose values are credentials. `headers` values are always treated as secret. */
const SECRET_OPTION = /secret|token|password|api[_-]?key|credential|authorization/i;

function redactOptions(options: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (key === "headers" && value !== null && typeof value === "object") {
      out[key] = Object.fromEntries(Object.keys(value).map((name) => [name, REDACTED]));
    } else {
      out[key] = SECRET_OPTION.test(key) ? REDACTED : value;
    }
  }
  return out;
}

export function providerView(p: ProviderRecord) {
  return {
    id: p.id,
    type: p.type,
    name: p.name,
    base_url: p.base_url,
    options: redactOptions(p.options ?? {}),
    has_api_key: p.has_api_key,
    created_at: p.created_at,
    updated_at: p.updated_at,
  };
}

export function workspaceView(w: Workspace) {
  return {
    id: w.id,
    name: w.name,
    owner: w.owner_id,
    directory: w.directory,
    agent: w.agent,
    created_at: w.created_at,
  };
}

/** `groupIds` (admins' view only): the groups the model is restricted to. */
export function modelView(m: ModelRecord, groupIds?: string[]) {
  return {
    id: m.id,
    provider_id: m.provider_id,
    model: m.model,
    display_name: m.display_name,
    context_window: m.context_window,
    pricing: m.pricing,
    enabled: m.enabled,
    temperature: m.settings.temperature ?? null,
    max_output_tokens: m.settings.max_output_tokens ?? null,
    reasoning: m.settings.reasoning ?? null,
    compact_at: m.settings.compact_at ?? null,
    effective_context_window: contextWindowOf(m).tokens,
    ...(groupIds !== undefined ? { group_ids: groupIds } : {}),
    created_at: m.created_at,
    updated_at: m.updated_at,
  };
}

export function chatView(c: Chat) {
  return {
    id: c.id,
    title: c.title,
    status: c.status,
    model_id: c.model_id,
    workspace_id: c.workspace_id,
    last_error: c.last_error,
    last_event_seq: c.last_event_seq,
    pinned: c.pinned,
    archived: c.archived,
    created_at: c.created_at,
    updated_at: c.updated_at,
  };
}

/**
 * A transcript message as `GET /chats/{id}` shows it: the shape of the `message` event (the event
 * contract defines it), its `cost_usd` the one recorded when its step ran.
 */
export function messageView(m: Message) {
  return publicMessage(m);
}

export function queuedMessageView(q: QueuedMessage) {
  return { id: q.id, parts: q.parts.map(publicPart), created_at: q.created_at };
}
