/**
 * Fan-out of chat events and signals inside one replica, fed by this replica's own events (its
 * owned chats' logs, `event-log.ts`, and its transactional appends, at once) and by the other
 * replicas' NOTIFYs (through the store's one LISTEN connection): a group commit's NOTIFY names the
 * chats and seq ranges it committed, which each subscription reads from `chat_events`.
 *
 * Each subscription delivers events in `seq` order, each once. It keeps a cursor (the last seq it
 * delivered: the caller's `afterSeq`, or else the chat's newest event when the subscription
 * starts); an event that is not the next one reveals a gap (an out-of-order arrival, a NOTIFY
 * lost while the LISTEN connection was down, a range to read), and the subscription reads after
 * its cursor (`fetchAfter`: the owner's ring, else the table) before going on. That read is
 * complete up to the event that revealed the gap: a chat's events commit in seq order, so an
 * event's arrival proves that every smaller seq is committed — or will never exist (the seqs a
 * dead owner handed out but never persisted, skipped by the replica that took over).
 */
import type { ChatSignal } from "./contract.ts";
import { RecentEvents } from "./recent-events.ts";
import type { ChatEvent } from "./types.ts";

export const EVENTS_CHANNEL = "keel_chat_events";
export const SIGNALS_CHANNEL = "keel_chat_signals";
/** PostgreSQL caps a NOTIFY payload at 8000 bytes; bigger events travel as a pointer. */
export const NOTIFY_EVENT_MAX_BYTES = 7000;

type FetchAfter = (chatId: string, afterSeq: number, limit: number) => Promise<ChatEvent[]>;
/** The chat's last allocated seq (0 for a chat without events, or no such chat). */
type LastSeq = (chatId: string) => Promise<number>;

const PAGE = 500;
const RETRY_MS = 1_000;

/** The NOTIFY payload of an event: origin, chat, seq, and the event itself when it fits. */
export interface EventNotification {
  o: string;
  c: string;
  s: number;
  t?: string;
  d?: unknown;
  at?: string;
}

export class EventHub {
  readonly #fetchAfter: FetchAfter;
  readonly #lastSeq: LastSeq;
  readonly #instanceId: string;
  readonly #subscriptions = new Map<string, Set<Subscription>>();
  #closed = false;

  readonly #recent = new RecentEvents();

  constructor(instanceId: string, fetchAfter: FetchAfter, lastSeq: LastSeq) {
    this.#instanceId = instanceId;
    this.#fetchAfter = fetchAfter;
    this.#lastSeq = lastSeq;
  }

  /**
   * The chat's events this replica published lately that come right before `seq`, from its
   * first one — all of them or none (see `recent-events.ts`). Not a source of reads on its own:
   * another replica may have appended since; the chat's owner knows it did not.
   */
  publishedBefore(chatId: string, seq: number): ChatEvent[] {
    const run = this.#recent.after(chatId, 0);
    if (!run) return [];
    const before = run.filter((event) => event.seq < seq);
    return before.at(-1)?.seq === seq - 1 ? before : [];
  }

  /** The chat's recent events here may include a lost run's: they are not served again. */
  forget(chatId: string): void {
    this.#recent.forget(chatId);
  }

