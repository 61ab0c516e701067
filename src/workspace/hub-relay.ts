/**
 * The agent hub's calls across replicas. A call made here (the origin) for a workspace whose agent
 * is connected to another replica is sent there through the relay (relay.ts); a call another
 * replica sends here is delivered to the agent connected here like a local one, its output and
 * result sent back. The rules stay those of one replica:
 *  - a call goes to one connection at most once; if the holder loses the agent it hands the call
 *    back unanswered, and the origin sends it again, with the same id, to whichever replica (this
 *    one included) holds the agent next — the agent answers a repeated id from its recent results;
 *  - every wait is bounded: without a holder, the origin's wait for an agent (`reconnectWaitMs`)
 *    runs as for a local call; a holder that died without a word stops being the holder when its
 *    heartbeat goes stale, and the origin's watch (a table read every `watchMs`) notices that,
 *    like a result whose NOTIFY was lost.
 */
import type { ClaimedAgentCall } from "../store/contract.ts";
import {
  type CallResult,
  type Connection,
  failure,
  isRemote,
  type PendingCall,
} from "./hub-calls.ts";
import type { CallRelay, RelayHandler } from "./relay.ts";

export interface HubRelayHost {
  readonly pending: Map<string, PendingCall>;
  readonly connections: ReadonlyMap<string, Connection>;
  /** The hub's own routing: this replica's connection, else wait (and ask `route`). */
  dispatch(call: PendingCall): void;
  forwardOutput(call: PendingCall, delta: string): void;
  /** The hub's Stop for a call sent to a connection here. */
  cancel(call: PendingCall): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  /** A workspace's agent connected or disconnected somewhere. */
  agentMoved(workspaceId: string): void;
}

export interface HubRelayOptions {
  /** A cancelled remote call gets this long to report its result (two hops: twice the local). */
  cancelGraceMs: number;
  /** How often the origin checks on its calls sent elsewhere (default 1 s). */
  watchMs?: number;
}

export class HubRelay implements RelayHandler {
  readonly #relay: CallRelay;
  readonly #host: HubRelayHost;
  readonly #o: HubRelayOptions;
  readonly #me: string;
  #watch: NodeJS.Timeout | undefined;
  #watching = false;
  /** Origin: the replica that last gave a call back, so it is not sent there again at once. */
  readonly #gaveBack = new Map<string, string>();
  /** Origin: calls whose row is being written; a Stop goes after it (or it would find no row). */
  readonly #sending = new Map<string, Promise<void>>();

  constructor(relay: CallRelay, host: HubRelayHost, options: HubRelayOptions) {
    this.#relay = relay;
    this.#host = host;
    this.#o = options;
    this.#me = relay.replicaId;
  }

  async start(): Promise<void> {
    await this.#relay.start(this);
    this.#watch = setInterval(() => void this.#check(), this.#o.watchMs ?? 1_000);
    this.#watch.unref();
  }

