import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "./db.ts";
import { openDatabase } from "./index.ts";
import { MIGRATIONS, migrate } from "./migrations.ts";
import { publicMessage } from "./public.ts";
import type { SqlStore } from "./store.ts";
import {
  createPostgresDatabase,
  createTestDatabase,
  dropPostgresDatabase,
  type TestDatabase,
  unique,
} from "./test-support.ts";
import type { User } from "./types.ts";
import { reportSql } from "./usage-report.ts";

const USAGE = {
  inputTokens: 1_000_000,
  outputTokens: 100_000,
  reasoningTokens: 20_000,
  cacheReadTokens: 400_000,
  cacheWriteTokens: 0,
};

describe("usage recorded per message", () => {
  let testDb: TestDatabase;
  let store: SqlStore;
  let db: Database;
  let owner: User;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    ({ store, db } = await testDb.open());
    owner = await store.createFirstUser({
      username: "owner",
      email: "owner@example.com",
      password: "pw",
    });
  });
  afterAll(async () => {
    await testDb?.cleanup();
  });

  async function chatWithModel(pricing = { input_per_mtok: 3, output_per_mtok: 15 }) {
    const provider = await store.createProvider({ type: "openai", name: unique("p") });
    const model = await store.createModel({
      provider_id: provider.id,
      model: "gpt",
      display_name: unique("m"),
      pricing,
    });
    const { chat } = await store.createChat({
      owner_id: owner.id,
      model_id: model.id,
      title: "t",
      first_message: [{ type: "text", text: "hi" }],
    });
    return { provider, model, chat };
  }

  it("keeps a step's cost as recorded, whatever the pricing becomes", async () => {
    const { provider, model, chat } = await chatWithModel();
    const saved = await store.saveMessage(chat.id, {
      id: crypto.randomUUID(),
      role: "assistant",
      parts: [{ type: "text", text: "answer" }],
      usage: USAGE,
      model_id: model.id,
      cost_usd: 1.23,
    });
    expect(saved.cost_usd).toBe(1.23);
    await store.updateModel(model.id, { pricing: { input_per_mtok: 300, output_per_mtok: 1500 } });
    const [again] = (await store.listMessages(chat.id)).filter((m) => m.id === saved.id);
    expect(again?.cost_usd).toBe(1.23);
    expect(again && publicMessage(again).cost_usd).toBe(1.23);

    const [row] = await db.query("SELECT * FROM messages WHERE id = $1", [saved.id]);
    expect(row).toMatchObject({
      cost_usd: 1.23,
      input_tokens: 1_000_000,
      output_tokens: 100_000,
      reasoning_tokens: 20_000,
      cache_read_tokens: 400_000,
      cache_write_tokens: 0,
      user_id: owner.id,
      provider_id: provider.id,
    });
  });

  it("meters only messages with usage; a save while streaming is replaced by the final one", async () => {
    const { model, chat } = await chatWithModel();
    const id = crypto.randomUUID();
    await store.saveMessage(chat.id, {
      id,
      role: "assistant",
      parts: [{ type: "text", text: "part" }],
      model_id: model.id,
      in_progress: true,
    });
    const [streaming] = await db.query("SELECT user_id, cost_usd FROM messages WHERE id = $1", [
      id,
    ]);
    expect(streaming).toEqual({ user_id: null, cost_usd: null });
    const final = await store.saveMessage(chat.id, {
      id,
      role: "assistant",
      parts: [{ type: "text", text: "part and more" }],
      usage: USAGE,
      model_id: model.id,
      cost_usd: null,
    });
    expect(final.cost_usd).toBeNull();
    const [row] = await db.query("SELECT user_id, input_tokens FROM messages WHERE id = $1", [id]);
    expect(row).toEqual({ user_id: owner.id, input_tokens: 1_000_000 });
    // A cost without usage is not kept: nothing was metered.
    const note = await store.insertMessage(chat.id, {
      role: "assistant",
      parts: [{ type: "text", text: "note" }],
      cost_usd: 5,
    });
    expect(note.cost_usd).toBeNull();
  });
});

describe("usage of deleted messages", () => {
  let testDb: TestDatabase;
  let store: SqlStore;
  let db: Database;
  beforeAll(async () => {
    testDb = await createTestDatabase();
    ({ store, db } = await testDb.open());
  });
  afterAll(async () => {
    await testDb?.cleanup();
  });

  it("is kept: deleting a chat or dropping its steps never shrinks the totals", async () => {
    const owner = await store.createFirstUser({
      username: "owner",
      email: "owner@example.com",
      password: "pw",
    });
    const provider = await store.createProvider({ type: "openai", name: "P" });
    const model = await store.createModel({
      provider_id: provider.id,
      model: "m",
      display_name: "M",
    });
    const { chat } = await store.createChat({
      owner_id: owner.id,
      model_id: model.id,
      title: "doomed",
      first_message: [{ type: "text", text: "hi" }],
    });
    for (const cost of [2, 0.5]) {
      await store.saveMessage(chat.id, {
        id: crypto.randomUUID(),
        role: "assistant",
        parts: [{ type: "text", text: "paid for" }],
        usage: USAGE,
        model_id: model.id,
        cost_usd: cost,
      });
    }
    const period = {
      since: new Date(Date.now() - 3_600_000),
      until: new Date(Date.now() + 3_600_000),
    };
    const before = await store.usage.report({ group_by: "chat", ...period });
    expect(before.totals).toMatchObject({ cost_usd: 2.5, messages: 2, chats: 1 });
    expect(await store.deleteChat(chat.id)).toBe(true);
    const after = await store.usage.report({ group_by: "chat", ...period });
    expect(after.totals).toEqual(before.totals);
    expect(after.rows).toEqual([
      expect.objectContaining({
        key: chat.id,
        name: "Deleted chat",
        owner_id: owner.id,
        owner_name: "owner",
        cost_usd: 2.5,
        input_tokens: 2_000_000,
      }),
    ]);
    const mine = await store.usage.report({ group_by: "model", ...period, user_id: owner.id });
    expect(mine.totals.cost_usd).toBe(2.5);
    const [kept] = await db.query("SELECT count(*)::int AS n FROM usage_removed");
    expect(kept).toEqual({ n: 2 });
  });
});

