/**
 * The owner's side of a chat's event log (DESIGN.md §5): the replica that holds a chat's claim
 * numbers the chat's events itself, in memory, hands them to its local subscribers at once, and
 * persists them in group commits — one statement for every owned chat's pending events, at most
 * every `windowMs` (at once when an event must be durable before anyone sees it), one commit at a
 * time. No event costs a database round trip of its own.
 *
 * - Order: a chat's events are published locally in `seq` order. A `message_part` (a delta) is
 *   published when it is appended; every other event (status, message, usage, error…) only once
 *   it is committed, and the deltas appended after it wait behind it, so nobody sees a `message`
 *   event before its row and its event exist, and nobody sees a later event first.
 * - A bounded ring per chat keeps its recent published events, and every one not yet persisted:
 *   a subscriber that starts or resumes within it reads from memory (`readAfter`).
 * - Ownership: each commit inserts a chat's events only while the chat is still `running` under
 *   the claim's worker, checked under a `FOR SHARE` lock on the chat's row — so once another replica
 *   took the chat over (its `UPDATE` waits for that lock), no event of the old owner can land. A chat
 *   found lost is closed here: its unpersisted events are dropped, its waiting appends rejected.
 * - At most `MAX_UNPERSISTED` events of a chat wait unpersisted (an append waits for a commit
 *   past that): a replica that takes over a dead owner's chat starts its seqs that far past the
 *   last persisted one (`SKIP_PAST_DEAD_RUN` in store.ts), so an id a client may hold is never
 *   reused.
 * - Other replicas learn of each commit by one NOTIFY per commit (chunked to fit PostgreSQL's 8000
 *   bytes): the chats and seq ranges committed, which their subscriptions read from the table.
 */
import { backoffDelay } from "../chatretry/policy.ts";
import type { Database } from "./db.ts";
import { EVENTS_CHANNEL } from "./pubsub.ts";
import type { ChatEvent } from "./types.ts";

/** Unpersisted events a chat may have at once; also how far a takeover skips. */
export const MAX_UNPERSISTED = 10_000;
/** Published events a chat's ring keeps beyond its unpersisted ones. */
const RING_SIZE = 512;
/** Events per commit; more go in the next one, at once. */
const BATCH_MAX = 2_000;
/** Chats per NOTIFY payload (a chat id and two numbers each, well under 8000 bytes). */
const NOTIFY_CHUNK = 100;
export const DEFAULT_COMMIT_WINDOW_MS = 20;

/** Thrown to an append waiting for a chat that was lost or released meanwhile. */
export class EventLogClosed extends Error {
  override readonly name = "EventLogClosed";
  /** The chat was taken over: the event belonged to a run that no longer exists. */
  readonly lost: boolean;
  constructor(chatId: string, lost = false) {
    super(
      lost
        ? `chat ${chatId} was taken over by another replica: its event was dropped`
        : `the event log of chat ${chatId} is closed: its claim was lost or released`,
    );
    this.lost = lost;
  }
}

/** Whether an event of this type is seen before it is persisted (only deltas are). */
export function publishedBeforeCommit(type: string): boolean {
  return type === "message_part";
}

interface Entry {
  readonly event: ChatEvent;
  readonly data: string;
  readonly durable: boolean;
  persisted: boolean;
  readonly resolve: (event: ChatEvent) => void;
  readonly reject: (error: unknown) => void;
}

interface Waiter {
  readonly seq: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

class OwnedChat {
  /** The highest seq allocated. */
  last: number;
  /** The highest seq committed. */
  persisted: number;
  /** Allocated, not yet published here (a durable event waiting for its commit, and what follows). */
  readonly queue: Entry[] = [];
  /** Published, in order: the recent ones and every one not yet persisted. */
  ring: ChatEvent[];
  /** Waiting for `persisted` to reach a seq (release, backpressure). */
  waiters: Waiter[] = [];
  /** No more appends (being released). */
  closing = false;
  closed = false;

  readonly chatId: string;
  readonly workerId: string;

  /** `earlier`: the chat's events right before the claim, if this replica has all of them. */
  constructor(chatId: string, workerId: string, claimed: ChatEvent, earlier: readonly ChatEvent[]) {
    this.chatId = chatId;
    this.workerId = workerId;
    this.last = claimed.seq;
    this.persisted = claimed.seq;
    this.ring = [...earlier, claimed];
  }

