/**
 * Context management end to end (chatd, the real store, the fake provider over real sockets, which
 * counts each prompt as a provider does and refuses one past its window): a chat much longer than
 * its model's window goes on across several compactions without a prompt ever refused; compaction
 * on demand; Stop during it.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { ChatService } from "../../src/chatd/contract.ts";
import { ChatDaemon } from "../../src/chatd/daemon.ts";
import { COMPACTION_SYSTEM_PROMPT, SUMMARY_PREAMBLE } from "../../src/chatloop/compaction.ts";
import type { Store } from "../../src/store/contract.ts";
import type { Chat, ChatStatus, ModelRecord, User } from "../../src/store/types.ts";
import { type FakeProvider, hangAfter, textReply } from "../fakeprovider/index.ts";
import { useChatdWorld } from "./support/chatd-world.ts";

/** The small model's window, in tokens (as the fake provider counts them). */
const WINDOW = 4_000;

describe("chatd: a chat never dies of its length", () => {
  const world = useChatdWorld({ contextWindow: WINDOW });
  let fake: FakeProvider;
  let store: Store;
  let service: ChatService;
  let owner: User;
  let model: ModelRecord;
  let daemon: ChatDaemon | undefined;

  beforeAll(async () => {
    ({ fake, store, service, owner } = world);
    model = await store.createModel({
      provider_id: world.providerId,
      model: "claude-small",
      context_window: WINDOW,
    });
  });
  beforeEach(async () => {
    fake.setContextWindow(WINDOW);
    daemon = new ChatDaemon({
      store,
      transport: world.transport,
      policy: { baseDelayMs: 1, maxDelayMs: 5 },
      pollIntervalMs: 100,
      heartbeatIntervalMs: 100,
      staleMs: 1_000,
      recoverIntervalMs: 200,
      logger: { warn: () => {}, error: () => {} },
    });
    await daemon.start();
  });
  afterEach(async () => {
    await daemon?.shutdown();
  });

  async function waitForStatus(chatId: string, status: ChatStatus): Promise<Chat> {
    let chat: Chat | null = null;
    await vi.waitFor(
      async () => {
        chat = await store.getChat(chatId);
        expect(chat?.status).toBe(status);
      },
      { timeout: 20_000, interval: 20 },
    );
    if (!chat) throw new Error("no chat");
    return chat;
  }

  const summaryRequests = () =>
    fake.requests.filter((r) => r.rawBody.includes(COMPACTION_SYSTEM_PROMPT.slice(0, 60)));
  const compactions = async (chatId: string) =>
    (await store.listMessages(chatId)).filter((m) => m.parts.some((p) => p.type === "compaction"));

  it("keeps going across several compactions, every prompt under the window", async () => {
    // Each turn adds ~2,600 characters (~650 tokens) of question and answer: twelve turns are
    // about twice the window. Every request — step or summary — gets a ~1,200-character reply.
    const reply = (i: number) =>
      textReply(`## Goal\nReply ${i}. ${"The answer goes on at some length. ".repeat(35)}`);
    for (let i = 0; i < 60; i++) fake.enqueue(reply(i));
    const question = (i: number) =>
      `Question ${i}: ${"please consider this carefully. ".repeat(45)}`;
    const chat = await service.createChat(owner, {
      model_id: model.id,
      content: [{ type: "text", text: question(0) }],
    });
    await waitForStatus(chat.id, "waiting");
    for (let i = 1; i < 12; i++) {
      await service.sendMessage(chat, [{ type: "text", text: question(i) }]);
      await waitForStatus(chat.id, "waiting");
    }
    expect((await compactions(chat.id)).length).toBeGreaterThanOrEqual(2);
    expect(summaryRequests().length).toBe((await compactions(chat.id)).length);
    // Nothing was ever refused: each prompt was under the window when it was sent.
    expect(fake.requests.filter((r) => r.promptTokens > WINDOW)).toEqual([]);
    const events = await store.events.listAfter(chat.id, 0, 10_000);
    expect(events.filter((e) => e.type === "error")).toEqual([]);
    expect(events.filter((e) => e.type === "compaction").length).toBe(summaryRequests().length);
    // The transcript keeps every question; the last prompt starts from a summary.
    const messages = await store.listMessages(chat.id);
    expect(messages.filter((m) => m.role === "user")).toHaveLength(12);
    const last = fake.requests.at(-1)?.rawBody ?? "";
    expect(last).toContain(SUMMARY_PREAMBLE.slice(0, 40));
    expect(last).toContain("Question 11");
    expect(last).not.toContain("Question 0:");
  });

  it("a context_length 400 mid-chat is compacted and the step tried again", async () => {
    fake.enqueue(textReply(`First answer. ${"words ".repeat(300)}`));
    const chat = await service.createChat(owner, {
      model_id: model.id,
      content: [{ type: "text", text: `Start. ${"context ".repeat(300)}` }],
    });
    await waitForStatus(chat.id, "waiting");
    // The provider now refuses anything as big as the chat's next prompt, and the first summary
    // request too (its window is smaller than Keel was told): its own context_length error.
    fake.setContextWindow((fake.requests[0]?.promptTokens ?? 0) + 200);
    fake.enqueue(textReply("## Goal\nStart."), textReply("Second answer."));
    await service.sendMessage(chat, [{ type: "text", text: "Go on." }]);
    await waitForStatus(chat.id, "waiting");
    fake.setContextWindow(WINDOW);
    const events = await store.events.listAfter(chat.id, 0, 10_000);
    expect(events.find((e) => e.type === "compaction")?.data).toMatchObject({
      reason: "context_length",
    });
    expect(events.filter((e) => e.type === "error")).toEqual([]);
    const messages = await store.listMessages(chat.id);
    expect(messages.at(-1)?.parts).toEqual([{ type: "text", text: "Second answer." }]);
    expect(messages.at(-2)?.parts[0]?.type).toBe("compaction");
    // The new message went into the summary request; the retried step starts from the summary.
    const summaryRequest = summaryRequests().at(-1)?.rawBody ?? "";
    expect(summaryRequest).toContain("Go on.");
    expect(fake.requests.at(-1)?.rawBody).toContain("## Goal\\nStart.");
  });

  it("compacts on demand: a waiting chat runs just the compaction", async () => {
    fake.enqueue(textReply("Hello."));
    const chat = await service.createChat(owner, {
      model_id: model.id,
      content: [{ type: "text", text: "Say hello." }],
    });
    await waitForStatus(chat.id, "waiting");
    fake.enqueue(textReply("## Goal\nSay hello."));
    await service.compact(chat);
    await vi.waitFor(async () => expect(await compactions(chat.id)).toHaveLength(1), {
      timeout: 20_000,
    });
    const done = await waitForStatus(chat.id, "waiting");
    expect(done.compact_requested).toBe(false);
    expect(fake.requests).toHaveLength(2);
    const events = (await store.events.listAfter(chat.id, 0, 10_000)).map((e) => e.type);
    expect(events.slice(events.lastIndexOf("compaction"))).toEqual([
      "compaction",
      "message",
      "usage",
      "status",
    ]);

    fake.enqueue(textReply("Hello again."));
    await service.sendMessage(chat, [{ type: "text", text: "Again?" }]);
    await waitForStatus(chat.id, "waiting");
    const next = fake.requests.at(-1)?.rawBody ?? "";
    expect(next).toContain("## Goal\\nSay hello.");
    expect(next).not.toContain('"text":"Say hello."');
  });

  it("Stop during an asked-for compaction leaves the chat waiting, uncompacted", async () => {
    fake.enqueue(textReply("Hello."));
    const chat = await service.createChat(owner, {
      model_id: model.id,
      content: [{ type: "text", text: "Say hello." }],
    });
    await waitForStatus(chat.id, "waiting");
    fake.enqueue(hangAfter("## Goal\nSay", 1));
    await service.compact(chat);
    await vi.waitFor(
      async () =>
        expect(
          (await store.events.listAfter(chat.id, 0, 10_000)).some((e) => e.type === "compaction"),
        ).toBe(true),
      { timeout: 20_000 },
    );
    const running = await store.getChat(chat.id);
    if (running) await service.interrupt(running);
    const done = await waitForStatus(chat.id, "waiting");
    expect(done.compact_requested).toBe(false);
    expect(await compactions(chat.id)).toEqual([]);
  });
});
