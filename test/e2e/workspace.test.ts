/**
 * A chat bound to a workspace, end to end: a real `keel server`, a real `keel agent` process in a
 * temporary directory, the fake provider scripting the model's tool calls, and a TCP proxy between
 * agent and server that records every byte the server sends the agent.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { createConnection, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ApiClient, type StreamEvent } from "../../src/cli/client.ts";
import { openDatabase } from "../../src/store/index.ts";
import {
  type FakeProvider,
  startFakeProvider,
  textReply,
  toolCallReply,
} from "../fakeprovider/index.ts";
import { type Api, apiAs } from "./support/api.ts";
import { freePort, type KeelProcess, startKeel } from "./support/keel-process.ts";

const KEEL = join(import.meta.dirname, "../../bin/keel.js");
const API_KEY = "sk-ant-workspace-secret-7c1e9a";

interface Part {
  type: string;
  text?: string;
  name?: string;
  output?: unknown;
  is_error?: boolean;
  tool_call_id?: string;
}
interface Message {
  id: string;
  role: string;
  parts: Part[];
}

/**
 * Whether a process of the group still runs. Dead processes may wait a moment as zombies for
 * their reaper (PID 1 here): they count as gone, as they do for the person who pressed Stop.
 */
function groupRunning(pgid: number): boolean {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited while we looked
    }
    // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses, so split after ")".
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(pgrp) === pgid && state !== "Z" && state !== "X") return true;
  }
  return false;
}

/** A TCP proxy that keeps every byte the server sent through it. */
async function recordingProxy(
  targetPort: number,
): Promise<{ port: number; sent: () => Buffer; server: Server }> {
  const chunks: Buffer[] = [];
  const server = createServer((client) => {
    const upstream = createConnection(targetPort, "127.0.0.1");
    upstream.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      client.write(chunk);
    });
    client.pipe(upstream);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", close).on("close", close);
    upstream.on("error", close).on("close", close);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return { port, sent: () => Buffer.concat(chunks), server };
}

