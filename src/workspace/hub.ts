/**
 * The server's side of the agent connections: authenticates each `keel agent` by its workspace
 * token, holds one connection per workspace, and runs tool calls over it. A call made while the
 * agent is away waits (bounded) for it to come back; a call in flight when the connection drops
 * is sent again to the next connection (unless it was stopped), so a restarted agent completes it.
 * Everything an agent sends is checked: a frame that is not the protocol's, or a result for a call
 * this connection was never given, is logged and dropped — it cannot touch a chat. The tools an
 * agent's MCP servers offer are remembered per workspace (the latest `tools` frame of its current
 * connection) and kept across a dropped connection, like the calls waiting for it; a new
 * connection starts over. They are recorded with the workspace too, so that every replica knows
 * them. With a `relay`, a call whose agent is connected to another replica goes there (hub-relay.ts).
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { type RawData, WebSocketServer } from "ws";
import type { WorkspaceStore } from "../store/contract.ts";
import type { Workspace } from "../store/types.ts";
import {
  type CallResult,
  type Connection,
  failure,
  forwardOutput,
  isRemote,
  notConnected,
  type PendingCall,
  send,
  UNREACHABLE_REPLICA,
  WORKSPACE_DELETED,
} from "./hub-calls.ts";
import { awaitHello, bearer, refuse } from "./hub-connect.ts";
import { RemoteAgents } from "./hub-records.ts";
import { HubRelay } from "./hub-relay.ts";
import {
  AGENT_PATH,
  AgentFrame,
  CLOSE,
  frameText,
  MAX_FRAME_BYTES,
  type McpToolInfo,
  PROTOCOL_VERSION,
  parseFrame,
} from "./protocol.ts";
import type { CallRelay } from "./relay.ts";

export type { CallResult } from "./hub-calls.ts";

export interface HubLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface AgentHubOptions {
  store: Pick<
    WorkspaceStore,
    | "get"
    | "forAgentToken"
    | "agentConnected"
    | "agentsSeen"
    | "agentDisconnected"
    | "setAgentMcpTools"
    | "agentMcpTools"
    | "heldAgents"
  >;
  /** This replica, as recorded with the agents it holds. */
  replicaId: string;
  logger: HubLogger;
  /** How long a call waits for a disconnected agent (default 30 s). */
  reconnectWaitMs?: number;
  /** Ping, liveness and token re-check interval (default 15 s). */
  heartbeatMs?: number;
  /** A cancelled call gets this long to report its result before it is given up (default 2 s). */
  cancelGraceMs?: number;
  /** A first frame that is not a hello within this long closes the connection (default 10 s). */
  helloTimeoutMs?: number;
  /** Streamed output forwarded per call; the rest is dropped (the result still arrives). */
  maxOutputBytes?: number;
  /** The other replicas (shared PostgreSQL): calls for agents connected to them go there. */
  relay?: CallRelay;
  /** How often calls sent to another replica are checked on (default 1 s). */
  relayWatchMs?: number;
}

export interface CallOptions {
  signal: AbortSignal;
  onOutput?: (delta: string) => void;
}

const NO_MCP_TOOLS: readonly McpToolInfo[] = Object.freeze([]);

const DEFAULTS = {
  reconnectWaitMs: 30_000,
  heartbeatMs: 15_000,
  cancelGraceMs: 2_000,
  helloTimeoutMs: 10_000,
  maxOutputBytes: 1024 * 1024,
  relayWatchMs: 1_000,
};

