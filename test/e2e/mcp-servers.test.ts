/**
 * Admin-configured MCP servers end to end: a real `keel server`, the fake provider and a real MCP
 * server (the SDK's own, see src/mcp/testing.ts). An admin adds the server through the API; a
 * chat without a workspace offers its tools as `docs__<tool>` with the server's own schema; the
 * model calls one, the call reaches the server with the admin's header, and its result reaches the
 * next model request. A server that is down does not stop the chat; a call that hangs does not
 * hold the turn past Stop, nor past the call bound (`KEEL_MCP_CALL_TIMEOUT_MS`), after which the
 * model reads what happened and the turn goes on.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { refusedUrl, startTestMcpServer, type TestMcpServer } from "../../src/mcp/testing.ts";
import {
  type FakeProvider,
  startFakeProvider,
  textReply,
  toolCallReply,
} from "../fakeprovider/index.ts";
import { type Api, apiAs, createOwner } from "./support/api.ts";
import { freePort, type KeelProcess, startKeel } from "./support/keel-process.ts";

/** A server, the fake provider, an MCP server, the owner's API and a model on the fake. */
interface Setup {
  fake: FakeProvider;
  keel: KeelProcess;
  mcp: TestMcpServer;
  api: Api;
  modelId: string;
}

async function setUp(env: Record<string, string> = {}): Promise<Setup> {
  const fake = await startFakeProvider();
  const mcp = await startTestMcpServer();
  const keel = await startKeel({
    dataDir: mkdtempSync(join(tmpdir(), "keel-mcp-e2e-")),
    port: await freePort(),
    env,
  });
  const api = apiAs(keel.url, await createOwner(keel.url));
  const provider = await api<{ id: string }>("POST", "/providers", {
    type: "anthropic",
    name: "fake",
    base_url: `${fake.url}/v1`,
    api_key: "sk-ant-mcp-e2e",
  });
  const model = await api<{ id: string }>("POST", "/models", {
    provider_id: provider.id,
    model: "m",
  });
  return { fake, keel, mcp, api, modelId: model.id };
}

async function tearDown(setup: Setup | undefined): Promise<void> {
  await setup?.keel.stop();
  await setup?.mcp.close();
  await setup?.fake.close();
}

async function until(
  check: () => Promise<boolean> | boolean,
  what: string,
  keel: KeelProcess,
  ms = 30_000,
) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${keel.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const statusOf = async (api: Api, chatId: string) =>
  (await api<{ chat: { status: string } }>("GET", `/chats/${chatId}`)).chat.status;

describe("MCP servers in chats", () => {
  let s: Setup;

  beforeAll(async () => {
    s = await setUp();
    await s.api("POST", "/mcp-servers", {
      name: "docs",
      url: s.mcp.url,
      headers: { Authorization: "Bearer mcp-e2e-token" },
      tools_deny: ["secret_tool"],
    });
    await s.api("POST", "/mcp-servers", { name: "down", url: await refusedUrl() });
  }, 60_000);
  afterAll(() => tearDown(s));

  it("the model calls docs__echo and the server's answer reaches the next request", async () => {
    const { fake, keel, mcp, api } = s;
    fake.enqueue(
      toolCallReply({ name: "docs__echo", args: { text: "from the model" } }),
      textReply("The server said hello."),
    );
    const before = fake.requests.length;
    const chat = await api<{ id: string }>("POST", "/chats", {
      model_id: s.modelId,
      content: [{ type: "text", text: "ask the docs server" }],
    });
    await until(
      async () =>
        fake.requests.length >= before + 2 && (await statusOf(api, chat.id)) === "waiting",
      "the turn to end",
      keel,
    );

    const first = fake.requests[before]?.body as {
      tools?: Array<{ name: string; input_schema: Record<string, unknown> }>;
    };
    const names = (first.tools ?? []).map((t) => t.name);
    expect(names).toContain("docs__echo");
    expect(names).not.toContain("docs__secret_tool");
    expect(names.some((n) => n.startsWith("down__"))).toBe(false);
    expect(first.tools?.find((t) => t.name === "docs__echo")?.input_schema).toMatchObject({
      type: "object",
      properties: { text: { type: "string" } },
    });

    expect(mcp.calls).toContain("echo");
    expect(mcp.requests.map((h) => h.authorization)).toContain("Bearer mcp-e2e-token");
    expect(JSON.stringify(fake.requests[before + 1]?.body)).toContain("echo: from the model");
    expect(keel.output()).toContain("MCP server unavailable");
    expect(keel.output()).not.toContain("mcp-e2e-token");
  });

  it("Stop ends a turn whose MCP call hangs", async () => {
    const { fake, keel, mcp, api } = s;
    fake.enqueue(toolCallReply({ name: "docs__hang", args: {} }));
    const started = mcp.hangStarted();
    const chat = await api<{ id: string }>("POST", "/chats", {
      model_id: s.modelId,
      content: [{ type: "text", text: "call the slow tool" }],
    });
    await started;
    await api("POST", `/chats/${chat.id}/interrupt`);
    await until(async () => (await statusOf(api, chat.id)) !== "running", "the turn to stop", keel);
    expect(await statusOf(api, chat.id)).toBe("waiting");
  });
});

describe("an MCP call that hangs, with a short call bound", () => {
  let s: Setup;

  beforeAll(async () => {
    s = await setUp({ KEEL_MCP_CALL_TIMEOUT_MS: "300" });
    await s.api("POST", "/mcp-servers", { name: "docs", url: s.mcp.url });
  }, 60_000);
  afterAll(() => tearDown(s));

  it("the turn goes on: the model reads that the server did not answer", async () => {
    const { fake, keel, api } = s;
    fake.enqueue(toolCallReply({ name: "docs__hang", args: {} }), textReply("It timed out."));
    const chat = await api<{ id: string }>("POST", "/chats", {
      model_id: s.modelId,
      content: [{ type: "text", text: "call the slow tool" }],
    });
    await until(
      async () => fake.requests.length >= 2 && (await statusOf(api, chat.id)) === "waiting",
      "the turn to end",
      keel,
    );
    const next = JSON.stringify(fake.requests[1]?.body);
    expect(next).toContain('The MCP server \\"docs\\" did not answer within 0.3 s');
  });
});
