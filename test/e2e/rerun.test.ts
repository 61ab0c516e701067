/**
 * Edit and rerun, regenerate, and the notes a transcript keeps (issue 12), end to end: a real
 * daemon answers with the fake provider over real sockets, and each rerun's request is read to
 * see that the model no longer hears what left the transcript — nor an error kept in it.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { ChatService } from "../../src/chatd/contract.ts";
import { ChatDaemon } from "../../src/chatd/daemon.ts";
import type { Transport } from "../../src/provider/index.ts";
import type { Store } from "../../src/store/contract.ts";
import type { Chat, ChatStatus, ModelRecord, User } from "../../src/store/types.ts";
import { errorReply, type FakeProvider, hangAfter, textReply } from "../fakeprovider/index.ts";
import { useChatdWorld } from "./support/chatd-world.ts";

describe("edit and rerun, regenerate", () => {
  const world = useChatdWorld();
  let fake: FakeProvider;
  let transport: Transport;
  let store: Store;
  let service: ChatService;
  let owner: User;
  let model: ModelRecord;
  let daemon: ChatDaemon;

  beforeAll(() => {
    ({ fake, transport, store, service, owner } = world);
  });

  beforeEach(async () => {
    model = await store.createModel({ provider_id: world.providerId, model: "claude-test" });
    daemon = new ChatDaemon({
      store,
      transport,
      policy: { baseDelayMs: 1, maxDelayMs: 5 },
      pollIntervalMs: 100,
      titles: false,
      logger: { warn: () => {}, error: () => {} },
    });
    await daemon.start();
  });

  afterEach(async () => {
    await daemon.shutdown();
  });

  const text = (t: string) => [{ type: "text" as const, text: t }];

  async function settled(chatId: string, status: ChatStatus = "waiting"): Promise<Chat> {
    await vi.waitFor(async () => expect((await store.getChat(chatId))?.status).toBe(status), {
      timeout: 10_000,
      interval: 20,
    });
    return (await store.getChat(chatId)) as Chat;
  }

  /** What the model was sent in request `n` (0-based), as text. */
  const prompt = (n: number) => JSON.stringify(fake.requests[n]?.body ?? null);
  const transcript = async (chatId: string) =>
    (await store.listMessages(chatId)).map((m) => [m.role, m.parts]);

  /** "alpha?" → "alpha!", "beta?" → "beta!": a chat `waiting` after two turns. */
  async function twoTurns(): Promise<Chat> {
    fake.enqueue(textReply("alpha!"), textReply("beta!"));
    const chat = await service.createChat(owner, { model_id: model.id, content: text("alpha?") });
    await settled(chat.id);
    await service.sendMessage(chat, text("beta?"));
    await settled(chat.id);
    return chat;
  }

  it("regenerate: a new turn answers the last message without the reply it replaces", async () => {
    const chat = await twoTurns();
    fake.enqueue(textReply("beta, again"));
    await service.regenerate((await store.getChat(chat.id)) as Chat);
    await settled(chat.id);
    expect(fake.requests).toHaveLength(3);
    expect(prompt(2)).toContain("beta?");
    expect(prompt(2)).toContain("alpha!");
    expect(prompt(2)).not.toContain("beta!");
    expect(await transcript(chat.id)).toEqual([
      ["user", text("alpha?")],
      ["assistant", text("alpha!")],
      ["user", text("beta?")],
      ["assistant", text("beta, again")],
    ]);
  });

  it("edit: the edited message is answered; nothing after it reaches the model", async () => {
    const chat = await twoTurns();
    const [first] = await store.listMessages(chat.id);
    fake.enqueue(textReply("gamma!"));
    await service.editMessage(
      (await store.getChat(chat.id)) as Chat,
      first?.id ?? "",
      text("gamma?"),
    );
    await settled(chat.id);
    expect(prompt(2)).toContain("gamma?");
    for (const gone of ["alpha", "beta"]) expect(prompt(2)).not.toContain(gone);
    expect(await transcript(chat.id)).toEqual([
      ["user", text("gamma?")],
      ["assistant", text("gamma!")],
    ]);
  });

  it("an edit while a turn streams stops it first; the stopped reply leaves too", async () => {
    fake.enqueue(textReply("alpha!"), hangAfter("half a thou", 2));
    const chat = await service.createChat(owner, { model_id: model.id, content: text("alpha?") });
    await settled(chat.id);
    await service.sendMessage(chat, text("beta?"));
    await vi.waitFor(() => expect(fake.requests).toHaveLength(2), { timeout: 10_000 });
    await settled(chat.id, "running");
    const second = (await store.listMessages(chat.id))[2];
    fake.enqueue(textReply("delta!"));
    await service.editMessage(
      (await store.getChat(chat.id)) as Chat,
      second?.id ?? "",
      text("delta?"),
    );
    await settled(chat.id);
    expect(prompt(2)).toContain("delta?");
    expect(prompt(2)).not.toContain("half a");
    expect(prompt(2)).not.toContain("beta?");
    expect(await transcript(chat.id)).toEqual([
      ["user", text("alpha?")],
      ["assistant", text("alpha!")],
      ["user", text("delta?")],
      ["assistant", text("delta!")],
    ]);
  });

  it("an edit while a turn runs with a message queued behind it stops both turns, then reruns", async () => {
    // Every request hangs mid-reply, except the one that holds the edit.
    fake.setResponder((request) =>
      JSON.stringify(request.body).includes("edited?")
        ? textReply("edited!")
        : hangAfter("working on it", 2),
    );
    const chat = await service.createChat(owner, { model_id: model.id, content: text("alpha?") });
    await vi.waitFor(() => expect(fake.requests).toHaveLength(1), { timeout: 10_000 });
    await settled(chat.id, "running");
    await service.sendMessage((await store.getChat(chat.id)) as Chat, text("queued?"));
    const [first] = await store.listMessages(chat.id);
    await service.editMessage(
      (await store.getChat(chat.id)) as Chat,
      first?.id ?? "",
      text("edited?"),
    );
    await settled(chat.id);
    const last = fake.requests.at(-1);
    expect(JSON.stringify(last?.body)).toContain("edited?");
    expect(JSON.stringify(last?.body)).not.toContain("queued?");
    expect(await transcript(chat.id)).toEqual([
      ["user", text("edited?")],
      ["assistant", text("edited!")],
    ]);
  });

  it("a terminal error stays in the transcript, and the next turn's prompt leaves it out", async () => {
    fake.enqueue(errorReply("auth"));
    const chat = await service.createChat(owner, { model_id: model.id, content: text("alpha?") });
    const failed = await settled(chat.id, "error");
    const messages = await store.listMessages(chat.id);
    expect(messages[1]?.parts).toEqual([
      expect.objectContaining({ type: "error", kind: "auth", message: failed.last_error?.message }),
    ]);
    fake.enqueue(textReply("alpha!"));
    await service.sendMessage(failed, text("again?"));
    await settled(chat.id);
    expect(prompt(1)).toContain("again?");
    expect(prompt(1)).not.toContain(failed.last_error?.message ?? "-");
    // The error is still where it happened.
    expect((await transcript(chat.id)).map(([role]) => role)).toEqual([
      "user",
      "assistant",
      "user",
      "assistant",
    ]);
  });

  it("a stopped reply is marked; a retried one records its retries", async () => {
    fake.enqueue(errorReply("overloaded"), errorReply("overloaded"), textReply("alpha!"));
    const chat = await service.createChat(owner, { model_id: model.id, content: text("alpha?") });
    await settled(chat.id);
    expect((await store.listMessages(chat.id))[1]).toMatchObject({
      stopped: false,
      retries: { count: 2, kind: "overloaded", message: expect.stringContaining("overloaded") },
      model_id: model.id,
    });
    fake.enqueue(hangAfter("half a thou", 2));
    await service.sendMessage((await store.getChat(chat.id)) as Chat, text("beta?"));
    await vi.waitFor(() => expect(fake.requests).toHaveLength(4), { timeout: 10_000 });
    await settled(chat.id, "running");
    await vi.waitFor(
      async () => {
        const events = await store.events.listAfter(chat.id, 0, 10_000);
        expect(events.some((e) => e.type === "message_part")).toBe(true);
      },
      { timeout: 10_000 },
    );
    await service.interrupt((await store.getChat(chat.id)) as Chat);
    await settled(chat.id);
    const stopped = (await store.listMessages(chat.id)).at(-1);
    expect(stopped).toMatchObject({ role: "assistant", stopped: true, retries: null });
  });
});
