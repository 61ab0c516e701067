/**
 * The latest events of the chats this replica has seen events of — created here, claimed here,
 * announced to it — kept contiguous, so that a stream opened (or resumed) within them is served
 * from memory rather than by a read of `chat_events` (a burst of new chats opens a burst of
 * streams from their first event). Bounded: `perChat` events of the `maxChats` chats seen last.
 *
 * Each chat keeps one run of consecutive seqs: an event that is not the next one (an arrival out
 * of order, the jump a takeover makes) starts the run again from it, so whatever a run holds is
 * every event in its range.
 */
import type { ChatEvent } from "./types.ts";

export class RecentEvents {
  readonly #maxChats: number;
  readonly #perChat: number;
  /** Chat → its run, in the order chats were last touched (the first is evicted first). */
  readonly #runs = new Map<string, ChatEvent[]>();

  constructor(maxChats = 1_000, perChat = 64) {
    this.#maxChats = maxChats;
    this.#perChat = perChat;
  }

  record(event: ChatEvent): void {
    const id = event.chat_id;
    let run = this.#runs.get(id);
    const last = run?.at(-1)?.seq;
    if (last !== undefined && event.seq <= last) return; // a copy, or one overtaken: nothing new
    this.#runs.delete(id);
    if (!run || last === undefined || event.seq !== last + 1) run = [];
    run.push(event);
    // Trimmed in steps, not per event.
    if (run.length > 2 * this.#perChat) run = run.slice(-this.#perChat);
    this.#runs.set(id, run);
    if (this.#runs.size > this.#maxChats) {
      const oldest = this.#runs.keys().next().value;
      if (oldest !== undefined) this.#runs.delete(oldest);
    }
  }

  /** The chat's events after `afterSeq`, if the run holds all of them; else undefined. */
  after(chatId: string, afterSeq: number): ChatEvent[] | undefined {
    const run = this.#runs.get(chatId);
    const first = run?.[0];
    if (!run || !first || first.seq > afterSeq + 1) return undefined;
    return run.filter((event) => event.seq > afterSeq);
  }

  /** What this replica holds of the chat may include a lost run's events: forget it. */
  forget(chatId: string): void {
    this.#runs.delete(chatId);
  }
}
