/**
 * A chat's events, wherever they come from (DESIGN.md §4, §5):
 *
 * - the chat's **owner** (the replica whose daemon holds its claim) numbers them in memory and
 *   persists them in group commits (`EventLog`); its local subscribers get them at once;
 * - everyone else appends **in a transaction** (`changing`): the next seq is allocated under the
 *   chat row's lock, with the change it announces (a status, a user message, a truncation) —
 *   only ever while no live replica owns the chat (a status change of a running chat is its
 *   owner's, or a takeover's);
 * - an event for a chat another replica owns (a rename while it runs) is **forwarded** to that
 *   replica, which appends it to its log.
 *
 * The database's `chats.last_event_seq` is the highest seq allocated by the database: the claim's
 * `status: running`, a release (which first sets it to the owner's last), a transactional append.
 * The newest event a client can ask for is `max(seq)` of `chat_events` (see `rows.ts`). A takeover
 * of a dead owner's chat starts `MAX_UNPERSISTED` past both (`skipPastDeadRuns`), beyond any id
 * that owner could have handed out.
 */
import type { ChatEvents, ChatSignal, ChatSignals } from "./contract.ts";
import type { Database, Queryable } from "./db.ts";
import { EventLog, EventLogClosed, MAX_UNPERSISTED } from "./event-log.ts";
import type { MessageEventData, StatusEventData, TruncatedEventData } from "./public.ts";
import {
  EVENTS_CHANNEL,
  EventHub,
  NOTIFY_EVENT_MAX_BYTES,
  SIGNALS_CHANNEL,
  SignalHub,
} from "./pubsub.ts";
import { EVENT_COLUMNS, type EventRow, int, json, toEvent } from "./rows.ts";
import type { ChatEvent } from "./types.ts";

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Events for a chat another replica owns travel here, to that replica. */
export const APPENDS_CHANNEL = "keel_chat_appends";

/** An event the store appends on its own, in the transaction of the change it announces. */
export type StoreEvent =
  | { type: "status"; data: StatusEventData }
  | { type: "message"; data: MessageEventData }
  | { type: "truncated"; data: TruncatedEventData };

/** Appends an event in the current transaction. */
export type Announce = {
  /** Appends `event` to the chat's log in the transaction; its seq. */
  (chatId: string, event: StoreEvent): Promise<number>;
  /** The same event to each chat, in one statement; the events appended. */
  toEach: (chatIds: readonly string[], event: StoreEvent) => Promise<ChatEvent[]>;
};

interface ForwardedAppend {
  o: string;
  c: string;
  t: string;
  d: unknown;
}

export class StoreEvents {
  readonly events: ChatEvents;
  readonly signals: ChatSignals;
  readonly #db: Database;
  readonly #instanceId: string;
  readonly #hub: EventHub;
  readonly #signalHub: SignalHub;
  readonly #log: EventLog;
  readonly #warn: (message: string, fields?: Record<string, unknown>) => void;
  #closed = false;

