import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import type { SqlStore } from "../store/store.ts";
import { createTestDatabase, type TestDatabase } from "../store/test-support.ts";
import { AgentHub, type AgentHubOptions } from "./hub.ts";
import { AGENT_PATH, CLOSE, PROTOCOL_VERSION, type ServerFrame } from "./protocol.ts";

/** A hand-driven agent: every frame it receives, and a way to send anything. */
class TestAgent {
  readonly frames: ServerFrame[] = [];
  readonly socket: WebSocket;
  #waiters: Array<() => void> = [];
  constructor(socket: WebSocket) {
    this.socket = socket;
    socket.on("message", (data) => {
      this.frames.push(JSON.parse(String(data)) as ServerFrame);
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }
  send(frame: unknown): void {
    this.socket.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }
  async next<T extends ServerFrame["type"]>(type: T): Promise<Extract<ServerFrame, { type: T }>> {
    for (;;) {
      const index = this.frames.findIndex((f) => f.type === type);
      if (index !== -1) return this.frames.splice(index, 1)[0] as Extract<ServerFrame, { type: T }>;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }
  closed(): Promise<number> {
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve(-1);
    return once(this.socket, "close").then(([code]) => code as number);
  }
}

describe("AgentHub", () => {
  let testDb: TestDatabase;
  let store: SqlStore;
  let server: Server;
  let hub: AgentHub;
  let url: string;
  const logs: string[] = [];
  const agents: TestAgent[] = [];
  let ownerId: string;

  async function startHub(options: Partial<AgentHubOptions> = {}) {
    await hub?.close();
    hub = new AgentHub({
      store: store.workspaces,
      replicaId: "replica-test",
      logger: {
        info: (m) => logs.push(`info ${m}`),
        warn: (m, f) => logs.push(`warn ${m} ${JSON.stringify(f ?? {})}`),
      },
      reconnectWaitMs: 2_000,
      ...options,
    });
  }

  beforeAll(async () => {
    testDb = await createTestDatabase();
    store = (await testDb.open()).store;
    ownerId = (
      await store.createFirstUser({ username: "o", email: "o@example.com", password: "password" })
    ).id;
    server = createServer((_req, res) => res.writeHead(404).end());
    server.on("upgrade", (req, socket, head) => {
      if (!hub.handleUpgrade(req, socket, head)) socket.destroy();
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}${AGENT_PATH}`;
    await startHub();
  });
  afterEach(() => {
    for (const agent of agents.splice(0)) agent.socket.terminate();
    logs.length = 0;
  });
  afterAll(async () => {
    await hub?.close();
    server?.close();
    await testDb?.cleanup();
  });

  async function newWorkspace() {
    return store.workspaces.create({ owner_id: ownerId, name: "w", directory: null });
  }

  /** Connects as an agent and says hello; resolves once welcomed. */
  async function connect(token: string, hello: unknown = undefined): Promise<TestAgent> {
    const socket = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
    const agent = new TestAgent(socket);
    agents.push(agent);
    await once(socket, "open");
    agent.send(hello ?? { type: "hello", protocol: PROTOCOL_VERSION, version: "test", dir: "/w" });
    if (hello === undefined) await agent.next("welcome");
    return agent;
  }

  const signal = () => new AbortController().signal;

  it.each([
    ["no token", undefined],
    ["an unknown token", "keelws_unknown"],
    ["a user's token", "keel_user"],
  ])("%s is refused with 401 before the upgrade", async (_name, token) => {
    const socket = new WebSocket(
      url,
      token ? { headers: { authorization: `Bearer ${token}` } } : {},
    );
    const [request, response] = (await once(socket, "unexpected-response")) as [
      { destroy(): void },
      { statusCode: number },
    ];
    expect(response.statusCode).toBe(401);
    request.destroy();
  });

  it("runs a call: the call frame, streamed output, then the result", async () => {
    const { workspace, agent_token } = await newWorkspace();
    const agent = await connect(agent_token);
    expect(hub.connected(workspace.id)).toBe(true);
    expect((await store.workspaces.get(workspace.id))?.agent).toMatchObject({
      connected: true,
      version: "test",
    });
    const output: string[] = [];
    const result = hub.call(
      workspace.id,
      "execute",
      { command: "echo hi" },
      {
        signal: signal(),
        onOutput: (d) => output.push(d),
      },
    );
    const call = await agent.next("call");
    expect(call).toMatchObject({ tool: "execute", input: { command: "echo hi" } });
    agent.send({ type: "output", call_id: call.call_id, delta: "h" });
    agent.send({ type: "output", call_id: call.call_id, delta: "i\n" });
    agent.send({ type: "result", call_id: call.call_id, output: "hi\nexit 0", is_error: false });
    expect(await result).toEqual({ output: "hi\nexit 0", is_error: false });
    expect(output).toEqual(["h", "i\n"]);
  });

  it("drops invalid frames and results for calls never given, and the call still completes", async () => {
    const { workspace, agent_token } = await newWorkspace();
    const agent = await connect(agent_token);
    const result = hub.call(workspace.id, "read_file", { path: "a" }, { signal: signal() });
    const call = await agent.next("call");
    agent.send("not json");
    agent.send({ type: "result", call_id: call.call_id, output: 42, is_error: false });
    agent.send({ type: "result", call_id: "c-forged", output: "evil", is_error: false });
    agent.send({ type: "exec", command: "rm -rf /" });
    agent.send({ type: "result", call_id: call.call_id, output: "the file", is_error: false });
    expect(await result).toEqual({ output: "the file", is_error: false });
    expect(logs.filter((l) => l.startsWith("warn agent sent invalid frames"))).toHaveLength(1);
    expect(logs.some((l) => l.includes("calls it was not given") && l.includes("c-forged"))).toBe(
      true,
    );
  });

  it("logs a flood of forged frames once, then their count when the connection ends", async () => {
    const { agent_token } = await newWorkspace();
    const agent = await connect(agent_token);
    for (let i = 0; i < 2_000; i++) {
      agent.send({ type: "result", call_id: `c-${i}`, output: "evil", is_error: false });
    }
    agent.send("not json");
    agent.send("not json either");
    await vi.waitFor(() =>
      expect(logs.filter((l) => l.startsWith("warn agent sent invalid frames"))).toHaveLength(1),
    );
    agent.socket.close();
    await agent.closed();
    await vi.waitFor(() =>
      expect(logs.some((l) => l.includes("2000 frames dropped on this connection"))).toBe(true),
    );
    expect(logs.filter((l) => l.includes("calls it was not given"))).toHaveLength(2);
    expect(logs.some((l) => l.includes("invalid frames: 2 frames dropped"))).toBe(true);
    expect(logs.length).toBeLessThan(20);
  });

  it("a call in flight when the agent drops is sent again to the reconnected agent", async () => {
    const { workspace, agent_token } = await newWorkspace();
    const first = await connect(agent_token);
    const result = hub.call(workspace.id, "read_file", { path: "a" }, { signal: signal() });
    const call = await first.next("call");
    first.socket.terminate();
    await first.closed();
    const second = await connect(agent_token);
    const again = await second.next("call");
    expect(again).toEqual(call);
    // A late answer on the dead connection cannot count; the new connection's does.
    second.send({ type: "result", call_id: again.call_id, output: "done", is_error: false });
    expect(await result).toEqual({ output: "done", is_error: false });
  });

  it("without an agent, a call waits for one, then fails with what to do", async () => {
    const { workspace, agent_token } = await newWorkspace();
    const waited = hub.call(workspace.id, "list_files", {}, { signal: signal() });
    const agent = await connect(agent_token);
    const call = await agent.next("call");
    agent.send({ type: "result", call_id: call.call_id, output: "a.txt", is_error: false });
    expect(await waited).toEqual({ output: "a.txt", is_error: false });

    agent.socket.terminate();
    await agent.closed();
    const started = Date.now();
    const result = await hub.call(workspace.id, "list_files", {}, { signal: signal() });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
    expect(result.is_error).toBe(true);
    expect(result.output).toMatch(/not connected .*keel agent/s);
  });

  it("Stop sends cancel; the agent's result ends the call, or the grace period does", async () => {
    const { workspace, agent_token } = await newWorkspace();
    const agent = await connect(agent_token);
    const stop = new AbortController();
    const answered = hub.call(workspace.id, "execute", { command: "sleep 30" }, stop);
    const call = await agent.next("call");
    stop.abort();
    expect(await agent.next("cancel")).toEqual({ type: "cancel", call_id: call.call_id });
    agent.send({ type: "result", call_id: call.call_id, output: "stopped", is_error: true });
    expect(await answered).toEqual({ output: "stopped", is_error: true });

    await startHub({ cancelGraceMs: 100 });
    const silent = await connect(agent_token);
    const stop2 = new AbortController();
    const ignored = hub.call(workspace.id, "execute", { command: "sleep 30" }, stop2);
    await silent.next("call");
    stop2.abort();
    await silent.next("cancel");
    expect(await ignored).toMatchObject({
      is_error: true,
      output: expect.stringMatching(/Stopped/),
    });
  });

  it("a stopped call whose connection ends before the agent confirmed is not sent again", async () => {
    const { workspace, agent_token } = await newWorkspace();
    const agent = await connect(agent_token);
    const stop = new AbortController();
    const answered = hub.call(workspace.id, "execute", { command: "sleep 30" }, stop);
    await agent.next("call");
    stop.abort();
    await agent.next("cancel");
    agent.socket.terminate(); // gone before it answered
    const next = await connect(agent_token);
    expect(await answered).toMatchObject({
      is_error: true,
      output: expect.stringMatching(/Stopped/),
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(next.frames.filter((f) => f.type === "call")).toEqual([]);
  });

  it("a second agent for the workspace replaces the first", async () => {
    const { workspace, agent_token } = await newWorkspace();
    const first = await connect(agent_token);
    const closed = first.closed();
    await connect(agent_token);
    expect(await closed).toBe(CLOSE.replaced);
    expect(hub.connected(workspace.id)).toBe(true);
  });

  it.each([
    ["not a hello", { type: "result", call_id: "x", output: "", is_error: false }],
    ["another protocol", { type: "hello", protocol: 99, version: "x", dir: "/" }],
  ])("a first frame that is %s closes the connection", async (_name, hello) => {
    const { agent_token } = await newWorkspace();
    const agent = await connect(agent_token, hello);
    expect(await agent.closed()).toBe(CLOSE.badHello);
  });

  it("a hello with fields this server does not know (a newer agent) is welcomed", async () => {
    const { workspace, agent_token } = await newWorkspace();
    await connect(agent_token, {
      type: "hello",
      protocol: PROTOCOL_VERSION,
      version: "a later one",
      dir: "/w",
      capabilities: ["something new"],
    });
    await vi.waitFor(() => expect(hub.connected(workspace.id)).toBe(true));
  });

  describe("MCP tools", () => {
    /** A generous bound: frames cross a real socket on a shared machine. */
    const eventually = (check: () => void) => vi.waitFor(check, { timeout: 20_000 });
    const tool = (name: string) => ({
      name,
      description: `${name}, described`,
      input_schema: { type: "object" },
    });

    it("keeps the latest set its agent offered, across a drop; a new connection starts over", async () => {
      const { workspace, agent_token } = await newWorkspace();
      expect(hub.mcpTools(workspace.id)).toEqual([]);
      const agent = await connect(agent_token);
      agent.send({ type: "tools", tools: [tool("fx__a"), tool("fx__b")] });
      await eventually(() => expect(hub.mcpTools(workspace.id)).toHaveLength(2));
      const offered = hub.mcpTools(workspace.id);
      expect(hub.mcpTools(workspace.id)).toBe(offered); // the same until it changes
      agent.send({ type: "tools", tools: [tool("fx__c")] });
      await eventually(() => expect(hub.mcpTools(workspace.id)).toEqual([tool("fx__c")]));
      // A dropped connection keeps them (its calls wait for the agent too)…
      agent.socket.terminate();
      await eventually(() => expect(hub.connected(workspace.id)).toBe(false));
      expect(hub.mcpTools(workspace.id)).toEqual([tool("fx__c")]);
      // …and the next agent, which may have another .mcp.json, says which it has.
      const next = await connect(agent_token);
      expect(hub.mcpTools(workspace.id)).toEqual([]);
      next.send({ type: "tools", tools: [tool("other__x")] });
      await eventually(() => expect(hub.mcpTools(workspace.id)).toEqual([tool("other__x")]));
    });

    it("a set over the bounds is dropped as an invalid frame and changes nothing", async () => {
      const { workspace, agent_token } = await newWorkspace();
      const agent = await connect(agent_token);
      agent.send({ type: "tools", tools: [tool("fx__a")] });
      await eventually(() => expect(hub.mcpTools(workspace.id)).toHaveLength(1));
      agent.send({ type: "tools", tools: [{ ...tool("fx__b"), description: "d".repeat(5000) }] });
      await eventually(() => expect(logs.some((l) => l.includes("invalid frames"))).toBe(true));
      expect(hub.mcpTools(workspace.id)).toEqual([tool("fx__a")]);
    });

    it("a server-side directory's agent offers none (MCP servers never run on the server)", async () => {
      const { workspace, agent_token } = await store.workspaces.create({
        owner_id: ownerId,
        name: "local",
        directory: "/srv/code",
      });
      const agent = await connect(agent_token);
      agent.send({ type: "tools", tools: [tool("fx__a")] });
      await eventually(() =>
        expect(logs.some((l) => l.includes("MCP tools for a server-side directory"))).toBe(true),
      );
      expect(hub.mcpTools(workspace.id)).toEqual([]);
    });
  });

  it("a deleted workspace's agent is disconnected at the next heartbeat", async () => {
    await startHub({ heartbeatMs: 100 });
    const { workspace, agent_token } = await newWorkspace();
    const agent = await connect(agent_token);
    await store.workspaces.delete(workspace.id);
    expect(await agent.closed()).toBe(CLOSE.revoked);
    await startHub();
  });

  it("a closing server answers 503, which an agent retries (not 401, which ends it)", async () => {
    const { agent_token } = await newWorkspace();
    await hub.close();
    const socket = new WebSocket(url, { headers: { authorization: `Bearer ${agent_token}` } });
    socket.on("error", () => {});
    const [request, response] = (await once(socket, "unexpected-response")) as [
      { destroy(): void },
      { statusCode: number },
    ];
    expect(response.statusCode).toBe(503);
    request.destroy();
    await startHub();
  });

  it("streamed output beyond the cap is dropped; the result still arrives", async () => {
    await startHub({ maxOutputBytes: 10 });
    const { workspace, agent_token } = await newWorkspace();
    const agent = await connect(agent_token);
    const output: string[] = [];
    const result = hub.call(
      workspace.id,
      "execute",
      { command: "yes" },
      {
        signal: signal(),
        onOutput: (d) => output.push(d),
      },
    );
    const call = await agent.next("call");
    for (const delta of ["0123456", "789abc", "def"]) {
      agent.send({ type: "output", call_id: call.call_id, delta });
    }
    agent.send({ type: "result", call_id: call.call_id, output: "capped", is_error: false });
    expect(await result).toEqual({ output: "capped", is_error: false });
    expect(output.join("")).toBe("0123456789");
    await startHub();
  });

  it("an oversized frame closes that connection; the call goes to the next one", async () => {
    const { workspace, agent_token } = await newWorkspace();
    const first = await connect(agent_token);
    const result = hub.call(workspace.id, "read_file", { path: "big" }, { signal: signal() });
    const call = await first.next("call");
    const closed = first.closed();
    first.send({ type: "output", call_id: call.call_id, delta: "x".repeat(5 * 1024 * 1024) });
    expect(await closed).toBe(1009); // "message too big"
    const second = await connect(agent_token);
    const again = await second.next("call");
    second.send({ type: "result", call_id: again.call_id, output: "small", is_error: false });
    expect(await result).toEqual({ output: "small", is_error: false });
  });

  it("a call to a deleted workspace fails at once, saying so", async () => {
    const { workspace } = await newWorkspace();
    await store.workspaces.delete(workspace.id);
    const started = Date.now();
    const result = await hub.call(workspace.id, "read_file", { path: "a" }, { signal: signal() });
    // Not after the wait for an absent agent (30 s): at once.
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(result).toMatchObject({ is_error: true, output: expect.stringMatching(/was deleted/) });
  });

  it("an agent held by another replica: the wait ends saying so", async () => {
    await startHub({ reconnectWaitMs: 200 });
    const { workspace } = await newWorkspace();
    await store.workspaces.agentConnected(workspace.id, "another-replica", "1.0.0");
    const result = await hub.call(workspace.id, "read_file", { path: "a" }, { signal: signal() });
    expect(result).toMatchObject({ is_error: true, output: expect.stringMatching(/another Keel/) });
    await startHub();
  });

  it("a token check that fails answers 503 (the agent retries), not 401", async () => {
    const workspaces = store.workspaces;
    await hub.close();
    hub = new AgentHub({
      store: {
        get: (id) => workspaces.get(id),
        forAgentToken: async () => {
          throw new Error("database away");
        },
        agentConnected: (...a) => workspaces.agentConnected(...a),
        agentsSeen: (...a) => workspaces.agentsSeen(...a),
        agentDisconnected: (...a) => workspaces.agentDisconnected(...a),
        setAgentMcpTools: (...a) => workspaces.setAgentMcpTools(...a),
        agentMcpTools: (...a) => workspaces.agentMcpTools(...a),
        heldAgents: () => workspaces.heldAgents(),
      },
      replicaId: "replica-test",
      logger: { info: () => {}, warn: (m, f) => logs.push(`warn ${m} ${JSON.stringify(f ?? {})}`) },
    });
    const { agent_token } = await newWorkspace();
    const socket = new WebSocket(url, { headers: { authorization: `Bearer ${agent_token}` } });
    socket.on("error", () => {});
    const [request, response] = (await once(socket, "unexpected-response")) as [
      { destroy(): void },
      { statusCode: number },
    ];
    expect(response.statusCode).toBe(503);
    request.destroy();
    expect(
      logs.some((l) => l.includes("agent authentication failed") && l.includes("database away")),
    ).toBe(true);
    await startHub();
  });
});
