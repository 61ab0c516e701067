/**
 * Tool calls across replicas: two hubs (replicas A and B) on one PostgreSQL, each with its own
 * HTTP server, and a real `keel agent` (runAgent) reaching them through a small TCP "load
 * balancer" that can be pointed at either. The chat's replica is A; the agent is connected to B.
 */
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { connect, createServer as createTcpServer, type Server as TcpServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { Database } from "../store/db.ts";
import type { SqlStore } from "../store/store.ts";
import { createTestDatabase, type TestDatabase, until } from "../store/test-support.ts";
import { runAgent } from "./agent.ts";
import { AgentHub } from "./hub.ts";
import { AGENT_PATH, CLOSE, type McpToolInfo, PROTOCOL_VERSION } from "./protocol.ts";
import { CallRelay } from "./relay.ts";
import { WorkspaceToolCache } from "./remote-tools.ts";

interface Replica {
  name: string;
  store: SqlStore;
  hub: AgentHub;
  server: Server;
  port: number;
  logs: string[];
}

async function startReplica(name: string, store: SqlStore, reconnectWaitMs = 4_000) {
  const logs: string[] = [];
  const logger = {
    info: (m: string) => logs.push(`info ${m}`),
    warn: (m: string, f?: Record<string, unknown>) => logs.push(`warn ${m} ${JSON.stringify(f)}`),
  };
  const relay = new CallRelay({
    calls: store.workspaces.calls,
    workspaces: store.workspaces,
    replicaId: name,
    logger,
  });
  const hub = new AgentHub({
    store: store.workspaces,
    replicaId: name,
    logger,
    relay,
    heartbeatMs: 200,
    reconnectWaitMs,
    relayWatchMs: 100,
  });
  await hub.start();
  const server = createServer((_req, res) => res.writeHead(404).end());
  server.on("upgrade", (req, socket, head) => {
    if (!hub.handleUpgrade(req, socket, head)) socket.destroy();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  return { name, store, hub, server, port, logs } satisfies Replica;
}

async function stopReplica(replica: Replica): Promise<void> {
  await replica.hub.close();
  replica.server.closeAllConnections();
  await new Promise<void>((resolve) => replica.server.close(() => resolve()));
}

/** A TCP forwarder in front of the replicas, like a load balancer: new connections go to `port`. */
class Balancer {
  port = 0;
  target = 0;
  readonly #server: TcpServer;
  readonly #open = new Set<{ destroy(): void }>();
  constructor() {
    this.#server = createTcpServer((client) => {
      const upstream = connect(this.target, "127.0.0.1");
      this.#open.add(client);
      client.on("close", () => this.#open.delete(client));
      client.pipe(upstream).pipe(client);
      const end = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on("error", end).on("close", end);
      upstream.on("error", end).on("close", end);
    });
  }
  async start(): Promise<void> {
    this.#server.listen(0, "127.0.0.1");
    await once(this.#server, "listening");
    this.port = (this.#server.address() as AddressInfo).port;
  }
  /** Cuts every connection it carries, as a replica's death would. */
  cut(): void {
    for (const socket of this.#open) socket.destroy();
  }
  close(): void {
    this.cut();
    this.#server.close();
  }
}

describe("tool calls across replicas", () => {
  let testDb: TestDatabase;
  let db: Database;
  let a: Replica;
  let b: Replica;
  let balancer: Balancer;
  let ownerId: string;
  let dir: string;
  const stops: AbortController[] = [];

  beforeAll(async () => {
    testDb = await createTestDatabase();
    const openedA = await testDb.open();
    const storeA = openedA.store;
    db = openedA.db;
    const storeB = (await testDb.open()).store;
    ownerId = (
      await storeA.createFirstUser({ username: "o", email: "o@example.com", password: "password" })
    ).id;
    a = await startReplica("replica-a", storeA);
    b = await startReplica("replica-b", storeB);
    balancer = new Balancer();
    await balancer.start();
  });
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "keel-relay-"));
    if (!b.server.listening) {
      // Restarted as a server restarts: the same replica id (its data dir), a new process.
      b = await startReplica("replica-b", (await testDb.open()).store);
    }
    balancer.target = b.port;
  });
  afterEach(() => {
    for (const controller of stops.splice(0)) controller.abort();
    rmSync(dir, { recursive: true, force: true });
  });
  afterAll(async () => {
    for (const controller of stops.splice(0)) controller.abort();
    await a?.hub.close();
    await b?.hub.close();
    a?.server.close();
    b?.server.close();
    balancer?.close();
    await testDb?.cleanup();
  });

  function startAgent(token: string) {
    const controller = new AbortController();
    stops.push(controller);
    const logs: string[] = [];
    const done = runAgent({
      url: `http://127.0.0.1:${balancer.port}`,
      token,
      dir,
      signal: controller.signal,
      version: "9.9.9-test",
      log: (line) => logs.push(line),
      minBackoffMs: 20,
      maxBackoffMs: 100,
    });
    return { done, logs, stop: () => controller.abort() };
  }

  /** A workspace whose agent is connected to B (as the database says, so A knows it too). */
  async function agentOnB() {
    const { workspace, agent_token } = await a.store.workspaces.create({
      owner_id: ownerId,
      name: "w",
      directory: null,
    });
    const agent = startAgent(agent_token);
    await until(() => b.hub.connected(workspace.id), 5_000, "the agent on B");
    await until(
      async () => (await a.store.workspaces.agentHolder(workspace.id)) === "replica-b",
      5_000,
      "B recorded as the holder",
    );
    return { workspace, agent_token, agent };
  }

  const noStop = () => new AbortController().signal;
  const lines = (file: string) =>
    existsSync(join(dir, file))
      ? readFileSync(join(dir, file), "utf8").split("\n").filter(Boolean)
      : [];
  const rows = async () => {
    const [row] = await db.query<{ n: unknown }>("SELECT count(*) AS n FROM agent_calls");
    return Number(row?.n ?? 0);
  };

  it("a call made on A runs on the agent connected to B: streamed output, result, once", async () => {
    const { workspace } = await agentOnB();
    expect(a.hub.connected(workspace.id)).toBe(false);
    const streamed: string[] = [];
    const result = await a.hub.call(
      workspace.id,
      "execute",
      { command: "echo run >> runs.log; echo one; sleep 0.3; echo two; exit 3" },
      { signal: noStop(), onOutput: (delta) => streamed.push(delta) },
    );
    expect(result.is_error).toBe(false);
    expect(result.output).toContain("3");
    const text = streamed.join("");
    expect(text.indexOf("one\n")).toBeGreaterThanOrEqual(0);
    expect(text.indexOf("two\n")).toBeGreaterThan(text.indexOf("one\n"));
    expect(lines("runs.log")).toEqual(["run"]);
    // The origin deletes the call's row once it has its result.
    await until(async () => (await rows()) === 0, 5_000, "the call's row deleted");

    // A large input (far beyond a NOTIFY's 8000 bytes) and a large result travel as rows.
    const content = `${"x".repeat(50_000)}\n`;
    const written = await a.hub.call(
      workspace.id,
      "write_file",
      { path: "big.txt", content },
      { signal: noStop() },
    );
    expect(written.is_error).toBe(false);
    expect(readFileSync(join(dir, "big.txt"), "utf8")).toBe(content);
  });

  it("A knows where the agent B holds runs (for the chat's instructions)", async () => {
    const { workspace } = await agentOnB();
    await until(() => a.hub.agentEnvironment(workspace.id) !== null, 5_000, "A's snapshot");
    expect(a.hub.agentEnvironment(workspace.id)).toEqual({
      platform: expect.any(String),
      directory: dir,
    });
    // And AGENTS.md-style reads go through B like any call.
    const read = await a.hub.call(workspace.id, "list_files", {}, { signal: noStop() });
    expect(read.is_error).toBe(false);
  });

  it("an agent recorded on another replica since is closed here as replaced", async () => {
    const { workspace, agent_token } = await a.store.workspaces.create({
      owner_id: ownerId,
      name: "moved",
      directory: null,
    });
    const socket = new WebSocket(`ws://127.0.0.1:${b.port}${AGENT_PATH}`, {
      headers: { authorization: `Bearer ${agent_token}` },
    });
    const closed = once(socket, "close");
    await once(socket, "open");
    socket.send(
      JSON.stringify({ type: "hello", protocol: PROTOCOL_VERSION, version: "t", dir: "/" }),
    );
    await once(socket, "message"); // welcome
    await until(
      async () => (await a.store.workspaces.agentHolder(workspace.id)) === "replica-b",
      5_000,
      "B recorded as the holder",
    );
    // Another agent of the workspace connected to A (a second `keel agent`, or this one's new
    // connection while B still holds a half-open socket).
    await a.store.workspaces.agentConnected(workspace.id, "replica-a", "t");
    const [code] = (await closed) as [number];
    expect(code).toBe(CLOSE.replaced);
    await until(() => !b.hub.connected(workspace.id), 5_000, "B to let go of it");
    // B's own disconnect record leaves A's alone.
    expect(await a.store.workspaces.agentHolder(workspace.id)).toBe("replica-a");
  });

  it("NOTIFYs lost while the LISTEN connections were down: the call is still claimed and answered", async () => {
    const { workspace } = await agentOnB();
    // Every LISTEN connection on this database (A's and B's) dies; they reconnect within ~100 ms,
    // and what was NOTIFYed meanwhile is lost: the call's pointer, maybe its result's.
    await db.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND application_name = 'keel-listen'`,
    );
    const result = await a.hub.call(
      workspace.id,
      "execute",
      { command: "echo run >> runs.log; echo caught-up" },
      { signal: noStop() },
    );
    expect(result).toMatchObject({ is_error: false, output: expect.stringContaining("caught-up") });
    expect(lines("runs.log")).toEqual(["run"]);
  });

  it("Stop on A reaches the agent on B, which kills the command", async () => {
    const { workspace } = await agentOnB();
    const stop = new AbortController();
    const pending = a.hub.call(
      workspace.id,
      "execute",
      { command: "echo $$ > shell.pid; sleep 30" },
      { signal: stop.signal },
    );
    await until(() => existsSync(join(dir, "shell.pid")), 10_000, "the command started");
    const pid = Number(readFileSync(join(dir, "shell.pid"), "utf8").trim());
    const started = Date.now();
    stop.abort();
    const result = await pending;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result.output).not.toContain("did not confirm"); // the agent's own answer, relayed
    await until(() => !alive(pid), 5_000, "the command killed");
  });

  it("B shutting down mid-call: the agent reconnects to A, which completes the call, once", async () => {
    const { workspace } = await agentOnB();
    const pending = a.hub.call(
      workspace.id,
      "execute",
      { command: "echo start >> runs.log; sleep 1; echo end >> runs.log; echo finished" },
      { signal: noStop() },
    );
    await until(() => lines("runs.log").length > 0, 10_000, "the command started on B");
    balancer.target = a.port; // the load balancer sends the reconnecting agent to A
    await stopReplica(b);
    const result = await pending;
    expect(result).toMatchObject({ is_error: false, output: expect.stringContaining("finished") });
    expect(a.hub.connected(workspace.id)).toBe(true);
    // It kept running through the reconnect; the re-send (same id) got its result: it ran once.
    expect(lines("runs.log")).toEqual(["start", "end"]);
  });

  it("B shutting down with nobody to take the agent: a clear error within the wait", async () => {
    const quick = await startReplica("replica-c", a.store, 1_000);
    try {
      const { workspace } = await agentOnB();
      const pending = quick.hub.call(
        workspace.id,
        "execute",
        { command: "echo start >> runs.log; sleep 5" },
        { signal: noStop() },
      );
      await until(() => lines("runs.log").length > 0, 10_000, "the command started on B");
      balancer.target = 1; // nothing listens there: the agent cannot reconnect
      const started = Date.now();
      await stopReplica(b);
      const result = await pending;
      expect(result).toMatchObject({
        is_error: true,
        output: expect.stringMatching(/not connected/),
      });
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await stopReplica(quick);
    }
  });

  it("B dying without a word: the agent reconnects to C, and A sends the call there", async () => {
    const c = await startReplica("replica-c", (await testDb.open()).store);
    try {
      const { workspace } = await agentOnB();
      const pending = a.hub.call(
        workspace.id,
        "execute",
        { command: "echo start >> runs.log; sleep 1; echo end >> runs.log; echo finished" },
        { signal: noStop() },
      );
      await until(() => lines("runs.log").length > 0, 10_000, "the command started on B");
      // B's database connections and its sockets die at once: it cannot hand anything back.
      await b.store.close();
      b.server.close();
      balancer.target = c.port;
      balancer.cut();
      const result = await pending;
      expect(result).toMatchObject({
        is_error: false,
        output: expect.stringContaining("finished"),
      });
      expect(c.hub.connected(workspace.id)).toBe(true);
      expect(lines("runs.log")).toEqual(["start", "end"]);
      await b.hub.close();
    } finally {
      await stopReplica(c);
    }
  });

  it("B killed and restarted (the same replica) mid-call: the call completes there, once", async () => {
    const { workspace } = await agentOnB();
    const pending = a.hub.call(
      workspace.id,
      "execute",
      { command: "echo start >> runs.log; sleep 1; echo end >> runs.log; echo finished" },
      { signal: noStop() },
    );
    await until(() => lines("runs.log").length > 0, 10_000, "the command started on B");
    // Its process dies holding the call (claimed, never answered); the next one has its id.
    const dead = b;
    await dead.store.close();
    dead.server.close();
    b = await startReplica("replica-b", (await testDb.open()).store);
    balancer.target = b.port;
    balancer.cut();
    const result = await pending;
    expect(result).toMatchObject({ is_error: false, output: expect.stringContaining("finished") });
    expect(b.hub.connected(workspace.id)).toBe(true);
    expect(lines("runs.log")).toEqual(["start", "end"]);
    await dead.hub.close();
  });

  it("the MCP tools an agent offers B are known on A, as the same array while unchanged", async () => {
    const { workspace, agent_token } = await a.store.workspaces.create({
      owner_id: ownerId,
      name: "mcp",
      directory: null,
    });
    // A hand-driven agent (the real one offers tools only with `.mcp.json` servers running).
    const socket = new WebSocket(`ws://127.0.0.1:${b.port}${AGENT_PATH}`, {
      headers: { authorization: `Bearer ${agent_token}` },
    });
    await once(socket, "open");
    socket.send(
      JSON.stringify({ type: "hello", protocol: PROTOCOL_VERSION, version: "t", dir: "/" }),
    );
    await once(socket, "message"); // welcome
    const echo: McpToolInfo = {
      name: "fx__echo",
      description: "Answers its text.",
      input_schema: { type: "object", properties: { text: { type: "string" } } },
    };
    socket.send(JSON.stringify({ type: "tools", tools: [echo] }));
    try {
      await until(
        async () => (await a.hub.mcpToolsFor(workspace.id)).length === 1,
        5_000,
        "A sees B's agent's tools",
      );
      const first = await a.hub.mcpToolsFor(workspace.id);
      expect(first).toEqual([echo]);
      expect(await a.hub.mcpToolsFor(workspace.id)).toBe(first);
      const cache = new WorkspaceToolCache(a.hub);
      const registry = await cache.for(workspace.id);
      expect(registry.has("fx__echo")).toBe(true);
      expect(await cache.for(workspace.id)).toBe(registry);
    } finally {
      socket.terminate();
    }
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
