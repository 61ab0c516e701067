/**
 * The chat event stream's payloads (DESIGN.md §4): what `GET /api/v1/chats/{id}/stream` sends as
 * SSE `data:`. Outside clients depend on these shapes.
 */
import type { Usage } from "../provider/types.ts";
import type { MessageEventData, StatusEventData, TruncatedEventData } from "../store/public.ts";

export { type PublicMessage, type PublicPart, publicMessage } from "../store/public.ts";

/** A delta of the message being streamed. After a `retry` event, discard the deltas of any
 * message that has no `message` event yet: the retried attempt streams it again from the start. */
export type MessageDelta =
  | { type: "text"; text: string }
  | { type: "reasoning"; text: string }
  | { type: "tool_call"; tool_call_id: string; name: string; input_delta: string }
  | { type: "tool_result"; tool_call_id: string; output_delta: string };

export interface ChatEventPayloads {
  /** Appended by the store, in the transaction that changes the status. */
  status: StatusEventData;
  message_part: { message_id: string; part: MessageDelta };
  /** User messages: appended by the store when it writes or moves them (except a drain by the
   * chat's owner, which the owner announces); assistant and tool messages: by the turn. */
  message: MessageEventData;
  retry: { attempt: number; delay_ms: number; kind: string; message: string; retrying_at: string };
  error: { kind: string; message: string; status_code?: number };
  usage: { message_id: string; usage: Usage; cost_usd?: number };
  /** The chat's new title (a model wrote it after the first reply); appended by chatd. */
  title: { title: string };
  /**
   * The conversation is being summarised (DESIGN.md §7): `threshold` — the prompt passed the
   * model's compaction threshold; `context_length` — the provider said it does not fit (the step
   * is tried again after); `manual` — asked for. Its `message` event (a `compaction` part) follows;
   * a Stop or an `error` event ends it instead.
   */
  compaction: { reason: "threshold" | "context_length" | "manual"; prompt_tokens?: number };
  /**
   * Messages left the transcript (edit and rerun, regenerate): `message_ids`, every message after
   * `after_message_id`. Appended by the store with the change; `status: pending` follows.
   */
  truncated: TruncatedEventData;
}

export type ChatEventType = keyof ChatEventPayloads;
