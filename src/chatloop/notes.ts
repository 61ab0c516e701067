/**
 * What a transcript says about a step besides the model's words (issue 12): a turn's terminal
 * error stays where it happened, as an assistant message of its own with one `error` part, and a
 * step Stop cut short is marked `stopped` (kept even when nothing streamed yet, so "Stopped"
 * shows in place after a reload). Neither is ever sent to the model: `toPromptMessage` drops
 * parts it does not know and messages left empty, and `turnIsOpen` looks past these notes.
 */
import { randomUUID } from "node:crypto";
import type { NewMessage } from "../store/contract.ts";
import type { ChatErrorRecord, Message } from "../store/types.ts";

/** The message that keeps a turn's terminal error in the transcript (written before its `error` event). */
export function errorNote(error: ChatErrorRecord): NewMessage & { id: string } {
  return {
    id: randomUUID(),
    role: "assistant",
    parts: [
      {
        type: "error",
        kind: error.kind,
        message: error.message,
        ...(error.status_code !== undefined ? { status_code: error.status_code } : {}),
      },
    ],
  };
}

/** An assistant message with nothing for the model: an error note, or a stopped empty step. */
export function isNote(message: Pick<Message, "role" | "parts">): boolean {
  return message.role === "assistant" && message.parts.every((part) => part.type === "error");
}
