/**
 * chatd: which process runs which chat (DESIGN.md §3, §5).
 *
 * A `ChatDaemon` claims `pending` chats (`store.acquireChats`, `FOR UPDATE SKIP LOCKED`) up to a
 * concurrency limit — on a poll timer and whenever a `pending` signal arrives from any replica —
 * and runs one turn loop per chat: queued messages first, a turn, then the messages queued while
 * it ran, another turn, and so on until the queue is empty. It heartbeats the chats it owns; a
 * chat whose ownership was lost is aborted with `OwnershipLost` and nothing more is written for it.
 * On start and periodically it returns chats of dead workers (stale heartbeat) to `pending`.
 *
 * Stop arrives as an `interrupt` signal (from whichever replica served the request) and aborts the
 * running turn with `ChatInterrupted`. `shutdown()` aborts every turn with `ServerShutdown`, waits
 * for the partial content to be persisted, and releases the chats to `pending`, within a deadline.
 *
 * Status events are the store's: it appends each one in the transaction that changes the status
 * (`acquireChats` → running, `releaseChat`, `recoverStaleChats`), together with the `message`
 * events of queued messages it moves into the transcript, so a chat's log shows its statuses in
 * the order they happened. The daemon announces what it does itself: the turn's events, and the
 * queued messages it drains between turns.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { ChatInterrupted, ServerShutdown } from "../chaterror/causes.ts";
import { redactSecrets } from "../chaterror/redact.ts";
import { publicMessage } from "../chatloop/events.ts";
import { SerialPublisher } from "../chatloop/publish.ts";
import { errorText, ToolRegistry } from "../chatloop/tools.ts";
import { OwnershipLost, runCompaction, runTurn } from "../chatloop/turn.ts";
import { type ChatModel, Transport } from "../provider/index.ts";
import type { ChatSignal } from "../store/contract.ts";
import type { Chat, ChatErrorRecord, ChatStatus } from "../store/types.ts";
import { recordFailure } from "./failure.ts";
import { ModelResolver } from "./models.ts";
import {
  type ChatDaemonOptions,
  consoleLogger,
  type DaemonLogger,
  type DaemonStore,
  DAEMON_DEFAULTS as DEFAULTS,
} from "./options.ts";
import { type PreparedTurn, prepareTurn } from "./prepare.ts";
import { titleFirstExchange } from "./title.ts";

export type { ChatDaemonOptions, DaemonLogger, DaemonStore } from "./options.ts";

/** A chat this daemon owns. */
interface Running {
  chat: Chat;
  /** Aborted on shutdown (`ServerShutdown`) or lost ownership (`OwnershipLost`). */
  life: AbortController;
  /** Aborted by Stop (`ChatInterrupted`); a fresh one per turn. */
  turn: AbortController;
  publisher: SerialPublisher;
  lost: boolean;
  /** A title was asked for (once per run of the chat). */
  titled: boolean;
  /** Being released: no longer heartbeated, so a late "lost" cannot drop its last events. */
  releasing: boolean;
  done: Promise<void>;
}

type Final = { status: ChatStatus; error: ChatErrorRecord | null };

export function defaultWorkerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
}

export class ChatDaemon {
  readonly workerId: string;
  readonly #store: DaemonStore;
  readonly #o: ChatDaemonOptions & typeof DEFAULTS;
  readonly #transport: Transport;
  readonly #ownTransport: boolean;
  readonly #tools: ToolRegistry;
  readonly #models: ModelResolver;
  readonly #log: DaemonLogger;
  readonly #running = new Map<string, Running>();
  readonly #timers: NodeJS.Timeout[] = [];
  #unlisten: (() => void) | undefined;
  #started = false;
  #stopping = false;
  #shutdown: Promise<void> | undefined;
  #ticking: Promise<void> | undefined;
  #tickAgain = false;
  #heartbeating = false;
  #recovering = false;
  /** Title requests in flight (off every turn's path); aborted at shutdown. */
  readonly #titling = new Set<Promise<void>>();
  readonly #titlesStop = new AbortController();
  /** Interrupts that arrive while an acquire is in flight, for the chats it may return. */
  #interruptsDuringAcquire: Set<string> | undefined;

