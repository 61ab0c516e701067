/**
 * The chat event stream's payloads (DESIGN.md §4): what `GET /api/v1/chats/{id}/stream` sends as
 * SSE `data:`. Outside clients depend on these shapes.
 */
import type { Usage } from "../provider/types.ts";
import type { ChatStatus, Message } from "../store/types.ts";

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
  message: { message: Message };
  retry: { attempt: number; delay_ms: number; kind: string; message: string; retrying_at: string };
  error: { kind: string; message: string; status_code?: number };
  usage: { message_id: string; usage: Usage; cost_usd?: number };
}

export type ChatEventType = keyof ChatEventPayloads;
