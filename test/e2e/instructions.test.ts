/**
 * The instructions end to end (DESIGN.md §7): a real `keel server`, a real `keel agent` in a
 * temporary directory and the fake provider. All four layers reach the provider's request, in
 * order, each its own system block; `GET /chats/{id}/instructions` shows the same texts; editing
 * AGENTS.md takes effect on the next turn, and CLAUDE.md stands in when there is no AGENTS.md.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { arch, platform, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DEPLOYMENT_PROMPT_HEADING,
  SYSTEM_PROMPT,
  USER_INSTRUCTIONS_HEADING,
  workspaceInstructionsHeading,
} from "../../src/chatloop/history.ts";
import {
  type FakeProvider,
  startFakeProvider,
  textReply,
  toolCallReply,
} from "../fakeprovider/index.ts";
import { type Api, apiAs } from "./support/api.ts";
import { freePort, type KeelProcess, startKeel } from "./support/keel-process.ts";

const KEEL = join(import.meta.dirname, "../../bin/keel.js");

describe("instructions in a workspace chat", () => {
  let fake: FakeProvider;
  let keel: KeelProcess;
  let admin: string;
  let modelId: string;
  let workspaceId: string;
  let dir: string;
  let agent: ChildProcess | undefined;
  let agentOutput = "";

  /** JSON calls as the admin (`support/api.ts`). */
  const api: Api = <T>(method: string, path: string, body?: unknown) =>
    apiAs(keel.url, admin)<T>(method, path, body);

  async function until(check: () => Promise<boolean> | boolean, what: string, ms = 20_000) {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${agentOutput}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Anthropic's `system`: the prompt's system messages, as blocks, in order. */
  const systemTexts = (body: unknown) =>
    ((body as { system?: Array<{ text: string }> }).system ?? []).map((block) => block.text);

  async function settledAfter(chatId: string, requests: number) {
    await until(async () => {
      const { chat } = await api<{ chat: { status: string } }>("GET", `/chats/${chatId}`);
      return fake.requests.length >= requests && ["waiting", "error"].includes(chat.status);
    }, `the turn to end after ${requests} requests`);
  }

  beforeAll(async () => {
    fake = await startFakeProvider();
    const dataDir = mkdtempSync(join(tmpdir(), "keel-instructions-e2e-"));
    dir = mkdtempSync(join(tmpdir(), "keel-instructions-dir-"));
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
      api_key: "sk-ant-instructions-e2e",
    });
    modelId = (
      await api<{ id: string }>("POST", "/models", { provider_id: provider.id, model: "m" })
    ).id;
    const workspace = await api<{ id: string; agent_token: string }>("POST", "/workspaces", {
      name: "instructions",
    });
    workspaceId = workspace.id;
    agent = spawn(process.execPath, [KEEL, "agent", "--url", keel.url, "--dir", dir], {
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "/tmp",
        KEEL_AGENT_TOKEN: workspace.agent_token,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    agent.stdout?.on("data", (d: Buffer) => (agentOutput += d.toString()));
    agent.stderr?.on("data", (d: Buffer) => (agentOutput += d.toString()));
    await until(async () => {
      const w = await api<{ agent: { connected: boolean } }>("GET", `/workspaces/${workspaceId}`);
      return w.agent.connected;
    }, "the agent to connect");
  }, 60_000);

  afterAll(async () => {
    if (agent && agent.exitCode === null) {
      const exited = once(agent, "exit");
      agent.kill("SIGTERM");
      await exited;
    }
    await keel?.stop();
    await fake?.close();
  });

  it("tells all four layers in order, as shown, and reads AGENTS.md afresh at each turn", async () => {
    await api("PATCH", "/settings", { system_prompt: "Deployment rule: be kind." });
    await api("PATCH", "/users/me", { instructions: "User rule: call me Ada." });
    writeFileSync(join(dir, "AGENTS.md"), "# Project\n\nRun `npm test` before you finish.\n");

    // A turn of two steps (a tool call, then an answer): both steps get the same instructions.
    fake.enqueue(toolCallReply({ name: "list_files", args: {} }), textReply("Done, Ada."));
    const chat = await api<{ id: string }>("POST", "/chats", {
      model_id: modelId,
      workspace_id: workspaceId,
      content: [{ type: "text", text: "hello" }],
    });
    await settledAfter(chat.id, 2);
    const first = systemTexts(fake.requests[0]?.body);
    expect(first).toHaveLength(4);
    expect(first[0]?.startsWith(SYSTEM_PROMPT)).toBe(true);
    expect(first[0]).toContain(`Today's date: ${new Date().toISOString().slice(0, 10)} (UTC)`);
    expect(first[0]).toContain(`operating system: ${platform()} ${arch()}`);
    expect(first[0]).toContain(`working directory: ${dir}`);
    expect(first[1]).toBe(`${DEPLOYMENT_PROMPT_HEADING}\n\nDeployment rule: be kind.`);
    expect(first[2]).toBe(`${USER_INSTRUCTIONS_HEADING}\n\nUser rule: call me Ada.`);
    expect(first[3]).toBe(
      `${workspaceInstructionsHeading("AGENTS.md")}\n\n# Project\n\nRun \`npm test\` before you finish.`,
    );
    expect(systemTexts(fake.requests[1]?.body)).toEqual(first);

    // What the chat view shows is what the provider got.
    const shown = await api<{ layers: Array<{ source: string; text: string }> }>(
      "GET",
      `/chats/${chat.id}/instructions`,
    );
    expect(shown.layers.map((l) => l.source)).toEqual(["keel", "deployment", "user", "workspace"]);
    expect(shown.layers.map((l) => l.text)).toEqual(first);

    // Edited between turns: the next turn tells the new text.
    writeFileSync(join(dir, "AGENTS.md"), "Use tabs, never spaces.\n");
    fake.enqueue(textReply("Tabs it is."));
    await api("POST", `/chats/${chat.id}/messages`, { content: [{ type: "text", text: "again" }] });
    await settledAfter(chat.id, 3);
    expect(systemTexts(fake.requests[2]?.body)[3]).toBe(
      `${workspaceInstructionsHeading("AGENTS.md")}\n\nUse tabs, never spaces.`,
    );

    // No AGENTS.md: CLAUDE.md stands in; neither: no workspace layer, the turn runs all the same.
    rmSync(join(dir, "AGENTS.md"));
    writeFileSync(join(dir, "CLAUDE.md"), "Claude rule.\n");
    fake.enqueue(textReply("Claude rule noted."));
    await api("POST", `/chats/${chat.id}/messages`, { content: [{ type: "text", text: "more" }] });
    await settledAfter(chat.id, 4);
    expect(systemTexts(fake.requests[3]?.body)[3]).toBe(
      `${workspaceInstructionsHeading("CLAUDE.md")}\n\nClaude rule.`,
    );
    rmSync(join(dir, "CLAUDE.md"));
    fake.enqueue(textReply("Nothing to read."));
    await api("POST", `/chats/${chat.id}/messages`, { content: [{ type: "text", text: "last" }] });
    await settledAfter(chat.id, 5);
    expect(systemTexts(fake.requests[4]?.body)).toHaveLength(3);
    const { chat: after } = await api<{ chat: { status: string } }>("GET", `/chats/${chat.id}`);
    expect(after.status).toBe("waiting");
  });
});
