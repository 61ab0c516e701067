/**
 * `keel agent`: the workspace's side of the agent protocol (protocol.ts). It opens one outbound
 * WebSocket to the server, authenticated by the workspace token, runs the tool calls the server
 * sends in its directory, streams their output back (coalesced) and answers each with exactly
 * one result. A dropped connection is retried with jittered exponential backoff; calls running
 * when it drops keep running, and the server's re-send on the next connection gets their result
 * (agent-calls.ts) — never a second run. A refused or
 * revoked token ends the agent, and so does another agent taking the workspace over: it does not
 * fight for it. The token only ever goes into the Authorization header — never into a log line.
 * With `mcp`, the workspace's `.mcp.json` servers run beside it (mcp/servers.ts): each connection
 * tells the server their tools, and calls named `<server>__<tool>` go to them.
 */
import { arch, platform } from "node:os";
import WebSocket, { type RawData } from "ws";
import { AgentCalls } from "./agent-calls.ts";
import type { WorkspaceMcp } from "./mcp/servers.ts";
import {
  AGENT_PATH,
  type AgentFrame,
  CLOSE,
  frameText,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  parseFrame,
  ServerFrame,
} from "./protocol.ts";
import { BackgroundProcesses } from "./tools/processes.ts";

export interface AgentOptions {
  /** The Keel server (http, https, ws or wss; a path prefix is kept). */
  url: string;
  token: string;
  /** The workspace directory: tools run here. */
  dir: string;
  /** Stops the agent: running tools are killed, then `runAgent` resolves. */
  signal: AbortSignal;
  version: string;
  log(line: string): void;
  /** Reconnect backoff: the first ceiling (default 500 ms) and the largest (default 30 s). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** A server that sent no ping for this long is taken for dead (default 45 s; it pings every 15). */
  pingTimeoutMs?: number;
  /** The background processes' manager (tests); by default one of the agent's own. */
  processes?: BackgroundProcesses;
  /**
   * The workspace's MCP servers: started with the agent, stopped with it. Only for an agent in
   * the workspace (`keel agent`): the server's own agents never run MCP servers on the server.
   */
  mcp?: WorkspaceMcp;
  /** How long a call whose connection dropped waits to be sent again (agent-calls.ts; tests). */
  orphanGraceMs?: number;
}

export const TOKEN_REFUSED_MESSAGE =
  "The agent token was refused: check --token / KEEL_AGENT_TOKEN, or create a new workspace token.";

/** Why the agent gave up for good: a refused or revoked token, or a hello the server refused. */
export class AgentRefusedError extends Error {
  override readonly name = "AgentRefusedError";
}

/** A connection that stayed up this long was a success: the backoff starts over. */
const STABLE_CONNECTION_MS = 10_000;
const HANDSHAKE_TIMEOUT_MS = 10_000;
/** On stop, how long running tools get to die before `runAgent` resolves anyway. */
const STOP_GRACE_MS = 5_000;

/** Runs the agent until `options.signal` aborts; rejects with AgentRefusedError when refused. */
export async function runAgent(options: AgentOptions): Promise<void> {
  const endpoint = agentEndpoint(options.url);
  const minMs = options.minBackoffMs ?? 500;
  const maxMs = options.maxBackoffMs ?? 30_000;
  let failures = 0;
  // Background processes belong to the agent's workspace: they outlive a connection and end
  // when the agent stops, however it stops. So do the calls it runs.
  const processes = options.processes ?? new BackgroundProcesses();
  const calls = new AgentCalls({
    dir: options.dir,
    log: options.log,
    processes,
    ...(options.mcp ? { mcp: options.mcp } : {}),
    ...(options.orphanGraceMs !== undefined ? { orphanGraceMs: options.orphanGraceMs } : {}),
  });
  options.log(`keel agent ${options.version}: serving ${options.dir} for ${endpoint.host}`);
  // In the background: built-in tools serve while MCP servers start (npx may take a while).
  void options.mcp?.start();
  try {
    while (!options.signal.aborted) {
      const end = await new AgentConnection(endpoint, options, calls).ended;
      switch (end.kind) {
        case "stopped":
          return;
        case "replaced":
          options.log("another agent took over this workspace; stopping");
          return;
        case "refused":
          throw new AgentRefusedError(end.message);
        case "lost": {
          if (end.upMs > STABLE_CONNECTION_MS) failures = 0;
          const delay = backoffDelay(failures++, minMs, maxMs);
          options.log(`${end.reason}; reconnecting in ${(delay / 1000).toFixed(1)} s`);
          await sleep(delay, options.signal);
        }
      }
    }
  } finally {
    await calls.stopAll(STOP_GRACE_MS);
    await Promise.all([processes.stopAll(), options.mcp?.stop()]);
  }
}

