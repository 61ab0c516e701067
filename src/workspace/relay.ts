/**
 * The hub's link to the other replicas, for tool calls whose chat runs on one replica while the
 * workspace's agent is connected to another (`agent_calls`, src/store/agent-calls.ts). This class
 * only moves messages: the hub decides where a call goes (hub.ts). What it keeps is order: a
 * call's output reaches the origin in the order the agent sent it, and its result after its last
 * output, because everything the target says about one call goes out one after the other.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { backoffDelay } from "../chatretry/policy.ts";
import type { AgentCallStore, ClaimedAgentCall, WorkspaceStore } from "../store/contract.ts";

export interface RelayLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface CallResultLike {
  output: string;
  is_error: boolean;
}

/** What the hub does with what arrives from the other replicas. */
export interface RelayHandler {
  /** Origin: a piece of output of a call it sent to `from`. */
  output(id: string, from: string, delta: string): void;
  /** Origin: the call's result. */
  result(id: string, result: CallResultLike): void;
  /** Origin: `from` gave the call back unanswered. */
  gone(id: string, from: string): void;
  /** Target: a call to send to the agent connected here. */
  deliver(call: ClaimedAgentCall): void;
  /** Target: Stop for a call it delivered. */
  cancel(id: string): void;
  /** Any replica: a workspace's agent connected or disconnected somewhere. */
  agentMoved(workspaceId: string): void;
}

export interface CallRelayOptions {
  calls: AgentCallStore;
  workspaces: Pick<WorkspaceStore, "agentHolder" | "heldAgents">;
  replicaId: string;
  logger: RelayLogger;
  /** Rows older than this are deleted at start: their origin never came for them (default 1 h). */
  pruneAfterMs?: number;
}

/** Rows are pruned at start and this often (any replica's prune serves all). */
const PRUNE_EVERY_MS = 10 * 60_000;
/** A result that cannot be written is tried again, this far apart at most, while the relay runs. */
const WRITE_RETRY = { baseDelayMs: 200, maxDelayMs: 5_000 };

export class CallRelay {
  readonly #o: CallRelayOptions;
  #handler: RelayHandler | undefined;
  #unlisten: (() => Promise<void>) | undefined;
  /** Per call this replica answers: what it said last, so the next thing goes after it. */
  readonly #chains = new Map<string, Promise<void>>();
  #closed = false;
  readonly #closing = new AbortController();
  #pruner: NodeJS.Timeout | undefined;

  constructor(options: CallRelayOptions) {
    this.#o = options;
  }

  get replicaId(): string {
    return this.#o.replicaId;
  }

