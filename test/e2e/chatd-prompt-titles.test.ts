import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { ChatService } from "../../src/chatd/contract.ts";
import { ChatDaemon, type ChatDaemonOptions } from "../../src/chatd/daemon.ts";
import { TITLE_PROMPT } from "../../src/chatd/title.ts";
import {
  DEPLOYMENT_PROMPT_HEADING,
  keelPrompt,
  SYSTEM_PROMPT,
} from "../../src/chatloop/history.ts";
import type { Transport } from "../../src/provider/index.ts";
import type { Store } from "../../src/store/contract.ts";
import type { Chat, ChatStatus, ModelRecord, User } from "../../src/store/types.ts";
import { errorReply, type FakeProvider, hangAfter, textReply } from "../fakeprovider/index.ts";
import { useChatdWorld } from "./support/chatd-world.ts";

describe("chatd: the deployment's prompt and generated titles", () => {
  const world = useChatdWorld();
  let fake: FakeProvider;
  let transport: Transport;
  let store: Store;
  let service: ChatService;
  let owner: User;
  let model: ModelRecord;
  let titleModel: ModelRecord;
  const daemons: ChatDaemon[] = [];
  let warnings: Array<{ message: string; fields?: Record<string, unknown> }> = [];

  beforeAll(async () => {
    ({ fake, transport, store, service, owner } = world);
    model = await store.createModel({ provider_id: world.providerId, model: "claude-chat" });
    titleModel = await store.createModel({ provider_id: world.providerId, model: "claude-titles" });
  });
  beforeEach(async () => {
    warnings = [];
    await store.deploymentSettings.update({ system_prompt: null, title_model_id: null });
  });
  afterEach(async () => {
    for (const daemon of daemons.splice(0)) await daemon.shutdown();
  });

  async function startDaemon(options: Partial<ChatDaemonOptions> = {}): Promise<ChatDaemon> {
    const daemon = new ChatDaemon({
      store,
      transport,
      policy: { baseDelayMs: 1, maxDelayMs: 5 },
      pollIntervalMs: 100,
      heartbeatIntervalMs: 100,
      staleMs: 1_000,
      recoverIntervalMs: 200,
      logger: { warn: (message, fields) => warnings.push({ message, fields }), error: () => {} },
      ...options,
    });
    daemons.push(daemon);
    await daemon.start();
    return daemon;
  }

  function create(text: string): Promise<Chat> {
    return service.createChat(owner, { model_id: model.id, content: [{ type: "text", text }] });
  }

  async function waitForStatus(chatId: string, status: ChatStatus): Promise<void> {
    await vi.waitFor(async () => expect((await store.getChat(chatId))?.status).toBe(status), {
      timeout: 10_000,
      interval: 20,
    });
  }

  /** Anthropic's `system`: the prompt's system messages, as blocks, in order. */
  const systemTexts = (body: unknown) =>
    ((body as { system?: Array<{ text: string }> }).system ?? []).map((block) => block.text);
  /** Keel's layer: the built-in prompt and its environment (today's date, no workspace here). */
  const keel = () => keelPrompt(SYSTEM_PROMPT, { now: new Date() });

  it("sends the deployment's prompt after the built-in one, read at each turn", async () => {
    await store.deploymentSettings.update({ system_prompt: "Always answer in French." });
    await startDaemon();
    fake.enqueue(textReply("Bonjour."));
    const chat = await create("hello");
    await waitForStatus(chat.id, "waiting");
    expect(systemTexts(fake.requests[0]?.body)).toEqual([
      keel(),
      `${DEPLOYMENT_PROMPT_HEADING}\n\nAlways answer in French.`,
    ]);

    // Changed between turns: the next turn tells the new one; cleared: only the built-in one.
    await store.deploymentSettings.update({ system_prompt: "Answer in German." });
    fake.enqueue(textReply("Hallo."));
    await service.sendMessage(chat, [{ type: "text", text: "again" }]);
    await waitForStatus(chat.id, "waiting");
    await vi.waitFor(() => expect(fake.requests).toHaveLength(2));
    expect(systemTexts(fake.requests[1]?.body)).toEqual([
      keel(),
      `${DEPLOYMENT_PROMPT_HEADING}\n\nAnswer in German.`,
    ]);
    await store.deploymentSettings.update({ system_prompt: null });
    fake.enqueue(textReply("Hi."));
    await service.sendMessage(chat, [{ type: "text", text: "and again" }]);
    await vi.waitFor(() => expect(fake.requests).toHaveLength(3));
    await waitForStatus(chat.id, "waiting");
    expect(systemTexts(fake.requests[2]?.body)).toEqual([keel()]);
  });

  it("titles a chat after its first reply with the admin's title model, and says so", async () => {
    await store.deploymentSettings.update({ title_model_id: titleModel.id });
    await startDaemon({ titles: true });
    fake.enqueue(textReply("Run `npm ci` first."), textReply('"Fixing the flaky CI build."\n'));
    const chat = await create("my build fails on CI sometimes\nhere is the log: …");
    expect(chat.title).toBe("my build fails on CI sometimes");
    await vi.waitFor(async () =>
      expect((await store.getChat(chat.id))?.title).toBe("Fixing the flaky CI build"),
    );
    const [reply, titling] = fake.requests;
    expect(reply?.model).toBe("claude-chat");
    expect(titling?.model).toBe("claude-titles");
    expect(systemTexts(titling?.body)).toEqual([TITLE_PROMPT]);
    expect(JSON.stringify(titling?.body)).toContain("Run `npm ci` first.");

    // The row's title is saved before its event is appended: wait for the event too.
    const events = await vi.waitFor(async () => {
      const listed = await store.events.listAfter(chat.id, 0, 1000);
      expect(listed.map((e) => e.type)).toContain("title");
      return listed;
    });
    const types = events.map((e) => e.type);
    // After the turn's end: the reply and its `waiting` status come first.
    expect(types.indexOf("title")).toBeGreaterThan(types.lastIndexOf("status"));
    expect(events.find((e) => e.type === "title")?.data).toEqual({
      title: "Fixing the flaky CI build",
    });
    expect(warnings).toEqual([]);

    // Only the first reply: a second turn asks for no title.
    fake.enqueue(textReply("Done."));
    await service.sendMessage(chat, [{ type: "text", text: "thanks" }]);
    await vi.waitFor(() => expect(fake.requests).toHaveLength(3));
    await waitForStatus(chat.id, "waiting");
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(fake.requests).toHaveLength(3);
  });

  it("uses the chat's own model without a title model", async () => {
    await startDaemon({ titles: true });
    fake.enqueue(textReply("Sure."), textReply("Title: Greeting the agent"));
    const chat = await create("hi there");
    await vi.waitFor(async () =>
      expect((await store.getChat(chat.id))?.title).toBe("Greeting the agent"),
    );
    expect(fake.requests.map((r) => r.model)).toEqual(["claude-chat", "claude-chat"]);
  });

  it("a first turn that failed is no reply: the chat is titled after its first real one", async () => {
    await startDaemon({ titles: true });
    fake.enqueue(errorReply("auth"));
    const chat = await create("hi there");
    await waitForStatus(chat.id, "error");
    fake.enqueue(textReply("Sure."), textReply("Title: Greeting again"));
    await service.sendMessage((await store.getChat(chat.id)) as Chat, [
      { type: "text", text: "hi again" },
    ]);
    await vi.waitFor(async () =>
      expect((await store.getChat(chat.id))?.title).toBe("Greeting again"),
    );
    const asked = JSON.stringify(fake.requests.at(-1)?.body);
    expect(asked).toContain("hi again");
    expect(asked).not.toContain("API key");
  });

  it("a provider error keeps the first-line title, is logged once and not retried", async () => {
    await startDaemon({ titles: true });
    fake.enqueue(textReply("Answer."), errorReply("overloaded"));
    const chat = await create("the first line\nmore");
    await waitForStatus(chat.id, "waiting");
    await vi.waitFor(() => expect(warnings).toHaveLength(1));
    expect(warnings[0]?.message).toContain("titling a chat failed");
    expect(warnings[0]?.fields?.chat_id).toBe(chat.id);
    const after = await store.getChat(chat.id);
    expect(after?.title).toBe("the first line");
    expect(after?.last_error).toBeNull();
    expect(fake.requests).toHaveLength(2);
    const types = (await store.events.listAfter(chat.id, 0, 1000)).map((e) => e.type);
    expect(types).not.toContain("title");
    expect(types).not.toContain("error");
  });

  it("a title model that hangs never delays the turn: it ends, then the title times out", async () => {
    await startDaemon({ titles: true, titleTimeoutMs: 1_500 });
    fake.enqueue(textReply("Quick answer."), hangAfter("Never fin", 1));
    const chat = await create("be quick");
    // The turn ended (its reply persisted, the chat waiting) while the title request still hangs.
    await waitForStatus(chat.id, "waiting");
    const messages = await store.listMessages(chat.id);
    expect(messages.at(-1)?.parts).toEqual([{ type: "text", text: "Quick answer." }]);
    await vi.waitFor(() => expect(fake.requests).toHaveLength(2));
    expect(warnings).toEqual([]);
    await vi.waitFor(() => expect(warnings).toHaveLength(1), { timeout: 5_000 });
    expect((await store.getChat(chat.id))?.title).toBe("be quick");
    expect(fake.requests).toHaveLength(2);
  });

  it("a shutdown while a title is being written stops it quietly: no warning, the first-line title", async () => {
    const daemon = await startDaemon({ titles: true, titleTimeoutMs: 30_000 });
    fake.enqueue(textReply("Answer."), hangAfter("Never fin", 1));
    const chat = await create("shut down meanwhile");
    await waitForStatus(chat.id, "waiting");
    await vi.waitFor(() => expect(fake.requests).toHaveLength(2));
    await daemon.shutdown();
    expect(warnings).toEqual([]);
    expect((await store.getChat(chat.id))?.title).toBe("shut down meanwhile");
  });
});