  get lastPublished(): number {
    return this.ring.at(-1)?.seq ?? this.persisted;
  }
}

export interface EventLogOptions {
  db: Database;
  /** This store's instance id: its own NOTIFYs are recognised and skipped. */
  instanceId: string;
  /** Hands an event to this replica's subscribers. */
  publish: (event: ChatEvent) => void;
  /** A commit failed (it is retried) or found chats lost. */
  onError: (error: unknown) => void;
  /** A chat was found taken over: what this replica published of it may be void. */
  onLost?: (chatId: string) => void;
  windowMs?: number;
}

export class EventLog {
  readonly #o: Required<Omit<EventLogOptions, "onLost">> & Pick<EventLogOptions, "onLost">;
  readonly #chats = new Map<string, OwnedChat>();
  /** Appended, not yet committed, in append order (each chat's in seq order). */
  #pending: Entry[] = [];
  #timer: NodeJS.Timeout | undefined;
  #committing: Promise<void> | undefined;
  #failures = 0;
  #closed = false;

  constructor(options: EventLogOptions) {
    this.#o = { windowMs: DEFAULT_COMMIT_WINDOW_MS, ...options };
  }

  /** Starts numbering a chat's events after `claimed` (its `status: running`, committed). */
  open(
    chatId: string,
    workerId: string,
    claimed: ChatEvent,
    earlier: readonly ChatEvent[] = [],
  ): void {
    this.close(chatId);
    this.#chats.set(chatId, new OwnedChat(chatId, workerId, claimed, earlier));
  }

  /** Whether this replica numbers the chat's events now (and takes new ones). */
  accepts(chatId: string): boolean {
    const chat = this.#chats.get(chatId);
    return chat !== undefined && !chat.closing;
  }

  /** Whether the chat's log is being closed (its release is under way). */
  closing(chatId: string): boolean {
    return this.#chats.get(chatId)?.closing === true;
  }

  /**
   * Appends an event: a delta is published at once (the promise resolves then), any other event
   * once committed. Rejects with `EventLogClosed` if the chat is not (or no longer) owned here.
   */
  async append(chatId: string, type: string, data: unknown): Promise<ChatEvent> {
    let chat = this.#chats.get(chatId);
    // Backpressure: a database that does not keep up stops the turn here, not the memory.
    while (chat && !chat.closing && chat.last - chat.persisted >= MAX_UNPERSISTED) {
      await this.#persistedTo(chat, chat.last - MAX_UNPERSISTED + 1);
      chat = this.#chats.get(chatId);
    }
    if (!chat || chat.closing) throw new EventLogClosed(chatId);
    chat.last += 1;
    const event: ChatEvent = {
      chat_id: chatId,
      seq: chat.last,
      type,
      data,
      created_at: new Date().toISOString(),
    };
    const durable = !publishedBeforeCommit(type);
    const done = new Promise<ChatEvent>((resolve, reject) => {
      const entry: Entry = {
        event,
        data: JSON.stringify(data ?? null),
        durable,
        persisted: false,
        resolve,
        reject,
      };
      chat.queue.push(entry);
      this.#pending.push(entry);
    });
    this.#publishReady(chat);
    this.#schedule(durable);
    return done;
  }

  /**
   * Events after `afterSeq` as this replica knows them: from the ring when it holds the range,
   * else from `readTable` (the persisted ones) followed by the ring where the two meet.
   */
  async readAfter(
    chatId: string,
    afterSeq: number,
    limit: number,
    readTable: (chatId: string, afterSeq: number, limit: number) => Promise<ChatEvent[]>,
  ): Promise<ChatEvent[]> {
    const before = this.#chats.get(chatId);
    const first = before?.ring[0];
    if (before && first && first.seq <= afterSeq + 1) {
      return before.ring.filter((event) => event.seq > afterSeq);
    }
    const rows = await readTable(chatId, afterSeq, limit);
    const chat = this.#chats.get(chatId);
    if (!chat || rows.length >= limit) return rows;
    const last = rows.at(-1)?.seq ?? afterSeq;
    const head = chat.ring[0];
    // The ring evicted more while the table was read: the caller reads again from `last`.
    if (!head || head.seq > last + 1) return rows;
    return [...rows, ...chat.ring.filter((event) => event.seq > last)];
  }

  /** The newest event published here for the chat, if this replica owns it. */
  lastPublished(chatId: string): number | undefined {
    return this.#chats.get(chatId)?.lastPublished;
  }

  /**
   * Stops taking appends for the chat and resolves with its last seq once every event appended
   * so far is committed and published (its release follows). Rejects if the chat was lost.
   */
  async settle(chatId: string): Promise<number | undefined> {
    const chat = this.#chats.get(chatId);
    if (!chat) return undefined;
    chat.closing = true;
    if (chat.persisted < chat.last) {
      this.#schedule(true);
      await this.#persistedTo(chat, chat.last);
    }
    return chat.last;
  }