  /** Starts listening; the hub calls it with itself as the handler. */
  async start(handler: RelayHandler): Promise<void> {
    this.#handler = handler;
    // An earlier run of this replica (same id: its data dir) may have died holding calls: their
    // connections are gone with it, so their origins send them again, here or elsewhere.
    const released = await this.#o.calls.releaseClaimed(this.#o.replicaId);
    if (released.length > 0) {
      this.#o.logger.warn("gave back tool calls an earlier run of this replica held", {
        count: released.length,
      });
    }
    this.#unlisten = await this.#o.calls.listen(
      this.#o.replicaId,
      (message) => this.#onMessage(message),
      () => void this.#catchUp(),
    );
    await this.#prune();
    this.#pruner = setInterval(() => void this.#prune(), PRUNE_EVERY_MS);
    this.#pruner.unref();
    await this.#catchUp();
  }

  async #prune(): Promise<void> {
    await this.#o.calls.prune(this.#o.pruneAfterMs ?? 3_600_000).catch((error: unknown) => {
      this.#o.logger.warn("pruning relayed tool calls failed", { error: String(error) });
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort();
    clearInterval(this.#pruner);
    await Promise.all(this.#chains.values());
    await this.#unlisten?.().catch(() => {});
  }

  // ---- origin ---------------------------------------------------------------------------------

  /** The replica holding the workspace's agent now, or null. */
  holder(workspaceId: string): Promise<string | null> {
    return this.#o.workspaces.agentHolder(workspaceId);
  }

  /** Workspace id → the replica holding its agent, for every agent held now (one query). */
  async holders(): Promise<Map<string, string>> {
    const held = await this.#o.workspaces.heldAgents();
    return new Map(held.map((agent) => [agent.id, agent.replica]));
  }

  send(call: {
    id: string;
    workspaceId: string;
    tool: string;
    input: unknown;
    target: string;
  }): Promise<void> {
    return this.#o.calls.send({
      id: call.id,
      workspace_id: call.workspaceId,
      origin: this.#o.replicaId,
      target: call.target,
      tool: call.tool,
      input: call.input,
    });
  }

  cancel(id: string): void {
    this.#o.calls.cancel(id).catch((error: unknown) => this.#failed("cancel", id, error));
  }

  /** The origin is done with the call: its row goes. */
  forget(id: string): void {
    this.#o.calls.remove(id).catch((error: unknown) => this.#failed("forget", id, error));
  }

  /** What the table says of calls this replica sent elsewhere (a NOTIFY may have been lost). */
  states(ids: readonly string[]) {
    return this.#o.calls.states(ids);
  }

  // ---- target ---------------------------------------------------------------------------------

  output(origin: string, id: string, delta: string): void {
    this.#then(id, () => this.#o.calls.output(origin, this.#o.replicaId, id, delta), "output");
  }

  finish(origin: string, id: string, result: CallResultLike): void {
    const write = () => this.#o.calls.finish(origin, this.#o.replicaId, id, result);
    this.#then(id, () => this.#persist(write), "finish");
    this.#end(id);
  }

  release(origin: string, id: string): void {
    const write = () => this.#o.calls.release(origin, this.#o.replicaId, id);
    this.#then(id, () => this.#persist(write), "release");
    this.#end(id);
  }

  /**
   * A result (or a hand-back) is what the origin waits for: a failed write is tried again until
   * it lands or this replica stops — after which its record goes stale, and the origin sends the
   * call on to the agent's next holder, which answers it from its recent results.
   */
  async #persist(write: () => Promise<void>): Promise<void> {
    for (let failed = 1; ; failed++) {
      try {
        await write();
        return;
      } catch (error) {
        if (this.#closed) throw error;
        this.#o.logger.warn("relayed tool call: writing the answer failed; trying again", {
          error: String(error),
        });
        await sleep(backoffDelay(failed, WRITE_RETRY), undefined, {
          signal: this.#closing.signal,
        }).catch(() => {});
      }
    }
  }

  /** Resolves once everything said so far has been written (shutdown waits for it). */
  async flushed(): Promise<void> {
    await Promise.all(this.#chains.values());
  }

  // ---- internals ------------------------------------------------------------------------------

  #then(id: string, step: () => Promise<void>, what: string): void {
    const previous = this.#chains.get(id) ?? Promise.resolve();
    const next = previous.then(step).catch((error: unknown) => this.#failed(what, id, error));
    this.#chains.set(id, next);
  }

  /** Drops the call's chain once its last step ran (unless more was said since). */
  #end(id: string): void {
    const last = this.#chains.get(id);
    void last?.then(() => {
      if (this.#chains.get(id) === last) this.#chains.delete(id);
    });
  }

  #onMessage(message: Parameters<Parameters<AgentCallStore["listen"]>[1]>[0]): void {
    const handler = this.#handler;
    if (!handler || this.#closed) return;
    switch (message.t) {
      case "call":
        void this.#claim(message.id);
        return;
      case "cancel":
        handler.cancel(message.id);
        return;
      case "out":
        handler.output(message.id, message.from, message.d);
        return;
      case "done":
        void this.#readResult(message.id);
        return;
      case "gone":
        handler.gone(message.id, message.from);
        return;
      case "agent":
        handler.agentMoved(message.id);
        return;
    }
  }

  async #claim(id: string): Promise<void> {
    try {
      const call = await this.#o.calls.claim(id, this.#o.replicaId);
      if (call && !this.#closed) this.#handler?.deliver(call);
      else if (call) this.release(call.origin, call.id); // claimed as we closed: hand it back
    } catch (error) {
      this.#failed("claim", id, error);
    }
  }

  async #readResult(id: string): Promise<void> {
    try {
      const [state] = await this.#o.calls.states([id]);
      if (state?.state === "done" && state.result) this.#handler?.result(id, state.result);
    } catch (error) {
      // The hub's watch reads it again on its next round.
      this.#failed("read result", id, error);
    }
  }

  /** After the LISTEN connection was down: calls addressed here meanwhile. */
  async #catchUp(): Promise<void> {
    try {
      for (const id of await this.#o.calls.pendingFor(this.#o.replicaId)) await this.#claim(id);
    } catch (error) {
      this.#failed("catch up", "*", error);
    }
  }

  #failed(what: string, id: string, error: unknown): void {
    this.#o.logger.warn(`relayed tool call: ${what} failed`, { call: id, error: String(error) });
  }
}