  subscribe(chatId: string, onEvent: (event: ChatEvent) => void, afterSeq?: number): () => void {
    if (this.#closed) return () => {};
    const subscription = new Subscription(
      chatId,
      onEvent,
      afterSeq ?? null,
      this.#fetchAfter,
      this.#lastSeq,
    );
    let set = this.#subscriptions.get(chatId);
    if (!set) {
      set = new Set();
      this.#subscriptions.set(chatId, set);
    }
    set.add(subscription);
    subscription.catchUp();
    return () => {
      subscription.close();
      const current = this.#subscriptions.get(chatId);
      if (!current) return;
      current.delete(subscription);
      if (current.size === 0) this.#subscriptions.delete(chatId);
    };
  }

  /** An event this replica appended (or fetched): to every local subscriber of its chat. */
  publish(event: ChatEvent): void {
    this.#recent.record(event);
    const set = this.#subscriptions.get(event.chat_id);
    if (!set) return;
    for (const subscription of set) subscription.offer(event);
  }

  /** A NOTIFY on `EVENTS_CHANNEL`. This replica's own are skipped: they were published at once. */
  onNotification(payload: string): void {
    const ranges = parseRangesNotification(payload);
    if (ranges) {
      if (ranges.o === this.#instanceId) return;
      // A group commit of another replica: each subscription reads what it lacks of its chat.
      for (const [chatId, , hi] of ranges.r) {
        const set = this.#subscriptions.get(chatId);
        if (set) for (const subscription of set) subscription.hint(hi);
      }
      return;
    }
    const note = parseEventNotification(payload);
    if (!note || note.o === this.#instanceId) return;
    const set = this.#subscriptions.get(note.c);
    if (!set) return;
    if (note.t !== undefined && note.at !== undefined) {
      this.publish({
        chat_id: note.c,
        seq: note.s,
        type: note.t,
        data: note.d ?? null,
        created_at: new Date(note.at).toISOString(),
      });
      return;
    }
    // Too big for NOTIFY: each subscription reads it (and anything before it it missed) from the
    // table.
    for (const subscription of set) subscription.hint(note.s);
  }

  /** The LISTEN connection came back: NOTIFYs may have been lost, so read what was missed. */
  onReconnect(): void {
    for (const set of this.#subscriptions.values()) {
      for (const subscription of set) subscription.catchUp();
    }
  }

  close(): void {
    this.#closed = true;
    for (const set of this.#subscriptions.values()) {
      for (const subscription of set) subscription.close();
    }
    this.#subscriptions.clear();
  }
}

class Subscription {
  readonly #chatId: string;
  readonly #onEvent: (event: ChatEvent) => void;
  readonly #fetchAfter: FetchAfter;
  readonly #lastSeq: LastSeq;
  /** The last seq delivered; null until the starting point is read (no `afterSeq` given). */
  #cursor: number | null;
  /** Events that arrived while the gap was being read, or beyond a gap. */
  #buffer: ChatEvent[] = [];
  /** The highest seq known to exist (from a pointer-only NOTIFY), beyond what was delivered. */
  #hinted = 0;
  #filling = false;
  /** Asked to read again while a read was in flight (a reconnect during the read). */
  #again = false;
  #closed = false;

  constructor(
    chatId: string,
    onEvent: (event: ChatEvent) => void,
    cursor: number | null,
    fetchAfter: FetchAfter,
    lastSeq: LastSeq,
  ) {
    this.#chatId = chatId;
    this.#onEvent = onEvent;
    this.#cursor = cursor;
    this.#fetchAfter = fetchAfter;
    this.#lastSeq = lastSeq;
  }

  offer(event: ChatEvent): void {
    if (this.#closed) return;
    if (this.#filling || this.#cursor === null) {
      this.#buffer.push(event);
      return;
    }
    if (event.seq === this.#cursor + 1) {
      this.#deliver(event);
      return;
    }
    if (event.seq <= this.#cursor) return;
    this.#buffer.push(event);
    void this.#fill();
  }

  /** Event `seq` exists but was not carried: read up to it. */
  hint(seq: number): void {
    if (this.#closed || (this.#cursor !== null && seq <= this.#cursor)) return;
    this.#hinted = Math.max(this.#hinted, seq);
    if (!this.#filling) void this.#fill();
  }

  /** Reads everything after the cursor (at the start, and after a reconnect). */
  catchUp(): void {
    if (this.#closed) return;
    if (this.#filling) this.#again = true;
    else void this.#fill();
  }

  close(): void {
    this.#closed = true;
    this.#buffer = [];
  }

  #deliver(event: ChatEvent): void {
    this.#cursor = event.seq;
    try {
      this.#onEvent(event);
    } catch {
      // A subscriber's own failure must not stop delivery to it or to anyone else.
    }
  }

  async #fill(): Promise<void> {
    this.#filling = true;
    let idleRounds = 0;
    try {
      while (!this.#closed) {
        this.#again = false;
        try {
          if (this.#cursor === null) {
            // No starting point given: start after the chat's last event as of now, or before
            // the first event that reached this subscription meanwhile, whichever is earlier.
            const last = await this.#lastSeq(this.#chatId);
            const first = Math.min(...this.#buffer.map((event) => event.seq));
            this.#cursor = Math.min(last, first - 1);
          }
          const before = this.#cursor;
          await this.#readAfterCursor();
          if (this.#cursor === before) idleRounds += 1;
          else idleRounds = 0;
        } catch {
          // The database is unreachable for now; keep buffering and try again.
          await new Promise((resolve) => setTimeout(resolve, RETRY_MS).unref());
          continue;
        }
        if (this.#closed) return;
        const waiting = this.#drainBuffer();
        const cursor = this.#cursor ?? 0;
        if (!waiting && this.#hinted <= cursor && !this.#again) return;
        // Two reads in a row found nothing after the cursor although later events exist: the seq
        // after the cursor does not exist (it never does: each seq is allocated with its insert).
        if (idleRounds >= 2) {
          this.#hinted = 0;
          this.#drainBuffer(true);
          return;
        }
      }
    } finally {
      this.#filling = false;
    }
  }

  async #readAfterCursor(): Promise<void> {
    for (;;) {
      const cursor = this.#cursor ?? 0;
      const events = await this.#fetchAfter(this.#chatId, cursor, PAGE);
      for (const event of events) {
        if (this.#closed) return;
        if (event.seq > (this.#cursor ?? 0)) this.#deliver(event);
      }
      if (events.length < PAGE) return;
    }
  }

  /** Delivers the buffered events that follow the cursor; returns whether a gap remains. */
  #drainBuffer(skipGaps = false): boolean {
    if (this.#buffer.length === 0) return false;
    const buffered = this.#buffer.sort((a, b) => a.seq - b.seq);
    this.#buffer = [];
    for (let i = 0; i < buffered.length; i++) {
      const event = buffered[i] as ChatEvent;
      const cursor = this.#cursor ?? event.seq - 1;
      if (event.seq <= cursor) continue;
      if (event.seq === cursor + 1 || skipGaps) {
        this.#deliver(event);
        continue;
      }
      this.#buffer = buffered.slice(i);
      return true;
    }
    return false;
  }
}

/** A group commit's NOTIFY (`event-log.ts`): its origin and the `[chat, first, last]` seqs it committed. */
export interface RangesNotification {
  o: string;
  r: Array<[string, number, number]>;
}

function parseRangesNotification(payload: string): RangesNotification | null {
  try {
    const value: unknown = JSON.parse(payload);
    if (typeof value !== "object" || value === null) return null;
    const { o, r } = value as { o?: unknown; r?: unknown };
    if (typeof o !== "string" || !Array.isArray(r)) return null;
    const ranges: Array<[string, number, number]> = [];
    for (const item of r) {
      if (!Array.isArray(item) || typeof item[0] !== "string") continue;
      const lo = Number(item[1]);
      const hi = Number(item[2]);
      if (Number.isSafeInteger(lo) && Number.isSafeInteger(hi)) ranges.push([item[0], lo, hi]);
    }
    return { o, r: ranges };
  } catch {
    return null;
  }
}

function parseEventNotification(payload: string): EventNotification | null {
  try {
    const value: unknown = JSON.parse(payload);
    if (typeof value !== "object" || value === null) return null;
    const note = value as Partial<EventNotification>;
    if (typeof note.o !== "string" || typeof note.c !== "string") return null;
    const seq = Number(note.s);
    if (!Number.isSafeInteger(seq)) return null;
    return { ...note, o: note.o, c: note.c, s: seq };
  } catch {
    return null;
  }
}

/** Signals: delivered to local listeners at once, to other replicas through NOTIFY. */
export class SignalHub {
  readonly #instanceId: string;
  readonly #listeners = new Set<(signal: ChatSignal) => void>();

  constructor(instanceId: string) {
    this.#instanceId = instanceId;
  }

  listen(onSignal: (signal: ChatSignal) => void): () => void {
    // A wrapper per call, so the same function listening twice is two listeners.
    const listener = (signal: ChatSignal): void => onSignal(signal);
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** The NOTIFY payload for `signal` sent by this replica. */
  payload(signal: ChatSignal): string {
    return JSON.stringify({ o: this.#instanceId, signal });
  }

  deliver(signal: ChatSignal): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(signal);
      } catch {
        // One listener's failure is its own.
      }
    }
  }

  onNotification(payload: string): void {
    let value: unknown;
    try {
      value = JSON.parse(payload);
    } catch {
      return;
    }
    if (typeof value !== "object" || value === null) return;
    const { o, signal } = value as { o?: unknown; signal?: unknown };
    if (o === this.#instanceId || !isSignal(signal)) return;
    this.deliver(signal);
  }

  close(): void {
    this.#listeners.clear();
  }
}

function isSignal(value: unknown): value is ChatSignal {
  if (typeof value !== "object" || value === null) return false;
  const { type, chat_id } = value as { type?: unknown; chat_id?: unknown };
  return (type === "interrupt" || type === "pending") && typeof chat_id === "string";
}