/** The WebSocket address of the agent endpoint under a server URL; throws a readable Error. */
export function agentEndpoint(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`"${url}" is not a URL (e.g. http://127.0.0.1:3000).`);
  }
  const scheme = WS_SCHEMES[parsed.protocol];
  if (!scheme) throw new Error(`the server URL must be http(s) or ws(s), not ${parsed.protocol}`);
  if (parsed.username || parsed.password) {
    throw new Error("the server URL must not hold credentials: the agent token authenticates.");
  }
  parsed.protocol = scheme;
  parsed.pathname = parsed.pathname.replace(/\/+$/, "") + AGENT_PATH;
  parsed.search = "";
  parsed.hash = "";
  return parsed;
}

const WS_SCHEMES: Record<string, string> = {
  "http:": "ws:",
  "https:": "wss:",
  "ws:": "ws:",
  "wss:": "wss:",
};

/** Full jitter: uniform in [0, min(max, min·2^failures)]. */
export function backoffDelay(
  failures: number,
  minMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(failures, 30));
  return Math.round(random() * ceiling);
}

type ConnectionEnd =
  | { kind: "stopped" }
  | { kind: "replaced" }
  | { kind: "refused"; message: string }
  | { kind: "lost"; upMs: number; reason: string };

/** One WebSocket, from the upgrade to its close. */
class AgentConnection {
  readonly ended: Promise<ConnectionEnd>;
  readonly #o: AgentOptions;
  readonly #endpoint: URL;
  readonly #socket: WebSocket;
  #openedAt: number | null = null;
  #refusedStatus: number | null = null;
  #lastError = "";
  #deadTimer: NodeJS.Timeout | undefined;
  #stopOffering: (() => void) | undefined;

  readonly #calls: AgentCalls;

