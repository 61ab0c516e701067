/**
 * The soak (issue 13, "A soak that proves it"): N real `keel server` replicas on one PostgreSQL, a
 * real `keel agent`, and chats whose turns each run one `execute` tool call (appending a unique
 * line to a log) and then stream a text reply from the fake provider. A tiny TCP round-robin proxy
 * in this process stands in for a load balancer: clients, their event streams and the agent all
 * reach "whichever replica answers". For the run's duration replicas are killed with SIGKILL at
 * random and restarted later (same data dir, so the same replica id), while a follower per chat
 * reads its event stream (reconnecting with Last-Event-ID) and a client per chat sends the next
 * message whenever the last turn ended. At the end it checks what DESIGN.md §3–§5 promise and
 * returns a report; `formatReport` prints it.
 *
 * Used by `npm run soak` (bench/soak.ts) and, shorter, by test/e2e/soak.test.ts.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { EventSourceParserStream } from "eventsource-parser/stream";
import pg from "pg";
import { Agent, fetch as undiciFetch } from "undici";
import { freePort } from "../e2e/support/keel-process.ts";
import {
  type FakeProvider,
  type RecordedRequest,
  type Script,
  splitWords,
  startFakeProvider,
  textReply,
  toolCallReply,
} from "../fakeprovider/index.ts";

const KEEL_BIN = join(import.meta.dirname, "../../bin/keel.js");

/** Every child process a soak started that may still run. */
const children = new Set<ChildProcess>();

function track(child: ChildProcess): void {
  children.add(child);
  child.on("exit", () => children.delete(child));
}

/** SIGKILLs what the soak started (servers, agent): for a command interrupted mid-run. */
export function killChildren(): void {
  for (const child of children) child.kill("SIGKILL");
}

// ---- options and report -------------------------------------------------------------------------

export interface SoakOptions {
  /** A fresh, empty (or migrated) database for this run; the caller creates and drops it. */
  postgresUrl: string;
  replicas: number;
  chats: number;
  /** How long replicas are killed and new messages sent (T). */
  durationMs: number;
  /** A kill every [min, max] ms, uniformly at random. */
  killEveryMs: [number, number];
  /** A killed replica is restarted after [min, max] ms (above the 30 s stale timeout, another
   * replica takes its chats over first). */
  downMs: [number, number];
  seed: number;
  /** After T: how long the last turns get to finish. */
  drainTimeoutMs: number;
  /** Text deltas per reply and the pause before each (a turn lasts about deltas × ms). */
  replyDeltas: number;
  deltaMs: number;
  /** Where logs go (kept after a failed run); default a new temporary directory. */
  workDir?: string;
  /** Progress lines. */
  log?: (line: string) => void;
  /** More environment for the servers. */
  serverEnv?: Record<string, string>;
}

export interface ResumeSample {
  chat: number;
  replica: number;
  ms: number;
  /** Whether the chat resumed on the killed replica after its restart, or on another one. */
  by: "restarted" | "other" | "unknown";
  /** For `restarted`: from the replica's restart (spawn) to the chat running. */
  afterRestartMs?: number;
}

export interface KillRecord {
  replica: number;
  atMs: number;
  downMs: number;
  owned: number;
}

/** What a failure breaks, for the test's one assertion per promise. */
export type Check =
  | "run" // the soak itself: setup, restarts, sending
  | "finished" // every chat finished (waiting), no turn ended in error
  | "replies" // each user message once, answered by one call, one result, one reply
  | "tool-once" // no tool call ran twice; a call that succeeded ran once
  | "tool-reached" // every tool call reached the agent (whichever replica ran the chat)
  | "streams" // every follower saw every event once, in order (against a full replay)
  | "resume"; // every chat a dead replica ran was running again later

export const CHECKS: Record<Check, string> = {
  run: "the soak ran (setup, kills, restarts, sending)",
  finished: "every chat finished",
  replies: "each reply persisted exactly once",
  "tool-once": "no tool call ran twice",
  "tool-reached": "every tool call reached the agent",
  streams: "every follower saw every event exactly once, in order",
  resume: "every chat of a dead replica resumed",
};

export interface Failure {
  check: Check;
  message: string;
}

export interface SoakReport {
  ok: boolean;
  failures: Failure[];
  /** Things to know that are not failures (counted, printed). */
  notes: string[];
  config: Omit<SoakOptions, "log" | "serverEnv" | "postgresUrl"> & { workDir: string };
  elapsedMs: number;
  chats: number;
  chatsWaiting: number;
  chatsError: number;
  chatsUnfinished: number;
  turnsSent: number;
  turnsChecked: number;
  repliesOk: number;
  toolCalls: {
    ok: number;
    /** The documented "may have partly run" results, and how many of those calls did run. */
    mayHavePartlyRun: number;
    mayHavePartlyRunRan: number;
    otherErrors: number;
    missing: number;
  };
  /** How long a replica took from spawn to answering /readyz, ms (every start). */
  replicaStartMs: number[];
  toolErrorSamples: string[];
  logLines: number;
  logDuplicates: number;
  /** Messages in GET /chats/{id} that no `message` event in the replay announced. */
  unannouncedMessages: number;
  followers: {
    events: number;
    reconnects: number;
    voidedDeltas: number;
    mismatched: number;
  };
  kills: KillRecord[];
  killsSkipped: number;
  restarts: number;
  resume: ResumeSample[];
  resumeP50Ms: number;
  resumeP99Ms: number;
  resumeMissing: number;
  providerRequests: number;
  proxyConnections: number[];
  serverLogLevels: Record<string, number>;
}

// ---- small things -------------------------------------------------------------------------------

/** mulberry32: a seeded PRNG, so a run's kill schedule can be repeated. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Event ids compared by their numeric components ("17", or "3-17" if ids grow an epoch). */
export function compareIds(a: string, b: string): number {
  const pa = a.split(/[^0-9]+/).filter(Boolean);
  const pb = b.split(/[^0-9]+/).filter(Boolean);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = BigInt(pa[i] ?? "0");
    const y = BigInt(pb[i] ?? "0");
    if (x !== y) return x < y ? -1 : 1;
  }
  return a === b ? 0 : a < b ? -1 : 1;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : "";
    return `${error.message}${cause}`;
  }
  return String(error);
}

/** `[soak c07:3]`: the turn's tag in the user message, the log line and the reply. */
const TAG = /\[soak (c\d+:\d+)\]/;
const tagOf = (chat: number, turn: number) => `c${String(chat).padStart(2, "0")}:${turn}`;

/** The reply the fake model streams for a turn: `deltas` words. */
export function replyText(tag: string, deltas: number): string {
  const words = [`Reply ${tag}:`];
  for (let k = 1; k < deltas; k++) words.push(`w${k}`);
  return words.join(" ");
}