describe("a chat in a workspace", () => {
  let fake: FakeProvider;
  let keel: KeelProcess;
  let dataDir: string;
  let port: number;
  let admin: string;
  let modelId: string;
  let workspaceId: string;
  let agentToken: string;
  let dir: string;
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  let agent: ChildProcess | undefined;
  let agentOutput = "";

  /** JSON calls as the admin (`support/api.ts`). */
  const api: Api = <T>(method: string, path: string, body?: unknown) =>
    apiAs(keel.url, admin)<T>(method, path, body);

  async function agentConnected(): Promise<boolean> {
    const workspace = await api<{ agent: { connected: boolean } }>(
      "GET",
      `/workspaces/${workspaceId}`,
    );
    return workspace.agent.connected;
  }

  async function until(check: () => Promise<boolean> | boolean, what: string, ms = 20_000) {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${agentOutput}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function startAgent() {
    agent = spawn(
      process.execPath,
      [KEEL, "agent", "--url", `http://127.0.0.1:${proxy.port}`, "--dir", dir],
      {
        env: {
          PATH: process.env.PATH ?? "",
          HOME: process.env.HOME ?? "/tmp",
          KEEL_AGENT_TOKEN: agentToken,
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    agent.stdout?.on("data", (d: Buffer) => (agentOutput += d.toString()));
    agent.stderr?.on("data", (d: Buffer) => (agentOutput += d.toString()));
    await until(agentConnected, "the agent to connect");
  }

  async function stopAgent(signal: NodeJS.Signals = "SIGTERM") {
    if (!agent || agent.exitCode !== null) return;
    const exited = once(agent, "exit");
    agent.kill(signal);
    await exited;
  }

  async function newChat(text: string): Promise<string> {
    const chat = await api<{ id: string }>("POST", "/chats", {
      model_id: modelId,
      workspace_id: workspaceId,
      content: [{ type: "text", text }],
    });
    return chat.id;
  }

  /** The chat's events until `stop` says so. */
  async function follow(
    chatId: string,
    stop: (event: StreamEvent, seen: StreamEvent[]) => boolean,
    timeoutMs = 30_000,
  ): Promise<StreamEvent[]> {
    const seen: StreamEvent[] = [];
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      await new ApiClient(keel.url, admin).followEvents(
        `/chats/${chatId}/stream`,
        (event) => {
          seen.push(event);
          return stop(event, seen) ? "stop" : undefined;
        },
        { signal: controller.signal, lastEventId: "0" },
      );
    } finally {
      clearTimeout(timer);
    }
    if (controller.signal.aborted) {
      throw new Error(`timed out: ${seen.map((e) => e.event).join(" ")}\n${agentOutput}`);
    }
    return seen;
  }

  const settled = (event: StreamEvent, seen: StreamEvent[]) =>
    event.event === "status" &&
    ["waiting", "error"].includes((event.data as { status: string }).status) &&
    seen.some((e) => e.event === "status" && (e.data as { status: string }).status === "running");

  const toolOutput = (seen: StreamEvent[]) =>
    seen
      .filter((e) => e.event === "message_part")
      .map((e) => (e.data as { part: { type: string; output_delta?: string } }).part)
      .filter((p) => p.type === "tool_result")
      .map((p) => p.output_delta ?? "")
      .join("");

  async function transcript(chatId: string) {
    return api<{ chat: { status: string }; messages: Message[] }>("GET", `/chats/${chatId}`);
  }

  function results(messages: Message[]): Part[] {
    return messages.filter((m) => m.role === "tool").flatMap((m) => m.parts);
  }

  beforeAll(async () => {
    fake = await startFakeProvider();
    dataDir = mkdtempSync(join(tmpdir(), "keel-workspace-e2e-"));
    dir = mkdtempSync(join(tmpdir(), "keel-workspace-dir-"));
    port = await freePort();
    keel = await startKeel({ dataDir, port });
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
      api_key: API_KEY,
    });
    modelId = (
      await api<{ id: string }>("POST", "/models", { provider_id: provider.id, model: "m" })
    ).id;
    const workspace = await api<{ id: string; agent_token: string }>("POST", "/workspaces", {
      name: "e2e",
    });
    workspaceId = workspace.id;
    agentToken = workspace.agent_token;
    proxy = await recordingProxy(port);
    await startAgent();
  }, 60_000);

  afterAll(async () => {
    await stopAgent();
    await keel?.stop();
    proxy?.server.close();
    await fake?.close();
  });

  beforeEach(() => fake.reset());

  it("writes, reads, edits and runs code; every call persisted and streamed in order", async () => {
    fake.enqueue(
      toolCallReply({ name: "write_file", args: { path: "src/hello.txt", content: "hello\n" } }),
      toolCallReply({ name: "read_file", args: { path: "src/hello.txt" } }),
      toolCallReply({
        name: "edit_file",
        args: { path: "src/hello.txt", old_string: "hello", new_string: "goodbye" },
      }),
      toolCallReply([
        { name: "execute", args: { command: "cat src/hello.txt" } },
        { name: "execute", args: { command: "echo oops >&2; exit 3" } },
      ]),
      toolCallReply({ name: "execute", args: { command: "sleep 30", timeout_ms: 300 } }),
      textReply("All done."),
    );
    const chatId = await newChat("Make hello say goodbye.");
    const events = await follow(chatId, settled);

    expect(readFileSync(join(dir, "src/hello.txt"), "utf8")).toBe("goodbye\n");
    const { chat, messages } = await transcript(chatId);
    expect(chat.status).toBe("waiting");
    expect(messages.map((m) => m.role)).toEqual([
      "user",
      ...Array.from({ length: 5 }, () => ["assistant", "tool"]).flat(),
      "assistant",
    ]);
    const [write, read, edit, cat, failing, slow] = results(messages);
    expect(write).toMatchObject({ name: "write_file", is_error: false });
    expect(String(read?.output)).toContain("hello");
    expect(edit).toMatchObject({ name: "edit_file", is_error: false });
    expect(String(cat?.output)).toContain("goodbye");
    expect(String(failing?.output)).toMatch(/oops[\s\S]*3/);
    expect(String(slow?.output)).toMatch(/timed out/i);
    // Each call's result is what the model got next.
    expect(fake.requests[1]?.rawBody).toContain("src/hello.txt");
    expect(fake.requests[4]?.rawBody).toContain("goodbye");
    // The stream carried the calls' output as it came, and the persisted messages in order.
    expect(toolOutput(events)).toContain("goodbye");
    const persisted = events
      .filter((e) => e.event === "message")
      .map((e) => (e.data as { message: Message }).message.id);
    expect(persisted).toEqual(messages.map((m) => m.id));
  }, 60_000);

  it("a background process: started, its output read, stopped by a signal", async () => {
    fake.enqueue(
      toolCallReply({
        name: "execute",
        args: {
          command:
            "echo started; for i in 1 2 3 4 5 6 7 8; do sleep 0.5; echo tick $i; done; sleep 60",
          background: true,
        },
      }),
      toolCallReply({ name: "process_output", args: { process_id: "p1", wait_ms: 5_000 } }),
      toolCallReply({ name: "process_signal", args: { process_id: "p1", signal: "TERM" } }),
      toolCallReply({ name: "process_list", args: {} }),
      textReply("The watcher ran and is stopped."),
    );
    const chatId = await newChat("Start the watcher, check it, then stop it.");
    await follow(chatId, settled);
    const [started, output, signalled, listed] = results((await transcript(chatId)).messages);
    expect(started).toMatchObject({ name: "execute", is_error: false });
    expect(String(started?.output)).toMatch(/^\[background process p1 \(pid \d+\)\]/);
    expect(String(started?.output)).toContain("started");
    expect(output).toMatchObject({ name: "process_output", is_error: false });
    expect(String(output?.output)).toContain("tick");
    expect(signalled).toMatchObject({ name: "process_signal", is_error: false });
    expect(listed).toMatchObject({ name: "process_list", is_error: false });
    expect(String(listed?.output)).toContain("p1");
    // The model's next request carried each result.
    expect(fake.requests.at(-1)?.rawBody).toContain("tick");
  }, 60_000);

  it("an agent killed mid-call and restarted completes the pending call", async () => {
    fake.enqueue(
      toolCallReply({ name: "execute", args: { command: "echo started; sleep 1; echo finished" } }),
      textReply("It finished."),
    );
    const chatId = await newChat("Run the slow thing.");
    await follow(chatId, (_e, seen) => toolOutput(seen).includes("started"));
    await stopAgent("SIGKILL");
    await startAgent();
    await follow(chatId, settled);
    const { chat, messages } = await transcript(chatId);
    expect(chat.status).toBe("waiting");
    const [result] = results(messages);
    expect(result).toMatchObject({ is_error: false });
    expect(String(result?.output)).toContain("finished");
  }, 60_000);

  it("Stop during a long execute kills its process group within 1 s", async () => {
    fake.enqueue(toolCallReply({ name: "execute", args: { command: "echo pgid=$$; sleep 30" } }));
    const chatId = await newChat("Run forever.");
    const seen = await follow(chatId, (_e, all) => /pgid=\d+/.test(toolOutput(all)));
    const pgid = Number(/pgid=(\d+)/.exec(toolOutput(seen))?.[1]);
    expect(groupRunning(pgid)).toBe(true);
    const stoppedAt = Date.now();
    await api("POST", `/chats/${chatId}/interrupt`);
    await until(() => !groupRunning(pgid), "the process group to die", 5_000);
    expect(Date.now() - stoppedAt).toBeLessThan(1_000);
    await follow(chatId, settled);
    expect((await transcript(chatId)).chat.status).toBe("waiting");
  }, 60_000);

  it("a server shutdown during execute kills its process group; the chat resumes after restart", async () => {
    fake.enqueue(toolCallReply({ name: "execute", args: { command: "echo pgid=$$; sleep 30" } }));
    const chatId = await newChat("Run forever, again.");
    const seen = await follow(chatId, (_e, all) => /pgid=\d+/.test(toolOutput(all)));
    const pgid = Number(/pgid=(\d+)/.exec(toolOutput(seen))?.[1]);
    await keel.stop();
    await until(() => !groupRunning(pgid), "the process group to die with the server", 5_000);
    fake.enqueue(textReply("Back after the restart."));
    keel = await startKeel({ dataDir, port });
    await until(agentConnected, "the agent to reconnect", 40_000);
    await follow(chatId, settled, 40_000);
    const { chat, messages } = await transcript(chatId);
    expect(chat.status).toBe("waiting");
    const [interrupted] = results(messages);
    expect(interrupted).toMatchObject({ is_error: true });
    expect(messages.at(-1)?.parts).toEqual([{ type: "text", text: "Back after the restart." }]);
  }, 90_000);

  it("a kill -9 of the server while execute ran: after the restart the call is not run again", async () => {
    const marker = join(dir, "appended.txt");
    fake.enqueue(
      toolCallReply({
        name: "execute",
        args: { command: "echo line >> appended.txt; echo pgid=$$; sleep 30" },
      }),
    );
    const chatId = await newChat("Append a line, once.");
    const seen = await follow(chatId, (_e, all) => /pgid=\d+/.test(toolOutput(all)));
    const pgid = Number(/pgid=(\d+)/.exec(toolOutput(seen))?.[1]);
    await keel.stop("SIGKILL");
    fake.enqueue(textReply("Noted: it may have run."));
    keel = await startKeel({ dataDir, port });
    await until(agentConnected, "the agent to reconnect", 40_000);
    await follow(chatId, settled, 40_000);
    const { chat, messages } = await transcript(chatId);
    expect(chat.status).toBe("waiting");
    // The line was appended once: the resumed chat never sent the call again.
    expect(readFileSync(marker, "utf8")).toBe("line\n");
    const [started] = results(messages);
    expect(started).toMatchObject({
      is_error: true,
      output: expect.stringMatching(/server stopped while this tool call was running.*may have/),
    });
    expect(messages.at(-1)?.parts).toEqual([{ type: "text", text: "Noted: it may have run." }]);
    try {
      process.kill(-pgid, "SIGKILL"); // the command the dead server's call started
    } catch {
      // already gone
    }
  }, 90_000);

  it("a workspace with a server-side directory gets its agent from the server itself", async () => {
    const local = mkdtempSync(join(tmpdir(), "keel-local-workspace-"));
    const workspace = await api<{ id: string }>("POST", "/workspaces", {
      name: "local",
      directory: local,
    });
    await until(async () => {
      const shown = await api<{ agent: { connected: boolean } }>(
        "GET",
        `/workspaces/${workspace.id}`,
      );
      return shown.agent.connected;
    }, "the local agent to connect");
    fake.enqueue(
      toolCallReply({ name: "write_file", args: { path: "made-here.txt", content: "local\n" } }),
      textReply("Written."),
    );
    const chat = await api<{ id: string }>("POST", "/chats", {
      model_id: modelId,
      workspace_id: workspace.id,
      content: [{ type: "text", text: "Write a file." }],
    });
    await follow(chat.id, settled);
    expect(readFileSync(join(local, "made-here.txt"), "utf8")).toBe("local\n");
  }, 60_000);

  it("no provider key, server secret or user token ever crossed the agent connection", async () => {
    const sent = proxy.sent().toString("latin1");
    expect(sent.length).toBeGreaterThan(1000); // it did carry the calls above
    expect(sent).toContain("write_file");
    const secretKey = readFileSync(join(dataDir, "secret.key"), "utf8").trim();
    for (const secret of [API_KEY, admin, secretKey]) expect(sent).not.toContain(secret);
    // The encrypted key too: read it from the database once the server is stopped.
    await stopAgent();
    await keel.stop();
    const db = await openDatabase({ dataDir }, { poolSize: 1 });
    try {
      const [row] = await db.query<{ api_key_encrypted: string }>(
        "SELECT api_key_encrypted FROM providers",
      );
      expect(row?.api_key_encrypted.length).toBeGreaterThan(10);
      expect(sent).not.toContain(row?.api_key_encrypted);
    } finally {
      await db.close();
    }
    keel = await startKeel({ dataDir, port });
  }, 60_000);
});
