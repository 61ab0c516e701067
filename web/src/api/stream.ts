/**
 * Follows a chat's event stream (DESIGN.md §4) over fetch, so it can send `Last-Event-ID` itself
 * and choose its own backoff: EventSource hides both. A dropped connection is resumed after the
 * last event received, so the caller sees every event once and in order. Events are handed over in
 * batches, at most one per animation frame, so a fast stream costs one render per frame.
 */
import { createParser } from "eventsource-parser";
import { API_BASE, ApiError } from "./client.ts";
import type { ChatEvent, ChatEventType } from "./types.ts";

export type StreamState = "connecting" | "open" | "reconnecting";

export interface FollowOptions {
  chatId: string;
  /** The server's origin, e.g. `http://127.0.0.1:8080`; the page's own origin by default. */
  baseUrl?: string;
  /** Resume after this event id (the chat's `last_event_seq` when its transcript was read). */
  after: number;
  signal: AbortSignal;
  onEvents(events: ChatEvent[]): void;
  onState(state: StreamState): void;
  /** The stream cannot go on (the chat is gone or the session ended): no more retries. */
  onFatal(error: ApiError): void;
  /** Backoff bounds; tests shorten them. */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** Batches events per animation frame by default. */
  schedule?: (flush: () => void) => void;
}

/** Every event type the UI applies; a new one on the server is a type error here until listed. */
const EVENT_TYPES: ReadonlySet<string> = new Set(
  Object.keys({
    status: true,
    message_part: true,
    message: true,
    retry: true,
    error: true,
    usage: true,
    title: true,
    compaction: true,
    truncated: true,
  } satisfies Record<ChatEventType, true>),
);

/** Full-jitter exponential backoff: a server that restarts is not met by every tab at once. */
export function backoffDelay(attempt: number, minMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** attempt);
  return minMs / 2 + Math.random() * (ceiling - minMs / 2);
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

const byFrame = (flush: () => void) => {
  if (typeof requestAnimationFrame === "function") requestAnimationFrame(flush);
  else setTimeout(flush, 16);
};

export async function followChat(options: FollowOptions): Promise<void> {
  const { chatId, signal } = options;
  const minDelay = options.minDelayMs ?? 500;
  const maxDelay = options.maxDelayMs ?? 10_000;
  const schedule = options.schedule ?? byFrame;
  const url = `${options.baseUrl ?? ""}${API_BASE}/chats/${encodeURIComponent(chatId)}/stream`;
  let lastSeq = options.after;
  let batch: ChatEvent[] = [];
  let scheduled = false;
  const deliver = () => {
    scheduled = false;
    if (batch.length === 0 || signal.aborted) return;
    const events = batch;
    batch = [];
    options.onEvents(events);
  };
  const parser = createParser({
    onEvent(message) {
      const seq = Number(message.id);
      if (!message.event || !EVENT_TYPES.has(message.event) || !(seq > lastSeq)) return;
      lastSeq = seq;
      batch.push({ type: message.event, seq, data: JSON.parse(message.data) } as ChatEvent);
      if (!scheduled) {
        scheduled = true;
        schedule(deliver);
      }
    },
  });

  let failures = 0;
  while (!signal.aborted) {
    options.onState(failures === 0 ? "connecting" : "reconnecting");
    try {
      const response = await fetch(url, {
        headers: { accept: "text/event-stream", "last-event-id": String(lastSeq) },
        credentials: "same-origin",
        cache: "no-store",
        signal,
      });
      if (response.status === 401 || response.status === 403 || response.status === 404) {
        const body = (await response.json().catch(() => ({}))) as { message?: string };
        options.onFatal(
          new ApiError(response.status, { message: body.message ?? "The chat is not available." }),
        );
        return;
      }
      if (!response.ok || response.body === null) throw new Error(`HTTP ${response.status}`);
      options.onState("open");
      failures = 0;
      parser.reset();
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parser.feed(value);
      }
    } catch {
      if (signal.aborted) break;
    }
    // Ended or failed (server restart, network loss): resume after the last event we have.
    deliver();
    failures += 1;
    options.onState("reconnecting");
    await sleep(backoffDelay(failures - 1, minDelay, maxDelay), signal);
  }
  deliver();
}
