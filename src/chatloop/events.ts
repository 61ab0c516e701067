/**
 * The chat event stream's payloads (DESIGN.md §4): what `GET /api/v1/chats/{id}/stream` sends as
 * SSE `data:`. Outside clients depend on these shapes.
 */
import type { Usage } from "../provider/types.ts";
import type { ChatStatus, Message, MessagePart } from "../store/types.ts";

/** A message as clients see it, in events and in `GET /chats/{id}` alike. */
export interface PublicMessage {
  id: string;
  role: Message["role"];
  parts: PublicPart[];
  usage?: Usage;
  created_at: string;
}

/** A message part as clients see it: provider-internal metadata (thinking signatures) stays in. */
export type PublicPart =
  | { type: "text"; text: string }
  | { type: "reasoning"; text: string }
  | { type: "tool_call"; tool_call_id: string; name: string; input: unknown }
  | { type: "tool_result"; tool_call_id: string; name: string; output: unknown; is_error: boolean };

function publicPart(p: MessagePart): PublicPart {
  switch (p.type) {
    case "text":
    case "reasoning":
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
  }
}

export function publicMessage(m: Message): PublicMessage {
  return {
    id: m.id,
    role: m.role,
    parts: m.parts.map(publicPart),
    ...(m.usage ? { usage: m.usage } : {}),
    created_at: m.created_at,
  };
}

/** A delta of the message being streamed. After a `retry` event, discard the deltas of any
 * message that has no `message` event yet: the retried attempt streams it again from the start. */
export type MessageDelta =
  | { type: "text"; text: string }
  | { type: "reasoning"; text: string }
  | { type: "tool_call"; tool_call_id: string; name: string; input_delta: string }
  | { type: "tool_result"; tool_call_id: string; output_delta: string };

export interface ChatEventPayloads {
  status: { status: ChatStatus };
  message_part: { message_id: string; part: MessageDelta };
  message: { message: PublicMessage };
  retry: { attempt: number; delay_ms: number; kind: string; message: string; retrying_at: string };
  error: { kind: string; message: string; status_code?: number };
  usage: { message_id: string; usage: Usage; cost_usd?: number };
}

export type ChatEventType = keyof ChatEventPayloads;
