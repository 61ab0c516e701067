/**
 * The workspace agent in one line, end to end: a real `keel server` serves the agent it built
 * (`GET /agent/keel-agent.mjs`); the line the Workspaces page shows downloads it with curl and
 * starts it in bash on the machine's Node.js 20, in a workspace directory; the workspace shows
 * its agent connected, and a chat's tool calls — write, search (without ripgrep), list, execute,
 * and a tool of the workspace's `.mcp.json` server — run there.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentOneLiner } from "../../web/src/workspaces/agentCommand.ts";
import {
  type FakeProvider,
  startFakeProvider,
  textReply,
  toolCallReply,
} from "../fakeprovider/index.ts";
import { type Api, apiAs, createOwner } from "./support/api.ts";
import { freePort, type KeelProcess, startKeel } from "./support/keel-process.ts";
import {
  AGENT_BUNDLE,
  agentNodeVersion,
  buildAgentBundle,
  type RunningLine,
  runLine,
} from "./support/standalone-agent.ts";

const MCP_FIXTURE = join(import.meta.dirname, "../fixtures/mcp-stdio-server.ts");

interface Part {
  type: string;
  name?: string;
  output?: unknown;
  is_error?: boolean;
}
interface Workspace {
  agent: { connected: boolean; version: string | null };
}

async function until<T>(check: () => Promise<T | undefined>, what: string, ms = 20_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("the agent one-liner", () => {
  let fake: FakeProvider;
  let keel: KeelProcess;
  let api: Api;
  let modelId: string;
  let workspaceId: string;
  let agentToken: string;
  const temp: string[] = [];
  const tempDir = (prefix: string) => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    temp.push(dir);
    return dir;
  };
  let line: RunningLine | undefined;

  beforeAll(async () => {
    buildAgentBundle();
    fake = await startFakeProvider();
    keel = await startKeel({ dataDir: tempDir("keel-oneliner-e2e-"), port: await freePort() });
    api = apiAs(keel.url, await createOwner(keel.url));
    const provider = await api<{ id: string }>("POST", "/providers", {
      type: "anthropic",
      name: "fake",
      base_url: `${fake.url}/v1`,
      api_key: "sk-ant-oneliner-3b9f",
    });
    modelId = (
      await api<{ id: string }>("POST", "/models", { provider_id: provider.id, model: "m" })
    ).id;
    const workspace = await api<{ id: string; agent_token: string }>("POST", "/workspaces", {
      name: "laptop",
    });
    workspaceId = workspace.id;
    agentToken = workspace.agent_token;
  }, 90_000);

  afterAll(async () => {
    await line?.stop();
    await keel?.stop();
    await fake?.close();
    for (const dir of temp) rmSync(dir, { recursive: true, force: true });
  });

  it("serves the built agent: JavaScript, revalidated by ETag", async () => {
    const response = await fetch(`${keel.url}/agent/keel-agent.mjs`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("no-cache");
    const body = Buffer.from(await response.arrayBuffer());
    expect(body.equals(readFileSync(AGENT_BUNDLE))).toBe(true);
    const again = await fetch(`${keel.url}/agent/keel-agent.mjs`, {
      headers: { "if-none-match": String(response.headers.get("etag")) },
    });
    expect(again.status).toBe(304);
  });

  it("downloads and starts the agent on Node.js 20; a chat's tools run in the workspace", async () => {
    const nodeVersion = agentNodeVersion();
    const dir = tempDir("keel-oneliner-workspace-");
    const home = tempDir("keel-oneliner-home-");
    // A stdio MCP server in the workspace: the bundled MCP client starts it, on Node.js 20 too.
    const server = { command: process.execPath, args: [MCP_FIXTURE] };
    writeFileSync(join(dir, ".mcp.json"), JSON.stringify({ mcpServers: { fx: server } }));
    // No ripgrep on its PATH: search_files takes the JavaScript walk, on Node.js 20 too.
    line = runLine(agentOneLiner(keel.url), {
      cwd: dir,
      home,
      token: agentToken,
      minimalPath: true,
    });
    const running = line;
    const agent = await until(async () => {
      const workspace = await api<Workspace>("GET", `/workspaces/${workspaceId}`);
      if (running.child.exitCode !== null) throw new Error(`the line ended:\n${running.output()}`);
      return workspace.agent.connected ? workspace.agent : undefined;
    }, "the agent to connect");
    expect(agent.version).toBe("0.1.0");
    await until(
      async () =>
        /agent offered MCP tools[^\n]*"count":[1-9]/.test(keel.output()) ? true : undefined,
      "the workspace's MCP tools",
    );
    // Saved outside the workspace: the user's checkout gets no stray file.
    expect(
      readFileSync(join(home, ".cache/keel/keel-agent.mjs")).equals(readFileSync(AGENT_BUNDLE)),
    ).toBe(true);

    fake.enqueue(
      toolCallReply({ name: "write_file", args: { path: "src/app.ts", content: "// TODO: x\n" } }),
      toolCallReply({ name: "search_files", args: { pattern: "TODO" } }),
      toolCallReply({ name: "list_files", args: { path: "." } }),
      toolCallReply({ name: "execute", args: { command: "node --version && pwd" } }),
      toolCallReply({ name: "fx__echo", args: { text: "from Node 20" } }),
      textReply("Done."),
    );
    const chat = await api<{ id: string }>("POST", "/chats", {
      model_id: modelId,
      workspace_id: workspaceId,
      content: [{ type: "text", text: "Look around." }],
    });
    const messages = await until(async () => {
      const shown = await api<{ chat: { status: string }; messages: { parts: Part[] }[] }>(
        "GET",
        `/chats/${chat.id}`,
      );
      return ["waiting", "error"].includes(shown.chat.status) && shown.messages.length > 1
        ? shown
        : undefined;
    }, "the chat to finish");
    expect(messages.chat.status).toBe("waiting");
    const results = messages.messages
      .flatMap((m) => m.parts)
      .filter((p) => p.type === "tool_result");
    expect(results.map((r) => [r.name, r.is_error])).toEqual([
      ["write_file", false],
      ["search_files", false],
      ["list_files", false],
      ["execute", false],
      ["fx__echo", false],
    ]);
    expect(readFileSync(join(dir, "src/app.ts"), "utf8")).toBe("// TODO: x\n");
    const [, search, list, execute, echo] = results.map((r) => String(r.output));
    expect(echo).toBe("echo: from Node 20");
    expect(search).toContain("src/app.ts");
    expect(list).toContain("src/");
    // The tools ran under the agent, in the workspace, with the Node.js it was started on.
    expect(execute).toContain(nodeVersion);
    expect(execute).toContain(dir);

    await line.stop();
    await until(async () => {
      const workspace = await api<Workspace>("GET", `/workspaces/${workspaceId}`);
      return workspace.agent.connected ? undefined : true;
    }, "the agent to disconnect");
    expect(line.output()).not.toContain("error");
    expect(line.output()).not.toContain(agentToken);
  }, 90_000);
});