  constructor(endpoint: URL, options: AgentOptions, calls: AgentCalls) {
    this.#o = options;
    this.#calls = calls;
    this.#endpoint = endpoint;
    this.#socket = new WebSocket(endpoint, {
      headers: { Authorization: `Bearer ${options.token}` },
      perMessageDeflate: false,
      maxPayload: MAX_FRAME_BYTES,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      followRedirects: false,
    });
    this.ended = new Promise<ConnectionEnd>((resolve) => this.#listen(resolve));
  }

  #listen(resolve: (end: ConnectionEnd) => void): void {
    const socket = this.#socket;
    const stop = () => {
      void this.#calls.stopAll(STOP_GRACE_MS);
      socket.close(1000, "agent stopping");
      setTimeout(() => socket.terminate(), 1_000).unref(); // a server that does not answer the close
    };
    this.#o.signal.addEventListener("abort", stop, { once: true });
    socket.on("unexpected-response", (_request, response) => {
      this.#refusedStatus = response.statusCode ?? 0;
      response.resume();
      socket.terminate();
    });
    socket.on("open", () => this.#onOpen());
    socket.on("ping", () => this.#armDeadTimer());
    socket.on("message", (data, isBinary) => this.#onMessage(data, isBinary));
    socket.on("error", (error) => {
      this.#lastError = error.message;
    });
    socket.on("close", (code, reason) => {
      clearTimeout(this.#deadTimer);
      this.#stopOffering?.();
      this.#o.signal.removeEventListener("abort", stop);
      if (this.#openedAt !== null) this.#calls.detach();
      void this.#settle(code, reason.toString("utf8")).then(resolve);
    });
  }

  #onOpen(): void {
    this.#openedAt = Date.now();
    this.#calls.attach((frame) => this.#send(frame));
    this.#armDeadTimer();
    this.#send({
      type: "hello",
      protocol: PROTOCOL_VERSION,
      version: this.#o.version.slice(0, 100),
      dir: this.#o.dir.slice(0, 4096),
      platform: `${platform()} ${arch()}`.slice(0, 200),
      directory: this.#o.dir.slice(0, 4096),
    });
  }

  /** The hub pings every 15 s; silence for much longer means the server or the path is gone. */
  #armDeadTimer(): void {
    clearTimeout(this.#deadTimer);
    const timeoutMs = this.#o.pingTimeoutMs ?? 45_000;
    this.#deadTimer = setTimeout(() => {
      this.#lastError = `no ping from the server for ${Math.round(timeoutMs / 1000)} s`;
      this.#socket.terminate();
    }, timeoutMs);
  }

  async #settle(code: number, reason: string): Promise<ConnectionEnd> {
    if (this.#o.signal.aborted) {
      await this.#calls.stopAll(STOP_GRACE_MS);
      return { kind: "stopped" };
    }
    if (this.#refusedStatus === 401 || code === CLOSE.revoked) {
      return { kind: "refused", message: TOKEN_REFUSED_MESSAGE };
    }
    if (code === CLOSE.badHello) {
      return { kind: "refused", message: `The server refused this agent: ${reason || code}` };
    }
    if (code === CLOSE.replaced) return { kind: "replaced" };
    const upMs = this.#openedAt === null ? 0 : Date.now() - this.#openedAt;
    return { kind: "lost", upMs, reason: this.#describeLoss(code, reason) };
  }

  #describeLoss(code: number, reason: string): string {
    const where = this.#endpoint.host;
    if (this.#refusedStatus !== null) {
      return `the server at ${where} answered ${this.#refusedStatus} instead of accepting the agent`;
    }
    if (this.#openedAt === null) {
      return `cannot reach the server at ${where}${this.#lastError ? `: ${this.#lastError}` : ""}`;
    }
    const why = this.#lastError || reason || `code ${code}`;
    return `disconnected from the server at ${where} (${why})`;
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    const parsed = isBinary
      ? ({ ok: false, reason: "a binary frame" } as const)
      : parseFrame(ServerFrame, frameText(data));
    if (!parsed.ok) {
      this.#o.log(`ignored an invalid frame from the server: ${parsed.reason.slice(0, 300)}`);
      return;
    }
    const frame = parsed.frame;
    switch (frame.type) {
      case "welcome":
        this.#o.log(`connected to ${this.#endpoint.host} as the agent of ${frame.workspace_id}`);
        this.#offerMcpTools();
        return;
      case "call":
        // Stopping: the server gives it to the next agent.
        if (!this.#o.signal.aborted) this.#calls.start(frame);
        return;
      case "cancel":
        this.#calls.cancel(frame.call_id);
        return;
    }
  }

  /**
   * Tells the server the MCP servers' tools once they have started (a new connection has none),
   * and again whenever they change while this connection lasts.
   */
  #offerMcpTools(): void {
    const mcp = this.#o.mcp;
    if (!mcp) return;
    const offer = () => this.#send({ type: "tools", tools: mcp.tools() });
    void mcp.start().then(() => {
      if (this.#socket.readyState !== WebSocket.OPEN) return;
      offer();
      this.#stopOffering = mcp.onToolsChanged(offer);
    });
  }

  #send(frame: AgentFrame): void {
    if (this.#socket.readyState === WebSocket.OPEN) this.#socket.send(JSON.stringify(frame));
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
