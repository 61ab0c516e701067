import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import type { ChatService } from "../../src/chatd/contract.ts";
import { ChatDaemon, type ChatDaemonOptions } from "../../src/chatd/daemon.ts";
import { createChatService } from "../../src/chatd/service.ts";
import { defineTool, ToolRegistry } from "../../src/chatloop/tools.ts";
import type { Transport } from "../../src/provider/index.ts";
import type { Store } from "../../src/store/contract.ts";
import type { Chat, ChatEvent, ChatStatus, ModelRecord, User } from "../../src/store/types.ts";
import {
  errorReply,
  type FakeProvider,
  hangAfter,
  resetAfter,
  textReply,
  toolCallReply,
} from "../fakeprovider/index.ts";
import { useChatdWorld } from "./support/chatd-world.ts";

const add = defineTool({
  name: "add",
  description: "Adds two numbers.",
  inputSchema: z.object({ a: z.number(), b: z.number() }),
  execute: ({ a, b }) => ({ output: String(a + b), is_error: false }),
});

const silentLogger = { warn: () => {}, error: () => {} };

describe("chatd", () => {
  const world = useChatdWorld();
  let fake: FakeProvider;
  let transport: Transport;
  let store: Store;
  let service: ChatService;
  let owner: User;
  let model: ModelRecord;
  const daemons: ChatDaemon[] = [];

  let providerId: string;

  // One database for the file; each test gets its own model, and
  // chats a test leaves pending or running are archived so no later daemon picks them up.
  beforeAll(() => {
    ({ fake, transport, store, service, owner, providerId } = world);
  });

  beforeEach(async () => {
    model = await store.createModel({
      provider_id: providerId,
      model: "claude-test",
      pricing: { input_per_mtok: 3, output_per_mtok: 15 },
    });
  });

  afterEach(async () => {
    for (const daemon of daemons.splice(0)) await daemon.shutdown();
    const { items } = await store.listChats(undefined, { limit: 1000 });
    for (const chat of items) {
      if (chat.status === "pending" || chat.status === "running") {
        await store.updateChat(chat.id, { archived: true });
      }
    }
  });

  async function startDaemon(options: Partial<ChatDaemonOptions> = {}): Promise<ChatDaemon> {
    const daemon = new ChatDaemon({
      store,
      transport,
      tools: new ToolRegistry([add]),
      policy: { baseDelayMs: 1, maxDelayMs: 5 },
      silenceMs: 5_000,
      pollIntervalMs: 100,
      heartbeatIntervalMs: 100,
      staleMs: 1_000,
      recoverIntervalMs: 200,
      logger: silentLogger,
      ...options,
    });
    daemons.push(daemon);
    await daemon.start();
    return daemon;
  }

  function create(text: string): Promise<Chat> {
    return service.createChat(owner, {
      model_id: model.id,
      content: [{ type: "text", text }],
    });
  }

  async function waitForStatus(chatId: string, status: ChatStatus, timeout = 10_000) {
    await vi.waitFor(
      async () => {
        const chat = await store.getChat(chatId);
        expect(chat?.status).toBe(status);
      },
      { timeout, interval: 20 },
    );
    return (await store.getChat(chatId)) as Chat;
  }

  async function events(chatId: string): Promise<ChatEvent[]> {
    return store.events.listAfter(chatId, 0, 100_000);
  }

  /** Resolves with the chat's first event of `type` (persisted or live). */
  function firstEvent(chatId: string, type: string): Promise<ChatEvent> {
    return new Promise((resolve) => {
      let stop: (() => void) | undefined;
      let found: ChatEvent | undefined;
      stop = store.events.subscribe(
        chatId,
        (event) => {
          if (found || event.type !== type) return;
          found = event;
          stop?.();
          resolve(event);
        },
        0,
      );
      if (found) stop();
    });
  }

  const roles = async (chatId: string) => (await store.listMessages(chatId)).map((m) => m.role);
  const texts = async (chatId: string) =>
    (await store.listMessages(chatId)).map((m) =>
      m.parts.map((p) => (p.type === "text" ? p.text : p.type)).join("|"),
    );

  it("runs a multi-step turn with a tool and ends waiting", async () => {
    fake.enqueue(
      toolCallReply({ name: "add", args: { a: 2, b: 3 }, id: "call_1" }, { text: "Adding." }),
      textReply("2 + 3 = 5."),
    );
    await startDaemon();
    const chat = await create("What is 2 + 3?\nShow your work.");
    expect(chat.title).toBe("What is 2 + 3?");
    const done = await waitForStatus(chat.id, "waiting");
    expect(done.last_error).toBeNull();

    const messages = await store.listMessages(chat.id);
    expect(messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"]);
    expect(messages[1]?.parts).toEqual([
      { type: "text", text: "Adding." },
      { type: "tool_call", tool_call_id: "call_1", name: "add", input: { a: 2, b: 3 } },
    ]);
    expect(messages[2]?.parts).toEqual([
      { type: "tool_result", tool_call_id: "call_1", name: "add", output: "5", is_error: false },
    ]);
    expect(messages[3]?.parts).toEqual([{ type: "text", text: "2 + 3 = 5." }]);
    expect(messages[3]?.usage?.outputTokens).toBeGreaterThan(0);

    const log = await events(chat.id);
    expect(log.map((e) => e.seq)).toEqual(log.map((_, i) => i + 1));
    const kinds = log.map((e) => e.type).filter((t) => t !== "message_part");
    expect(kinds).toEqual([
      "message", // the user's
      "status", // pending
      "status", // running
      "message", // assistant with the tool call
      "usage",
      "message", // tool results
      "message", // final answer
      "usage",
      "status", // waiting
    ]);
    const statuses = log.filter((e) => e.type === "status").map((e) => e.data);
    expect(statuses).toEqual([{ status: "pending" }, { status: "running" }, { status: "waiting" }]);
    const usage = log.filter((e) => e.type === "usage").map((e) => e.data as { cost_usd: number });
    expect(usage[0]?.cost_usd).toBeGreaterThan(0);
    // Deltas come before the message they build, under its id.
    const firstDelta = log.find((e) => e.type === "message_part");
    expect(firstDelta?.data).toMatchObject({ message_id: messages[1]?.id });
    expect((firstDelta?.seq ?? 0) < (log.find((e) => e.type === "usage")?.seq ?? 0)).toBe(true);
  });

  it("retries a reset mid-stream and persists the reply once", async () => {
    fake.enqueue(resetAfter("The answer", 2), textReply("The answer is 42."));
    await startDaemon();
    const chat = await create("Answer?");
    await waitForStatus(chat.id, "waiting");
    expect(await texts(chat.id)).toEqual(["Answer?", "The answer is 42."]);
    const log = await events(chat.id);
    const retry = log.find((e) => e.type === "retry");
    expect(retry?.data).toMatchObject({ attempt: 1, kind: "timeout" });
    const afterRetry = log.filter((e) => e.seq > (retry?.seq ?? 0));
    expect(afterRetry.some((e) => e.type === "message")).toBe(true);
    expect(log.some((e) => e.type === "error")).toBe(false);
  });

  it("keeps the partial reply on Stop: waiting, no error event", async () => {
    fake.enqueue(hangAfter("Partial repl", 2));
    await startDaemon();
    const chat = await create("Go slowly.");
    const firstPart = firstEvent(chat.id, "message_part");
    await firstPart;
    await waitForStatus(chat.id, "running");
    await vi.waitFor(async () => {
      // Both deltas arrived (the second may still be buffered in the coalescer).
      expect(fake.requests).toHaveLength(1);
    });
    await new Promise((r) => setTimeout(r, 150));
    await service.interrupt((await store.getChat(chat.id)) as Chat);
    const done = await waitForStatus(chat.id, "waiting");
    expect(done.last_error).toBeNull();
    expect(await texts(chat.id)).toEqual(["Go slowly.", "Partial repl"]);
    const log = await events(chat.id);
    expect(log.some((e) => e.type === "error")).toBe(false);
    expect(log.at(-1)).toMatchObject({ type: "status", data: { status: "waiting" } });
    await vi.waitFor(() => expect(fake.inFlight).toBe(0));
  });

  it("Stop before any worker claims the chat sets waiting at once", async () => {
    const chat = await create("No daemon here.");
    await service.interrupt(chat);
    const done = await store.getChat(chat.id);
    expect(done?.status).toBe("waiting");
    const log = await events(chat.id);
    expect(log.at(-1)).toMatchObject({ type: "status", data: { status: "waiting" } });
  });

  it("ends a terminal 401 with one error event, and the next message continues", async () => {
    fake.enqueue(errorReply("auth"));
    await startDaemon();
    const chat = await create("Hello?");
    const failed = await waitForStatus(chat.id, "error");
    expect(failed.last_error).toMatchObject({ kind: "auth", status_code: 401 });
    let log = await events(chat.id);
    const errors = log.filter((e) => e.type === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]?.data).toMatchObject({ kind: "auth", status_code: 401 });
    expect(log.at(-1)).toMatchObject({ type: "status", data: { status: "error" } });
    expect(fake.requests).toHaveLength(1);

    // The admin fixes the key (the daemon rebuilds the model); the user sends another message.
    await store.updateProvider(providerId, { api_key: "fixed-key" });
    fake.enqueue(textReply("Hello again."));
    await service.sendMessage(failed, [{ type: "text", text: "Try again." }]);
    const done = await waitForStatus(chat.id, "waiting");
    expect(done.last_error).toBeNull();
    // The failed turn's error stays where it happened (an `error` part of its own message).
    expect(await texts(chat.id)).toEqual(["Hello?", "error", "Try again.", "Hello again."]);
    expect(fake.requests[0]?.headers["x-api-key"]).toBe("k");
    expect(fake.requests[1]?.headers["x-api-key"]).toBe("fixed-key");
    log = await events(chat.id);
    expect(log.filter((e) => e.type === "error")).toHaveLength(1);
  });

  it("ends a chat whose model was disabled with a config error, not a crash", async () => {
    const chat = await create("Hi");
    await store.updateModel(model.id, { enabled: false });
    await startDaemon();
    const failed = await waitForStatus(chat.id, "error");
    expect(failed.last_error?.kind).toBe("config");
    const log = await events(chat.id);
    expect(log.filter((e) => e.type === "error")).toHaveLength(1);
    expect(fake.requests).toHaveLength(0);
  });

  it("queues a message sent while a turn runs and answers it after", async () => {
    fake.enqueue(
      textReply("First answer, slowly.", { chunkDelayMs: 60 }),
      textReply("Second answer."),
    );
    await startDaemon();
    const chat = await create("First question");
    await firstEvent(chat.id, "message_part");
    await service.sendMessage((await store.getChat(chat.id)) as Chat, [
      { type: "text", text: "Second question" },
    ]);
    // Queued: not in the transcript while the first turn runs.
    expect(await roles(chat.id)).toEqual(["user"]);
    await waitForStatus(chat.id, "waiting");
    expect(await texts(chat.id)).toEqual([
      "First question",
      "First answer, slowly.",
      "Second question",
      "Second answer.",
    ]);
    // The second request saw the whole first exchange.
    const body = JSON.stringify(fake.requests[1]?.body);
    expect(body).toContain("First answer, slowly.");
    expect(body).toContain("Second question");
    const log = await events(chat.id);
    const statuses = log.filter((e) => e.type === "status").map((e) => e.data);
    expect(statuses.at(-1)).toEqual({ status: "waiting" });
    expect(statuses.filter((s) => (s as { status: string }).status === "waiting")).toHaveLength(1);
  });

  it("hands a chat over on shutdown; the next daemon resumes and completes it", async () => {
    fake.enqueue(hangAfter("Half of the", 2));
    const first = await startDaemon();
    const chat = await create("Long task");
    await firstEvent(chat.id, "message_part");
    await new Promise((r) => setTimeout(r, 150));
    const started = Date.now();
    await first.shutdown();
    expect(Date.now() - started).toBeLessThan(20_000); // bounded: the hanging turn was stopped
    const released = await store.getChat(chat.id);
    expect(released?.status).toBe("pending");
    expect(released?.worker_id).toBeNull();
    expect(await texts(chat.id)).toEqual(["Long task", "Half of the"]);
    let log = await events(chat.id);
    expect(log.some((e) => e.type === "error")).toBe(false);
    expect(log.at(-1)).toMatchObject({ type: "status", data: { status: "pending" } });

    fake.enqueue(textReply("…rest of the answer."));
    const second = await startDaemon();
    expect(second.workerId).not.toBe(first.workerId);
    await waitForStatus(chat.id, "waiting");
    expect(await texts(chat.id)).toEqual(["Long task", "Half of the", "…rest of the answer."]);
    log = await events(chat.id);
    expect(log.map((e) => e.seq)).toEqual(log.map((_, i) => i + 1));
  });

  it("takes over a chat left running by a dead worker", async () => {
    const chat = await create("Orphan");
    const [claimed] = await store.acquireChats("dead-worker", 1);
    expect(claimed?.id).toBe(chat.id);
    fake.enqueue(textReply("Adopted."));
    const daemon = await startDaemon({ staleMs: 400, heartbeatIntervalMs: 100 });
    await waitForStatus(chat.id, "waiting");
    expect(await texts(chat.id)).toEqual(["Orphan", "Adopted."]);
    expect(daemon.activeChats).toEqual([]);
  });

  it("settles what a worker that died mid-step saved: text kept, its tool call never run", async () => {
    const chat = await create("What is 2 + 3?");
    const [claimed] = await store.acquireChats("dead-worker", 1);
    expect(claimed?.id).toBe(chat.id);
    // What the dead worker's turn had saved as parts completed, before the process was killed.
    await store.saveMessage(chat.id, {
      id: "00000000-0000-4000-8000-00000000dead",
      role: "assistant",
      parts: [
        { type: "reasoning", text: "Simple sum." },
        { type: "text", text: "Let me add." },
        { type: "tool_call", tool_call_id: "call_dead", name: "add", input: { a: 2, b: 3 } },
      ],
      model_id: model.id,
      in_progress: true,
    });
    fake.enqueue(textReply("It is 5."));
    await startDaemon({ staleMs: 400, heartbeatIntervalMs: 100 });
    await waitForStatus(chat.id, "waiting");
    const messages = await store.listMessages(chat.id);
    expect(messages.map((m) => [m.role, m.in_progress])).toEqual([
      ["user", false],
      ["assistant", false],
      ["assistant", false],
    ]);
    expect(await texts(chat.id)).toEqual(["What is 2 + 3?", "reasoning|Let me add.", "It is 5."]);
    // The call from the unfinished stream was neither run (no tool message) nor sent.
    expect(JSON.stringify(fake.requests[0]?.body)).not.toContain("call_dead");
    const log = await events(chat.id);
    const announced = log
      .filter((e) => e.type === "message")
      .map((e) => (e.data as { message: { id: string } }).message.id);
    expect(announced).toEqual([messages[0]?.id, messages[1]?.id, messages[2]?.id]);
  });

  it("announces a dead worker's chat going back to pending, and the queued message it moved", async () => {
    const chat = await create("Orphan with a follow-up");
    const [claimed] = await store.acquireChats("dead-worker", 1);
    expect(claimed?.id).toBe(chat.id);
    // Sent while the dead worker "ran" it: queued, not yet in the transcript.
    await service.sendMessage(claimed as Chat, [{ type: "text", text: "Still there?" }]);
    fake.enqueue(textReply("Yes."));
    await startDaemon({ staleMs: 400, heartbeatIntervalMs: 100 });
    await waitForStatus(chat.id, "waiting");
    expect(await texts(chat.id)).toEqual(["Orphan with a follow-up", "Still there?", "Yes."]);
    const log = await events(chat.id);
    const userEvents = log.filter(
      (e) =>
        e.type === "message" && (e.data as { message: { role: string } }).message.role === "user",
    );
    expect(
      userEvents.map((e) => (e.data as { message: { parts: unknown } }).message.parts),
    ).toEqual([
      [{ type: "text", text: "Orphan with a follow-up" }],
      [{ type: "text", text: "Still there?" }],
    ]);
    const statuses = log.filter((e) => e.type === "status");
    expect(statuses.map((e) => (e.data as { status: string }).status)).toEqual([
      "pending",
      "running", // the dead worker's claim
      "pending", // recovered
      "running",
      "waiting",
    ]);
    // The moved message is announced before the chat is pending again, and both before the
    // new worker's turn.
    const moved = userEvents[1]?.seq ?? 0;
    expect(moved).toBeLessThan(statuses[2]?.seq ?? 0);
  });

  it("Stop racing a claim leaves the claimed chat alone", async () => {
    const chat = await create("Claimed under our feet");
    // The chat is claimed between the service reading it (pending, unowned) and acting on it.
    const racing = new Proxy(store, {
      get(target, prop) {
        if (prop === "getChat") {
          return async (id: string) => {
            const seen = await target.getChat(id);
            await target.acquireChats("racer", 1);
            return seen;
          };
        }
        const value: unknown = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const before = (await events(chat.id)).length;
    await createChatService(racing).interrupt(chat);
    const after = await store.getChat(chat.id);
    expect(after).toMatchObject({ status: "running", worker_id: "racer" });
    const added = (await events(chat.id)).slice(before);
    expect(
      added.some((e) => e.type === "status" && (e.data as { status: string }).status === "waiting"),
    ).toBe(false);
  });

  it("every chat's event log shows pending before running, also under a fast poll", async () => {
    const n = 12;
    for (let i = 0; i < n; i++) fake.enqueue(textReply(`Reply ${i}.`));
    await startDaemon({ pollIntervalMs: 1 });
    const chats = await Promise.all(Array.from({ length: n }, (_, i) => create(`Question ${i}`)));
    for (const chat of chats) await waitForStatus(chat.id, "waiting");
    for (let i = 0; i < n; i++) fake.enqueue(textReply(`Again ${i}.`));
    await Promise.all(
      chats.map((chat) => service.sendMessage(chat, [{ type: "text", text: "And again?" }])),
    );
    for (const chat of chats) {
      await vi.waitFor(
        async () => expect((await store.listMessages(chat.id)).map((m) => m.role)).toHaveLength(4),
        { timeout: 10_000, interval: 20 },
      );
      await waitForStatus(chat.id, "waiting");
    }
    for (const chat of chats) {
      const log = await events(chat.id);
      const statuses = log
        .filter((e) => e.type === "status")
        .map((e) => (e.data as { status: string }).status);
      expect(statuses, chat.id).toEqual([
        "pending",
        "running",
        "waiting",
        "pending",
        "running",
        "waiting",
      ]);
      // Each user message is announced before the turn that answers it starts.
      const kinds = log
        .filter((e) => e.type === "message" || e.type === "status")
        .map((e) =>
          e.type === "status"
            ? (e.data as { status: string }).status
            : (e.data as { message: { role: string } }).message.role,
        );
      expect(kinds, chat.id).toEqual([
        "user",
        "pending",
        "running",
        "assistant",
        "waiting",
        "user",
        "pending",
        "running",
        "assistant",
        "waiting",
      ]);
    }
  });

  it("abandons a turn whose ownership was lost, writing nothing more", async () => {
    fake.enqueue(hangAfter("Mine", 1));
    const daemon = await startDaemon({ staleMs: 60_000, heartbeatIntervalMs: 100 });
    const chat = await create("Contested");
    await firstEvent(chat.id, "message_part");
    // Another worker's recovery steals it (as if our heartbeats had stopped).
    await store.releaseChat(chat.id, daemon.workerId, "pending", null);
    const [stolen] = await store.acquireChats("other-worker", 1);
    expect(stolen?.id).toBe(chat.id);
    const before = (await events(chat.id)).length;
    await vi.waitFor(() => expect(daemon.activeChats).toEqual([]), { timeout: 5_000 });
    expect(await roles(chat.id)).toEqual(["user"]);
    expect((await events(chat.id)).length).toBe(before);
    expect((await store.getChat(chat.id))?.worker_id).toBe("other-worker");
  });

  it("coalesces deltas: a 2,000-delta reply is far fewer events", async () => {
    const reply = Array.from({ length: 2_000 }, (_, i) => `w${i}`).join(" ");
    fake.enqueue(textReply(reply, { chunkDelayMs: 1 }));
    await startDaemon({ flushIntervalMs: 75 });
    const chat = await create("Talk a lot.");
    const started = Date.now();
    await waitForStatus(chat.id, "waiting", 30_000);
    const seconds = (Date.now() - started) / 1000;
    const log = await events(chat.id);
    const parts = log.filter((e) => e.type === "message_part");
    expect(await texts(chat.id)).toEqual(["Talk a lot.", reply]);
    // Every event is one events.append (one row): at most ~1000/75 flushes per second, plus the
    // first delta, for 2,000 deltas.
    expect(parts.length).toBeLessThan(Math.ceil(seconds * (1000 / 75)) + 5);
    expect(parts.length).toBeLessThan(200);
    const streamed = parts.map((e) => (e.data as { part: { text: string } }).part.text).join("");
    expect(streamed).toBe(reply);
  });

  it("stream() replays, then goes live, without loss or duplication under concurrent appends", async () => {
    const chat = await create("hi");
    const initial = (await store.events.listAfter(chat.id, 0)).length;
    const total = 300;
    let appended = initial;
    const writer = (async () => {
      for (let i = 0; i < total; i++) {
        await store.events.append(chat.id, "message_part", {
          message_id: "m",
          part: { type: "text", text: String(i) },
        });
        appended += 1;
      }
    })();

    const streams: number[][] = [];
    const stops: Array<() => void> = [];
    // Subscribers join at different moments (and from different cursors) while appends run.
    for (let k = 0; k < 5; k++) {
      await new Promise((r) => setTimeout(r, 5));
      const seen: number[] = [];
      streams.push(seen);
      const after = k === 4 ? 2 : 0;
      stops.push(await service.stream(chat.id, after, (event) => seen.push(event.seq)));
    }
    await writer;
    await vi.waitFor(() => {
      for (const seen of streams) expect(seen.at(-1)).toBe(appended);
    });
    for (const [k, seen] of streams.entries()) {
      const from = k === 4 ? 3 : 1;
      expect(seen).toEqual(Array.from({ length: appended - from + 1 }, (_, i) => i + from));
    }
    for (const stop of stops) stop();
  });

  it("rejects unknown and disabled models and empty content", async () => {
    await store.updateModel(model.id, { enabled: false });
    const text = [{ type: "text" as const, text: "hi" }];
    await expect(
      service.createChat(owner, {
        model_id: "00000000-0000-0000-0000-000000000000",
        content: text,
      }),
    ).rejects.toMatchObject({ name: "ChatRequestError", status: 404 });
    await expect(
      service.createChat(owner, { model_id: model.id, content: text }),
    ).rejects.toMatchObject({
      status: 400,
    });
    await store.updateModel(model.id, { enabled: true });
    await expect(
      service.createChat(owner, { model_id: model.id, content: [{ type: "text", text: "  " }] }),
    ).rejects.toMatchObject({ status: 400 });
  });
});