/** The is_error result of a tool call that had started when its server died (DESIGN §3). */
const MAY_HAVE_RUN = /may have (partly |fully |partly or fully )?run/i;

// ---- the proxy ----------------------------------------------------------------------------------

interface Backend {
  port: number;
  alive: boolean;
  connections: number;
}

/** A TCP round-robin proxy over the backends marked alive; a refused connect tries the next. */
class RoundRobinProxy {
  readonly backends: Backend[];
  #next = 0;
  #server: Server;
  #sockets = new Set<Socket>();
  port = 0;

  constructor(ports: number[]) {
    this.backends = ports.map((port) => ({ port, alive: false, connections: 0 }));
    this.#server = createServer((client) => this.#accept(client));
  }

  async listen(): Promise<void> {
    this.#server.listen(0, "127.0.0.1");
    await once(this.#server, "listening");
    const address = this.#server.address();
    this.port = typeof address === "object" && address ? address.port : 0;
  }

  #accept(client: Socket): void {
    client.pause();
    this.#sockets.add(client);
    client.on("close", () => this.#sockets.delete(client));
    client.on("error", () => client.destroy());
    this.#connect(client, 0);
  }

  #connect(client: Socket, tries: number): void {
    if (client.destroyed) return;
    const n = this.backends.length;
    let backend: Backend | undefined;
    for (let i = 0; i < n; i++) {
      const candidate = this.backends[(this.#next + i) % n];
      if (candidate?.alive) {
        backend = candidate;
        this.#next = (this.#next + i + 1) % n;
        break;
      }
    }
    if (!backend || tries >= 2 * n) {
      client.destroy();
      return;
    }
    const chosen = backend;
    const upstream = createConnection(chosen.port, "127.0.0.1");
    this.#sockets.add(upstream);
    let connected = false;
    upstream.on("connect", () => {
      connected = true;
      chosen.connections += 1;
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    upstream.on("error", () => {
      if (!connected) {
        upstream.destroy();
        this.#connect(client, tries + 1);
      } else close();
    });
    upstream.on("close", () => {
      this.#sockets.delete(upstream);
      if (connected) close();
    });
    client.on("close", () => upstream.destroy());
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

// ---- replicas -----------------------------------------------------------------------------------

class Replica {
  child: ChildProcess | undefined;
  alive = false;
  starting: Promise<void> | undefined;
  id = "";
  starts = 0;
  /** Counted from the JSON log lines: level → lines. */
  readonly levels: Record<string, number> = {};
  #partial = "";

  readonly index: number;
  readonly port: number;
  readonly dataDir: string;
  readonly backend: Backend;
  readonly logFile: WriteStream;
  readonly env: Record<string, string>;
  readonly postgresUrl: string;

  constructor(options: {
    index: number;
    port: number;
    dataDir: string;
    backend: Backend;
    logFile: WriteStream;
    env: Record<string, string>;
    postgresUrl: string;
  }) {
    this.index = options.index;
    this.port = options.port;
    this.dataDir = options.dataDir;
    this.backend = options.backend;
    this.logFile = options.logFile;
    this.env = options.env;
    this.postgresUrl = options.postgresUrl;
  }

  start(): Promise<void> {
    this.starting ??= this.#start().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  /** Spawn to /readyz, ms, per start. */
  readonly startMs: number[] = [];

  async #start(): Promise<void> {
    const began = Date.now();
    this.starts += 1;
    this.logFile.write(`\n=== soak: start #${this.starts} at ${new Date().toISOString()}\n`);
    const child = spawn(
      process.execPath,
      [
        KEEL_BIN,
        "server",
        "--address",
        `127.0.0.1:${this.port}`,
        "--data-dir",
        this.dataDir,
        "--postgres-url",
        this.postgresUrl,
      ],
      { env: this.env, stdio: ["ignore", "pipe", "pipe"] },
    );
    this.child = child;
    track(child);
    const onOutput = (chunk: Buffer) => {
      this.logFile.write(chunk);
      const lines = (this.#partial + chunk.toString("utf8")).split("\n");
      this.#partial = lines.pop() ?? "";
      for (const line of lines) {
        const level = /^\{"time":"[^"]*","level":"(\w+)"/.exec(line)?.[1];
        if (level) this.levels[level] = (this.levels[level] ?? 0) + 1;
      }
    };
    child.stdout?.on("data", onOutput);
    child.stderr?.on("data", onOutput);
    child.on("exit", (code, signal) => {
      this.logFile.write(`\n=== soak: exited (code ${code}, signal ${signal})\n`);
      if (this.child === child) {
        this.alive = false;
        this.backend.alive = false;
      }
    });
    const deadline = Date.now() + 90_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`replica ${this.index} exited while starting (see ${this.logFile.path})`);
      }
      try {
        const response = await fetch(`http://127.0.0.1:${this.port}/readyz`);
        await response.body?.cancel();
        if (response.ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        throw new Error(`replica ${this.index} did not become ready (see ${this.logFile.path})`);
      }
      await sleep(100);
    }
    this.id = (await readFile(join(this.dataDir, "replica-id"), "utf8")).trim();
    this.alive = true;
    this.backend.alive = true;
    this.startMs.push(Date.now() - began);
  }

  /** SIGKILL: no goodbye, its sockets reset by the kernel. */
  async kill(): Promise<void> {
    this.alive = false;
    this.backend.alive = false;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGKILL");
    await exited;
  }

  async stop(): Promise<void> {
    await this.starting?.catch(() => {});
    this.alive = false;
    this.backend.alive = false;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    await exited;
    clearTimeout(timer);
  }
}

// ---- HTTP through the proxy ---------------------------------------------------------------------

class HttpError extends Error {
  override readonly name = "HttpError";
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }
}

interface Part {
  type: string;
  text?: string;
  name?: string;
  input?: unknown;
  output?: unknown;
  is_error?: boolean;
  tool_call_id?: string;
}
interface Message {
  id: string;
  role: "user" | "assistant" | "tool";
  parts: Part[];
  in_progress?: boolean;
}
interface ChatView {
  chat: {
    id: string;
    status: string;
    last_error: { kind?: string; message?: string; detail?: string } | null;
    last_event_seq: number | string;
  };
  messages: Message[];
  queued: Array<{ id: string; parts: Part[] }>;
}

class Client {
  readonly dispatcher = new Agent({
    keepAliveTimeout: 4_000,
    bodyTimeout: 0,
    headersTimeout: 60_000,
    connect: { timeout: 10_000 },
  });
  token = "";
  readonly baseUrl: string;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl;
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await undiciFetch(`${this.baseUrl}/api/v1${path}`, {
      method,
      headers: {
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      dispatcher: this.dispatcher,
      signal: AbortSignal.timeout(60_000),
    });
    const text = await response.text();
    if (!response.ok) {
      throw new HttpError(`${method} ${path}: HTTP ${response.status} ${text}`, response.status);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** A request that is safe to repeat, repeated while replicas come and go (network errors, 5xx). */
  async retrying<T>(method: string, path: string, body?: unknown, forMs = 120_000): Promise<T> {
    const deadline = Date.now() + forMs;
    for (;;) {
      try {
        return await this.request<T>(method, path, body);
      } catch (error) {
        const retryable = !(error instanceof HttpError) || error.status >= 500;
        if (!retryable || Date.now() > deadline) throw error;
        await sleep(300);
      }
    }
  }

  async close(): Promise<void> {
    await this.dispatcher.close().catch(() => {});
  }
}

// ---- followers ----------------------------------------------------------------------------------

export interface SeenEvent {
  id: string;
  type: string;
  data: string;
  /** When it arrived (Date.now()). */
  at: number;
  /** For `status: running`: the chat's worker at about that moment (filled in asynchronously). */
  worker?: string;
}

interface EventData {
  status?: string;
  message?: Message;
  part?: Part;
}

function parseData(data: string): EventData {
  try {
    return JSON.parse(data) as EventData;
  } catch {
    return {};
  }
}

/** Reads one chat's event stream for the whole run, reconnecting with Last-Event-ID. */
class Follower {
  readonly events: SeenEvent[] = [];
  reconnects = 0;
  lastError = "";
  #waiters = new Set<() => void>();
  readonly #abort = new AbortController();
  done: Promise<void> = Promise.resolve();

  readonly client: Client;
  readonly chatId: string;
  readonly onRunning: (event: SeenEvent) => void;

  constructor(client: Client, chatId: string, onRunning: (event: SeenEvent) => void) {
    this.client = client;
    this.chatId = chatId;
    this.onRunning = onRunning;
  }

  get lastId(): string | undefined {
    return this.events.at(-1)?.id;
  }

  start(): void {
    this.done = this.#run();
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.done;
  }

  /** Resolves at the next event (or after `ms`). */
  next(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const waiters = this.#waiters;
      function done() {
        clearTimeout(timer);
        waiters.delete(done);
        resolve();
      }
      waiters.add(done);
    });
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    let first = true;
    while (!signal.aborted) {
      if (!first) {
        this.reconnects += 1;
        await sleep(100 + Math.random() * 300, undefined, { signal }).catch(() => {});
        if (signal.aborted) return;
      }
      first = false;
      try {
        const headers: Record<string, string> = {
          accept: "text/event-stream",
          authorization: `Bearer ${this.client.token}`,
        };
        const last = this.lastId;
        if (last !== undefined) headers["last-event-id"] = last;
        const response = await undiciFetch(
          `${this.client.baseUrl}/api/v1/chats/${this.chatId}/stream`,
          { headers, dispatcher: this.client.dispatcher, signal },
        );
        if (!response.ok || !response.body) {
          this.lastError = `HTTP ${response.status} ${await response.text()}`;
          continue;
        }
        const stream = response.body
          .pipeThrough(new TextDecoderStream())
          .pipeThrough(new EventSourceParserStream());
        for await (const message of stream) {
          const event: SeenEvent = {
            id: message.id ?? "",
            type: message.event ?? "message",
            data: message.data,
            at: Date.now(),
          };
          this.events.push(event);
          if (event.type === "status" && parseData(event.data).status === "running") {
            this.onRunning(event);
          }
          for (const wake of [...this.#waiters]) wake();
        }
        this.lastError = "stream ended";
      } catch (error) {
        if (!signal.aborted) this.lastError = errorText(error);
      }
    }
  }
}

/** A full replay of a chat's events from the start, read until `untilId` (or quiet for `idleMs`). */
async function replay(
  client: Client,
  chatId: string,
  untilId: string,
  idleMs: number,
): Promise<SeenEvent[]> {
  const events: SeenEvent[] = [];
  const abort = new AbortController();
  let idle: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(idle);
    idle = setTimeout(() => abort.abort(), idleMs);
  };
  const total = setTimeout(() => abort.abort(), 120_000);
  try {
    arm();
    const response = await undiciFetch(`${client.baseUrl}/api/v1/chats/${chatId}/stream?after=0`, {
      headers: { accept: "text/event-stream", authorization: `Bearer ${client.token}` },
      dispatcher: client.dispatcher,
      signal: abort.signal,
    });
    if (!response.ok || !response.body) {
      throw new Error(`replay of ${chatId}: HTTP ${response.status} ${await response.text()}`);
    }
    const stream = response.body
      .pipeThrough(new TextDecoderStream())
      .pipeThrough(new EventSourceParserStream());
    for await (const message of stream) {
      arm();
      events.push({
        id: message.id ?? "",
        type: message.event ?? "message",
        data: message.data,
        at: Date.now(),
      });
      if (message.id === untilId) break;
    }
  } catch (error) {
    if (!abort.signal.aborted) throw error;
  } finally {
    clearTimeout(idle);
    clearTimeout(total);
    abort.abort();
  }
  return events;
}

// ---- the fake model -----------------------------------------------------------------------------

interface ChatRequestBody {
  messages?: Array<{ role?: string; content?: unknown }>;
}

function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((part) =>
        typeof part === "object" && part !== null && "text" in part ? String(part.text) : "",
      )
      .join("");
  }
  return "";
}

/**
 * The model of every chat: to a user message, an `execute` call appending the turn's tag to the
 * log; to a tool result, the turn's reply in `deltas` words. Decided from the request alone, so a
 * step retried on another replica gets the same answer.
 */
function responder(logPath: string, deltas: number, deltaMs: number) {
  return (request: RecordedRequest): Script | undefined => {
    const body = request.body as ChatRequestBody | undefined;
    const messages = body?.messages ?? [];
    const lastUser = [...messages].reverse().find((m) => m.role === "user");
    const tag = TAG.exec(contentText(lastUser?.content))?.[1];
    if (!tag) return textReply("(no soak tag in this request)");
    if (messages.at(-1)?.role === "user") {
      return toolCallReply(
        {
          name: "execute",
          id: `call_${tag.replace(":", "_")}_${request.n}`,
          args: { command: `echo ${tag} >> ${logPath}` },
        },
        { argPieces: 4, chunkDelayMs: deltaMs },
      );
    }
    return textReply(replyText(tag, deltas), {
      chunks: splitWords(replyText(tag, deltas)),
      chunkDelayMs: deltaMs,
    });
  };
}

// ---- the run ------------------------------------------------------------------------------------

interface ChatState {
  index: number;
  id: string;
  /** The chat's own user agent (connections), as if each chat were another person's browser:
   * behind the round-robin proxy, chats are created on different replicas. */
  client: Client;
  follower: Follower;
  /** Tags sent, in order. */
  tags: string[];
  turnErrors: string[];
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => {});
  const random = prng(options.seed);
  const between = ([min, max]: [number, number]) => min + random() * (max - min);
  const started = Date.now();
  const since = (t: number) => ((t - started) / 1000).toFixed(1);
  const workDir = options.workDir ?? (await mkdtemp(join(tmpdir(), "keel-soak-")));
  await mkdir(workDir, { recursive: true });
  const failures: Failure[] = [];
  const notes: string[] = [];
  const fail = (check: Check, message: string) => {
    failures.push({ check, message });
    log(`FAIL (${check}): ${message}`);
  };

  const cleanups: Array<() => Promise<void>> = [];
  const report: SoakReport = {
    ok: false,
    failures,
    notes,
    config: {
      replicas: options.replicas,
      chats: options.chats,
      durationMs: options.durationMs,
      killEveryMs: options.killEveryMs,
      downMs: options.downMs,
      seed: options.seed,
      drainTimeoutMs: options.drainTimeoutMs,
      replyDeltas: options.replyDeltas,
      deltaMs: options.deltaMs,
      workDir,
    },
    elapsedMs: 0,
    chats: options.chats,
    chatsWaiting: 0,
    chatsError: 0,
    chatsUnfinished: 0,
    turnsSent: 0,
    turnsChecked: 0,
    repliesOk: 0,
    toolCalls: { ok: 0, mayHavePartlyRun: 0, mayHavePartlyRunRan: 0, otherErrors: 0, missing: 0 },
    replicaStartMs: [],
    toolErrorSamples: [],
    logLines: 0,
    logDuplicates: 0,
    unannouncedMessages: 0,
    followers: { events: 0, reconnects: 0, voidedDeltas: 0, mismatched: 0 },
    kills: [],
    killsSkipped: 0,
    restarts: 0,
    resume: [],
    resumeP50Ms: Number.NaN,
    resumeP99Ms: Number.NaN,
    resumeMissing: 0,
    providerRequests: 0,
    proxyConnections: [],
    serverLogLevels: {},
  };

  try {
    // -- the fake provider, the database's observer, the replicas behind the proxy --
    const fake: FakeProvider = await startFakeProvider();
    cleanups.push(() => fake.close());
    const workspaceDir = join(workDir, "workspace");
    await mkdir(workspaceDir, { recursive: true });
    const logPath = join(workspaceDir, "soak.log");
    fake.setResponder(responder(logPath, options.replyDeltas, options.deltaMs));

    const db = new pg.Pool({ connectionString: options.postgresUrl, max: 2 });
    db.on("error", () => {});
    cleanups.push(() => db.end());

    const ports: number[] = [];
    for (let i = 0; i < options.replicas; i++) ports.push(await freePort());
    const proxy = new RoundRobinProxy(ports);
    await proxy.listen();
    cleanups.push(() => proxy.close());

    const secretKey = randomBytes(32).toString("base64");
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? tmpdir(),
      KEEL_SECRET_KEY: secretKey,
      KEEL_TITLE_GENERATION: "off",
      KEEL_RETRY_BASE_DELAY_MS: "100",
      KEEL_RETRY_MAX_DELAY_MS: "2000",
      ...options.serverEnv,
    };
    const replicas: Replica[] = [];
    for (let i = 0; i < options.replicas; i++) {
      const dataDir = join(workDir, `replica-${i}`);
      await mkdir(dataDir, { recursive: true });
      const logFile = createWriteStream(join(workDir, `replica-${i}.log`), { flags: "a" });
      cleanups.push(async () => {
        logFile.end();
      });
      const backend = proxy.backends[i];
      if (!backend) throw new Error("no backend");
      replicas.push(
        new Replica({
          index: i,
          port: ports[i] ?? 0,
          dataDir,
          backend,
          logFile,
          env,
          postgresUrl: options.postgresUrl,
        }),
      );
    }
    cleanups.push(async () => {
      await Promise.all(replicas.map((r) => r.stop()));
    });
    // The first one migrates the database; the others start on it.
    await replicas[0]?.start();
    await Promise.all(replicas.slice(1).map((r) => r.start()));
    log(`${since(Date.now())} s: ${options.replicas} replicas up; proxy on :${proxy.port}`);

    // -- the owner, the model, the workspace and its agent (all through the proxy) --
    const client = new Client(`http://127.0.0.1:${proxy.port}`);
    cleanups.push(() => client.close());
    const first = await client.request<{ session_token: string }>("POST", "/users/first", {
      username: "soak",
      email: "soak@example.com",
      password: "soak-password-123",
    });
    client.token = first.session_token;
    const provider = await client.retrying<{ id: string }>("POST", "/providers", {
      type: "openai",
      name: "soak fake provider",
      base_url: `${fake.url}/v1`,
      api_key: "sk-soak",
      options: { api: "chat" },
    });
    const model = await client.retrying<{ id: string }>("POST", "/models", {
      provider_id: provider.id,
      model: "soak-model",
      display_name: "Soak",
    });
    const workspace = await client.retrying<{ id: string; agent_token: string }>(
      "POST",
      "/workspaces",
      { name: "soak" },
    );
    const agentLog = createWriteStream(join(workDir, "agent.log"), { flags: "a" });
    const agent = spawn(
      process.execPath,
      [KEEL_BIN, "agent", "--url", `http://127.0.0.1:${proxy.port}`, "--dir", workspaceDir],
      {
        env: {
          PATH: process.env.PATH ?? "",
          HOME: process.env.HOME ?? tmpdir(),
          KEEL_AGENT_TOKEN: workspace.agent_token,
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    track(agent);
    agent.stdout?.on("data", (chunk: Buffer) => agentLog.write(chunk));
    agent.stderr?.on("data", (chunk: Buffer) => agentLog.write(chunk));
    cleanups.push(async () => {
      if (agent.exitCode === null && agent.signalCode === null) {
        const exited = once(agent, "exit");
        agent.kill("SIGTERM");
        const timer = setTimeout(() => agent.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(timer);
      }
      agentLog.end();
    });
    {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const shown = await client.retrying<{ agent: { connected: boolean } }>(
          "GET",
          `/workspaces/${workspace.id}`,
        );
        if (shown.agent.connected) break;
        if (Date.now() > deadline) throw new Error("the workspace agent did not connect");
        await sleep(200);
      }
    }

    // -- the chats, their followers --
    const onRunning = (chatId: string) => (event: SeenEvent) => {
      db.query<{ worker_id: string | null }>("SELECT worker_id FROM chats WHERE id = $1", [chatId])
        .then((result) => {
          event.worker = result.rows[0]?.worker_id ?? "";
        })
        .catch(() => {});
    };
    const chats: ChatState[] = [];
    for (let i = 0; i < options.chats; i++) {
      const tag = tagOf(i, 0);
      const own = new Client(client.baseUrl);
      own.token = client.token;
      cleanups.push(() => own.close());
      const chat = await own.retrying<{ id: string }>("POST", "/chats", {
        model_id: model.id,
        workspace_id: workspace.id,
        content: [{ type: "text", text: `[soak ${tag}] Append your line, then reply.` }],
      });
      const follower = new Follower(own, chat.id, onRunning(chat.id));
      chats.push({ index: i, id: chat.id, client: own, follower, tags: [tag], turnErrors: [] });
    }
    // Followers after every POST, so that the proxy's rotation spreads the chats over the
    // replicas (a chat starts where it was created).
    for (const chat of chats) chat.follower.start();
    cleanups.push(async () => {
      await Promise.all(chats.map((c) => c.follower.stop()));
    });
    log(
      `${since(Date.now())} s: ${options.chats} chats created; chaos for ${options.durationMs} ms`,
    );

    const chaosStart = Date.now();
    const end = chaosStart + options.durationMs;

    // -- chaos: SIGKILL a random live replica (never the last one), restart it later --
    const killTimes: Array<
      KillRecord & { at: number; ownedChats: string[]; restartBegan?: number }
    > = [];
    const restarts: Array<Promise<void>> = [];
    const chaos = (async () => {
      for (;;) {
        const wait = between(options.killEveryMs);
        if (Date.now() + wait >= end) break;
        await sleep(wait);
        const live = replicas.filter((r) => r.alive);
        if (live.length < 2) {
          report.killsSkipped += 1;
          continue;
        }
        const victim = live[Math.floor(random() * live.length)];
        if (!victim) continue;
        const down = between(options.downMs);
        await victim.kill();
        const at = Date.now();
        let ownedChats: string[] = [];
        try {
          const result = await db.query<{ id: string }>(
            "SELECT id FROM chats WHERE status = 'running' AND worker_id = $1",
            [victim.id],
          );
          ownedChats = result.rows.map((row) => row.id);
        } catch (error) {
          notes.push(`could not read the chats replica ${victim.index} owned: ${errorText(error)}`);
        }
        const record = {
          replica: victim.index,
          atMs: at - chaosStart,
          downMs: Math.round(down),
          owned: ownedChats.length,
          at,
          ownedChats,
        } as KillRecord & { at: number; ownedChats: string[]; restartBegan?: number };
        killTimes.push(record);
        log(
          `${since(at)} s: SIGKILL replica ${victim.index} (${ownedChats.length} chats running on it); back in ${(down / 1000).toFixed(1)} s`,
        );
        restarts.push(
          (async () => {
            await sleep(down);
            try {
              record.restartBegan = Date.now();
              await victim.start();
              report.restarts += 1;
              log(`${since(Date.now())} s: replica ${victim.index} restarted`);
            } catch (error) {
              fail("run", `replica ${victim.index} did not restart: ${errorText(error)}`);
            }
          })(),
        );
      }
    })();

    // -- clients: the next message whenever a turn ended, until T --
    // A turn may take long while its replicas keep dying (each takeover by another replica costs
    // 30–40 s): it fails only when it has not ended by the end of the drain.
    const turnsEndBy = end + options.drainTimeoutMs;
    const turnDone = async (chat: ChatState, tag: string) => {
      const began = Date.now();
      let lastPoll = Date.now();
      let serverDoneAt: number | undefined;
      // The follower saw the user message of `tag`, then a waiting/error status after it (read
      // on from where the last look stopped).
      let sawUser = false;
      let scanned = 0;
      for (;;) {
        const events = chat.follower.events;
        for (; scanned < events.length; scanned++) {
          const event = events[scanned];
          if (!event || (event.type !== "message" && event.type !== "status")) continue;
          const data = parseData(event.data);
          if (
            event.type === "message" &&
            data.message?.role === "user" &&
            data.message.parts.some((p) => p.type === "text" && p.text?.includes(`[soak ${tag}]`))
          ) {
            sawUser = true;
          } else if (
            sawUser &&
            event.type === "status" &&
            (data.status === "waiting" || data.status === "error")
          ) {
            if (data.status === "error") chat.turnErrors.push(tag);
            return;
          }
        }
        if (Date.now() > turnsEndBy) {
          fail(
            "finished",
            `chat ${chat.index} (${chat.id}): turn ${tag} did not end (${((Date.now() - began) / 1000).toFixed(0)} s after it was sent, ${options.drainTimeoutMs / 1000} s into the drain; follower: ${chat.follower.events.length} events, last ${chat.follower.lastId}, ${chat.follower.lastError})`,
          );
          return;
        }
        if (Date.now() - lastPoll > 5_000) {
          lastPoll = Date.now();
          // The server's view, in case the follower is stuck.
          const view = await chat.client
            .retrying<ChatView>("GET", `/chats/${chat.id}`)
            .catch(() => {
              return undefined;
            });
          const done =
            view &&
            (view.chat.status === "waiting" || view.chat.status === "error") &&
            view.messages.some(
              (m) =>
                m.role === "user" &&
                m.parts.some((p) => p.text?.includes(`[soak ${tag}]`) ?? false),
            );
          if (done) serverDoneAt ??= Date.now();
          if (serverDoneAt !== undefined && Date.now() - serverDoneAt > 60_000) {
            fail(
              "streams",
              `chat ${chat.index} (${chat.id}): the server says turn ${tag} ended (status ${view?.chat.status}, last_event_seq ${view?.chat.last_event_seq}) but the follower did not see it in 60 s (last id ${chat.follower.lastId}, ${chat.follower.lastError})`,
            );
            return;
          }
        }
        await chat.follower.next(1_000);
      }
    };

    const sendMessage = async (chat: ChatState, tag: string): Promise<boolean> => {
      const text = `[soak ${tag}] Append your line, then reply.`;
      const deadline = Date.now() + 120_000;
      for (;;) {
        try {
          await chat.client.request("POST", `/chats/${chat.id}/messages`, {
            content: [{ type: "text", text }],
          });
          return true;
        } catch (error) {
          if (error instanceof HttpError && error.status < 500) {
            fail("run", `chat ${chat.index}: sending ${tag}: ${error.message}`);
            return false;
          }
          // Did it land before the connection broke? Then sending again would send it twice.
          const view = await chat.client
            .retrying<ChatView>("GET", `/chats/${chat.id}`)
            .catch(() => {
              return undefined;
            });
          const landed =
            view !== undefined &&
            [...view.messages, ...view.queued].some((m) =>
              m.parts.some((p) => p.text?.includes(`[soak ${tag}]`) ?? false),
            );
          if (landed) return true;
          if (Date.now() > deadline) {
            fail("run", `chat ${chat.index}: could not send ${tag}: ${errorText(error)}`);
            return false;
          }
          await sleep(300);
        }
      }
    };

    const clients = chats.map(async (chat) => {
      await turnDone(chat, chat.tags[0] ?? "");
      for (let turn = 1; Date.now() < end; turn++) {
        const tag = tagOf(chat.index, turn);
        if (!(await sendMessage(chat, tag))) return;
        chat.tags.push(tag);
        await turnDone(chat, tag);
      }
    });

    await chaos;
    log(`${since(Date.now())} s: T reached; no more kills, draining`);
    const drainWait = new AbortController();
    const drained = await Promise.race([
      Promise.all(clients).then(() => true),
      sleep(options.drainTimeoutMs + options.downMs[1], false, { signal: drainWait.signal }).catch(
        () => false,
      ),
    ]);
    drainWait.abort();
    if (!drained) fail("finished", `the last turns did not all end within the drain timeout`);
    await Promise.all(restarts);
    // Every replica up again for the checks (a failed restart is already a failure).
    for (const replica of replicas) {
      if (!replica.alive) await replica.start().catch(() => {});
    }
    report.turnsSent = chats.reduce((n, c) => n + c.tags.length, 0);
    log(`${since(Date.now())} s: ${report.turnsSent} turns sent; checking`);

    // -- checks --
    const logText = await readFile(logPath, "utf8").catch(() => "");
    const logCounts = new Map<string, number>();
    for (const line of logText.split("\n")) {
      if (line === "") continue;
      logCounts.set(line, (logCounts.get(line) ?? 0) + 1);
      report.logLines += 1;
    }
    const allTags = new Set(chats.flatMap((c) => c.tags));
    for (const [line, count] of logCounts) {
      if (!allTags.has(line)) fail("tool-once", `log: unexpected line ${JSON.stringify(line)}`);
      if (count > 1) {
        report.logDuplicates += 1;
        fail("tool-once", `tool call ran ${count} times: log line ${line}`);
      }
    }

    const evidence: Array<{ chat: ChatState; view: ChatView; full: SeenEvent[]; failed: boolean }> =
      [];
    for (const chat of chats) {
      const failedBefore = failures.length;
      const view = await chat.client.retrying<ChatView>("GET", `/chats/${chat.id}`);
      const where = `chat ${chat.index} (${chat.id})`;
      if (view.chat.status === "waiting") report.chatsWaiting += 1;
      else if (view.chat.status === "error") {
        report.chatsError += 1;
        fail("finished", `${where} ended in error: ${JSON.stringify(view.chat.last_error)}`);
      } else {
        report.chatsUnfinished += 1;
        fail("finished", `${where} did not finish: status ${view.chat.status}`);
      }
      for (const tag of chat.turnErrors)
        fail("finished", `${where}: turn ${tag} ended in status error`);
      checkTranscript(chat, view.messages, logCounts, report, fail, options.replyDeltas);

      // The follower against a full replay.
      const untilId = String(view.chat.last_event_seq);
      const full = await replay(chat.client, chat.id, untilId, 5_000);
      // Let the follower catch up with the replay's end before comparing.
      const lastReplayed = full.at(-1)?.id;
      const catchUp = Date.now() + 30_000;
      while (
        lastReplayed !== undefined &&
        (chat.follower.lastId === undefined ||
          compareIds(chat.follower.lastId, lastReplayed) < 0) &&
        Date.now() < catchUp
      ) {
        await chat.follower.next(500);
      }
      await chat.follower.stop();
      compareStreams(chat, chat.follower.events, full, report, fail);
      // Every message of the transcript was announced: a client that only follows the stream
      // has the same transcript as GET /chats/{id}.
      const announced = new Set(
        full.flatMap((e) => {
          const message = e.type === "message" ? parseData(e.data).message : undefined;
          return message ? [message.id] : [];
        }),
      );
      for (const message of view.messages) {
        if (!announced.has(message.id) && !message.in_progress) {
          report.unannouncedMessages += 1;
          fail(
            "streams",
            `chat ${chat.index} (${chat.id}): ${message.role} message ${message.id} is in the transcript but no message event announced it (${JSON.stringify(message.parts).slice(0, 100)})`,
          );
        }
      }
      evidence.push({
        chat,
        view,
        full,
        failed: failures.length > failedBefore || failures.some((f) => f.message.includes(chat.id)),
      });
    }

    // -- time from a death to the chat running again --
    for (const kill of killTimes) {
      for (const chatId of kill.ownedChats) {
        const chat = chats.find((c) => c.id === chatId);
        if (!chat) continue;
        const sample = resumeOf(chat, kill);
        if (sample === "finished") {
          notes.push(
            `chat ${chat.index}: its turn ended without a takeover after replica ${kill.replica} died`,
          );
        } else if (sample === undefined) {
          report.resumeMissing += 1;
          fail(
            "resume",
            `chat ${chat.index} (${chat.id}): no pending → running seen after replica ${kill.replica} died at ${(kill.atMs / 1000).toFixed(1)} s`,
          );
        } else {
          report.resume.push(sample);
        }
      }
    }
    const resumeMs = report.resume.map((s) => s.ms);
    report.resumeP50Ms = percentile(resumeMs, 50);
    report.resumeP99Ms = percentile(resumeMs, 99);

    function resumeOf(
      chat: ChatState,
      kill: { at: number; replica: number; restartBegan?: number },
    ): ResumeSample | "finished" | undefined {
      const replicaId = replicas[kill.replica]?.id;
      let pending = false;
      for (const event of chat.follower.events) {
        if (event.at < kill.at || event.type !== "status") continue;
        const status = parseData(event.data).status;
        if (status === "pending") pending = true;
        else if (status === "running" && pending) {
          const by =
            event.worker === undefined || event.worker === ""
              ? "unknown"
              : event.worker === replicaId
                ? "restarted"
                : "other";
          const sample: ResumeSample = {
            chat: chat.index,
            replica: kill.replica,
            ms: event.at - kill.at,
            by,
          };
          if (by === "restarted" && kill.restartBegan !== undefined) {
            sample.afterRestartMs = event.at - kill.restartBegan;
          }
          return sample;
        } else if ((status === "waiting" || status === "error") && !pending) return "finished";
      }
      return undefined;
    }

    report.kills = killTimes.map(({ replica, atMs, downMs, owned }) => ({
      replica,
      atMs,
      downMs,
      owned,
    }));
    report.providerRequests = fake.requests.length;
    if (failures.length > 0) {
      // Evidence: each failing chat as its follower, the replay, the API and the tables saw it,
      // and every request the fake model answered.
      await mkdir(join(workDir, "chats"), { recursive: true });
      for (const { chat, view, full, failed } of evidence) {
        if (!failed) continue;
        const rows = async (sql: string) =>
          db.query(sql, [chat.id]).then(
            (r) => r.rows,
            (error: unknown) => errorText(error),
          );
        await writeFile(
          join(workDir, "chats", `c${String(chat.index).padStart(2, "0")}.json`),
          JSON.stringify(
            {
              id: chat.id,
              tags: chat.tags,
              reconnects: chat.follower.reconnects,
              view,
              messageRows: await rows(
                "SELECT id, pos, role, in_progress, parts, created_at FROM messages WHERE chat_id = $1 ORDER BY pos",
              ),
              eventRows: await rows(
                "SELECT seq, type, data, created_at FROM chat_events WHERE chat_id = $1 AND type <> 'message_part' ORDER BY seq",
              ),
              followed: chat.follower.events,
              replayed: full,
            },
            null,
            1,
          ),
        );
      }
      await writeFile(
        join(workDir, "provider-requests.jsonl"),
        fake.requests
          .map((r) => {
            const messages = (r.body as ChatRequestBody | undefined)?.messages ?? [];
            const lastUser = [...messages].reverse().find((m) => m.role === "user");
            return JSON.stringify({
              n: r.n,
              time: new Date(r.time).toISOString(),
              tag: TAG.exec(contentText(lastUser?.content))?.[1],
              last: messages.at(-1)?.role,
              messages: messages.length,
            });
          })
          .join("\n"),
      );
    }
    report.replicaStartMs = replicas.flatMap((r) => r.startMs);
    report.proxyConnections = proxy.backends.map((b) => b.connections);
    for (const replica of replicas) {
      for (const [level, n] of Object.entries(replica.levels)) {
        report.serverLogLevels[level] = (report.serverLogLevels[level] ?? 0) + n;
      }
    }
    if (report.kills.length === 0) fail("run", "no replica was killed (is --minutes too short?)");
  } catch (error) {
    fail(
      "run",
      `the soak could not run: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
  } finally {
    while (cleanups.length > 0) {
      const step = cleanups.pop();
      try {
        await step?.();
      } catch (error) {
        log(`cleanup: ${errorText(error)}`);
      }
    }
  }
  report.elapsedMs = Date.now() - started;
  report.ok = failures.length === 0;
  if (report.ok && options.workDir === undefined) {
    await rm(workDir, { recursive: true, force: true }).catch(() => {});
  }
  return report;
}

/**
 * One chat's transcript: each tag sent once as a user message, answered by one `execute` call, its
 * result, and one reply with the expected text.
 */
function checkTranscript(
  chat: ChatState,
  messages: Message[],
  logCounts: Map<string, number>,
  report: SoakReport,
  fail: (check: Check, message: string) => void,
  deltas: number,
): void {
  const where = `chat ${chat.index} (${chat.id})`;
  const turns = new Map<string, Message[]>();
  const order: string[] = [];
  let current: Message[] | undefined;
  for (const message of messages) {
    if (message.role === "user") {
      const text = message.parts.map((p) => p.text ?? "").join("");
      const tag = TAG.exec(text)?.[1] ?? `?${message.id}`;
      if (turns.has(tag))
        fail("replies", `${where}: user message ${tag} is in the transcript twice`);
      current = [];
      turns.set(tag, current);
      order.push(tag);
    } else {
      current?.push(message);
    }
  }
  if (order.join(" ") !== chat.tags.join(" ")) {
    fail(
      "replies",
      `${where}: user messages [${order.join(" ")}] but sent [${chat.tags.join(" ")}]`,
    );
  }
  for (const tag of chat.tags) {
    const after = turns.get(tag);
    if (!after) continue;
    report.turnsChecked += 1;
    const expected = replyText(tag, deltas);
    const texts = after
      .filter((m) => m.role === "assistant")
      .map((m) =>
        m.parts
          .filter((p) => p.type === "text")
          .map((p) => p.text ?? "")
          .join(""),
      )
      .filter((t) => t !== "");
    if (texts.length === 1 && texts[0] === expected) report.repliesOk += 1;
    else {
      fail(
        "replies",
        `${where}: turn ${tag}: ${texts.length} assistant replies (${texts.map((t) => JSON.stringify(t.slice(0, 60))).join(", ")}), expected one "${expected.slice(0, 30)}…"`,
      );
    }
    const calls = after.flatMap((m) =>
      m.role === "assistant" ? m.parts.filter((p) => p.type === "tool_call") : [],
    );
    const results = after.flatMap((m) =>
      m.role === "tool" ? m.parts.filter((p) => p.type === "tool_result") : [],
    );
    if (calls.length !== 1 || results.length !== 1) {
      fail(
        "replies",
        `${where}: turn ${tag}: ${calls.length} tool calls and ${results.length} results`,
      );
    }
    const ran = logCounts.get(tag) ?? 0;
    for (const result of results) {
      const output =
        typeof result.output === "string" ? result.output : JSON.stringify(result.output);
      if (!result.is_error) {
        report.toolCalls.ok += 1;
        if (ran !== 1) {
          report.toolCalls.missing += 1;
          fail(
            "tool-once",
            `${where}: turn ${tag}: the call succeeded but its line is in the log ${ran} times`,
          );
        }
      } else if (MAY_HAVE_RUN.test(output)) {
        report.toolCalls.mayHavePartlyRun += 1;
        if (ran > 0) report.toolCalls.mayHavePartlyRunRan += 1;
      } else {
        report.toolCalls.otherErrors += 1;
        if (report.toolErrorSamples.length < 5) {
          report.toolErrorSamples.push(`${where} ${tag}: ${output.slice(0, 300)}`);
        }
        fail(
          "tool-reached",
          `${where}: turn ${tag}: the tool call failed: ${output.slice(0, 200)}`,
        );
      }
    }
  }
}

/** JSON text with every object's keys sorted: the same value, whatever order it was written in
 * (an event served from the owner's memory and the same event read back from jsonb). */
export function canonical(text: string): string {
  const sort = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(sort);
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(
        Object.entries(value)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([k, v]) => [k, sort(v)]),
      );
    }
    return value;
  };
  try {
    return JSON.stringify(sort(JSON.parse(text)));
  } catch {
    return text;
  }
}

/**
 * The follower's events against a full replay: ids strictly increasing; every replayed event seen
 * once with the same type and data (as JSON values); seen events the replay lacks only deltas the server voided
 * (a dead run's unpersisted `message_part`s, followed by a `status` that voids them).
 */
function compareStreams(
  chat: ChatState,
  seen: SeenEvent[],
  full: SeenEvent[],
  report: SoakReport,
  fail: (check: Check, message: string) => void,
): void {
  const where = `chat ${chat.index} (${chat.id})`;
  report.followers.events += seen.length;
  report.followers.reconnects += chat.follower.reconnects;
  let problems = 0;
  const problem = (message: string) => {
    problems += 1;
    if (problems <= 3) fail("streams", `${where}: ${message}`);
  };
  for (let i = 1; i < seen.length; i++) {
    const a = seen[i - 1];
    const b = seen[i];
    if (a && b && compareIds(a.id, b.id) >= 0) {
      problem(`the follower got id ${b.id} after ${a.id} (a duplicate or out of order)`);
    }
  }
  const replayed = new Map(full.map((e) => [e.id, e]));
  const seenById = new Map(seen.map((e) => [e.id, e]));
  for (const event of full) {
    const got = seenById.get(event.id);
    if (!got)
      problem(
        `the follower never got event ${event.id} (${event.type} ${event.data.slice(0, 120)})`,
      );
    else if (got.type !== event.type || canonical(got.data) !== canonical(event.data)) {
      problem(
        `event ${event.id} differs: the follower got ${got.type} ${got.data.slice(0, 120)}, the replay has ${event.type} ${event.data.slice(0, 120)}`,
      );
    }
  }
  for (let i = 0; i < seen.length; i++) {
    const event = seen[i];
    if (!event || replayed.has(event.id)) continue;
    if (event.type === "message_part") {
      // A delta the replay lacks must have been voided: a later status (the new owner's pending).
      const voided = seen.slice(i + 1).some((e) => e.type === "status");
      if (voided) report.followers.voidedDeltas += 1;
      else problem(`delta ${event.id} was seen but is not in the replay, and nothing voided it`);
    } else {
      problem(
        `event ${event.id} (${event.type} ${event.data.slice(0, 120)}) was seen but is not in the replay`,
      );
    }
  }
  const lastSeen = seen.at(-1)?.id;
  const lastFull = full.at(-1)?.id;
  if (lastFull !== undefined && lastSeen !== undefined && compareIds(lastSeen, lastFull) < 0) {
    problem(`the follower stopped at ${lastSeen}; the replay goes on to ${lastFull}`);
  }
  if (problems > 3) fail("streams", `${where}: … and ${problems - 3} more stream problems`);
  if (problems > 0) report.followers.mismatched += 1;
}

// ---- the printed summary ------------------------------------------------------------------------

const ms = (n: number) => (Number.isFinite(n) ? `${(n / 1000).toFixed(2)} s` : "—");

export function formatReport(report: SoakReport, commit = ""): string {
  const c = report.config;
  const lines: string[] = [];
  const row = (name: string, value: string) => lines.push(`  ${name.padEnd(56)} ${value}`);
  lines.push(
    `soak ${commit ? `@ ${commit} ` : ""}— ${c.replicas} replicas, ${c.chats} chats, ${(c.durationMs / 60_000).toFixed(2)} min, kill every ${c.killEveryMs[0] / 1000}–${c.killEveryMs[1] / 1000} s, down ${c.downMs[0] / 1000}–${c.downMs[1] / 1000} s, seed ${c.seed}`,
  );
  row("result", report.ok ? "PASS" : `FAIL (${report.failures.length} failed checks)`);
  for (const [check, name] of Object.entries(CHECKS)) {
    const n = report.failures.filter((f) => f.check === check).length;
    row(`  ${name}`, n === 0 ? "ok" : `FAILED (${n})`);
  }
  row("elapsed", ms(report.elapsedMs));
  row(
    "chats finished (waiting / error / not)",
    `${report.chatsWaiting} / ${report.chatsError} / ${report.chatsUnfinished}`,
  );
  row("turns sent / checked", `${report.turnsSent} / ${report.turnsChecked}`);
  row("replies persisted exactly once", `${report.repliesOk} / ${report.turnsChecked}`);
  row(
    "tool calls ok / may-have-partly-run / failed",
    `${report.toolCalls.ok} / ${report.toolCalls.mayHavePartlyRun} (${report.toolCalls.mayHavePartlyRunRan} of them ran) / ${report.toolCalls.otherErrors}`,
  );
  row("log lines / run twice", `${report.logLines} / ${report.logDuplicates}`);
  row(
    "follower events / reconnects",
    `${report.followers.events} / ${report.followers.reconnects}`,
  );
  row("voided deltas seen (not in replay)", String(report.followers.voidedDeltas));
  row("messages no message event announced", String(report.unannouncedMessages));
  row("followers differing from the replay", `${report.followers.mismatched} / ${report.chats}`);
  row(
    "kills / skipped (1 left) / restarts",
    `${report.kills.length} / ${report.killsSkipped} / ${report.restarts}`,
  );
  const by = (k: ResumeSample["by"]) => report.resume.filter((s) => s.by === k).length;
  row(
    "death → running again p50 / p99 / max",
    `${ms(report.resumeP50Ms)} / ${ms(report.resumeP99Ms)} / ${ms(report.resume.length > 0 ? Math.max(...report.resume.map((s) => s.ms)) : Number.NaN)}`,
  );
  row(
    "  resumed: restarted / other / ? / never",
    `${by("restarted")} / ${by("other")} / ${by("unknown")} / ${report.resumeMissing}`,
  );
  for (const kind of ["restarted", "other"] as const) {
    const values = report.resume.filter((s) => s.by === kind).map((s) => s.ms);
    if (values.length > 0) {
      row(
        `  by ${kind === "restarted" ? "the restarted replica" : "another replica"} p50 / p99`,
        `${ms(percentile(values, 50))} / ${ms(percentile(values, 99))} (${values.length})`,
      );
    }
  }
  const afterRestart = report.resume.flatMap((s) =>
    s.afterRestartMs === undefined ? [] : [s.afterRestartMs],
  );
  if (afterRestart.length > 0) {
    row(
      "  restart (spawn) → running p50 / p99",
      `${ms(percentile(afterRestart, 50))} / ${ms(percentile(afterRestart, 99))}`,
    );
  }
  row(
    "replica start (spawn → /readyz) p50 / max",
    `${ms(percentile(report.replicaStartMs, 50))} / ${ms(report.replicaStartMs.length > 0 ? Math.max(...report.replicaStartMs) : Number.NaN)}`,
  );
  row("provider requests", String(report.providerRequests));
  row("proxy connections per replica", report.proxyConnections.join(" / "));
  row(
    "server log lines by level",
    Object.entries(report.serverLogLevels)
      .map(([k, v]) => `${k} ${v}`)
      .join(", "),
  );
  lines.push("  kills (seconds into T):");
  for (const kill of report.kills) {
    lines.push(
      `    ${(kill.atMs / 1000).toFixed(1).padStart(6)} s  replica ${kill.replica}  down ${(kill.downMs / 1000).toFixed(1)} s  ${kill.owned} chats running on it`,
    );
  }
  if (report.toolErrorSamples.length > 0) {
    lines.push("  tool call errors (samples):");
    for (const sample of report.toolErrorSamples) lines.push(`    ${sample}`);
  }
  for (const note of report.notes) lines.push(`  note: ${note}`);
  if (report.failures.length > 0) {
    lines.push(`  failed checks (${report.failures.length}):`);
    for (const failure of report.failures.slice(0, 40)) {
      lines.push(`    - [${failure.check}] ${failure.message}`);
    }
    if (report.failures.length > 40) lines.push(`    … ${report.failures.length - 40} more`);
    lines.push(`  logs: ${c.workDir}`);
  }
  return lines.join("\n");
}
