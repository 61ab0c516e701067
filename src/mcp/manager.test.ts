/**
 * The MCP manager against real MCP servers (the SDK's own server over real HTTP, see testing.ts)
 * and the real store. Timeouts here are the manager's bounds under test, made short so a test
 * does not wait a minute; no assertion depends on how long anything took.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { ToolRegistry } from "../chatloop/tools.ts";
import type { McpServerRecord, NewMcpServer } from "../store/contract.ts";
import { createTestDatabase, type Opened, type TestDatabase } from "../store/test-support.ts";
import { McpManager, type McpManagerOptions } from "./manager.ts";
import { LONG_TOOL_NAME, refusedUrl, startTestMcpServer, type TestMcpServer } from "./testing.ts";

describe("McpManager", () => {
  let database: TestDatabase;
  let opened: Opened;
  let mcp: TestMcpServer;
  const managers: McpManager[] = [];
  const logs: Array<{ level: string; msg: string; fields?: Record<string, unknown> }> = [];
  const created: McpServerRecord[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    opened = await database.open();
    mcp = await startTestMcpServer();
  });
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((m) => m.close()));
    for (const server of created.splice(0)) await opened.store.mcpServers.delete(server.id);
    logs.length = 0;
  });
  afterAll(async () => {
    await mcp?.close();
    await database?.cleanup();
  });

  async function server(input: Partial<NewMcpServer> & { name: string }) {
    const record = await opened.store.mcpServers.create({ url: mcp.url, ...input });
    created.push(record);
    return record;
  }

  function manager(options: Partial<McpManagerOptions> = {}) {
    const m = new McpManager({
      store: opened.store.mcpServers,
      logger: {
        info: (msg, fields) => logs.push({ level: "info", msg, ...(fields ? { fields } : {}) }),
        warn: (msg, fields) => logs.push({ level: "warn", msg, ...(fields ? { fields } : {}) }),
      },
      ...options,
    });
    managers.push(m);
    return m;
  }

  const context = (signal = new AbortController().signal) => ({ signal, chatId: "chat-1" });

  async function registry(m: McpManager) {
    return new ToolRegistry(await m.tools());
  }

  it("lists the tools as <server>__<tool>, with the server's own schema, leaving out a name too long", async () => {
    await server({ name: "docs" });
    const tools = await manager().tools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      "docs__big",
      "docs__echo",
      "docs__fail",
      "docs__hang",
      "docs__picture",
      "docs__secret_tool",
      "docs__whoami",
    ]);
    const echo = tools.find((t) => t.name === "docs__echo");
    expect(echo?.description).toBe('From the MCP server "docs". Echoes its text.');
    expect(echo?.jsonSchema).toMatchObject({
      type: "object",
      properties: { text: { type: "string" } },
      required: ["text"],
    });
    expect(echo?.jsonSchema).not.toHaveProperty("$schema");
    const warning = logs.find((l) => l.msg.startsWith("MCP tool left out"));
    expect(warning?.fields).toMatchObject({ mcp_server: "docs", tool: LONG_TOOL_NAME });
  });

  it.each([
    ["allow only", { tools_allow: ["echo", "fail"] }, ["f__echo", "f__fail"]],
    [
      "deny",
      { tools_deny: ["hang", "big", "picture", "secret_tool", "whoami"] },
      ["f__echo", "f__fail"],
    ],
    [
      "allow, then deny",
      { tools_allow: ["echo", "secret_tool"], tools_deny: ["secret_tool"] },
      ["f__echo"],
    ],
    ["an empty allow list: nothing", { tools_allow: [] }, []],
  ])("filters: %s", async (_name, lists, expected) => {
    await server({ name: "f", ...lists });
    const names = (await manager().tools()).map((t) => t.name).sort();
    expect(names).toEqual(expected);
  });

  it("a call returns the tool's text; the headers reach the server", async () => {
    await server({ name: "docs", headers: { Authorization: "Bearer mcp-test-token" } });
    const tools = await registry(manager());
    const result = await tools.execute("docs__echo", { text: "hello" }, context());
    expect(result).toEqual({ output: "echo: hello", is_error: false });
    expect(mcp.requests.at(-1)?.authorization).toBe("Bearer mcp-test-token");
    expect(
      mcp.requests.every((h) => h.authorization === "Bearer mcp-test-token" || !h.authorization),
    ).toBe(true);
  });

  it.each([
    ["an isError result", "docs__fail", {}, "it broke: the widget is missing", true],
    [
      "an image, described",
      "docs__picture",
      {},
      "[image (image/png, 3 KB): not shown]\na red square",
      false,
    ],
    [
      "arguments the server refuses",
      "docs__echo",
      { text: 42 },
      "Invalid arguments for tool echo",
      true,
    ],
  ])("%s", async (_name, tool, input, text, isError) => {
    await server({ name: "docs" });
    const result = await (await registry(manager())).execute(tool, input, context());
    expect(result.is_error).toBe(isError);
    expect(String(result.output)).toContain(text);
  });

  it("a result that echoes a header's value does not show it", async () => {
    await server({ name: "docs", headers: { Authorization: "Bearer mcp-echoed-token" } });
    const tools = await registry(manager());
    const result = await tools.execute("docs__whoami", {}, context());
    expect(result).toEqual({ output: "you sent: [redacted]", is_error: false });
  });

  it("caps an oversized result, saying so", async () => {
    await server({ name: "docs" });
    const tools = await registry(manager({ maxOutputChars: 1000 }));
    const result = await tools.execute("docs__big", { chars: 5000 }, context());
    expect(result.is_error).toBe(false);
    const output = String(result.output);
    expect(output.startsWith("y".repeat(1000))).toBe(true);
    expect(output).not.toContain("y".repeat(1001));
    expect(output).toContain("output cut: the MCP tool returned 5000 characters");
  });

  it("a server that is down contributes no tools (warned once), the others still do", async () => {
    await server({ name: "docs" });
    await server({ name: "gone", url: await refusedUrl() });
    const m = manager({ retryAfterMs: 0 });
    for (let turn = 0; turn < 2; turn++) {
      const names = (await m.tools()).map((t) => t.name);
      expect(names).toContain("docs__echo");
      expect(names.some((n) => n.startsWith("gone__"))).toBe(false);
    }
    const warnings = logs.filter((l) => l.msg.startsWith("MCP server unavailable"));
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0]?.fields?.error)).toMatch(/"gone" could not be reached.*ECONNREFUSED/);
  });

  it("a call to a server that went down is an is_error result saying what to do", async () => {
    const other = await startTestMcpServer();
    const record = await server({ name: "flaky", url: other.url });
    const m = manager();
    const tools = await registry(m);
    await other.close();
    const result = await tools.execute("flaky__echo", { text: "x" }, context());
    expect(result.is_error).toBe(true);
    expect(String(result.output)).toMatch(/"flaky" could not be reached .*try again later/);
    // Gone from the store too: the stale tool says so instead of calling anything.
    await opened.store.mcpServers.delete(record.id);
    await m.tools();
    const stale = await tools.execute("flaky__echo", { text: "x" }, context());
    expect(String(stale.output)).toContain("no longer configured");
  });

  it("a server that lost its session (it restarted) is reconnected and the call retried once", async () => {
    const sessions = await startTestMcpServer({ stateful: true });
    try {
      await server({ name: "sess", url: sessions.url });
      const tools = await registry(manager());
      expect(await tools.execute("sess__echo", { text: "one" }, context())).toEqual({
        output: "echo: one",
        is_error: false,
      });
      sessions.forgetSessions();
      expect(await tools.execute("sess__echo", { text: "two" }, context())).toEqual({
        output: "echo: two",
        is_error: false,
      });
      const ids = new Set(sessions.requests.map((h) => h["mcp-session-id"]).filter(Boolean));
      expect(ids.size).toBe(2);
    } finally {
      await sessions.close();
    }
  });

  it("a tool that hangs is bounded by the call timeout", async () => {
    await server({ name: "docs" });
    const tools = await registry(manager({ callTimeoutMs: 300 }));
    const result = await tools.execute("docs__hang", {}, context());
    expect(result.is_error).toBe(true);
    expect(String(result.output)).toContain(
      '"docs" did not answer within 0.3 s while calling hang',
    );
    // The connection was dropped, so the server's hanging request ended too.
    await expect.poll(() => mcp.hanging(), { timeout: 10_000 }).toBe(0);
  });

  it("the turn's signal ends a hanging call promptly", async () => {
    await server({ name: "docs" });
    const tools = await registry(manager());
    const stop = new AbortController();
    const started = mcp.hangStarted();
    const call = tools.execute("docs__hang", {}, context(stop.signal));
    await started;
    stop.abort();
    const result = await call;
    expect(result).toEqual({
      output: "Stopped while calling hang: the turn was stopped.",
      is_error: true,
    });
  });

  it("follows a change of the configuration at the next listing", async () => {
    const record = await server({ name: "docs" });
    const m = manager();
    expect((await m.tools()).map((t) => t.name)).toContain("docs__echo");
    await opened.store.mcpServers.update(record.id, { name: "renamed", tools_allow: ["echo"] });
    expect((await m.tools()).map((t) => t.name)).toEqual(["renamed__echo"]);
    await opened.store.mcpServers.update(record.id, { enabled: false });
    expect(await m.tools()).toEqual([]);
  });
});

describe("McpManager.registryFor", () => {
  let database: TestDatabase;
  let opened: Opened;
  let mcp: TestMcpServer;
  beforeAll(async () => {
    database = await createTestDatabase();
    opened = await database.open();
    mcp = await startTestMcpServer();
  });
  afterAll(async () => {
    await mcp?.close();
    await database?.cleanup();
  });

  it("adds the MCP tools to the workspace's, which win a clash of names; no MCP tools: the same registry", async () => {
    const warnings: string[] = [];
    const m = new McpManager({
      store: opened.store.mcpServers,
      logger: { info: () => {}, warn: (msg) => warnings.push(msg) },
    });
    try {
      const own = (name: string) => ({
        name,
        description: "the workspace's",
        inputSchema: z.object({}),
        execute: () => ({ output: "workspace", is_error: false }),
      });
      const base = new ToolRegistry([own("read_file"), own("docs__echo")]);
      expect(await m.registryFor(base)).toBe(base);

      await opened.store.mcpServers.create({
        name: "docs",
        url: mcp.url,
        tools_allow: ["echo", "fail"],
      });
      const registry = await m.registryFor(base);
      expect(registry.tools().map((t) => t.name)).toEqual([
        "read_file",
        "docs__echo",
        "docs__fail",
      ]);
      const echo = await registry.execute(
        "docs__echo",
        {},
        { signal: new AbortController().signal, chatId: "c" },
      );
      expect(echo.output).toBe("workspace");
      expect(warnings).toContain(
        "MCP tool left out: a tool of the same name comes first (the workspace's)",
      );
      expect(base.size).toBe(2);
    } finally {
      await m.close();
    }
  });
});
