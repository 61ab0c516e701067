import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConflictError, InvalidCursorError } from "./contract.ts";
import type { SqlStore } from "./store.ts";
import { createTestDatabase, sleep, type TestDatabase, unique } from "./test-support.ts";
import type { Chat, MessagePart, ModelRecord, User } from "./types.ts";

describe("chat library: list, search, manage, delete", () => {
  let testDb: TestDatabase;
  let store: SqlStore;
  let model: ModelRecord;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    store = (await testDb.open()).store;
    const provider = await store.createProvider({ type: "openai-compatible", name: unique("p") });
    model = await store.createModel({ provider_id: provider.id, model: unique("m") });
  });
  afterAll(async () => {
    await testDb?.cleanup();
  });

  async function newUser(): Promise<User> {
    const name = unique("user");
    return store.createUser({
      username: name,
      email: `${name}@example.com`,
      password: "pw",
      role: "member",
    });
  }

  const text = (t: string): MessagePart[] => [{ type: "text", text: t }];

  /** A chat of `owner` titled `title`, its first message `first`, then the `replies`. */
  async function chat(owner: User, title: string, first = "hello", ...replies: string[]) {
    const { chat } = await store.createChat({
      owner_id: owner.id,
      model_id: model.id,
      title,
      first_message: text(first),
    });
    for (const reply of replies) {
      await store.insertMessage(chat.id, { role: "assistant", parts: text(reply) });
    }
    // Distinct last activity, so "newest first" is well defined.
    await sleep(3);
    return chat;
  }

  async function search(owner: User, q: string, options: { archived?: boolean } = {}) {
    const page = await store.searchChats(owner.id, q, { limit: 50, ...options });
    return page.items;
  }
  const titles = (hits: Array<{ chat: Chat }>) => hits.map((h) => h.chat.title);

  it("lists pinned chats first, then by last activity; pinning or renaming keeps the activity", async () => {
    const owner = await newUser();
    const a = await chat(owner, "a");
    const b = await chat(owner, "b");
    const c = await chat(owner, "c");
    const pinned = await store.manageChat(a.id, { pinned: true, title: "a (pinned)" });
    expect(pinned).toMatchObject({ pinned: true, title: "a (pinned)", updated_at: a.updated_at });
    const list = await store.listChats(owner.id, { limit: 10 });
    expect(list.items.map((x) => x.id)).toEqual([a.id, c.id, b.id]);

    // Pages across the pinned boundary: every chat once, in order.
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.listChats(owner.id, { limit: 1, before: cursor });
      seen.push(...page.items.map((x) => x.id));
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual([a.id, c.id, b.id]);
  });

  it("keeps archived chats out of the list and lists them on their own", async () => {
    const owner = await newUser();
    const kept = await chat(owner, "kept");
    const gone = await chat(owner, "gone");
    expect((await store.manageChat(gone.id, { archived: true }))?.archived).toBe(true);
    expect((await store.listChats(owner.id, { limit: 10 })).items.map((x) => x.id)).toEqual([
      kept.id,
    ]);
    const archived = await store.listChats(owner.id, { limit: 10, archived: true });
    expect(archived.items.map((x) => x.id)).toEqual([gone.id]);
    await store.manageChat(gone.id, { archived: false });
    expect((await store.listChats(owner.id, { limit: 10 })).items).toHaveLength(2);
  });

  it.each([
    ["garbage"],
    [Buffer.from(JSON.stringify(["2026-01-01T00:00:00.000Z", "x"])).toString("base64url")],
    [
      Buffer.from(JSON.stringify(["s", "1", "2026-01-01T00:00:00.000Z", "x"])).toString(
        "base64url",
      ),
    ],
  ])("refuses a list cursor it did not hand out (%s)", async (cursor) => {
    const owner = await newUser();
    await expect(store.listChats(owner.id, { limit: 1, before: cursor })).rejects.toBeInstanceOf(
      InvalidCursorError,
    );
  });

  it("finds chats by title and by message text, the best match first", async () => {
    const owner = await newUser();
    await chat(owner, "Lunch plans", "where do we eat");
    const inText = await chat(owner, "Build", "the deploy pipeline fails", "Retry the deploy.");
    const inTitle = await chat(owner, "Deploy checklist", "what to check");
    const hits = await search(owner, "deploy");
    expect(titles(hits)).toEqual(["Deploy checklist", "Build"]);
    expect(hits[0]?.chat.id).toBe(inTitle.id);
    expect(hits[0]?.snippet).toBeNull();
    expect(hits[1]?.chat.id).toBe(inText.id);
    expect(hits[1]?.snippet).toMatch(/deploy/i);
  });

  it.each([
    ["a prefix of the last word", "pipel", ["Build"]],
    ["every word must match", "deploy lunch", []],
    ["case does not matter", "DEPLOY PIPELINE", ["Build"]],
    ["a complete last word is not a prefix", "pipel ", []],
    ["punctuation alone matches nothing", "!!! ...", []],
    ["quotes and operators are text, not syntax", "'deploy' & | !", ["Build"]],
    ["a file path", "src/app", ["Paths"]],
  ])("search: %s", async (_what, q, expected) => {
    const owner = await newUser();
    await chat(owner, "Lunch plans", "where do we eat");
    await chat(owner, "Build", "the deploy pipeline fails");
    await chat(owner, "Paths", "look at src/app.ts please");
    expect(titles(await search(owner, q))).toEqual(expected);
  });

  it("searches only text parts: tool calls, results and reasoning are not searched", async () => {
    const owner = await newUser();
    const { chat: c } = await store.createChat({
      owner_id: owner.id,
      model_id: model.id,
      title: "tools",
      first_message: text("run it"),
    });
    await store.insertMessage(c.id, {
      role: "assistant",
      parts: [
        { type: "reasoning", text: "zebrathought" },
        { type: "tool_call", tool_call_id: "t1", name: "execute", input: { command: "zebracmd" } },
      ],
    });
    await store.insertMessage(c.id, {
      role: "tool",
      parts: [
        {
          type: "tool_result",
          tool_call_id: "t1",
          name: "execute",
          output: "zebraout",
          is_error: false,
        },
      ],
    });
    for (const q of ["zebrathought", "zebracmd", "zebraout"]) {
      expect(await search(owner, q), q).toEqual([]);
    }
    expect(titles(await search(owner, "run"))).toEqual(["tools"]);
  });

  it("never returns another user's chats", async () => {
    const owner = await newUser();
    const other = await newUser();
    await chat(other, "secret roadmap", "the secret roadmap text");
    await chat(owner, "mine", "nothing here");
    expect(await search(owner, "secret")).toEqual([]);
    expect(await search(owner, "roadmap", { archived: true })).toEqual([]);
    expect(titles(await search(other, "secret"))).toEqual(["secret roadmap"]);
  });

  it("searches archived chats only when asked to", async () => {
    const owner = await newUser();
    const old = await chat(owner, "old invoice", "invoice 42");
    await chat(owner, "new invoice", "invoice 43");
    await store.manageChat(old.id, { archived: true });
    expect(titles(await search(owner, "invoice"))).toEqual(["new invoice"]);
    expect(titles(await search(owner, "invoice", { archived: true }))).toEqual(["old invoice"]);
  });

  it("pages search results: equal ranks newest first, each chat once", async () => {
    const owner = await newUser();
    const made: Chat[] = [];
    for (let i = 0; i < 5; i++) made.push(await chat(owner, `note ${i}`, "kiwi"));
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.searchChats(owner.id, "kiwi", { limit: 2, before: cursor });
      seen.push(...page.items.map((h) => h.chat.id));
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(made.map((c) => c.id).reverse());
    await expect(
      store.searchChats(owner.id, "kiwi", { limit: 2, before: "garbage" }),
    ).rejects.toBeInstanceOf(InvalidCursorError);
  });

  it("keeps a snippet short, around the match, for a long message", async () => {
    const owner = await newUser();
    const filler = "lorem ipsum dolor sit amet ".repeat(1500);
    await chat(owner, "long", `${filler} needle in the haystack ${filler}`);
    const [hit] = await search(owner, "needle");
    expect(hit?.snippet).toContain("needle");
    expect(hit?.snippet?.length ?? 0).toBeLessThanOrEqual(240);
  });

  it("indexes a very long message without refusing it (the text searched is bounded)", async () => {
    const owner = await newUser();
    // Far more distinct words than a tsvector could hold if the whole text were indexed.
    const words = Array.from({ length: 120_000 }, (_, i) => `w${i.toString(36)}x`).join(" ");
    const c = await chat(owner, "huge", "start", words);
    expect((await store.listMessages(c.id)).length).toBe(2);
    expect(titles(await search(owner, "w0x"))).toEqual(["huge"]);
  });

  it("changes the model, refusing an unknown one; deletes a chat with everything it has", async () => {
    const owner = await newUser();
    const c = await chat(owner, "doomed", "bye", "reply");
    await store.enqueueUserMessage(c.id, text("queued"));
    const provider = await store.createProvider({ type: "openai-compatible", name: unique("p") });
    const other = await store.createModel({ provider_id: provider.id, model: unique("m") });
    expect((await store.manageChat(c.id, { model_id: other.id }))?.model_id).toBe(other.id);
    expect(await store.lastModelId(owner.id)).toBe(other.id);
    await expect(store.manageChat(c.id, { model_id: "missing" })).rejects.toBeInstanceOf(
      ConflictError,
    );
    expect(await store.manageChat("missing", { pinned: true })).toBeNull();

    expect(await store.deleteChat(c.id)).toBe(true);
    expect(await store.getChat(c.id)).toBeNull();
    expect(await store.listMessages(c.id)).toEqual([]);
    expect(await store.listQueuedMessages(c.id)).toEqual([]);
    expect(await store.events.listAfter(c.id, 0)).toEqual([]);
    expect(await store.deleteChat(c.id)).toBe(false);
    expect(await store.lastModelId(owner.id)).toBeNull();
  });
});