  /** Hands back the calls delivered here (their origin sends them on), then stops listening. */
  async close(): Promise<void> {
    clearInterval(this.#watch);
    for (const call of [...this.#host.pending.values()]) {
      if (call.origin !== undefined) this.handBack(call);
    }
    await this.#relay.close();
  }

  // ---- origin ---------------------------------------------------------------------------------

  /** A waiting call: if another replica holds the agent, send it there. */
  route(call: PendingCall, known?: string | null): void {
    const turn = ++call.routing;
    const holder =
      known !== undefined ? Promise.resolve(known) : this.#relay.holder(call.workspaceId);
    void holder.then(
      (replica) => {
        if (call.routing !== turn || call.sentTo !== null || !this.#host.pending.has(call.id)) {
          return; // sent, settled or re-routed meanwhile
        }
        if (replica === null || replica === this.#me) return; // wait: the agent comes here or nowhere
        if (this.#gaveBack.get(call.id) === replica) return; // the next watch round tries again
        this.#sendTo(call, replica);
      },
      (error: unknown) =>
        this.#host.warn("looking up the agent's replica failed", { error: String(error) }),
    );
  }

  /** Stop for a call sent elsewhere: its target tells the agent; its answer is awaited, bounded. */
  cancelRemote(call: PendingCall): void {
    const written = this.#sending.get(call.id) ?? Promise.resolve();
    void written.then(() => this.#relay.cancel(call.id));
    clearTimeout(call.timer);
    call.timer = setTimeout(
      () => call.settle(failure("Stopped; the workspace agent did not confirm in time.")),
      this.#o.cancelGraceMs * 2,
    );
  }

  /** The origin's call settled: its row, if it has one, is no longer needed. */
  settled(call: PendingCall): void {
    this.#gaveBack.delete(call.id);
    this.#sending.delete(call.id);
    if (call.relayed) this.#relay.forget(call.id);
  }

  #sendTo(call: PendingCall, replica: string): void {
    const turn = ++call.routing;
    call.sentTo = { replica };
    call.relayed = true;
    clearTimeout(call.timer); // the holder answers or gives it back; the watch sees if it dies
    call.timer = undefined;
    const { id, workspaceId, frame } = call;
    const sending = this.#relay
      .send({ id, workspaceId, tool: frame.tool, input: frame.input, target: replica })
      .catch((error: unknown) => {
        this.#host.warn("relaying a tool call failed", { call: id, error: String(error) });
        // Not sent: wait like any call without an agent; the watch tries again.
        if (call.routing === turn && this.#host.pending.has(id)) this.#host.dispatch(call);
      });
    this.#sending.set(id, sending);
    void sending.then(() => {
      if (this.#sending.get(id) === sending) this.#sending.delete(id);
    });
  }

  output(id: string, from: string, delta: string): void {
    const call = this.#host.pending.get(id);
    if (call && isRemote(call.sentTo) && call.sentTo.replica === from) {
      this.#host.forwardOutput(call, delta);
    }
  }

  result(id: string, result: CallResult): void {
    const call = this.#host.pending.get(id);
    if (call && call.origin === undefined) call.settle(result);
  }

  gone(id: string, from: string): void {
    const call = this.#host.pending.get(id);
    if (!call || !isRemote(call.sentTo) || call.sentTo.replica !== from) return;
    this.#gaveBack.set(id, from);
    this.#host.dispatch(call);
  }

  /** Every `watchMs`: results whose NOTIFY was lost, holders that changed or died. */
  async #check(): Promise<void> {
    if (this.#watching) return;
    const calls = [...this.#host.pending.values()].filter(
      (call) => call.origin === undefined && (call.sentTo === null || isRemote(call.sentTo)),
    );
    if (calls.length === 0) return;
    this.#watching = true;
    try {
      const remote = calls.filter((call) => isRemote(call.sentTo)).map((call) => call.id);
      const states = new Map((await this.#relay.states(remote)).map((s) => [s.id, s]));
      const holders = await this.#relay.holders();
      for (const call of calls) {
        if (!this.#host.pending.has(call.id)) continue;
        const holder = holders.get(call.workspaceId) ?? null;
        const sentTo = call.sentTo;
        if (sentTo === null) {
          this.#gaveBack.delete(call.id);
          this.route(call, holder);
          continue;
        }
        if (!isRemote(sentTo)) continue; // an agent came here meanwhile
        const state = states.get(call.id);
        if (state?.state === "done" && state.result) {
          call.settle(state.result);
          continue;
        }
        if (!state) continue; // not written yet
        const handedBack = state.state === "pending" && state.target === null;
        // The target lost the agent, or stopped vouching for it: send it on (or wait).
        if (holder !== sentTo.replica || handedBack) this.#host.dispatch(call);
        // Still unclaimed by a live target (its claim failed, or its NOTIFY was lost): tell it
        // again. A claim takes a call once, so a second pointer is harmless.
        else if (state.state === "pending" && !call.stopped) this.#sendTo(call, sentTo.replica);
      }
    } catch (error) {
      this.#host.warn("checking relayed tool calls failed", { error: String(error) });
    } finally {
      this.#watching = false;
    }
  }

  // ---- target ---------------------------------------------------------------------------------

  deliver(claimed: ClaimedAgentCall): void {
    const { id, origin } = claimed;
    if (this.#host.pending.has(id)) return; // already here
    if (claimed.cancelled) {
      this.#relay.finish(origin, id, failure("Stopped before the workspace agent ran it."));
      return;
    }
    const relay = this.#relay;
    const call: PendingCall = {
      id,
      workspaceId: claimed.workspace_id,
      frame: { type: "call", call_id: id, tool: claimed.tool, input: claimed.input },
      origin,
      onOutput: (delta) => relay.output(origin, id, delta),
      settle: (result) => {
        if (!this.#host.pending.delete(id)) return;
        clearTimeout(call.timer);
        relay.finish(origin, id, result);
      },
      sentTo: null,
      timer: undefined,
      outputBytes: 0,
      routing: 0,
      relayed: false,
    };
    this.#host.pending.set(id, call);
    this.#host.dispatch(call); // to the connection here, or straight back if there is none
  }

  /** A delivered call this replica cannot run (no agent here any more): back to its origin. */
  handBack(call: PendingCall): void {
    if (call.origin === undefined || !this.#host.pending.delete(call.id)) return;
    clearTimeout(call.timer);
    this.#relay.release(call.origin, call.id);
  }

  cancel(id: string): void {
    const call = this.#host.pending.get(id);
    if (call && call.origin !== undefined) this.#host.cancel(call);
  }

  agentMoved(workspaceId: string): void {
    this.#host.agentMoved(workspaceId);
  }
}