  /** Forgets the chat (released, or lost): unpersisted events are dropped, waiters rejected. */
  close(chatId: string): void {
    const chat = this.#chats.get(chatId);
    if (!chat) return;
    this.#chats.delete(chatId);
    this.#drop(chat);
  }

  /**
   * Commits what is pending (bounded by `timeoutMs`) and stops. Chats still open are closed:
   * their owner is shutting down without releasing them (another replica takes them over).
   */
  async shutdown(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.#pending.length > 0 && Date.now() < deadline && this.#failures === 0) {
      this.#schedule(true);
      await (this.#committing ?? new Promise((resolve) => setImmediate(resolve)));
    }
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const chat of [...this.#chats.values()]) this.close(chat.chatId);
    this.#pending = [];
  }

  #drop(chat: OwnedChat): void {
    chat.closed = true;
    chat.closing = true;
    // An event appended and not persisted when the log closes (lost, or shut down) never was.
    const error = new EventLogClosed(chat.chatId, true);
    for (const entry of chat.queue) entry.reject(error);
    chat.queue.length = 0;
    for (const waiter of chat.waiters) waiter.reject(error);
    chat.waiters = [];
  }

  #persistedTo(chat: OwnedChat, seq: number): Promise<void> {
    if (chat.persisted >= seq) return Promise.resolve();
    if (chat.closed) return Promise.reject(new EventLogClosed(chat.chatId));
    return new Promise((resolve, reject) => chat.waiters.push({ seq, resolve, reject }));
  }

  /** Publishes the chat's queued events from the front while they may be seen. */
  #publishReady(chat: OwnedChat): void {
    while (chat.queue.length > 0) {
      const entry = chat.queue[0] as Entry;
      if (entry.durable && !entry.persisted) return;
      chat.queue.shift();
      chat.ring.push(entry.event);
      this.#o.publish(entry.event);
      entry.resolve(entry.event);
    }
    // Keep the recent ones and every unpersisted one.
    let drop = 0;
    while (
      chat.ring.length - drop > RING_SIZE &&
      (chat.ring[drop] as ChatEvent).seq <= chat.persisted
    ) {
      drop += 1;
    }
    if (drop > 0) chat.ring = chat.ring.slice(drop);
  }

  #schedule(urgent: boolean): void {
    if (this.#closed || this.#pending.length === 0) return;
    if (this.#committing) return; // the commit's end schedules the next one
    if (urgent || this.#pending.length >= BATCH_MAX) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#committing = this.#commit();
      return;
    }
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      if (!this.#committing) this.#committing = this.#commit();
    }, this.#o.windowMs);
  }

  async #commit(): Promise<void> {
    // Events of chats closed meanwhile (lost) are not written.
    const batch = this.#pending.slice(0, BATCH_MAX).filter((entry) => {
      const chat = this.#chats.get(entry.event.chat_id);
      return chat !== undefined && !chat.closed;
    });
    const taken = Math.min(BATCH_MAX, this.#pending.length);
    let retryIn = 0;
    try {
      let skipped: Entry[] = [];
      if (batch.length > 0) {
        const { written, lost } = await this.#write(batch);
        this.#committed(batch, written, lost);
        // Busy rows: those chats' events wait for the next commit, first in line.
        skipped = batch.filter((entry) => {
          const chat = this.#chats.get(entry.event.chat_id);
          return !written.has(entry.event.chat_id) && chat !== undefined && !chat.closed;
        });
        if (skipped.length > 0) retryIn = this.#o.windowMs;
      }
      this.#pending = [...skipped, ...this.#pending.slice(taken)];
      this.#failures = 0;
    } catch (error) {
      this.#failures += 1;
      retryIn = Math.max(10, backoffDelay(this.#failures, { baseDelayMs: 50, maxDelayMs: 2_000 }));
      this.#o.onError(error);
    } finally {
      this.#committing = undefined;
    }
    if (this.#pending.length === 0 || this.#closed) return;
    if (retryIn > 0) {
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined;
        if (!this.#committing) this.#committing = this.#commit();
      }, retryIn);
      this.#timer.unref();
      return;
    }
    const durable = this.#pending.some((entry) => entry.durable);
    this.#schedule(durable);
  }

  #committed(
    batch: readonly Entry[],
    written: ReadonlySet<string>,
    lost: ReadonlySet<string>,
  ): void {
    const touched = new Map<string, OwnedChat>();
    for (const entry of batch) {
      const chat = this.#chats.get(entry.event.chat_id);
      if (!chat || chat.closed) continue;
      if (written.has(chat.chatId)) {
        entry.persisted = true;
        chat.persisted = Math.max(chat.persisted, entry.event.seq);
        touched.set(chat.chatId, chat);
      } else if (lost.has(chat.chatId)) {
        touched.set(chat.chatId, chat);
      }
    }
    for (const chat of touched.values()) {
      if (lost.has(chat.chatId)) {
        this.#o.onError(
          new EventLogClosed(chat.chatId).message +
            " (another replica took it over); its unpersisted events were dropped",
        );
        this.close(chat.chatId);
        this.#o.onLost?.(chat.chatId);
        continue;
      }
      this.#publishReady(chat);
      const waiting = chat.waiters;
      chat.waiters = [];
      for (const waiter of waiting) {
        if (chat.persisted >= waiter.seq) waiter.resolve();
        else chat.waiters.push(waiter);
      }
    }
  }

  /**
   * One statement: the batch's events of the chats still owned and not busy, and the NOTIFY.
   * Which chats were written, and which were found taken over.
   */
  async #write(batch: readonly Entry[]): Promise<{ written: Set<string>; lost: Set<string> }> {
    const owners = new Map<string, string>();
    for (const entry of batch) {
      const chat = this.#chats.get(entry.event.chat_id);
      if (chat) owners.set(chat.chatId, chat.workerId);
    }
    const params: unknown[] = [
      [...owners.keys()],
      [...owners.values()],
      batch.map((entry) => entry.event.chat_id),
      batch.map((entry) => entry.event.seq),
      batch.map((entry) => entry.event.type),
      batch.map((entry) => entry.data),
      batch.map((entry) => entry.event.created_at),
    ];
    const shared = this.#o.db.shared;
    if (shared) params.push(this.#o.instanceId);
    const rows = await this.#o.db.query<{ id: string; mine: boolean; written: boolean }>(
      shared ? GROUP_COMMIT_AND_NOTIFY : GROUP_COMMIT,
      params,
    );
    const written = new Set<string>();
    const lost = new Set<string>();
    for (const row of rows) {
      if (row.written) written.add(row.id);
      else if (!row.mine) lost.add(row.id);
    }
    return { written, lost };
  }
}

