/**
 * A transcript a process left mid-step (it died): messages still `in_progress` are settled as a
 * Stop would have left them, before the next turn reads the history.
 */
import type { ToolCallPart, ToolResultPart } from "../provider/types.ts";
import type { NewMessage } from "../store/contract.ts";
import type { Message } from "../store/types.ts";
import { STARTED_WITHOUT_RESULT } from "./history.ts";

export interface SettleWrites {
  /** Writes a message final and announces it (its `message` event). */
  persist(message: NewMessage & { id: string }): Promise<Message>;
  remove(id: string): Promise<unknown>;
}

/**
 * Text and reasoning are kept, tool calls (from a stream that never finished) dropped, an empty
 * message deleted; each kept one is announced with the `message` event the dead process never
 * sent. A tool message left in progress had its calls started: they get their saved results or
 * `STARTED_WITHOUT_RESULT`, never a second run. Returns the history as it is now.
 */
export async function settleInterrupted(
  history: Message[],
  writes: SettleWrites,
): Promise<Message[]> {
  if (!history.some((message) => message.in_progress)) return history;
  const settled: Message[] = [];
  for (const message of history) {
    if (!message.in_progress) {
      settled.push(message);
      continue;
    }
    if (message.role === "tool") {
      // Its calls were started when the process died: never run them again (at most once).
      settled.push(await writes.persist(startedCallsResults(message, settled.at(-1))));
      continue;
    }
    const parts = message.parts.filter((part) => part.type !== "tool_call");
    if (parts.length === 0) {
      await writes.remove(message.id);
      continue;
    }
    settled.push(
      await writes.persist({
        id: message.id,
        role: message.role,
        parts,
        usage: message.usage,
        model_id: message.model_id,
      }),
    );
  }
  return settled;
}

/**
 * The final tool message for calls that were started by a process that died before their results:
 * each gets its result if one was saved, else an error saying it may have partly run.
 */
function startedCallsResults(
  message: Message,
  previous: Message | undefined,
): NewMessage & { id: string } {
  const calls =
    previous?.role === "assistant"
      ? previous.parts.filter((p): p is ToolCallPart => p.type === "tool_call")
      : [];
  const saved = new Map(
    message.parts.flatMap((p) => (p.type === "tool_result" ? [[p.tool_call_id, p] as const] : [])),
  );
  const parts = calls.map(
    (call): ToolResultPart =>
      saved.get(call.tool_call_id) ?? {
        type: "tool_result",
        tool_call_id: call.tool_call_id,
        name: call.name,
        output: STARTED_WITHOUT_RESULT,
        is_error: true,
      },
  );
  return { id: message.id, role: "tool", parts };
}
