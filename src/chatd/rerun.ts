/**
 * Edit and rerun, and regenerate (issue 12): the transcript is cut back to a user message (its
 * content replaced, for an edit) and a new turn answers it. The later messages are deleted — the
 * store announces which with a `truncated` event — as ChatGPT and LibreChat do when a message is
 * edited; nothing keeps them recoverable.
 *
 * An edit stops a running turn first, as people expect from an edit button (ChatGPT stops and
 * reruns), waiting — bounded — until the turn has released the chat. Regenerate answers 409
 * while a turn runs: the reply it would replace is still being written, so the user stops it
 * first.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { AuditEntry } from "../store/audit.ts";
import type { RewindResult, Store } from "../store/contract.ts";
import type { Chat, MessagePart } from "../store/types.ts";
import { ChatRequestError } from "./contract.ts";

export type RerunStore = Pick<Store, "getChat" | "rewindChat" | "signals">;

/** How long an edit waits for the running turn to stop (it persists what it streamed first). */
export const STOP_WAIT_MS = 10_000;
const POLL_MS = 50;
const REINTERRUPT_MS = 1_000;

const STILL_RUNNING =
  "The chat's turn did not stop in time to edit the message; wait a moment and try again.";
const RUNNING_REGENERATE = "The chat is running: stop it first, then regenerate the reply.";
export const ARCHIVED = "This chat is archived: unarchive it to send messages.";

/** Edits a user message and reruns the chat from it. */
export async function editAndRerun(
  store: RerunStore,
  chat: Chat,
  messageId: string,
  parts: MessagePart[],
  interrupt: (chat: Chat) => Promise<void>,
  audit?: AuditEntry,
): Promise<void> {
  if (chat.archived) throw new ChatRequestError(409, ARCHIVED);
  const request = { message_id: messageId, parts, ...(audit ? { audit } : {}) };
  let result = await store.rewindChat(chat.id, request);
  if (!result.ok && result.reason === "running") {
    const deadline = Date.now() + STOP_WAIT_MS;
    let interrupted = 0;
    while (!result.ok && result.reason === "running" && Date.now() < deadline) {
      // Again now and then: a message queued behind the stopped turn starts another one at once,
      // which has to stop too.
      if (Date.now() - interrupted >= REINTERRUPT_MS) {
        await interrupt(chat);
        interrupted = Date.now();
      }
      await sleep(POLL_MS);
      const current = await store.getChat(chat.id);
      if (current?.status === "running") continue;
      result = await store.rewindChat(chat.id, request);
    }
  }
  await rerun(store, chat, result, {
    running: STILL_RUNNING,
    noMessage: new ChatRequestError(404, "Message not found."),
  });
}

/** Replaces the last reply: a new turn answers the last user message. */
export async function regenerate(store: RerunStore, chat: Chat, audit?: AuditEntry): Promise<void> {
  if (chat.archived) throw new ChatRequestError(409, ARCHIVED);
  await rerun(store, chat, await store.rewindChat(chat.id, audit ? { audit } : {}), {
    running: RUNNING_REGENERATE,
    noMessage: new ChatRequestError(409, "This chat has no message of yours to answer yet."),
  });
}

/** The words of the refusals that differ between an edit and a regenerate. */
interface Refusals {
  running: string;
  noMessage: ChatRequestError;
}

async function rerun(
  store: RerunStore,
  chat: Chat,
  result: RewindResult,
  refusals: Refusals,
): Promise<void> {
  if (!result.ok) throw refusal(result.reason, refusals);
  await store.signals.send({ type: "pending", chat_id: chat.id });
}

function refusal(
  reason: Extract<RewindResult, { ok: false }>["reason"],
  refusals: Refusals,
): ChatRequestError {
  switch (reason) {
    case "running":
      return new ChatRequestError(409, refusals.running);
    case "archived":
      return new ChatRequestError(409, ARCHIVED);
    case "not_user":
      return new ChatRequestError(
        400,
        "Only your own messages can be edited; use Regenerate for the model's reply.",
      );
    case "no_message":
      return refusals.noMessage;
    case "no_chat":
      return new ChatRequestError(404, "Chat not found.");
  }
}
