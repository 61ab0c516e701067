/**
 * A workspace's `.mcp.json` end to end: a real `keel server`, a real `keel agent` in a temporary
 * directory whose `.mcp.json` names a real stdio MCP server (test/fixtures/mcp-stdio-server.ts,
 * written with the official SDK), and the fake provider scripting the model. The MCP tools reach
 * the model's request with their own schemas, a call runs in the workspace and its answer reaches
 * the next request, and a call to a server that hangs ends as an error result within the bound.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type FakeProvider,
  startFakeProvider,
  textReply,
  toolCallReply,
} from "../fakeprovider/index.ts";
import { type Api, apiAs } from "./support/api.ts";
import { freePort, type KeelProcess, startKeel } from "./support/keel-process.ts";

const KEEL = join(import.meta.dirname, "../../bin/keel.js");
const FIXTURE = join(import.meta.dirname, "../fixtures/mcp-stdio-server.ts");
/** The bound on one MCP call of the agent that meets the hanging tool: small, so it ends soon. */
const CALL_TIMEOUT_MS = 1_000;

interface Part {
  type: string;
  name?: string;
  output?: unknown;
  is_error?: boolean;
}
interface Message {
  role: string;
  parts: Part[];
}

describe("a workspace's .mcp.json servers", () => {
  let fake: FakeProvider;
  let keel: KeelProcess;
  let admin: string;
  let modelId: string;
  let workspaceId: string;
  let agentToken: string;
  let dir: string;
  let dataDir: string;
  let agent: ChildProcess | undefined;
  let agentOutput = "";

  /** JSON calls as the admin (`support/api.ts`). */
  const api: Api = <T>(method: string, path: string, body?: unknown) =>
    apiAs(keel.url, admin)<T>(method, path, body);

  async function until(check: () => Promise<boolean> | boolean, what: string, ms = 45_000) {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${what}\n${agentOutput}\n${keel.output()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function settledAfter(chatId: string, requests: number) {
    await until(async () => {
      const { chat } = await api<{ chat: { status: string } }>("GET", `/chats/${chatId}`);
      return fake.requests.length >= requests && ["waiting", "error"].includes(chat.status);
    }, `the turn to end after ${requests} requests`);
  }

  async function toolResults(chatId: string): Promise<Part[]> {
    const { messages } = await api<{ messages: Message[] }>("GET", `/chats/${chatId}`);
    return messages.filter((m) => m.role === "tool").flatMap((m) => m.parts);
  }

  beforeAll(async () => {
    fake = await startFakeProvider();
    dataDir = mkdtempSync(join(tmpdir(), "keel-mcp-e2e-"));
    dir = mkdtempSync(join(tmpdir(), "keel-mcp-dir-"));
    writeFileSync(
      join(dir, ".mcp.json"),
      JSON.stringify({
        mcpServers: {
          fx: { command: process.execPath, args: [FIXTURE] },
          remote: { type: "http", url: "https://mcp.example.com/mcp" },
        },
      }),
    );
    keel = await startKeel({ dataDir, port: await freePort() });
    const first = await fetch(`${keel.url}/api/v1/users/first`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        username: "owner",
        email: "o@example.com",
        password: "long password",
      }),
    });
    admin = ((await first.json()) as { session_token: string }).session_token;
    const provider = await api<{ id: string }>("POST", "/providers", {
      type: "anthropic",
      name: "fake",
      base_url: `${fake.url}/v1`,
      api_key: "sk-ant-mcp-e2e",
    });
    modelId = (
      await api<{ id: string }>("POST", "/models", { provider_id: provider.id, model: "m" })
    ).id;
    const workspace = await api<{ id: string; agent_token: string }>("POST", "/workspaces", {
      name: "mcp",
    });
    workspaceId = workspace.id;
    agentToken = workspace.agent_token;
    await startAgent({});
  }, 90_000);

  /** Starts `keel agent` in the workspace; resolves once the server has its MCP tools. */
  async function startAgent(env: Record<string, string>) {
    await stopAgent();
    const offered = () => keel.output().split("agent offered MCP tools").length - 1;
    const before = offered();
    agent = spawn(process.execPath, [KEEL, "agent", "--url", keel.url, "--dir", dir], {
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "/tmp",
        KEEL_AGENT_TOKEN: agentToken,
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    agent.stdout?.on("data", (d: Buffer) => (agentOutput += d.toString()));
    agent.stderr?.on("data", (d: Buffer) => (agentOutput += d.toString()));
    // A turn that starts before the server logged them would not see them.
    await until(() => offered() > before, "the MCP tools");
  }

  async function stopAgent() {
    if (agent && agent.exitCode === null) {
      const exited = once(agent, "exit");
      agent.kill("SIGTERM");
      await exited;
    }
  }

  afterAll(async () => {
    await stopAgent();
    await keel?.stop();
    await fake?.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("the model calls an MCP tool of the workspace and reads its answer", async () => {
    fake.enqueue(
      toolCallReply({ name: "fx__echo", args: { text: "hello from the model" } }),
      textReply("It echoed."),
    );
    const chat = await api<{ id: string }>("POST", "/chats", {
      model_id: modelId,
      workspace_id: workspaceId,
      content: [{ type: "text", text: "use the echo tool" }],
    });
    await settledAfter(chat.id, 2);

    // The provider was given the MCP tool with the server's own schema, beside the built-in ones.
    const body = fake.requests[0]?.body as { tools?: Array<Record<string, unknown>> } | undefined;
    const tools = body?.tools;
    const echo = tools?.find((t) => t.name === "fx__echo");
    expect(echo).toMatchObject({
      description: "Answers its text.",
      input_schema: { type: "object", properties: { text: { type: "string" } } },
    });
    expect(tools?.some((t) => t.name === "read_file")).toBe(true);
    expect(tools?.some((t) => String(t.name).startsWith("remote__"))).toBe(false);
    expect(agentOutput).toContain('MCP server "remote" skipped: it is an HTTP server');

    // The answer came from the server in the workspace, and the model read it.
    expect(await toolResults(chat.id)).toEqual([
      expect.objectContaining({ name: "fx__echo", output: "echo: hello from the model" }),
    ]);
    expect(fake.requests[1]?.rawBody).toContain("echo: hello from the model");
  }, 60_000);

  it("a call to a server that hangs ends as an error result within the bound; the turn goes on", async () => {
    await startAgent({ KEEL_MCP_CALL_TIMEOUT_MS: String(CALL_TIMEOUT_MS) });
    fake.enqueue(toolCallReply({ name: "fx__hang", args: {} }), textReply("It hung; moving on."));
    const before = fake.requests.length;
    const chat = await api<{ id: string }>("POST", "/chats", {
      model_id: modelId,
      workspace_id: workspaceId,
      content: [{ type: "text", text: "use the hang tool" }],
    });
    await settledAfter(chat.id, before + 2);
    const [result] = await toolResults(chat.id);
    expect(result).toMatchObject({ name: "fx__hang", is_error: true });
    expect(String(result?.output)).toContain(`did not answer within ${CALL_TIMEOUT_MS / 1000} s`);
    expect(fake.requests.at(-1)?.rawBody).toContain("did not answer within");
    const { chat: after } = await api<{ chat: { status: string } }>("GET", `/chats/${chat.id}`);
    expect(after.status).toBe("waiting");
    await until(() => agentOutput.includes("[mcp fx] hang cancelled"), "the server told to cancel");
  }, 60_000);
});