  constructor(options: ChatDaemonOptions) {
    const defined = Object.fromEntries(
      Object.entries(options).filter(([, value]) => value !== undefined),
    ) as ChatDaemonOptions;
    this.#o = { ...DEFAULTS, ...defined };
    if (this.#o.staleMs < 2 * this.#o.heartbeatIntervalMs) {
      throw new Error("chatd: staleMs must be at least twice heartbeatIntervalMs.");
    }
    this.#store = options.store;
    this.workerId = options.workerId ?? defaultWorkerId();
    this.#ownTransport = options.transport === undefined;
    this.#transport = options.transport ?? new Transport();
    this.#tools = options.tools ?? new ToolRegistry();
    this.#models = new ModelResolver(options.store, this.#transport, options.modelFactory);
    this.#log = options.logger ?? consoleLogger;
  }

  /** Ids of the chats this daemon runs now. */
  get activeChats(): string[] {
    return [...this.#running.keys()];
  }

  async start(): Promise<void> {
    if (this.#started) throw new Error("chatd: the daemon was already started.");
    this.#started = true;
    this.#unlisten = this.#store.signals.listen(this.#onSignal);
    // Chats still marked as this worker's were left by its previous run, which died (a worker id
    // that outlives the process, see `workerId`): take them back now, not after `staleMs`.
    await this.#recover(this.workerId);
    if (this.#stopping) return;
    this.#every(this.#o.pollIntervalMs, () => this.#tick());
    this.#every(this.#o.heartbeatIntervalMs, () => this.#heartbeat());
    this.#every(this.#o.recoverIntervalMs, () => this.#recover());
    void this.#tick();
  }

  /**
   * Stops acquiring, aborts running turns with `ServerShutdown`, waits for them to persist their
   * partial content and release their chats to `pending`. Bounded by `shutdownTimeoutMs`: a turn
   * that does not finish in time is cut loose (its late writes are dropped) and its chat released.
   */
  shutdown(): Promise<void> {
    this.#shutdown ??= this.#doShutdown();
    return this.#shutdown;
  }

  async #doShutdown(): Promise<void> {
    this.#stopping = true;
    const deadline = Date.now() + this.#o.shutdownTimeoutMs;
    for (const timer of this.#timers) clearInterval(timer);
    this.#unlisten?.();
    for (const entry of this.#running.values()) entry.life.abort(new ServerShutdown());
    this.#titlesStop.abort(new ServerShutdown());
    const settled = Promise.allSettled([
      ...[...this.#running.values()].map((entry) => entry.done),
      ...this.#titling,
      this.#ticking,
    ]);
    if (!(await within(settled, deadline - Date.now()))) {
      const late = [...this.#running.values()];
      this.#log.warn("shutdown deadline passed; releasing chats still running", {
        chats: late.map((entry) => entry.chat.id),
      });
      for (const entry of late) entry.lost = true;
      await within(
        Promise.allSettled(
          late.map((entry) =>
            this.#store.releaseChat(entry.chat.id, this.workerId, "pending", null),
          ),
        ),
        1_000,
      );
    }
    if (this.#ownTransport) await within(this.#transport.close(), 1_000);
  }

  #every(ms: number, run: () => Promise<void>): void {
    const timer = setInterval(() => void run(), ms);
    timer.unref();
    this.#timers.push(timer);
  }

  readonly #onSignal = (signal: ChatSignal): void => {
    if (this.#stopping) return;
    if (signal.type === "pending") {
      void this.#tick();
      return;
    }
    const entry = this.#running.get(signal.chat_id);
    if (entry) entry.turn.abort(new ChatInterrupted());
    else this.#interruptsDuringAcquire?.add(signal.chat_id);
  };

  /** Claims pending chats while there is room; one claim at a time, re-run when asked meanwhile. */
  #tick(): Promise<void> {
    if (this.#stopping) return Promise.resolve();
    if (this.#ticking) {
      this.#tickAgain = true;
      return this.#ticking;
    }
    this.#ticking = this.#claim().finally(() => {
      this.#ticking = undefined;
    });
    return this.#ticking;
  }

  async #claim(): Promise<void> {
    do {
      this.#tickAgain = false;
      const room = this.#o.concurrency - this.#running.size;
      if (this.#stopping || room <= 0) return;
      const interrupts = new Set<string>();
      this.#interruptsDuringAcquire = interrupts;
      let chats: Chat[];
      try {
        chats = await this.#store.acquireChats(this.workerId, room);
      } catch (error) {
        this.#log.error("acquiring chats failed", { error: errorText(error) });
        return;
      } finally {
        this.#interruptsDuringAcquire = undefined;
      }
      if (this.#stopping) {
        // Claimed while shutting down: hand them straight back.
        await Promise.allSettled(
          chats.map((chat) => this.#store.releaseChat(chat.id, this.workerId, "pending", null)),
        );
        return;
      }
      for (const chat of chats) this.#launch(chat, interrupts.has(chat.id));
      if (chats.length === room) this.#tickAgain = true;
    } while (this.#tickAgain);
  }

  #launch(chat: Chat, interrupted: boolean): void {
    const entry: Running = {
      chat,
      life: new AbortController(),
      turn: new AbortController(),
      publisher: new SerialPublisher(
        (type, data) => this.#store.events.appendClaimed(chat.id, type, data),
        {
          isOpen: () => !entry.lost,
          onError: (error, type) =>
            this.#log.error("publishing an event failed", {
              chat_id: chat.id,
              type,
              error: errorText(error),
            }),
        },
      ),
      lost: false,
      titled: false,
      releasing: false,
      done: Promise.resolve(),
    };
    if (interrupted) entry.turn.abort(new ChatInterrupted());
    this.#running.set(chat.id, entry);
    entry.done = this.#run(entry)
      .catch((error: unknown) => {
        this.#log.error("running a chat failed", { chat_id: chat.id, error: errorText(error) });
      })
      .finally(() => {
        this.#running.delete(chat.id);
        if (!this.#stopping) void this.#tick();
      });
  }

  async #run(entry: Running): Promise<void> {
    const { chat, publisher } = entry;
    // `status: running` is in the log already: `acquireChats` appended it with the claim.
    let final: Final | null;
    try {
      final = await this.#turns(entry);
    } catch (error) {
      if (entry.lost) return;
      this.#log.error("a turn failed unexpectedly", { chat_id: chat.id, error: errorText(error) });
      if (entry.life.signal.aborted) {
        final = { status: "pending", error: null };
      } else {
        const failure: ChatErrorRecord = {
          kind: "generic",
          message: "Keel hit an internal error while running this chat; send a message to retry.",
          // Whatever it was, nothing shaped like a credential leaves in it.
          detail: redactSecrets(errorText(error)).slice(0, 500),
        };
        await recordFailure(this.#store, publisher, chat.id, failure);
        final = { status: "error", error: failure };
      }
    }
    if (final && !entry.lost) await this.#release(entry, final);
  }

  /** What a turn (or a compaction) runs with (`prepareTurn`); a model that cannot run ends the run. */
  async #prepare(
    entry: Running,
  ): Promise<{ ok: false; final: Final } | Extract<PreparedTurn, { ok: true }>> {
    const prepared = await prepareTurn(
      {
        store: this.#store,
        models: this.#models,
        tools: this.#tools,
        options: this.#o,
      },
      entry.chat,
      AbortSignal.any([entry.life.signal, entry.turn.signal]),
      entry.publisher.publish,
    );
    if (prepared.ok) return prepared;
    await recordFailure(this.#store, entry.publisher, entry.chat.id, prepared.error);
    return { ok: false, final: { status: "error", error: prepared.error } };
  }

  /**
   * The compaction asked for (`POST /chats/{id}/compact`), before anything else: its final
   * status when the run ends here, else whether the transcript still has a turn to finish.
   */
  async #compactAsked(entry: Running): Promise<{ final: Final | null } | { open: boolean }> {
    const prepared = await this.#prepare(entry);
    if (!prepared.ok) {
      await this.#store.clearCompactionRequest(entry.chat.id);
      return { final: prepared.final };
    }
    const outcome = await runCompaction(prepared.options);
    entry.turn = new AbortController();
    if (outcome.status === "abandoned" || entry.lost) return { final: null };
    if (outcome.status === "shutdown") return { final: { status: "pending", error: null } };
    await this.#store.clearCompactionRequest(entry.chat.id);
    if (outcome.status === "compacted") return { open: outcome.open };
    if (outcome.status === "failed") return { final: { status: "error", error: outcome.error } };
    return { final: { status: "waiting", error: null } };
  }

  /** The turn loop of one owned chat; null when ownership was lost (nothing more to write). */
  async #turns(entry: Running): Promise<Final | null> {
    const { chat } = entry;
    let open = true;
    if (chat.compact_requested) {
      const compacted = await this.#compactAsked(entry);
      if ("final" in compacted) return compacted.final;
      open = compacted.open;
    }
    // Asked only to compact, with nothing new to answer: done.
    if ((await this.#drainQueued(entry)) === 0 && !open) return { status: "waiting", error: null };
    for (;;) {
      if (entry.lost) return null;
      if (entry.life.signal.aborted) return { status: "pending", error: null };
      const prepared = await this.#prepare(entry);
      if (!prepared.ok) return prepared.final;
      const outcome = await runTurn(prepared.options);
      // A Stop from here on is for the next turn.
      entry.turn = new AbortController();
      if (outcome.status === "abandoned" || entry.lost) return null;
      if (outcome.status === "shutdown") return { status: "pending", error: null };
      if (outcome.status === "completed" && this.#o.titles && !entry.titled) {
        entry.titled = true;
        this.#title(entry, prepared.model, prepared.titleModelId);
      }
      // Messages sent while the turn ran: another turn answers them (after Stop, and after an
      // error too: the user asked for it).
      if ((await this.#drainQueued(entry)) > 0) continue;
      if (outcome.status === "failed") return { status: "error", error: outcome.error };
      return { status: "waiting", error: null };
    }
  }

  /**
   * Titles a chat after its first reply, in the background: the turn's reply is persisted already
   * and nothing waits for this. One request (no retry), bounded by `titleTimeoutMs`; a failure
   * leaves the first-line title and is logged once. The new title is saved and announced with a
   * `title` event.
   */
  #title(entry: Running, chatModel: ChatModel, titleModelId: string | null): void {
    const { chat } = entry;
    const signal = AbortSignal.any([
      this.#titlesStop.signal,
      AbortSignal.timeout(this.#o.titleTimeoutMs),
    ]);
    const work = titleFirstExchange(
      { store: this.#store, models: this.#models },
      chat,
      chatModel,
      titleModelId,
      signal,
      // Announced after the run's final status, however fast the title model is.
      entry.done,
    ).catch((error: unknown) => {
      // The server is shutting down: not a failure of the title, nothing to report.
      if (this.#titlesStop.signal.aborted) return;
      this.#log.warn("titling a chat failed; it keeps its first-line title", {
        chat_id: chat.id,
        error: errorText(error),
      });
    });
    this.#titling.add(work);
    void work.finally(() => this.#titling.delete(work));
  }

  /** Moves queued user messages into the transcript and announces them; returns how many. */
  async #drainQueued(entry: Running): Promise<number> {
    const messages = await this.#store.drainQueuedMessages(entry.chat.id);
    for (const message of messages)
      void entry.publisher.publish("message", { message: publicMessage(message) });
    return messages.length;
  }

  /**
   * Hands the chat back once the turn's events are all appended. The store appends the status
   * event in the same transaction — `pending` instead of the final status when a message was
   * queued after the last drain (it moves it into the transcript, announces it, and signals).
   */
  async #release(entry: Running, final: Final): Promise<void> {
    const { chat } = entry;
    entry.releasing = true;
    await entry.publisher.drain();
    const change = await this.#store.releaseChat(chat.id, this.workerId, final.status, final.error);
    if (change.applied && final.status === "pending") {
      // Handed over (shutdown): another replica may resume it now rather than at its next poll.
      await this.#store.signals
        .send({ type: "pending", chat_id: chat.id })
        .catch((error: unknown) =>
          this.#log.warn("signalling a released chat failed", { error: errorText(error) }),
        );
    }
  }

  async #heartbeat(): Promise<void> {
    if (this.#heartbeating || this.#stopping) return;
    const owned = [...this.#running.values()].filter((entry) => !entry.releasing && !entry.lost);
    if (owned.length === 0) return;
    this.#heartbeating = true;
    try {
      const lost = await this.#store.heartbeat(
        this.workerId,
        owned.map((entry) => entry.chat.id),
      );
      for (const id of lost) {
        const entry = this.#running.get(id);
        if (!entry || entry.releasing || this.#stopping) continue;
        this.#log.warn("lost ownership of a chat; abandoning its turn", { chat_id: id });
        entry.lost = true;
        entry.life.abort(new OwnershipLost());
      }
    } catch (error) {
      this.#log.error("heartbeat failed", { error: errorText(error) });
    } finally {
      this.#heartbeating = false;
    }
  }

  async #recover(previousRunOf?: string): Promise<void> {
    if (this.#recovering || this.#stopping) return;
    this.#recovering = true;
    try {
      // The store announced each one (its moved messages, `status: pending`).
      const recovered = await this.#store.recoverStaleChats(this.#o.staleMs, previousRunOf);
      if (previousRunOf && recovered.length > 0) {
        this.#log.warn(
          "took back the chats this server ran when it stopped without shutting down",
          {
            chats: recovered.length,
          },
        );
      }
      if (recovered.length > 0) void this.#tick();
    } catch (error) {
      this.#log.error("recovering stale chats failed", { error: errorText(error) });
    } finally {
      this.#recovering = false;
    }
  }
}

const settledTrue = (): true => true;

/** Whether `promise` settled (either way) within `ms`. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
  });
  try {
    return await Promise.race([promise.then(settledTrue, settledTrue), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
