/**
 * Server-Sent Events for a chat's event stream (DESIGN.md §4). Per event the hot path does one
 * `JSON.stringify` of `event.data` (cached per event object, so subscribers that share an event
 * share its text), one string concatenation, and — coalesced per microtask — one encode and one
 * enqueue. Nothing of the history is re-read or re-serialised.
 *
 * Lifecycle: the subscription ends when the client goes away (the body is cancelled or the
 * request aborted), on server shutdown, when a client falls `maxBufferedBytes` behind (it is
 * disconnected and resumes with Last-Event-ID), or when `stillAllowed` says its access is gone
 * (checked every `accessCheckMs`: a revoked token or a lost role ends a stream within seconds).
 * A disconnect is never a Stop.
 */
import type { ChatEvent } from "../store/types.ts";
import type { Logger } from "./log.ts";

const encoder = new TextEncoder();
const formatted = new WeakMap<ChatEvent, string>();
export const HEARTBEAT = ": keep-alive\n\n";

/** `id: <seq>\nevent: <type>\ndata: <json>\n\n`. JSON has no raw newlines, so one data line. */
export function formatEvent(event: ChatEvent): string {
  let text = formatted.get(event);
  if (text === undefined) {
    const type = /[\r\n]/.test(event.type) ? event.type.replace(/[\r\n]/g, "") : event.type;
    text = `id: ${event.seq}\nevent: ${type}\ndata: ${JSON.stringify(event.data) ?? "null"}\n\n`;
    formatted.set(event, text);
  }
  return text;
}

export const SSE_HEADERS = {
  "content-type": "text/event-stream",
  "cache-control": "no-cache",
  "x-accel-buffering": "no",
} as const;

export interface EventStreamOptions {
  heartbeatMs: number;
  maxBufferedBytes: number;
  logger: Logger;
  /** The request's signal: aborted when the client disconnects. */
  requestSignal?: AbortSignal;
  /** Server shutdown. */
  shutdown?: AbortSignal;
  /** For log lines. */
  label?: Record<string, unknown>;
  /** Whether the client may still read this stream (its token, its user, its access). */
  stillAllowed?: () => Promise<boolean>;
  accessCheckMs?: number;
}

type Subscribe = (onEvent: (event: ChatEvent) => void) => Promise<() => void>;

/**
 * Subscribes and returns the SSE response. If `subscribe` throws, nothing is sent and the error
 * propagates (so it becomes an ordinary JSON error response).
 */
export async function eventStreamResponse(
  subscribe: Subscribe,
  options: EventStreamOptions,
): Promise<Response> {
  const session = new SseSession(options);
  const body = new ReadableStream<Uint8Array>(
    {
      start: (controller) => session.attach(controller),
      cancel: () => session.close("client disconnected"),
    },
    new ByteLengthQueuingStrategy({ highWaterMark: 64 * 1024 }),
  );
  const onAbort = () => session.close("client disconnected");
  options.requestSignal?.addEventListener("abort", onAbort, { once: true });
  const onShutdown = () => session.close("server shutdown");
  options.shutdown?.addEventListener("abort", onShutdown, { once: true });
  session.onClose = () => {
    options.requestSignal?.removeEventListener("abort", onAbort);
    options.shutdown?.removeEventListener("abort", onShutdown);
  };
  if (options.requestSignal?.aborted) session.close("client disconnected");
  if (options.shutdown?.aborted) session.close("server shutdown");
  try {
    session.setUnsubscribe(await subscribe((event) => session.event(event)));
  } catch (err) {
    session.close("subscribe failed");
    throw err;
  }
  return new Response(body, { status: 200, headers: SSE_HEADERS });
}

class SseSession {
  onClose: (() => void) | undefined;
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  #pending: string[] = [];
  #scheduled = false;
  #closed = false;
  #lastSeq = -1;
  #unsubscribe: (() => void) | undefined;
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #accessTimer: ReturnType<typeof setInterval> | undefined;
  readonly #options: EventStreamOptions;

  constructor(options: EventStreamOptions) {
    this.#options = options;
    // Every interval, busy or not: a fixed cadence bounds the silence any proxy sees.
    this.#timer = setInterval(() => this.#push(HEARTBEAT), options.heartbeatMs);
    this.#timer.unref();
    const stillAllowed = options.stillAllowed;
    if (stillAllowed) {
      let checking = false;
      this.#accessTimer = setInterval(() => {
        if (checking || this.#closed) return;
        checking = true;
        stillAllowed()
          .then((allowed) => {
            if (!allowed) this.close("access revoked");
          })
          .catch(() => {
            // The check itself failed (the database is away): keep serving, check again later.
          })
          .finally(() => {
            checking = false;
          });
      }, options.accessCheckMs ?? 5_000);
      this.#accessTimer.unref();
    }
  }

  attach(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.#controller = controller;
  }

  setUnsubscribe(unsubscribe: () => void): void {
    if (this.#closed) {
      safely(unsubscribe);
      return;
    }
    this.#unsubscribe = unsubscribe;
  }

  event(event: ChatEvent): void {
    // chatd delivers each event once and in order; a repeat would be a second copy: drop it.
    if (this.#closed || event.seq <= this.#lastSeq) return;
    this.#lastSeq = event.seq;
    this.#push(formatEvent(event));
  }

  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    clearInterval(this.#accessTimer);
    this.#pending.length = 0;
    const unsubscribe = this.#unsubscribe;
    this.#unsubscribe = undefined;
    if (unsubscribe) safely(unsubscribe);
    this.onClose?.();
    // A gone client's body was cancelled already. A slow one is cut off (its queue dropped);
    // otherwise (shutdown) the queued events are delivered and the response ends.
    try {
      if (reason === "client too slow") this.#controller?.error(new Error(reason));
      else if (reason !== "client disconnected") this.#controller?.close();
    } catch {
      // already closed or errored
    }
  }

  #push(text: string): void {
    this.#pending.push(text);
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => this.#flush());
    }
  }

  #flush(): void {
    this.#scheduled = false;
    const controller = this.#controller;
    if (this.#closed || controller === undefined || this.#pending.length === 0) return;
    const text = this.#pending.length === 1 ? (this.#pending[0] as string) : this.#pending.join("");
    this.#pending.length = 0;
    try {
      controller.enqueue(encoder.encode(text));
    } catch {
      this.close("client disconnected");
      return;
    }
    const behind = -(controller.desiredSize ?? 0);
    if (behind > this.#options.maxBufferedBytes) {
      this.#options.logger.warn("event stream client too slow; disconnecting", {
        ...this.#options.label,
        buffered_bytes: behind,
      });
      this.close("client too slow");
    }
  }
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // an unsubscribe that throws must not take the connection handler down with it
  }
}