/**
 * `$1`/`$2` the chats and the worker that claimed each, `$3`–`$7` the events (chat, seq, type,
 * data as JSON text, created_at). The chats still `running` under their worker are locked
 * `FOR SHARE` — a takeover's `UPDATE` waits for this statement, or this finds the chat taken —
 * and their events inserted. A chat whose row another transaction holds right now (a heartbeat, a
 * queued message) is skipped, not waited for: its events go in the next commit. Returned per chat:
 * `mine` (still running under its worker, as far as an unlocked read can tell) and `written`.
 */
const GROUP_COMMIT_CTE = `
  WITH o AS (
    SELECT * FROM unnest($1::text[], $2::text[]) AS o(id, worker)
  ), locked AS (
    SELECT c.id FROM chats c JOIN o ON c.id = o.id AND c.worker_id = o.worker
     WHERE c.status = 'running'
     FOR SHARE OF c SKIP LOCKED
  ), ins AS (
    INSERT INTO chat_events (chat_id, seq, type, data, created_at)
    SELECT e.chat_id, e.seq, e.type, e.data::jsonb, e.created_at
      FROM unnest($3::text[], $4::bigint[], $5::text[], $6::text[], $7::timestamptz[])
        AS e(chat_id, seq, type, data, created_at)
     WHERE e.chat_id IN (SELECT id FROM locked)
    RETURNING chat_id, seq
  ), outcome AS (
    SELECT o.id,
           EXISTS (SELECT 1 FROM chats c
                    WHERE c.id = o.id AND c.worker_id = o.worker AND c.status = 'running') AS mine,
           o.id IN (SELECT id FROM locked) AS written
      FROM o
  )`;

const GROUP_COMMIT = `${GROUP_COMMIT_CTE}
  SELECT id, mine, written, (SELECT count(*) FROM ins) AS inserted FROM outcome`;

/**
 * The same, and one NOTIFY per ${NOTIFY_CHUNK} chats committed: `{"o": instance, "r": [[chat, first
 * seq, last seq], …]}` (`$8` the instance), sent when the statement commits.
 */
const GROUP_COMMIT_AND_NOTIFY = `${GROUP_COMMIT_CTE}, ranges AS (
    SELECT chat_id, min(seq) AS lo, max(seq) AS hi,
           (row_number() OVER (ORDER BY chat_id) - 1) / ${NOTIFY_CHUNK} AS chunk
      FROM ins GROUP BY chat_id
  ), notified AS (
    SELECT pg_notify('${EVENTS_CHANNEL}',
             json_build_object('o', $8::text, 'r', json_agg(json_build_array(chat_id, lo, hi)))::text)
      FROM ranges GROUP BY chunk
  )
  SELECT id, mine, written, (SELECT count(*) FROM notified) AS notified FROM outcome`;