  constructor(
    db: Database,
    instanceId: string,
    warn: (message: string, fields?: Record<string, unknown>) => void,
  ) {
    this.#db = db;
    this.#instanceId = instanceId;
    this.#warn = warn;
    this.#hub = new EventHub(
      instanceId,
      (chatId, afterSeq, limit) =>
        this.#log.readAfter(chatId, afterSeq, limit, (id, after, max) =>
          this.#listAfter(id, after, max),
        ),
      (chatId) => this.#newestSeq(chatId),
    );
    this.#signalHub = new SignalHub(instanceId);
    this.#log = new EventLog({
      db,
      instanceId,
      publish: (event) => this.#hub.publish(event),
      onError: (error) => this.#warn("persisting chat events", { error: errorText(error) }),
      onLost: (chatId) => this.#hub.forget(chatId),
    });
    this.events = {
      append: (chatId, type, data) => this.#append(chatId, type, data, false),
      appendClaimed: (chatId, type, data) => this.#log.append(chatId, type, data),
      listAfter: (chatId, afterSeq, limit) => this.#listAfter(chatId, afterSeq, limit),
      lastSeqOfType: (chatId, types, atOrBefore) => this.#lastSeqOfType(chatId, types, atOrBefore),
      subscribe: (chatId, onEvent, afterSeq) => this.#hub.subscribe(chatId, onEvent, afterSeq),
    };
    this.signals = {
      send: (signal) => this.sendSignal(signal),
      listen: (onSignal) => this.#signalHub.listen(onSignal),
    };
  }

  /** The channels to LISTEN on, and what to do with each notification. */
  readonly channels = [EVENTS_CHANNEL, SIGNALS_CHANNEL, APPENDS_CHANNEL] as const;

  onNotification(channel: string, payload: string): void {
    if (channel === EVENTS_CHANNEL) this.#hub.onNotification(payload);
    else if (channel === SIGNALS_CHANNEL) this.#signalHub.onNotification(payload);
    else if (channel === APPENDS_CHANNEL) this.#onForwarded(payload);
  }

  onReconnect(): void {
    this.#hub.onReconnect();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#log.shutdown(2_000);
    this.#hub.close();
    this.#signalHub.close();
  }

  // ---- ownership (the store's chatd methods) -------------------------------------------------

  /** `workerId` claimed the chat with `running` (committed): its events are numbered here now. */
  claimed(workerId: string, running: ChatEvent): void {
    // A chat created here moments ago: its first events too, so a stream opened from its start
    // is served from memory.
    const earlier = this.#hub.publishedBefore(running.chat_id, running.seq);
    this.#log.open(running.chat_id, workerId, running, earlier);
  }

  /**
   * Before the chat's release: no more appends here, and every one so far committed. Its last
   * seq (the release continues after it), or undefined if this replica has no log of the chat.
   * Rejects if the claim was lost meanwhile.
   */
  settle(chatId: string): Promise<number | undefined> {
    return this.#log.settle(chatId);
  }

  /** The newest event published for a chat this replica owns (undefined for any other chat). */
  lastPublished(chatId: string): number | undefined {
    return this.#log.lastPublished(chatId);
  }

  /** The chat left this replica (released, lost, taken over): its log is closed. */
  released(chatId: string): void {
    this.#log.close(chatId);
  }

  /**
   * In a takeover's transaction (the chats were `running` under an owner that is gone): the next
   * seq starts past anything that owner could have handed out without persisting it.
   */
  async skipPastDeadRuns(tx: Queryable, chatIds: readonly string[]): Promise<void> {
    if (chatIds.length === 0) return;
    await tx.query(SKIP_PAST_DEAD_RUNS, [[...chatIds]]);
    for (const id of chatIds) {
      this.#log.close(id);
      this.#hub.forget(id);
    }
  }

  /** Events committed outside `changing` (a new chat's): to this replica's subscribers. */
  committed(events: readonly ChatEvent[]): void {
    for (const event of events) this.#hub.publish(event);
  }

  // ---- transactional appends -----------------------------------------------------------------

  /**
   * A transaction that announces what it changes: events passed to `announce` are appended in it
   * (in order, each under the chat row's lock) and published to this replica's subscribers once
   * it committed — never for a rolled-back change.
   */
  async changing<T>(fn: (tx: Queryable, announce: Announce) => Promise<T>): Promise<T> {
    const appended: ChatEvent[] = [];
    const result = await this.#db.transaction((tx) => {
      const announce: Announce = async (chatId, event) => {
        const [row] = await this.#appendRows(tx, [chatId], event.type, event.data);
        if (!row) throw new Error(`chat ${chatId} does not exist`);
        appended.push(row);
        return row.seq;
      };
      announce.toEach = async (chatIds, event) => {
        const rows = await this.#appendRows(tx, chatIds, event.type, event.data);
        appended.push(...rows);
        return rows;
      };
      return fn(tx, announce);
    });
    for (const event of appended) this.#hub.publish(event);
    return result;
  }

  async sendSignal(signal: ChatSignal): Promise<void> {
    this.#signalHub.deliver(signal);
    if (this.#db.shared && !this.#closed) {
      await this.#db.notify(SIGNALS_CHANNEL, this.#signalHub.payload(signal));
    }
  }

  // ---- appends from anywhere -----------------------------------------------------------------

  /**
   * One event: into this replica's log when it owns the chat; else, while another replica owns
   * it, to that replica (null: its seq is that replica's to give); else in a transaction.
   */
  async #append(
    chatId: string,
    type: string,
    data: unknown,
    forwarded: boolean,
  ): Promise<ChatEvent | null> {
    for (;;) {
      if (this.#log.accepts(chatId)) {
        try {
          return await this.#log.append(chatId, type, data);
        } catch (error) {
          // Closed just before this append: the row says who numbers its events next. An
          // append the log had taken and then dropped belonged to a run that is over.
          if (!(error instanceof EventLogClosed) || error.lost) throw error;
        }
      }
      const appended = await this.#db.transaction(async (tx) => {
        const [chat] = await tx.query<{ status: string; worker_id: string | null }>(
          "SELECT status, worker_id FROM chats WHERE id = $1 FOR UPDATE",
          [chatId],
        );
        if (!chat) throw new Error(`chat ${chatId} does not exist`);
        if (chat.status === "running" && chat.worker_id !== null) return "owned" as const;
        const [row] = await this.#appendRows(tx, [chatId], type, data);
        return row ?? null;
      });
      if (appended !== "owned") {
        if (appended) this.#hub.publish(appended);
        return appended;
      }
      // Its owner is here, being released: append after the release, in its turn.
      if (this.#log.closing(chatId)) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        continue;
      }
      if (this.#log.accepts(chatId)) continue;
      if (forwarded || !this.#db.shared || this.#closed) {
        // No other replica to hand it to (or it came from one): a claim of a replica that died
        // is taken over soon, and the event is dropped rather than numbered twice.
        this.#warn("an event for a chat owned elsewhere was dropped", { chat_id: chatId, type });
        return null;
      }
      const note: ForwardedAppend = { o: this.#instanceId, c: chatId, t: type, d: data };
      await this.#db.notify(APPENDS_CHANNEL, JSON.stringify(note));
      return null;
    }
  }

  #onForwarded(payload: string): void {
    let note: Partial<ForwardedAppend>;
    try {
      note = JSON.parse(payload) as Partial<ForwardedAppend>;
    } catch {
      return;
    }
    if (note.o === this.#instanceId || typeof note.c !== "string" || typeof note.t !== "string") {
      return;
    }
    const { c, t, d } = note;
    void this.#append(c, t, d, true).catch((error: unknown) =>
      this.#warn("appending a forwarded event failed", { chat_id: c, error: errorText(error) }),
    );
  }

  /** The same event appended to each of `chatIds` in one statement (chats that do not exist get none). */
  async #appendRows(
    q: Queryable,
    chatIds: readonly string[],
    type: string,
    data: unknown,
  ): Promise<ChatEvent[]> {
    const rows = this.#db.shared
      ? await q.query<EventRow>(APPEND_EVENT_AND_NOTIFY, [
          [...chatIds],
          type,
          json(data),
          this.#instanceId,
        ])
      : await q.query<EventRow>(APPEND_EVENT, [[...chatIds], type, json(data)]);
    return rows.map(toEvent);
  }

  // ---- reads ---------------------------------------------------------------------------------

  async #listAfter(chatId: string, afterSeq: number, limit?: number): Promise<ChatEvent[]> {
    const rows = await this.#db.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM chat_events WHERE chat_id = $1 AND seq > $2
       ORDER BY seq LIMIT $3`,
      [chatId, afterSeq, limit ?? null],
    );
    return rows.map(toEvent);
  }

  async #lastSeqOfType(
    chatId: string,
    types: readonly string[],
    atOrBefore: number,
  ): Promise<number> {
    const [row] = await this.#db.query<{ seq: unknown }>(
      `SELECT seq FROM chat_events WHERE chat_id = $1 AND seq <= $2 AND type = ANY($3::text[])
       ORDER BY seq DESC LIMIT 1`,
      [chatId, atOrBefore, [...types]],
    );
    return row ? int(row.seq) : 0;
  }

  /** The newest event a subscriber could have seen: this replica's log's, else the table's. */
  async #newestSeq(chatId: string): Promise<number> {
    const local = this.#log.lastPublished(chatId);
    if (local !== undefined) return local;
    const [row] = await this.#db.query<{ seq: unknown }>(
      "SELECT COALESCE(max(seq), 0) AS seq FROM chat_events WHERE chat_id = $1",
      [chatId],
    );
    return row ? int(row.seq) : 0;
  }
}

/**
 * One statement appends an event: the next seq is taken under the chat row's lock (concurrent
 * appends from any replica queue there, so seqs never clash and commit in order), then the row is
 * inserted. `$1` the chats (an array: the same event to each, e.g. `running` to every chat of a
 * claim, whose rows the claim has locked already), `$2` type, `$3` data.
 */
const APPEND_EVENT_CTE = `
  WITH s AS (
    UPDATE chats SET last_event_seq = last_event_seq + 1 WHERE id = ANY($1::text[])
    RETURNING id, last_event_seq
  ), e AS (
    INSERT INTO chat_events (chat_id, seq, type, data)
    SELECT id, last_event_seq, $2, $3::jsonb FROM s
    RETURNING ${EVENT_COLUMNS}
  )`;

const APPEND_EVENT = `${APPEND_EVENT_CTE} SELECT ${EVENT_COLUMNS} FROM e`;

/**
 * The same, plus a NOTIFY to the other replicas (sent at commit): the whole event when the payload
 * fits, else a pointer they follow with `listAfter`. `$4` is this store's instance id, so its own
 * notifications are recognised and skipped (they were delivered locally already).
 */
const APPEND_EVENT_AND_NOTIFY = `${APPEND_EVENT_CTE}, p AS (
    SELECT e.*, json_build_object('o', $4::text, 'c', e.chat_id, 's', e.seq, 't', e.type,
      'd', e.data, 'at', e.created_at)::text AS whole
    FROM e
  )
  SELECT ${EVENT_COLUMNS},
    pg_notify('${EVENTS_CHANNEL}', CASE WHEN octet_length(whole) <= ${NOTIFY_EVENT_MAX_BYTES}
      THEN whole ELSE json_build_object('o', $4::text, 'c', chat_id, 's', seq)::text END) AS notified
  FROM p`;

/**
 * A dead owner may have handed out up to `MAX_UNPERSISTED` seqs past its last persisted one (and
 * past the claim's): the next one allocated starts beyond all of them.
 */
const SKIP_PAST_DEAD_RUNS = `
  UPDATE chats SET last_event_seq = GREATEST(last_event_seq,
      COALESCE((SELECT max(e.seq) FROM chat_events e WHERE e.chat_id = chats.id), 0))
    + ${MAX_UNPERSISTED}
  WHERE id = ANY($1::text[])`;
