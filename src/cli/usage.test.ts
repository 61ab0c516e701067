/**
 * `keel usage`: its parts that need no Keel (times, the table), and the command in process
 * against the real API on a real database: the grouping and period it asks for, a member's own
 * usage only, CSV passed through, the server's message on a bad request.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client, newUser, obj, type Served, seed, serveApi } from "../api/testing.ts";
import { createChatService } from "../chatd/index.ts";
import type { SqlStore } from "../store/store.ts";
import { createTestDatabase, type TestDatabase } from "../store/test-support.ts";
import type { CliIO } from "./io.ts";
import { main } from "./main.ts";
import { renderUsage, type UsageReport } from "./usage.ts";

const zero = {
  cost_usd: 0,
  input_tokens: 0,
  output_tokens: 0,
  cached_input_tokens: 0,
  reasoning_tokens: 0,
  messages: 0,
  unpriced_messages: 0,
  chats: 0,
};

describe("renderUsage", () => {
  it("aligns the rows, adds a total, and marks unknown costs", () => {
    const report: UsageReport = {
      group_by: "chat",
      since: "2026-11-06T00:00:00.000Z",
      until: "2026-12-06T00:00:00.000Z",
      rows: [
        {
          ...zero,
          key: "c1",
          name: "Fix the\nbuild",
          owner_name: "ann",
          cost_usd: 12.5,
          input_tokens: 1_200_000,
          messages: 40,
          chats: 1,
        },
        { ...zero, key: "c2", name: "Docs", owner_name: "bob", messages: 2, unpriced_messages: 2 },
      ],
      totals: {
        ...zero,
        cost_usd: 12.5,
        input_tokens: 1_200_000,
        messages: 42,
        unpriced_messages: 2,
        chats: 2,
      },
    };
    expect(renderUsage(report)).toBe(
      [
        "CHAT           OWNER     COST      INPUT  CACHED  OUTPUT  REASONING  STEPS  CHATS",
        "Fix the build  ann     $12.50  1,200,000       0       0          0     40      1",
        "Docs           bob     $0.00*          0       0       0          0      2      0",
        "TOTAL                 $12.50*  1,200,000       0       0          0     42      2",
        "* 2 steps of models without pricing: their tokens count, their cost is unknown.",
        "",
      ].join("\n"),
    );
  });
});

describe("keel usage, against the API", () => {
  let testDb: TestDatabase;
  let store: SqlStore;
  let served: Served;
  let admin: string;
  let member: { id: string; token: string };
  const saved = { url: process.env.KEEL_URL, token: process.env.KEEL_TOKEN };

  beforeAll(async () => {
    testDb = await createTestDatabase();
    ({ store } = await testDb.open());
    served = await serveApi({ store, chats: createChatService(store) });
    const client = new Client(served.url);
    const s = await seed(client);
    admin = s.admin;
    member = await newUser(client, s.admin, "member", "mia");
    await client.patch(`/api/v1/models/${s.modelId}`, {
      token: s.admin,
      json: { pricing: { input_per_mtok: 1, output_per_mtok: 1 } },
    });
    for (const [owner, cost] of [
      [s.adminId, 2],
      [member.id, 0.5],
    ] as const) {
      const { chat } = await store.createChat({
        owner_id: owner,
        model_id: s.modelId,
        title: `chat of ${owner}`,
        first_message: [{ type: "text", text: "hi" }],
      });
      await store.saveMessage(chat.id, {
        id: randomUUID(),
        role: "assistant",
        parts: [{ type: "text", text: "answer" }],
        usage: {
          inputTokens: 1000,
          outputTokens: 10,
          reasoningTokens: 0,
          cacheReadTokens: 0,
          cacheWriteTokens: 0,
        },
        model_id: s.modelId,
        cost_usd: cost,
      });
    }
    expect(obj(await client.get("/api/v1/usage", { token: admin })).rows).toHaveLength(2);
    process.env.KEEL_URL = served.url;
  });
  afterAll(async () => {
    process.env.KEEL_URL = saved.url;
    process.env.KEEL_TOKEN = saved.token;
    if (saved.url === undefined) delete process.env.KEEL_URL;
    if (saved.token === undefined) delete process.env.KEEL_TOKEN;
    await served?.close();
    await testDb?.cleanup();
  });

  async function run(token: string, ...args: string[]) {
    process.env.KEEL_TOKEN = token;
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIO = {
      stdout: (text) => out.push(text),
      stderr: (text) => err.push(text),
      onInterrupt: () => () => {},
      setExitCode: () => {},
    };
    const code = await main(["node", "keel", "usage", ...args], io);
    return { code, stdout: out.join(""), stderr: err.join("") };
  }

  it("prints everyone's usage per user for an admin, costliest first", async () => {
    const result = await run(admin, "--since", "7d");
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^USER +COST +INPUT +CACHED +OUTPUT +REASONING +STEPS +CHATS$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 2))).toEqual([
      ["owner", "$2.00"],
      ["mia", "$0.50"],
      ["TOTAL", "$2.50"],
    ]);
    expect(result.stderr).toMatch(/^From \d{4}-\d{2}-\d{2} \d{2}:\d{2}Z to /);
  });

  it("shows a member only their own; json is the API's answer", async () => {
    const result = await run(member.token, "--by", "model", "--format", "json");
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as UsageReport & { user_id: string };
    expect(report.user_id).toBe(member.id);
    expect(report.totals.cost_usd).toBe(0.5);
    expect(report.group_by).toBe("model");
  });

  it("passes the server's CSV through", async () => {
    const today = new Date().toISOString().slice(0, 10);
    const result = await run(admin, "--by", "day", "--until", today, "--format", "csv");
    expect(result.code).toBe(0);
    expect(result.stdout.split("\r\n")).toEqual([
      "key,name,cost_usd,input_tokens,output_tokens,cached_input_tokens,cache_write_tokens,reasoning_tokens,messages,unpriced_messages,chats",
      `${today},${today},2.5,2000,20,0,0,0,2,0,2`,
      "",
    ]);
  });

  it("says what is wrong with a bad request, in the server's words or its own", async () => {
    const refused = await run(admin, "--since", "2026-12-05", "--until", "2026-11-01");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("The period must start before it ends");
    const bad = await run(admin, "--by", "week");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--by");
  });
});
