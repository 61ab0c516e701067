import { once } from "node:events";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { arch, platform, tmpdir } from "node:os";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type WebSocket, WebSocketServer } from "ws";
import type { SqlStore } from "../store/store.ts";
import { createTestDatabase, type TestDatabase } from "../store/test-support.ts";
import {
  type AgentOptions,
  AgentRefusedError,
  agentEndpoint,
  backoffDelay,
  runAgent,
  TOKEN_REFUSED_MESSAGE,
} from "./agent.ts";
import { AgentHub } from "./hub.ts";
import { WorkspaceMcp } from "./mcp/servers.ts";
import { AGENT_PATH, type AgentFrame, CLOSE, PROTOCOL_VERSION } from "./protocol.ts";

const TOKEN = "kat_secret-agent-token-0123456789";

/** The server's end of one agent connection: every frame received, and a way to send. */
class ServerEnd {
  readonly frames: AgentFrame[] = [];
  readonly socket: WebSocket;
  readonly request: IncomingMessage;
  #waiters: Array<() => void> = [];

  constructor(socket: WebSocket, request: IncomingMessage) {
    this.socket = socket;
    this.request = request;
    socket.on("message", (data) => {
      this.frames.push(JSON.parse(String(data)) as AgentFrame);
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  call(call_id: string, tool: string, input: unknown): void {
    this.send({ type: "call", call_id, tool, input });
  }

  /** Waits for a frame matching `test` (already received or still to come). */
  async waitFor<F extends AgentFrame>(test: (frame: AgentFrame) => frame is F): Promise<F>;
  async waitFor(test: (frame: AgentFrame) => boolean): Promise<AgentFrame>;
  async waitFor(test: (frame: AgentFrame) => boolean): Promise<AgentFrame> {
    for (;;) {
      const found = this.frames.find(test);
      if (found) return found;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  result(callId: string): Promise<Extract<AgentFrame, { type: "result" }>> {
    return this.waitFor(
      (f): f is Extract<AgentFrame, { type: "result" }> =>
        f.type === "result" && f.call_id === callId,
    );
  }
}

/** A stand-in for the hub: checks the path and the bearer token, then accepts. */
class FakeHub {
  readonly http: Server = createServer((_req, res) => res.writeHead(404).end());
  readonly wss = new WebSocketServer({ noServer: true });
  readonly ends: ServerEnd[] = [];
  refuse = false;
  url = "";
  #waiters: Array<() => void> = [];

  async start(): Promise<void> {
    this.http.on("upgrade", (request, socket, head) => {
      const ok =
        !this.refuse &&
        request.url === AGENT_PATH &&
        request.headers.authorization === `Bearer ${TOKEN}`;
      if (!ok) {
        socket.end("HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n");
        return;
      }
      this.wss.handleUpgrade(request, socket, head, (ws) => {
        this.ends.push(new ServerEnd(ws, request));
        for (const wake of this.#waiters.splice(0)) wake();
      });
    });
    this.http.listen(0, "127.0.0.1");
    await once(this.http, "listening");
    this.url = `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
  }

  /** The n-th connection (0-based), once it is made. */
  async connection(n: number): Promise<ServerEnd> {
    for (;;) {
      const end = this.ends[n];
      if (end) return end;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  async stop(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}

const isHello = (f: AgentFrame): f is Extract<AgentFrame, { type: "hello" }> => f.type === "hello";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("runAgent", () => {
  let hub: FakeHub;
  let dir: string;
  let agents: Array<{ controller: AbortController; done: Promise<void>; logs: string[] }> = [];

  function startAgent(options: Partial<AgentOptions> = {}) {
    const controller = new AbortController();
    const logs: string[] = [];
    const done = runAgent({
      url: hub.url,
      token: TOKEN,
      dir,
      signal: controller.signal,
      version: "9.9.9-test",
      log: (line) => logs.push(line),
      minBackoffMs: 20,
      maxBackoffMs: 100,
      ...options,
    });
    const agent = { controller, done, logs };
    agents.push(agent);
    return agent;
  }

  beforeAll(async () => {
    hub = new FakeHub();
    await hub.start();
  });
  afterAll(async () => {
    await hub.stop();
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "keel-agent-"));
    hub.ends.length = 0;
    hub.refuse = false;
  });
  afterEach(async () => {
    for (const agent of agents) agent.controller.abort();
    for (const agent of agents) {
      await agent.done.catch(() => {});
      expect(agent.logs.join("\n")).not.toContain(TOKEN);
    }
    agents = [];
    for (const end of hub.ends) end.socket.terminate();
    rmSync(dir, { recursive: true, force: true });
  });

  it("connects with the bearer token and says hello with its protocol, version and directory", async () => {
    const agent = startAgent();
    const end = await hub.connection(0);
    expect(end.request.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(end.request.url).toBe(AGENT_PATH);
    expect(end.request.headers["sec-websocket-extensions"]).toBeUndefined(); // no deflate
    const hello = await end.waitFor(isHello);
    expect(hello).toEqual({
      type: "hello",
      protocol: PROTOCOL_VERSION,
      version: "9.9.9-test",
      dir,
      platform: `${platform()} ${arch()}`,
      directory: dir,
    });
    expect(end.frames[0]).toBe(hello);
    end.send({ type: "welcome", workspace_id: "ws_1", protocol: PROTOCOL_VERSION });
    await until(() => agent.logs.some((l) => l.includes("agent of ws_1")));
  });

  it("runs calls in its directory and answers each with one result", async () => {
    startAgent();
    const end = await hub.connection(0);
    end.call("w1", "write_file", { path: "notes/a.txt", content: "hello from the model\n" });
    expect(await end.result("w1")).toMatchObject({ is_error: false });
    expect(readFileSync(join(dir, "notes/a.txt"), "utf8")).toBe("hello from the model\n");
    end.call("r1", "read_file", { path: "notes/a.txt" });
    const read = await end.result("r1");
    expect(read.is_error).toBe(false);
    expect(read.output).toContain("hello from the model");
    end.call("bad", "no_such_tool", {});
    expect((await end.result("bad")).is_error).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const results = end.frames.filter((f) => f.type === "result");
    expect(results.map((f) => f.call_id)).toEqual(["w1", "r1", "bad"]);
  });

  it("offers its MCP servers' tools after the welcome and routes their calls to them", async () => {
    const fixture = join(import.meta.dirname, "../../test/fixtures/mcp-stdio-server.ts");
    writeFileSync(
      join(dir, ".mcp.json"),
      JSON.stringify({ mcpServers: { fx: { command: process.execPath, args: [fixture] } } }),
    );
    const agent = startAgent({ mcp: new WorkspaceMcp({ root: dir, log: () => {} }) });
    const end = await hub.connection(0);
    end.send({ type: "welcome", workspace_id: "ws_1", protocol: PROTOCOL_VERSION });
    const offered = await end.waitFor((f) => f.type === "tools");
    expect(offered.type === "tools" && offered.tools.map((t) => t.name)).toContain("fx__echo");
    end.call("m1", "fx__echo", { text: "through the agent" });
    expect(await end.result("m1")).toMatchObject({ output: "echo: through the agent" });
    end.call("b1", "list_files", {}); // built-in tools still run here
    expect((await end.result("b1")).output).toContain(".mcp.json");
    // The server's tools change: the agent says so.
    end.call("g1", "fx__grow", {});
    await end.result("g1");
    await end.waitFor((f) => f.type === "tools" && f.tools.some((t) => t.name === "fx__grown"));
    agent.controller.abort();
    await agent.done; // and the MCP server is stopped with the agent
  });

  it("streams execute output as output frames, all before the result", async () => {
    startAgent();
    const end = await hub.connection(0);
    end.call("x1", "execute", { command: "echo first; sleep 0.3; echo second" });
    const result = await end.result("x1");
    expect(result.is_error).toBe(false);
    const frames = end.frames.filter((f) => "call_id" in f && f.call_id === "x1");
    const outputs = frames.filter((f) => f.type === "output");
    expect(outputs.length).toBeGreaterThanOrEqual(2); // the sleep splits the flushes
    expect(frames.at(-1)).toBe(result);
    const streamed = outputs.map((f) => f.delta).join("");
    expect(streamed).toContain("first");
    expect(streamed).toContain("second");
    expect(streamed.indexOf("first")).toBeLessThan(streamed.indexOf("second"));
  });

  it("coalesces a burst of output into few frames", async () => {
    startAgent();
    const end = await hub.connection(0);
    end.call("x2", "execute", { command: "for i in $(seq 1 2000); do echo line $i; done" });
    await end.result("x2");
    const outputs = end.frames.filter((f) => f.type === "output" && f.call_id === "x2");
    const streamed = outputs.map((f) => (f.type === "output" ? f.delta : "")).join("");
    expect(streamed).toContain("line 2000");
    expect(outputs.length).toBeLessThan(50);
  });

  it("cancels a long execute: the result comes back within 1 s and the process is gone", async () => {
    startAgent();
    const end = await hub.connection(0);
    end.call("long", "execute", { command: "echo $$ > shell.pid; sleep 30" });
    await until(() => readPid(dir) !== null);
    const pid = readPid(dir) ?? 0;
    const started = Date.now();
    end.send({ type: "cancel", call_id: "long" });
    const result = await end.result("long");
    expect(Date.now() - started).toBeLessThan(15_000); // far below the command's own 30 s
    expect(result.call_id).toBe("long");
    expect(alive(pid)).toBe(false);
  });

  it("ignores invalid frames and keeps serving", async () => {
    const agent = startAgent();
    const end = await hub.connection(0);
    await end.waitFor(isHello);
    end.send("not json at all");
    end.send({ type: "shutdown" });
    end.send({ type: "call", call_id: "", tool: "read_file", input: {} });
    end.send({ type: "cancel", call_id: "never-called" });
    end.socket.send(Buffer.from([1, 2, 3]), { binary: true });
    end.call("ok", "write_file", { path: "still.txt", content: "alive" });
    expect((await end.result("ok")).is_error).toBe(false);
    const ignored = agent.logs.filter((l) => l.startsWith("ignored an invalid frame"));
    expect(ignored).toHaveLength(4);
    expect(end.socket.readyState).toBe(end.socket.OPEN);
  });

  it("reconnects after the server drops it and says hello again; a call in flight keeps running and its re-send gets the result", async () => {
    const agent = startAgent();
    const first = await hub.connection(0);
    first.call("long", "execute", {
      command: "echo started >> runs.txt; echo $$ > shell.pid; sleep 1; echo finished",
    });
    await until(() => readPid(dir) !== null);
    const pid = readPid(dir) ?? 0;
    first.socket.terminate();
    const second = await hub.connection(1);
    expect(await second.waitFor(isHello)).toMatchObject({ dir, version: "9.9.9-test" });
    expect(agent.logs.some((l) => /reconnecting in \d+\.\d s/.test(l))).toBe(true);
    expect(alive(pid)).toBe(true); // not killed with the connection
    // The server sends it again, with the same id: the running command answers, once.
    second.call("long", "execute", {
      command: "echo started >> runs.txt; echo $$ > shell.pid; sleep 1; echo finished",
    });
    const result = await second.result("long");
    expect(result).toMatchObject({ is_error: false });
    expect(result.output).toContain("finished");
    expect(readFileSync(join(dir, "runs.txt"), "utf8")).toBe("started\n");
    expect(agent.logs.some((l) => l.includes("long is still running"))).toBe(true);
    // The new connection works.
    second.call("w", "write_file", { path: "x.txt", content: "x" });
    await second.result("w");
  });

  it("stops a call whose connection dropped when the server does not send it again in time", async () => {
    const agent = startAgent({ orphanGraceMs: 300 });
    const first = await hub.connection(0);
    first.call("long", "execute", { command: "echo $$ > shell.pid; sleep 30" });
    await until(() => readPid(dir) !== null);
    const pid = readPid(dir) ?? 0;
    first.socket.terminate();
    const second = await hub.connection(1);
    await second.waitFor(isHello);
    await until(() => !alive(pid), 3_000);
    expect(agent.logs.some((l) => l.includes("stopping long"))).toBe(true);
    // Nothing of it reaches the new connection: it was never sent there.
    second.call("w", "write_file", { path: "x.txt", content: "x" });
    await second.result("w");
    expect(second.frames.some((f) => "call_id" in f && f.call_id === "long")).toBe(false);
  });

  it("a finished call sent again after a reconnect is answered from its result, not run again", async () => {
    startAgent();
    const first = await hub.connection(0);
    first.call("once", "execute", { command: "echo ran >> runs.txt; cat runs.txt" });
    const answer = await first.result("once");
    first.socket.terminate(); // as if the result had been lost with the connection
    const second = await hub.connection(1);
    await second.waitFor(isHello);
    second.call("once", "execute", { command: "echo ran >> runs.txt; cat runs.txt" });
    expect(await second.result("once")).toEqual(answer);
    expect(readFileSync(join(dir, "runs.txt"), "utf8")).toBe("ran\n");
  });

  it("keeps retrying while the server is unreachable", async () => {
    const spare = new FakeHub();
    await spare.start();
    const url = spare.url;
    await spare.stop();
    const agent = startAgent({ url });
    await until(() => agent.logs.filter((l) => l.includes("cannot reach the server")).length >= 3);
  });

  it("takes a server that stopped pinging for dead and reconnects", async () => {
    startAgent({ pingTimeoutMs: 300 });
    const first = await hub.connection(0);
    await first.waitFor(isHello);
    const started = Date.now();
    await hub.connection(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it("stays connected while the server pings", async () => {
    startAgent({ pingTimeoutMs: 300 });
    const first = await hub.connection(0);
    const pinger = setInterval(() => first.socket.ping(), 100);
    await new Promise((resolve) => setTimeout(resolve, 800));
    clearInterval(pinger);
    expect(hub.ends).toHaveLength(1);
  });

  it("rejects with a clear message when the token is refused on the first attempt", async () => {
    hub.refuse = true;
    const agent = startAgent();
    await expect(agent.done).rejects.toThrow(AgentRefusedError);
    await expect(agent.done).rejects.toThrow(TOKEN_REFUSED_MESSAGE);
  });

  it("gives up when a later reconnect is refused (the workspace was deleted)", async () => {
    const agent = startAgent();
    const first = await hub.connection(0);
    await first.waitFor(isHello);
    hub.refuse = true;
    first.socket.terminate();
    await expect(agent.done).rejects.toThrow(TOKEN_REFUSED_MESSAGE);
  });

  it("gives up when the server revokes the token", async () => {
    const agent = startAgent();
    const end = await hub.connection(0);
    await end.waitFor(isHello);
    end.socket.close(CLOSE.revoked, "the workspace token no longer works");
    await expect(agent.done).rejects.toThrow(TOKEN_REFUSED_MESSAGE);
  });

  it("stops, without fighting, when another agent takes the workspace over", async () => {
    const agent = startAgent();
    const end = await hub.connection(0);
    await end.waitFor(isHello);
    end.socket.close(CLOSE.replaced, "another agent connected for this workspace");
    await expect(agent.done).resolves.toBeUndefined();
    expect(agent.logs).toContain("another agent took over this workspace; stopping");
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(hub.ends).toHaveLength(1);
  });

  it("stops on abort, killing the tools it runs, and resolves", async () => {
    const agent = startAgent();
    const end = await hub.connection(0);
    end.call("long", "execute", { command: "echo $$ > shell.pid; sleep 30" });
    await until(() => readPid(dir) !== null);
    const pid = readPid(dir) ?? 0;
    const started = Date.now();
    agent.controller.abort();
    await agent.done;
    expect(Date.now() - started).toBeLessThan(15_000); // far below the command's own 30 s
    expect(alive(pid)).toBe(false);
  });

  it("keeps background processes across a reconnect and kills them when it stops", async () => {
    const agent = startAgent();
    const first = await hub.connection(0);
    first.call("bg", "execute", {
      command: "echo $$ > shell.pid; sh -c 'sleep 30 & sleep 30'",
      background: true,
    });
    const start = await first.result("bg");
    expect(start.is_error).toBe(false);
    expect(start.output).toMatch(/^\[background process p1 \(pid \d+\)\]/);
    await until(() => readPid(dir) !== null);
    const pid = readPid(dir) ?? 0;
    first.socket.terminate();
    const second = await hub.connection(1);
    second.call("ls", "process_list", {});
    expect((await second.result("ls")).output).toMatch(/^p1\trunning\t/);
    expect(alive(pid)).toBe(true);
    agent.controller.abort();
    await agent.done;
    // The whole group: the shell, its sh and both sleeps.
    await until(() => !groupAlive(pid), 15_000);
  });
});

/** Whether any process of the group is left (zombies waiting for PID 1 count as gone). */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let stat = "";
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue;
    }
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(pgrp) === pgid && state !== "Z") return true;
  }
  return false;
}

function readPid(dir: string): number | null {
  try {
    const pid = Number(readFileSync(join(dir, "shell.pid"), "utf8").trim());
    return pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

describe("agentEndpoint", () => {
  it.each([
    ["http://127.0.0.1:3000", `ws://127.0.0.1:3000${AGENT_PATH}`],
    ["https://keel.example.com/", `wss://keel.example.com${AGENT_PATH}`],
    ["https://example.com/keel/?x=1#y", `wss://example.com/keel${AGENT_PATH}`],
    ["ws://localhost:8080", `ws://localhost:8080${AGENT_PATH}`],
  ])("%s → %s", (url, expected) => {
    expect(agentEndpoint(url).href).toBe(expected);
  });

  it.each([
    ["localhost:3000", /http\(s\) or ws\(s\)/],
    ["not a url", /is not a URL/],
    ["ftp://example.com", /http\(s\) or ws\(s\)/],
    ["http://user:pw@example.com", /must not hold credentials/],
  ])("refuses %s", (url, message) => {
    expect(() => agentEndpoint(url)).toThrow(message);
  });
});

describe("backoffDelay", () => {
  it("grows from the minimum to the maximum, with full jitter", () => {
    const top = () => 1;
    expect([0, 1, 2, 3, 10, 100].map((n) => backoffDelay(n, 500, 30_000, top))).toEqual([
      500, 1_000, 2_000, 4_000, 30_000, 30_000,
    ]);
    expect(backoffDelay(5, 500, 30_000, () => 0)).toBe(0);
    expect(backoffDelay(1, 500, 30_000, () => 0.5)).toBe(500);
  });
});

/** The same agent against the real server side: the contract of protocol.ts, end to end. */
describe("runAgent with the real AgentHub", () => {
  let testDb: TestDatabase;
  let store: SqlStore;
  let server: Server;
  let hub: AgentHub;
  let url: string;
  let ownerId: string;
  let dir: string;
  const stops: AbortController[] = [];
  /** The agents' sockets, to cut (as a network blink would). */
  const upgraded: Duplex[] = [];

  beforeAll(async () => {
    testDb = await createTestDatabase();
    store = (await testDb.open()).store;
    ownerId = (
      await store.createFirstUser({ username: "o", email: "o@example.com", password: "password" })
    ).id;
    hub = new AgentHub({
      store: store.workspaces,
      replicaId: "replica-test",
      logger: { info: () => {}, warn: () => {} },
      heartbeatMs: 200,
      reconnectWaitMs: 5_000,
    });
    server = createServer((_req, res) => res.writeHead(404).end());
    server.on("upgrade", (req, socket, head) => {
      upgraded.push(socket);
      if (!hub.handleUpgrade(req, socket, head)) socket.destroy();
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "keel-agent-hub-"));
  });
  afterEach(() => {
    for (const controller of stops.splice(0)) controller.abort();
    rmSync(dir, { recursive: true, force: true });
  });
  afterAll(async () => {
    await hub?.close();
    server?.close();
    await testDb?.cleanup();
  });

  function start(token: string) {
    const controller = new AbortController();
    stops.push(controller);
    const logs: string[] = [];
    const done = runAgent({
      url,
      token,
      dir,
      signal: controller.signal,
      version: "9.9.9-test",
      log: (line) => logs.push(line),
      minBackoffMs: 20,
      maxBackoffMs: 100,
    });
    return { done, logs };
  }

  async function connectedWorkspace() {
    const { workspace, agent_token } = await store.workspaces.create({
      owner_id: ownerId,
      name: "w",
      directory: null,
    });
    const agent = start(agent_token);
    await until(() => hub.connected(workspace.id));
    return { workspace, agent_token, agent };
  }

  const noStop = () => new AbortController().signal;

  it("runs write, read and a streamed execute through the hub", async () => {
    const { workspace } = await connectedWorkspace();
    const id = workspace.id;
    expect(
      await hub.call(id, "write_file", { path: "a.txt", content: "abc\n" }, { signal: noStop() }),
    ).toMatchObject({ is_error: false });
    const read = await hub.call(id, "read_file", { path: "a.txt" }, { signal: noStop() });
    expect(read.output).toContain("abc");
    const streamed: string[] = [];
    const run = await hub.call(
      id,
      "execute",
      { command: "echo one; sleep 0.2; echo two; exit 3" },
      { signal: noStop(), onOutput: (delta) => streamed.push(delta) },
    );
    expect(run.is_error).toBe(false); // it ran to its end; the exit code is in the text
    expect(run.output).toContain("3");
    const text = streamed.join("");
    expect(text.indexOf("one\n")).toBeGreaterThanOrEqual(0);
    expect(text.indexOf("two\n")).toBeGreaterThan(text.indexOf("one\n"));
  });

  it("a command running when the connection blinks runs once: the hub's re-send gets its result", async () => {
    const { workspace } = await connectedWorkspace();
    const call = hub.call(
      workspace.id,
      "execute",
      { command: "echo ran >> runs.txt; sleep 1.5; echo finished" },
      { signal: noStop() },
    );
    await until(() => existsSync(join(dir, "runs.txt")));
    for (const socket of upgraded.splice(0)) socket.destroy();
    const result = await call;
    expect(result).toMatchObject({ is_error: false });
    expect(result.output).toContain("finished");
    expect(readFileSync(join(dir, "runs.txt"), "utf8")).toBe("ran\n");
  });

  it("Stop during a long execute comes back from the agent within 1 s", async () => {
    const { workspace } = await connectedWorkspace();
    const stop = new AbortController();
    const pending = hub.call(
      workspace.id,
      "execute",
      { command: "echo $$ > shell.pid; sleep 30" },
      { signal: stop.signal },
    );
    await until(() => readPid(dir) !== null);
    const started = Date.now();
    stop.abort();
    const result = await pending;
    expect(Date.now() - started).toBeLessThan(15_000); // far below the command's own 30 s
    expect(result.output).not.toContain("did not confirm"); // the agent's own answer
    expect(alive(readPid(dir) ?? 0)).toBe(false);
  });

  it("a second agent for the workspace takes over; the first stops without fighting", async () => {
    const { workspace, agent_token, agent } = await connectedWorkspace();
    start(agent_token);
    await expect(agent.done).resolves.toBeUndefined();
    expect(agent.logs).toContain("another agent took over this workspace; stopping");
    const read = await hub.call(workspace.id, "list_files", {}, { signal: noStop() });
    expect(read.is_error).toBe(false);
  });

  it("a rotated token ends the agent with the refusal message", async () => {
    const { workspace, agent } = await connectedWorkspace();
    await store.workspaces.rotateAgentToken(workspace.id);
    await expect(agent.done).rejects.toThrow(TOKEN_REFUSED_MESSAGE);
  });

  it("an unknown token is refused on the first attempt", async () => {
    await expect(start("keelws_unknown").done).rejects.toThrow(TOKEN_REFUSED_MESSAGE);
  });
});
