/**
 * Records as clients see them, and the payloads of the events the store appends itself (DESIGN.md
 * §4). They live here, at the bottom of the dependency order, because the store announces the
 * changes it makes on its own (a status change, a user message it writes or moves out of the
 * queue) in the same transaction as the change; `chatloop/events.ts` re-exports them with the
 * rest of the stream's payloads.
 */
import type { Usage } from "../provider/types.ts";
import type { ChatStatus, Message, MessagePart, RetryRecord } from "./types.ts";

/** A message as clients see it, in events and in `GET /chats/{id}` alike. */
export interface PublicMessage {
  id: string;
  role: Message["role"];
  parts: PublicPart[];
  usage?: Usage;
  /** What its model step cost in US dollars, at the pricing in force when it ran (recorded then,
   * never recomputed); null without usage or pricing. */
  cost_usd: number | null;
  /** Saved while its step still streams (a partial assistant message); false once final. */
  in_progress: boolean;
  /** The model that wrote it (assistant messages); null for the user's and tool messages. */
  model_id: string | null;
  /** Its step was stopped (Stop) before it finished. */
  stopped: boolean;
  /** Its step was retried: how many times, and the last failure's kind; null otherwise. */
  retries: RetryRecord | null;
  created_at: string;
}

/** A message part as clients see it: provider-internal metadata (thinking signatures) stays in. */
export type PublicPart =
  | { type: "text"; text: string }
  | { type: "reasoning"; text: string }
  | { type: "tool_call"; tool_call_id: string; name: string; input: unknown }
  | { type: "tool_result"; tool_call_id: string; name: string; output: unknown; is_error: boolean }
  | { type: "compaction"; text: string }
  | { type: "error"; kind: string; message: string; status_code?: number };

export function publicPart(p: MessagePart): PublicPart {
  switch (p.type) {
    case "text":
    case "reasoning":
    case "compaction":
      return { type: p.type, text: p.text };
    case "tool_call":
      return { type: p.type, tool_call_id: p.tool_call_id, name: p.name, input: p.input };
    case "tool_result":
      return {
        type: p.type,
        tool_call_id: p.tool_call_id,
        name: p.name,
        output: p.output,
        is_error: p.is_error,
      };
    case "error":
      return {
        type: p.type,
        kind: p.kind,
        message: p.message,
        ...(p.status_code !== undefined ? { status_code: p.status_code } : {}),
      };
  }
}

/**
 * `cost_usd` is the one recorded with the message when its step ended (the pricing in force then;
 * src/store/usage.ts), never recomputed.
 */
export function publicMessage(m: Message): PublicMessage {
  return {
    id: m.id,
    role: m.role,
    parts: m.parts.map(publicPart),
    ...(m.usage ? { usage: m.usage } : {}),
    cost_usd: m.usage ? m.cost_usd : null,
    in_progress: m.in_progress,
    model_id: m.model_id,
    stopped: m.stopped,
    retries: m.retries,
    created_at: m.created_at,
  };
}

/** The `status` event's payload. */
export interface StatusEventData {
  status: ChatStatus;
}

/** The `message` event's payload. */
export interface MessageEventData {
  message: PublicMessage;
}

/**
 * The `truncated` event's payload: these messages left the transcript (edit and rerun, or
 * regenerate), every one after `after_message_id` — and any still queued (by the id they would
 * have kept). Clients drop them.
 */
export interface TruncatedEventData {
  after_message_id: string;
  message_ids: string[];
}