export class AgentHub {
  readonly #o: Required<Omit<AgentHubOptions, "relay">>;
  readonly #relay: HubRelay | undefined;
  readonly #wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_FRAME_BYTES,
    perMessageDeflate: false,
  });
  readonly #connections = new Map<string, Connection>();
  readonly #pending = new Map<string, PendingCall>();
  /** Workspace id → its agent's MCP tools (a new array whenever they change, never mutated). */
  readonly #mcpTools = new Map<string, readonly McpToolInfo[]>();
  /** What the replicas holding other agents recorded of them (MCP tools, OS and directory). */
  readonly #remote: RemoteAgents;
  readonly #heartbeat: NodeJS.Timeout;
  #closed = false;

  constructor(options: AgentHubOptions) {
    const { relay, ...rest } = options;
    this.#o = { ...DEFAULTS, ...rest };
    this.#heartbeat = setInterval(() => void this.#beat(), this.#o.heartbeatMs);
    this.#heartbeat.unref();
    this.#remote = new RemoteAgents({
      store: this.#o.store,
      replicaId: this.#o.replicaId,
      warn: (message, fields) => this.#o.logger.warn(message, fields),
    });
    this.#relay = relay
      ? new HubRelay(
          relay,
          {
            pending: this.#pending,
            connections: this.#connections,
            dispatch: (call) => this.#dispatch(call),
            forwardOutput: (call, delta) => this.#forwardOutput(call, delta),
            cancel: (call) => this.#cancel(call),
            warn: (message, fields) => this.#o.logger.warn(message, fields),
            agentMoved: () => this.#remote.refresh(),
          },
          { cancelGraceMs: this.#o.cancelGraceMs, watchMs: this.#o.relayWatchMs },
        )
      : undefined;
  }

  /** Starts listening to the other replicas (with a relay; a no-op without). */
  async start(): Promise<void> {
    if (!this.#relay) return;
    await this.#relay.start();
    await this.#remote.start();
  }

  /** Whether this replica holds the workspace's agent connection. */
  connected(workspaceId: string): boolean {
    return this.#connections.has(workspaceId);
  }

  /**
   * Where the workspace's agent connected to this replica runs, as its hello said (OS and
   * working directory, each null when not said); null when no agent of it is connected here.
   */
  agentEnvironment(
    workspaceId: string,
  ): { platform: string | null; directory: string | null } | null {
    const connection = this.#connections.get(workspaceId);
    if (!connection) return this.#remote.environment(workspaceId); // held by another replica?
    return { platform: connection.platform, directory: connection.directory };
  }

  /**
   * The tools of the workspace's MCP servers, as its agent last offered them to this replica:
   * the same array until they change (callers may cache by identity), empty when none.
   */
  mcpTools(workspaceId: string): readonly McpToolInfo[] {
    return this.#mcpTools.get(workspaceId) ?? NO_MCP_TOOLS;
  }

  /**
   * The workspace's MCP tools whichever replica holds its agent: this replica's own when it holds
   * it, else as recorded with the workspace — the same array while they are the same.
   */
  async mcpToolsFor(workspaceId: string): Promise<readonly McpToolInfo[]> {
    if (this.#connections.has(workspaceId)) return this.mcpTools(workspaceId);
    return this.#remote.mcpTools(workspaceId, this.mcpTools(workspaceId));
  }

  /** For the HTTP server's `upgrade` event: takes AGENT_PATH, returns false for anything else. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const path = (request.url ?? "").split("?")[0];
    if (path !== AGENT_PATH) return false;
    void this.#authenticate(request, socket, head);
    return true;
  }

  /** Runs one tool call in the workspace; never throws (failures are `is_error` results). */
  call(
    workspaceId: string,
    tool: string,
    input: unknown,
    options: CallOptions,
  ): Promise<CallResult> {
    if (this.#closed) return Promise.resolve(failure("The server is shutting down."));
    if (options.signal.aborted) return Promise.resolve(failure("Stopped before it started."));
    return new Promise<CallResult>((resolve) => {
      // Unique across restarts too: an agent answers a repeated id from its recent results.
      const id = randomUUID();
      const onAbort = () => this.#cancel(call);
      const call: PendingCall = {
        id,
        workspaceId,
        frame: { type: "call", call_id: id, tool, input },
        onOutput: options.onOutput,
        settle: (result) => {
          if (!this.#pending.delete(id)) return;
          clearTimeout(call.timer);
          options.signal.removeEventListener("abort", onAbort);
          this.#relay?.settled(call);
          resolve(result);
        },
        sentTo: null,
        timer: undefined,
        outputBytes: 0,
        routing: 0,
        relayed: false,
      };
      this.#pending.set(id, call);
      options.signal.addEventListener("abort", onAbort, { once: true });
      this.#dispatch(call);
    });
  }

  /** Closes every agent connection (agents reconnect to the next server) and fails open calls. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#heartbeat);
    this.#remote.close();
    const held = [...this.#connections.values()];
    for (const connection of held) connection.socket.close(1001, "server shutting down");
    // Recorded before the calls other replicas sent here are handed back, so that they send
    // them on to wherever the agents reconnect, not back here.
    await Promise.all(
      held.map((c) =>
        this.#o.store.agentDisconnected(c.workspace.id, this.#o.replicaId).catch(() => {}),
      ),
    );
    await this.#relay?.close();
    for (const call of [...this.#pending.values()]) {
      call.settle(failure("The server is shutting down; the tool call was not completed."));
    }
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  // ---- calls ----------------------------------------------------------------------------------

  /**
   * Sends the call to the workspace's connection here; else a call another replica sent here goes
   * back to it, and a call of this replica's waits (bounded) for an agent, here or elsewhere.
   */
  #dispatch(call: PendingCall): void {
    if (call.stopped && call.origin === undefined) {
      // Its connection (or holder) went before the agent confirmed Stop: never sent again.
      call.settle(failure("Stopped; the workspace agent did not confirm before it went away."));
      return;
    }
    const connection = this.#connections.get(call.workspaceId);
    if (connection) {
      call.sentTo = connection;
      send(connection.socket, call.frame);
      return;
    }
    if (call.origin !== undefined) {
      this.#relay?.handBack(call);
      return;
    }
    call.sentTo = null;
    clearTimeout(call.timer);
    call.timer = setTimeout(() => void this.#giveUp(call), this.#o.reconnectWaitMs);
    void this.#failIfDeleted(call);
    this.#relay?.route(call);
  }

  /** No agent came within the wait: say why, as far as this replica can tell. */
  async #giveUp(call: PendingCall): Promise<void> {
    const seconds = Math.round(this.#o.reconnectWaitMs / 1000);
    const workspace = await this.#o.store.get(call.workspaceId).catch(() => null);
    if (call.sentTo !== null) return; // an agent came while we looked
    const elsewhere =
      this.#relay === undefined &&
      workspace?.agent.connected === true &&
      !this.connected(call.workspaceId);
    call.settle(failure(elsewhere ? UNREACHABLE_REPLICA : notConnected(seconds)));
  }

  /** A deleted workspace's agent never comes back: say so now instead of after the wait. */
  async #failIfDeleted(call: PendingCall): Promise<void> {
    const workspace = await this.#o.store.get(call.workspaceId).catch(() => undefined);
    if (workspace === null && call.sentTo === null) call.settle(failure(WORKSPACE_DELETED));
  }

  #cancel(call: PendingCall): void {
    call.stopped = true;
    if (call.sentTo === null) {
      call.settle(failure("Stopped before the workspace agent ran it."));
      return;
    }
    if (isRemote(call.sentTo)) {
      this.#relay?.cancelRemote(call);
      return;
    }
    send(call.sentTo.socket, { type: "cancel", call_id: call.id });
    // The agent answers with the stopped call's result; a stuck agent does not hold Stop up.
    clearTimeout(call.timer);
    call.timer = setTimeout(
      () => call.settle(failure("Stopped; the workspace agent did not confirm in time.")),
      this.#o.cancelGraceMs,
    );
  }

  // ---- connections ----------------------------------------------------------------------------

  async #authenticate(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const token = bearer(request.headers.authorization);
    let workspace: Workspace | null = null;
    try {
      workspace = token && !this.#closed ? await this.#o.store.forAgentToken(token) : null;
    } catch (error) {
      // Not the agent's fault: it retries a 503, while a 401 would end it for good.
      this.#o.logger.warn("agent authentication failed", { error: String(error) });
      refuse(socket, "503 Service Unavailable", "The server cannot check the token right now.");
      return;
    }
    if (this.#closed) {
      refuse(socket, "503 Service Unavailable", "The server is shutting down.");
      return;
    }
    if (!token || !workspace) {
      this.#o.logger.warn("agent refused: unknown token", { remote: request.socket.remoteAddress });
      refuse(socket, "401 Unauthorized", "The agent token was refused.");
      return;
    }
    const known = workspace;
    this.#wss.handleUpgrade(request, socket, head, (ws) =>
      awaitHello(ws, known, token, {
        timeoutMs: this.#o.helloTimeoutMs,
        logger: this.#o.logger,
        onHello: (connection, version) => void this.#register(connection, version),
      }),
    );
  }

  async #register(connection: Connection, version: string): Promise<void> {
    const { socket, workspace } = connection;
    const previous = this.#connections.get(workspace.id);
    this.#connections.set(workspace.id, connection);
    // This agent may have another `.mcp.json`: it says which tools it has once they started.
    this.#mcpTools.delete(workspace.id);
    previous?.socket.close(CLOSE.replaced, "another agent connected for this workspace");
    socket.on("message", (data) => this.#onFrame(connection, data));
    socket.on("pong", () => {
      connection.alive = true;
    });
    socket.on("close", () => void this.#unregister(connection));
    send(socket, { type: "welcome", workspace_id: workspace.id, protocol: PROTOCOL_VERSION });
    this.#o.logger.info("agent connected", { workspace: workspace.id, version });
    // Its MCP tools are recorded after this (which clears the previous connection's).
    const environment = { platform: connection.platform, directory: connection.directory };
    connection.recorded = this.#o.store
      .agentConnected(workspace.id, this.#o.replicaId, version, environment)
      .then(
        () => {
          connection.held = true;
        },
        (error: unknown) => this.#o.logger.warn("recording agent failed", { error: String(error) }),
      );
    await connection.recorded;
    // Calls waiting for an agent, and calls the previous connection never answered.
    for (const call of this.#pending.values()) {
      if (call.workspaceId === workspace.id && call.sentTo !== connection) this.#dispatch(call);
    }
  }

  async #unregister(connection: Connection): Promise<void> {
    const id = connection.workspace.id;
    for (const [what, count] of connection.dropped ?? []) {
      if (count > 1) {
        this.#o.logger.warn(`agent sent ${what}: ${count} frames dropped on this connection`, {
          workspace: id,
          count,
        });
      }
    }
    if (this.#connections.get(id) !== connection) return; // replaced: the new one holds the calls
    this.#connections.delete(id);
    this.#o.logger.info("agent disconnected", { workspace: id });
    // Recorded first: calls other replicas sent here go back to them, and must not come back.
    await this.#o.store
      .agentDisconnected(id, this.#o.replicaId)
      .catch((error: unknown) =>
        this.#o.logger.warn("recording agent failed", { error: String(error) }),
      );
    for (const call of [...this.#pending.values()]) {
      if (call.sentTo === connection) this.#dispatch(call);
    }
  }

  #onFrame(connection: Connection, data: RawData): void {
    if (this.#connections.get(connection.workspace.id) !== connection) return;
    const parsed = parseFrame(AgentFrame, frameText(data));
    if (!parsed.ok) {
      this.#dropped(connection, "invalid frames", { reason: parsed.reason.slice(0, 500) });
      return;
    }
    const frame = parsed.frame;
    if (frame.type === "hello") return; // a repeated hello changes nothing
    if (frame.type === "tools") {
      this.#setMcpTools(connection, frame.tools);
      return;
    }
    const call = this.#pending.get(frame.call_id);
    if (!call || call.sentTo !== connection) {
      this.#dropped(connection, "frames for calls it was not given", {
        call_id: frame.call_id.slice(0, 100),
        type: frame.type,
      });
      return;
    }
    if (frame.type === "output") this.#forwardOutput(call, frame.delta);
    else call.settle({ output: frame.output, is_error: frame.is_error });
  }

  #setMcpTools(connection: Connection, tools: McpToolInfo[]): void {
    const id = connection.workspace.id;
    if (connection.workspace.directory !== null) {
      // The server's own agents never start MCP servers (they would run on the server).
      this.#dropped(connection, "MCP tools for a server-side directory", { count: tools.length });
      return;
    }
    this.#mcpTools.set(id, Object.freeze(tools));
    this.#o.logger.info("agent offered MCP tools", { workspace: id, count: tools.length });
    // In order, after the connection itself was recorded (which clears the previous set).
    const json = JSON.stringify(tools);
    connection.recorded = (connection.recorded ?? Promise.resolve()).then(() =>
      this.#o.store
        .setAgentMcpTools(id, this.#o.replicaId, json)
        .catch((error: unknown) =>
          this.#o.logger.warn("recording the agent's MCP tools failed", { error: String(error) }),
        ),
    );
  }

  /** Counts a dropped frame; logs the first of its kind on this connection. */
  #dropped(connection: Connection, what: string, details: Record<string, unknown>): void {
    const count = (connection.dropped?.get(what) ?? 0) + 1;
    connection.dropped?.set(what, count);
    if (count === 1) {
      this.#o.logger.warn(`agent sent ${what}; dropped (the rest are counted, not logged)`, {
        workspace: connection.workspace.id,
        ...details,
      });
    }
  }

  #forwardOutput(call: PendingCall, delta: string): void {
    forwardOutput(call, delta, this.#o.maxOutputBytes);
  }

  // ---- liveness ---------------------------------------------------------------------------------

  async #beat(): Promise<void> {
    const live: string[] = [];
    for (const connection of this.#connections.values()) {
      if (!connection.alive) {
        connection.socket.terminate(); // no pong since the last beat: the agent is gone
        continue;
      }
      connection.alive = false;
      connection.socket.ping();
      live.push(connection.workspace.id);
      const still = await this.#o.store
        .forAgentToken(connection.token)
        .catch(() => connection.workspace);
      if (still === null)
        connection.socket.close(CLOSE.revoked, "the workspace token no longer works");
    }
    const moved = await this.#o.store
      .agentsSeen(live, this.#o.replicaId)
      .catch((error: unknown) => {
        this.#o.logger.warn("recording agents failed", { error: String(error) });
        return [];
      });
    for (const id of moved) {
      const connection = this.#connections.get(id);
      // Recorded as its own, now another replica's: an agent of the workspace connected there
      // since. One connection serves a workspace, as when a second agent connects here.
      if (connection?.held) {
        connection.socket.close(CLOSE.replaced, "the agent connected to another server replica");
      }
    }
  }
}