describe("migration 17", () => {
  const urls: string[] = [];
  afterAll(async () => {
    for (const url of urls) await dropPostgresDatabase(url);
  });

  it("backfills tokens, owner, provider and a cost at the current pricing", async () => {
    const url = await createPostgresDatabase({ empty: true });
    urls.push(url);
    const db = await openDatabase({ dataDir: "/unused", postgresUrl: url }, { poolSize: 2 });
    try {
      await migrate(
        db,
        MIGRATIONS.filter((m) => m.version < 17),
      );
      await db.exec(`
        INSERT INTO users (id, username, email, role, password_hash)
          VALUES ('u1', 'u1', 'u1@example.com', 'admin', 'x');
        INSERT INTO providers (id, type, name) VALUES ('p1', 'openai', 'P');
        INSERT INTO models (id, provider_id, model, display_name, pricing) VALUES
          ('priced', 'p1', 'a', 'A',
           '{"input_per_mtok": 3, "output_per_mtok": 15, "cache_read_per_mtok": 0.3}'),
          ('free', 'p1', 'b', 'B', NULL);
        INSERT INTO chats (id, owner_id, title, status, model_id)
          VALUES ('c1', 'u1', 't', 'waiting', 'priced');
        INSERT INTO messages (id, chat_id, role, parts, usage, model_id) VALUES
          ('user', 'c1', 'user', '[]', NULL, NULL),
          ('step', 'c1', 'assistant', '[]', '${JSON.stringify(USAGE)}', 'priced'),
          ('unpriced', 'c1', 'assistant', '[]', '${JSON.stringify(USAGE)}', 'free'),
          ('deleted-model', 'c1', 'assistant', '[]', '{"inputTokens": 10, "outputTokens": 1}', NULL);
      `);
      expect(await migrate(db)).toContain(17);
      const rows = await db.query<Record<string, unknown>>(
        `SELECT id, cost_usd, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
                reasoning_tokens, user_id, provider_id FROM messages ORDER BY id`,
      );
      const byId = Object.fromEntries(rows.map((r) => [r.id, r]));
      // 600k fresh input × $3 + 400k cached × $0.30 + 100k output × $15, per million.
      expect(byId.step).toMatchObject({
        input_tokens: 1_000_000,
        output_tokens: 100_000,
        cache_read_tokens: 400_000,
        cache_write_tokens: 0,
        reasoning_tokens: 20_000,
        user_id: "u1",
        provider_id: "p1",
      });
      expect(byId.step?.cost_usd).toBeCloseTo(1.8 + 0.12 + 1.5, 10);
      expect(byId.unpriced).toMatchObject({
        cost_usd: null,
        user_id: "u1",
        input_tokens: 1_000_000,
      });
      // The message's model is gone: the chat's model priced it; absent fields count as 0.
      expect(byId["deleted-model"]).toMatchObject({ user_id: "u1", reasoning_tokens: 0 });
      expect(byId["deleted-model"]?.cost_usd).toBeCloseTo((10 * 3 + 15) / 1e6, 12);
      expect(byId.user).toMatchObject({ user_id: null, input_tokens: null, cost_usd: null });
    } finally {
      await db.close();
    }
  });
});

describe("usage report plans", () => {
  let testDb: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    testDb = await createTestDatabase();
    ({ db } = await testDb.open());
  });
  afterAll(async () => {
    await testDb?.cleanup();
  });

  /** The plan of `sql`, with sequential scans priced out (the test table is tiny). */
  async function plan(sql: string, params: unknown[]): Promise<string> {
    return db.transaction(async (tx) => {
      await tx.exec("SET LOCAL enable_seqscan = off");
      const rows = await tx.query<{ "QUERY PLAN": string }>(`EXPLAIN ${sql}`, params);
      return rows.map((r) => r["QUERY PLAN"]).join("\n");
    });
  }

  it("reads a period through the metered indexes", async () => {
    const since = new Date("2026-11-01T00:00:00Z");
    const until = new Date("2026-12-01T00:00:00Z");
    const all = reportSql({ group_by: "day", split_by: "model", since, until });
    expect(await plan(all.sql, all.params)).toMatch(/messages_metered_(created|user)/);
    const one = reportSql({ group_by: "model", since, until, user_id: "u" });
    expect(await plan(one.sql, one.params)).toContain("messages_metered_user");
    // A user's spend (the spend limits' query) reads the index alone.
    expect(
      await plan("SELECT sum(cost_usd) FROM messages WHERE user_id = $1 AND created_at >= $2", [
        "u",
        since.toISOString(),
      ]),
    ).toContain("Index Only Scan using messages_metered_user");
  });
});
