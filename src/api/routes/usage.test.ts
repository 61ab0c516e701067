import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createChatService } from "../../chatd/index.ts";
import type { Database } from "../../store/db.ts";
import type { SqlStore } from "../../store/store.ts";
import { createTestDatabase, type TestDatabase } from "../../store/test-support.ts";
import { csvField } from "../csv.ts";
import { Client, newUser, obj, type Seeded, type Served, seed, serveApi } from "../testing.ts";

const DAY_MS = 86_400_000;

describe("GET /api/v1/usage", () => {
  let testDb: TestDatabase;
  let store: SqlStore;
  let db: Database;
  let served: Served;
  let client: Client;
  let s: Seeded;
  let alice: { id: string; token: string };
  let bob: { id: string; token: string };
  let priced: string;
  let unpriced: string;
  let aliceChat: string;
  let bobChat: string;

  async function chatOf(userId: string, modelId: string, title: string): Promise<string> {
    const { chat } = await store.createChat({
      owner_id: userId,
      model_id: modelId,
      title,
      first_message: [{ type: "text", text: "hi" }],
    });
    return chat.id;
  }

  /** A step of `chatId` recorded at `at`, its cost as chatloop recorded it. */
  async function step(
    chatId: string,
    modelId: string,
    at: string,
    tokens: { input: number; output: number; cached?: number; reasoning?: number },
    cost: number | null,
  ): Promise<void> {
    const id = randomUUID();
    await store.saveMessage(chatId, {
      id,
      role: "assistant",
      parts: [{ type: "text", text: "answer" }],
      usage: {
        inputTokens: tokens.input,
        outputTokens: tokens.output,
        cacheReadTokens: tokens.cached ?? 0,
        cacheWriteTokens: 0,
        reasoningTokens: tokens.reasoning ?? 0,
      },
      model_id: modelId,
      cost_usd: cost,
    });
    await db.query("UPDATE messages SET created_at = $2 WHERE id = $1", [id, at]);
  }

  beforeAll(async () => {
    testDb = await createTestDatabase();
    ({ store, db } = await testDb.open());
    served = await serveApi({ store, chats: createChatService(store) });
    client = new Client(served.url);
    s = await seed(client);
    alice = await newUser(client, s.admin, "member", "alice");
    bob = await newUser(client, s.admin, "member", "bob");
    priced = s.modelId;
    await client.patch(`/api/v1/models/${priced}`, {
      token: s.admin,
      json: { pricing: { input_per_mtok: 1, output_per_mtok: 2 } },
    });
    unpriced = obj(
      await client.post("/api/v1/models", {
        token: s.admin,
        json: { provider_id: s.providerId, model: "free", display_name: "Free model" },
      }),
    ).id as string;
    aliceChat = await chatOf(alice.id, priced, '=HYPERLINK("x"), a, b');
    bobChat = await chatOf(bob.id, priced, "Bob's chat");
    const unpricedChat = await chatOf(alice.id, unpriced, "free chat");
    // 23:30 at UTC-2 on Nov 1 is Nov 2 in UTC.
    await step(
      aliceChat,
      priced,
      "2026-11-01T10:00:00Z",
      { input: 100, output: 10, cached: 40 },
      1,
    );
    await step(aliceChat, priced, "2026-11-01T23:30:00-02:00", { input: 200, output: 20 }, 2);
    await step(
      bobChat,
      priced,
      "2026-11-02T12:00:00Z",
      { input: 50, output: 5, reasoning: 3 },
      0.5,
    );
    await step(unpricedChat, unpriced, "2026-11-03T08:00:00Z", { input: 7, output: 1 }, null);
    // Outside the period asked for below.
    await step(bobChat, priced, "2026-10-01T00:00:00Z", { input: 1, output: 1 }, 100);
  });
  afterAll(async () => {
    await served?.close();
    await testDb?.cleanup();
  });

  const NOVEMBER = "since=2026-11-01&until=2026-11-30";

  async function report(query: string, token = s.admin) {
    const res = await client.get(`/api/v1/usage?${query}`, { token });
    expect(res.status, res.text).toBe(200);
    return obj(res) as {
      rows: Array<Record<string, unknown>>;
      totals: Record<string, number>;
      user_id: string | null;
      since: string;
      until: string;
    };
  }

  it("groups by user for an admin, costliest first, with the period's totals", async () => {
    const body = await report(`group_by=user&${NOVEMBER}`);
    expect(body.since).toBe("2026-11-01T00:00:00.000Z");
    expect(body.until).toBe("2026-12-01T00:00:00.000Z"); // a date includes its whole day
    expect(body.user_id).toBeNull();
    expect(body.rows).toEqual([
      {
        key: alice.id,
        name: "alice",
        cost_usd: 3,
        input_tokens: 307,
        output_tokens: 31,
        cached_input_tokens: 40,
        cache_write_tokens: 0,
        reasoning_tokens: 0,
        messages: 3,
        unpriced_messages: 1,
        chats: 2,
      },
      expect.objectContaining({ key: bob.id, name: "bob", cost_usd: 0.5, reasoning_tokens: 3 }),
    ]);
    expect(body.totals).toEqual({
      cost_usd: 3.5,
      input_tokens: 357,
      output_tokens: 36,
      cached_input_tokens: 40,
      cache_write_tokens: 0,
      reasoning_tokens: 3,
      messages: 4,
      unpriced_messages: 1,
      chats: 3,
    });
  });

  it("shows a member only their own usage, whatever they ask", async () => {
    for (const query of [`group_by=user&${NOVEMBER}`, `user_id=${bob.id}&${NOVEMBER}`]) {
      const body = await report(query, alice.token);
      expect(body.user_id).toBe(alice.id);
      expect(body.rows.map((r) => r.key)).toEqual([alice.id]);
      expect(body.totals.cost_usd).toBe(3);
    }
    const mine = await report(`group_by=chat&${NOVEMBER}`, bob.token);
    expect(mine.rows.map((r) => r.key)).toEqual([bobChat]);
  });

  it("filters by user for an admin", async () => {
    const body = await report(`group_by=model&user_id=${bob.id}&${NOVEMBER}`);
    expect(body.rows).toEqual([expect.objectContaining({ key: priced, cost_usd: 0.5 })]);
  });

  it("groups by model and provider; an unpriced model's steps count tokens, not cost", async () => {
    const models = await report(`group_by=model&${NOVEMBER}`);
    expect(models.rows.map((r) => [r.key, r.cost_usd, r.unpriced_messages])).toEqual([
      [priced, 3.5, 0],
      [unpriced, 0, 1],
    ]);
    expect(models.rows[1]?.name).toBe("Free model");
    const providers = await report(`group_by=provider&${NOVEMBER}`);
    expect(providers.rows).toEqual([
      expect.objectContaining({ key: s.providerId, cost_usd: 3.5, messages: 4 }),
    ]);
  });

  it("buckets days in UTC, oldest first, and splits them by model", async () => {
    const days = await report(`group_by=day&${NOVEMBER}`);
    expect(days.rows.map((r) => [r.key, r.name, r.cost_usd, r.messages])).toEqual([
      ["2026-11-01", "2026-11-01", 1, 1],
      ["2026-11-02", "2026-11-02", 2.5, 2],
      ["2026-11-03", "2026-11-03", 0, 1],
    ]);
    const split = await report(`group_by=day&split_by=user&${NOVEMBER}`);
    expect(split.rows.map((r) => [r.key, r.split_name, r.cost_usd])).toEqual([
      ["2026-11-01", "alice", 1],
      ["2026-11-02", "alice", 2],
      ["2026-11-02", "bob", 0.5],
      ["2026-11-03", "alice", 0],
    ]);
    expect(split.rows[0]?.split_key).toBe(alice.id);
  });

  it("lists the top chats with their owners, and limits rows", async () => {
    const top = await report(`group_by=chat&limit=1&${NOVEMBER}`);
    expect(top.rows).toEqual([
      expect.objectContaining({
        key: aliceChat,
        name: '=HYPERLINK("x"), a, b',
        owner_id: alice.id,
        owner_name: "alice",
        cost_usd: 3,
      }),
    ]);
    expect(top.totals.messages).toBe(4); // the totals are the period's, not the rows'
  });

  it("defaults to the last 30 days", async () => {
    const before = Date.now();
    const body = await report("group_by=user");
    const until = Date.parse(body.until);
    expect(until).toBeGreaterThanOrEqual(before - 1000);
    expect(until - Date.parse(body.since)).toBe(30 * DAY_MS);
    const recent = new Date(before - 2 * DAY_MS).toISOString();
    await step(bobChat, priced, recent, { input: 1, output: 1 }, 0.25);
    const again = await report("group_by=user");
    expect(again.totals.cost_usd).toBe(0.25);
  });

  it("exports CSV, spreadsheet formulas defused", async () => {
    const res = await client.get(`/api/v1/usage?group_by=chat&format=csv&${NOVEMBER}`, {
      token: s.admin,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toBe(
      'attachment; filename="keel-usage-chat-2026-11-01-2026-12-01.csv"',
    );
    const lines = res.text.trimEnd().split("\r\n");
    expect(lines[0]).toBe(
      "key,name,owner_id,owner_name,cost_usd,input_tokens,output_tokens,cached_input_tokens," +
        "cache_write_tokens,reasoning_tokens,messages,unpriced_messages,chats",
    );
    expect(lines[1]).toBe(
      `${aliceChat},"'=HYPERLINK(""x""), a, b",${alice.id},alice,3,300,30,40,0,0,2,0,1`,
    );
    expect(lines).toHaveLength(4);
    expect(csvField("-1+1")).toBe("'-1+1");
    expect(csvField(-1)).toBe("-1");
  });

  it("answers 400 naming the field, and 401 without a token", async () => {
    const cases: Array<[string, string]> = [
      ["group_by=week", "group_by"],
      ["since=yesterday", "since"],
      ["until=2026-02-30", "until"],
      ["since=2026-11-01T10:00:00", "since"], // no time zone: ambiguous
      ["since=2026-11-05&until=2026-11-01", "since"],
      ["since=2000-01-01&until=2026-01-01", "since"],
      ["group_by=user&split_by=model", "split_by"],
      ["group_by=day&limit=5", "limit"],
      ["limit=0", "limit"],
      ["format=xml", "format"],
      ["user_id=nope", "user_id"],
      ["colour=red", ""],
    ];
    for (const [query, field] of cases) {
      const res = await client.get(`/api/v1/usage?${query}`, { token: s.admin });
      expect(res.status, query).toBe(400);
      const validations = obj(res).validations as Array<{ field: string }>;
      if (field)
        expect(
          validations.map((v) => v.field),
          query,
        ).toContain(field);
    }
    expect((await client.get("/api/v1/usage")).status).toBe(401);
  });
});
