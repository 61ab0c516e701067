/**
 * `rewindChat` (edit and rerun, regenerate): what it deletes, the events it appends in its
 * transaction, and what it refuses.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SqlStore } from "./store.ts";
import { createTestDatabase, type TestDatabase, unique } from "./test-support.ts";
import type { MessagePart, ModelRecord, User } from "./types.ts";

describe("rewindChat", () => {
  let testDb: TestDatabase;
  let store: SqlStore;
  let model: ModelRecord;
  let owner: User;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    store = (await testDb.open()).store;
    const provider = await store.createProvider({ type: "openai-compatible", name: unique("p") });
    model = await store.createModel({ provider_id: provider.id, model: unique("m") });
    const name = unique("user");
    owner = await store.createUser({
      username: name,
      email: `${name}@example.com`,
      password: "pw",
      role: "member",
    });
  });
  afterAll(async () => {
    await testDb?.cleanup();
  });

  const text = (t: string): MessagePart[] => [{ type: "text", text: t }];

  /** "one" → reply → "two" → reply, the chat `waiting`; its id and its messages' ids. */
  async function conversation(): Promise<{ id: string; ids: string[] }> {
    const { chat } = await store.createChat({
      owner_id: owner.id,
      model_id: model.id,
      title: "t",
      first_message: text("one"),
    });
    const reply = (t: string) =>
      store.insertMessage(chat.id, { role: "assistant", parts: text(t), model_id: model.id });
    await reply("reply one");
    await store.insertMessage(chat.id, { role: "user", parts: text("two") });
    await reply("reply two");
    await store.setStatus(chat.id, "waiting");
    return { id: chat.id, ids: (await store.listMessages(chat.id)).map((m) => m.id) };
  }

  it.each([
    ["the last user message (regenerate)", undefined, 2, false],
    ["an earlier one, edited", 0, 0, true],
  ])(
    "from %s: later messages deleted, chat pending, events in order",
    async (_w, at, kept, edit) => {
      const { id, ids } = await conversation();
      const before = (await store.getChat(id))?.last_event_seq ?? 0;
      const request = {
        ...(at !== undefined ? { message_id: ids[at] } : {}),
        ...(edit ? { parts: text("edited") } : {}),
      };
      const result = await store.rewindChat(id, request);
      expect(result).toMatchObject({ ok: true, removed: ids.slice(kept + 1), status: "pending" });
      const left = await store.listMessages(id);
      expect(left.map((m) => m.id)).toEqual(ids.slice(0, kept + 1));
      if (edit) expect(left.at(-1)?.parts).toEqual(text("edited"));
      const events = await store.events.listAfter(id, before);
      expect(events.map((e) => e.type)).toEqual(
        edit ? ["truncated", "message", "status"] : ["truncated", "status"],
      );
      expect(events[0]?.data).toEqual({
        after_message_id: ids[kept],
        message_ids: ids.slice(kept + 1),
      });
      expect(await store.getChat(id)).toMatchObject({ status: "pending", last_error: null });
    },
  );

  it("a user message already last: nothing deleted, no truncated event", async () => {
    const { id, ids } = await conversation();
    await store.rewindChat(id, {});
    const before = (await store.getChat(id))?.last_event_seq ?? 0;
    await store.setStatus(id, "error");
    expect(await store.rewindChat(id, {})).toMatchObject({ ok: true, removed: [] });
    const events = await store.events.listAfter(id, before);
    expect(events.map((e) => e.type)).toEqual(["status", "status"]);
    expect((await store.listMessages(id)).map((m) => m.id)).toEqual(ids.slice(0, 3));
  });

  it.each([
    ["running", "running"],
    ["not_user", "assistant"],
    ["no_message", "unknown"],
    ["archived", "archived"],
  ])("refuses (%s) and changes nothing", async (reason, how) => {
    const { id, ids } = await conversation();
    if (how === "running") {
      await store.setStatus(id, "pending");
      await store.acquireChats(unique("worker"), 1000);
    }
    if (how === "archived") await store.manageChat(id, { archived: true });
    const before = await store.getChat(id);
    const messageId = how === "assistant" ? ids[1] : how === "unknown" ? "nope" : ids[0];
    expect(await store.rewindChat(id, { message_id: messageId, parts: text("x") })).toEqual({
      ok: false,
      reason,
    });
    expect((await store.listMessages(id)).map((m) => m.id)).toEqual(ids);
    expect((await store.getChat(id))?.last_event_seq).toBe(before?.last_event_seq);
  });

  it("an unknown chat", async () => {
    expect(await store.rewindChat("0195c1a4-8f1e-7b7a-9c55-2f1d0e6a4b21", {})).toEqual({
      ok: false,
      reason: "no_chat",
    });
  });
});
