/**
 * Two `keel server` replicas (in this process) on one PostgreSQL: a server-side directory
 * workspace created on B gets its agent from B (the machine that holds the directory), and a chat
 * that runs on A (B runs no chats here) has its tool calls relayed to that agent through the
 * database — result and streamed output — with nothing but the calls crossing to the agent.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiClient, type StreamEvent } from "../../src/cli/client.ts";
import { type RunningServer, startServer } from "../../src/server/index.ts";
import { createPostgresDatabase, dropPostgresDatabase } from "../../src/store/test-support.ts";
import {
  type FakeProvider,
  startFakeProvider,
  textReply,
  toolCallReply,
} from "../fakeprovider/index.ts";
import { type Api, apiAs, createOwner } from "./support/api.ts";

const SECRET_KEY = "cd".repeat(32);

describe("a workspace's tools across replicas", () => {
  let fake: FakeProvider;
  let url: string;
  let a: RunningServer;
  let b: RunningServer;
  const logs = { a: [] as string[], b: [] as string[] };
  const dirs: string[] = [];
  let token: string;
  let modelId: string;

  const temp = (prefix: string) => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };
  const logger = (into: string[]) => ({
    info: (m: string, f?: Record<string, unknown>) => into.push(`info ${m} ${JSON.stringify(f)}`),
    warn: (m: string, f?: Record<string, unknown>) => into.push(`warn ${m} ${JSON.stringify(f)}`),
    error: (m: string, f?: Record<string, unknown>) => into.push(`error ${m} ${JSON.stringify(f)}`),
  });
  const replica = (dataDir: string, into: string[], maxRunningChats?: number) =>
    startServer({
      host: "127.0.0.1",
      port: 0,
      dataDir,
      postgresUrl: url,
      secretKey: SECRET_KEY,
      secureCookies: false,
      policy: { baseDelayMs: 20, maxDelayMs: 50 },
      titles: false,
      logger: logger(into),
      ...(maxRunningChats === undefined ? {} : { maxRunningChats }),
    });

  beforeAll(async () => {
    fake = await startFakeProvider();
    url = await createPostgresDatabase();
    a = await replica(temp("keel-replica-a-"), logs.a);
    // B runs no chats: every turn runs on A, while B holds the directory's agent.
    b = await replica(temp("keel-replica-b-"), logs.b, 0);
    token = await createOwner(a.url);
    const api = apiAs(a.url, token);
    const provider = await api<{ id: string }>("POST", "/providers", {
      type: "anthropic",
      name: "fake",
      base_url: `${fake.url}/v1`,
      api_key: "sk-ant-replicas",
    });
    modelId = (
      await api<{ id: string }>("POST", "/models", { provider_id: provider.id, model: "m" })
    ).id;
  }, 60_000);

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await fake?.close();
    if (url) await dropPostgresDatabase(url);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  async function until(check: () => Promise<boolean>, what: string, ms = 20_000) {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) {
        throw new Error(
          `timed out waiting for ${what}\nA:\n${logs.a.join("\n")}\nB:\n${logs.b.join("\n")}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function follow(server: RunningServer, chatId: string): Promise<StreamEvent[]> {
    const seen: StreamEvent[] = [];
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 30_000);
    try {
      await new ApiClient(server.url, token).followEvents(
        `/chats/${chatId}/stream`,
        (event) => {
          seen.push(event);
          const status = (event.data as { status?: string }).status;
          const ran = seen.some(
            (e) => e.event === "status" && (e.data as { status: string }).status === "running",
          );
          return event.event === "status" && ran && (status === "waiting" || status === "error")
            ? "stop"
            : undefined;
        },
        { signal: controller.signal, lastEventId: "0" },
      );
    } finally {
      clearTimeout(timer);
    }
    if (controller.signal.aborted) throw new Error(`timed out: ${seen.map((e) => e.event)}`);
    return seen;
  }

  it("a chat on A runs its tools through the directory agent B runs", async () => {
    const dir = temp("keel-replica-dir-");
    writeFileSync(join(dir, "AGENTS.md"), "Replica rule: say which replica you are on.\n");
    const onB: Api = apiAs(b.url, token);
    const workspace = await onB<{ id: string }>("POST", "/workspaces", {
      name: "on b",
      directory: dir,
    });
    const onA: Api = apiAs(a.url, token);
    await until(
      async () =>
        (await onA<{ agent: { connected: boolean } }>("GET", `/workspaces/${workspace.id}`)).agent
          .connected,
      "B's local agent",
    );
    // Only B started it: A's machine does not hold the directory.
    expect(logs.b.some((l) => l.includes("local agent started"))).toBe(true);
    expect(logs.a.some((l) => l.includes("local agent started"))).toBe(false);

    fake.enqueue(
      toolCallReply({ name: "write_file", args: { path: "made.txt", content: "via b\n" } }),
      toolCallReply({
        name: "execute",
        args: { command: "echo streamed-one; sleep 0.2; echo streamed-two" },
      }),
      textReply("Done."),
    );
    const chat = await onA<{ id: string }>("POST", "/chats", {
      model_id: modelId,
      workspace_id: workspace.id,
      content: [{ type: "text", text: "Write a file, then run something." }],
    });
    const seen = await follow(a, chat.id);
    expect(readFileSync(join(dir, "made.txt"), "utf8")).toBe("via b\n");
    // The instructions A builds for the next turn name the agent's directory and hold its
    // AGENTS.md, read through B. (The first turn's usually do too; only a turn that started
    // within milliseconds of the agent's connection could miss A's view of it.)
    const before = fake.requests.length;
    fake.enqueue(textReply("Still here."));
    await onA("POST", `/chats/${chat.id}/messages`, {
      content: [{ type: "text", text: "Again." }],
    });
    await until(
      async () =>
        fake.requests.length > before &&
        (await onA<{ chat: { status: string } }>("GET", `/chats/${chat.id}`)).chat.status ===
          "waiting",
      "the second turn",
    );
    const system = JSON.stringify(fake.requests.at(-1)?.body ?? {});
    expect(system).toContain("Replica rule: say which replica you are on.");
    expect(system).toContain(dir);
    const streamed = seen
      .filter((e) => e.event === "message_part")
      .map((e) => (e.data as { part: { type: string; output_delta?: string } }).part)
      .filter((p) => p.type === "tool_result")
      .map((p) => p.output_delta ?? "")
      .join("");
    expect(streamed).toContain("streamed-one");
    expect(streamed.indexOf("streamed-two")).toBeGreaterThan(streamed.indexOf("streamed-one"));
    const { messages } = await onA<{
      messages: Array<{ role: string; parts: Array<{ is_error?: boolean; output?: unknown }> }>;
    }>("GET", `/chats/${chat.id}`);
    const results = messages.filter((m) => m.role === "tool").flatMap((m) => m.parts);
    expect(results).toHaveLength(2);
    for (const result of results) expect(result.is_error).toBe(false);
    expect(JSON.stringify(results[1]?.output)).toContain("streamed-two");
  }, 60_000);
});
