import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "./db.ts";
import { SqlDeploymentSettingsStore } from "./deployment-settings.ts";
import { ReadCache } from "./read-cache.ts";
import {
  type LimitPeriod,
  mostGenerous,
  periodBounds,
  type SpendLimitOptions,
  SqlSpendLimitStore,
} from "./spend-limits.ts";
import type { SqlStore } from "./store.ts";
import { createTestDatabase, type TestDatabase, unique } from "./test-support.ts";
import type { ModelRecord, User } from "./types.ts";

describe("periodBounds", () => {
  it.each<[LimitPeriod, string, string, string]>([
    ["day", "2026-12-06T15:46:00Z", "2026-12-06T00:00:00.000Z", "2026-12-07T00:00:00.000Z"],
    ["day", "2026-12-31T23:59:59Z", "2026-12-31T00:00:00.000Z", "2027-01-01T00:00:00.000Z"],
    // A Sunday: its week began on Monday the 30th of November.
    ["week", "2026-12-06T15:46:00Z", "2026-11-30T00:00:00.000Z", "2026-12-07T00:00:00.000Z"],
    ["week", "2026-12-07T00:00:00Z", "2026-12-07T00:00:00.000Z", "2026-12-14T00:00:00.000Z"],
    ["month", "2026-12-06T15:46:00Z", "2026-12-01T00:00:00.000Z", "2027-01-01T00:00:00.000Z"],
    ["month", "2028-02-29T12:00:00Z", "2028-02-01T00:00:00.000Z", "2028-03-01T00:00:00.000Z"],
  ])("a %s holding %s runs from %s to %s (UTC)", (period, now, start, end) => {
    const bounds = periodBounds(period, new Date(now));
    expect(bounds.start.toISOString()).toBe(start);
    expect(bounds.end.toISOString()).toBe(end);
  });
});

describe("mostGenerous", () => {
  it("compares limits of different periods per day", () => {
    expect(
      mostGenerous([
        { usd: 10, period: "day" },
        { usd: 100, period: "week" },
        { usd: 250, period: "month" },
      ]),
    ).toEqual({ usd: 100, period: "week" });
    expect(mostGenerous([])).toBeNull();
  });
});

describe("spend limits", () => {
  let testDb: TestDatabase;
  let store: SqlStore;
  let db: Database;
  let model: ModelRecord;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    ({ store, db } = await testDb.open());
    await store.createFirstUser({ username: "owner", email: "owner@example.com", password: "pw" });
    const provider = await store.createProvider({ type: "openai-compatible", name: unique("p") });
    model = await store.createModel({ provider_id: provider.id, model: unique("m") });
  });
  afterAll(async () => {
    await store.deploymentSettings.update({ default_limit: null });
    await testDb?.cleanup();
  });

  async function newUser(): Promise<User> {
    const name = unique("user");
    return store.createUser({
      username: name,
      email: `${name}@example.com`,
      password: "password",
      role: "member",
    });
  }

  /** A step of `user`'s that cost `usd`, saved as a turn saves it. */
  async function spend(user: User, usd: number): Promise<void> {
    const { chat } = await store.createChat({
      owner_id: user.id,
      model_id: model.id,
      title: "t",
      first_message: [{ type: "text", text: "hi" }],
    });
    await store.saveMessage(chat.id, {
      id: randomUUID(),
      role: "assistant",
      parts: [{ type: "text", text: "hello" }],
      usage: {
        inputTokens: 10,
        outputTokens: 5,
        reasoningTokens: 0,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
      },
      model_id: model.id,
      cost_usd: usd,
    });
  }

  /** A limit store of its own (its own spend cache and clock) over the same database. */
  function limitsOn(options: SpendLimitOptions): SqlSpendLimitStore {
    const cache = new ReadCache(db, unique("replica"));
    return new SqlSpendLimitStore(db, cache, new SqlDeploymentSettingsStore(db, cache), options);
  }

  it("applies the default, a user's own limit over it, and the default again once it is deleted", async () => {
    const user = await newUser();
    expect(await store.spendLimits.effectiveLimit(user.id)).toBeNull();

    await store.deploymentSettings.update({ default_limit: { usd: 20, period: "month" } });
    expect(await store.spendLimits.effectiveLimit(user.id)).toEqual({
      usd: 20,
      period: "month",
      source: "default",
    });

    const own = await store.spendLimits.setUserLimit(user.id, { usd: 5, period: "week" });
    expect(own).toMatchObject({ user_id: user.id, usd: 5, period: "week" });
    expect(await store.spendLimits.effectiveLimit(user.id)).toEqual({
      usd: 5,
      period: "week",
      source: "user",
    });
    expect((await store.spendLimits.listUserLimits()).map((l) => l.user_id)).toContain(user.id);

    expect(await store.spendLimits.deleteUserLimit(user.id)).toBe(true);
    expect(await store.spendLimits.deleteUserLimit(user.id)).toBe(false);
    expect((await store.spendLimits.effectiveLimit(user.id))?.source).toBe("default");

    await store.deploymentSettings.update({ default_limit: null });
    expect(await store.spendLimits.effectiveLimit(user.id)).toBeNull();
  });

  it("sets no limit for an unknown user, and forgets a deleted user's", async () => {
    expect(
      await store.spendLimits.setUserLimit("00000000-0000-4000-8000-000000000000", {
        usd: 1,
        period: "day",
      }),
    ).toBeNull();
    const user = await newUser();
    await store.spendLimits.setUserLimit(user.id, { usd: 1, period: "day" });
    await db.query("DELETE FROM users WHERE id = $1", [user.id]);
    const [row] = await db.query("SELECT 1 FROM user_limits WHERE user_id = $1", [user.id]);
    expect(row).toBeUndefined();
  });

  it("refuses a limit that is not positive in the database too", async () => {
    const user = await newUser();
    await expect(
      db.query("INSERT INTO user_limits (user_id, usd, period) VALUES ($1, 0, 'day')", [user.id]),
    ).rejects.toThrow();
    await expect(
      db.query("INSERT INTO user_limits (user_id, usd, period) VALUES ($1, 1, 'year')", [user.id]),
    ).rejects.toThrow();
  });

  it("sums the user's own steps' cost in the period, and says when they are over", async () => {
    const user = await newUser();
    const other = await newUser();
    await spend(user, 0.75);
    await spend(user, 0.5);
    await spend(other, 9);
    await store.spendLimits.setUserLimit(user.id, { usd: 1.25, period: "day" });
    const status = await store.spendLimits.status(user.id);
    expect(status).toMatchObject({
      user_id: user.id,
      spent_usd: 1.25,
      period: "day",
      limit: { usd: 1.25, period: "day", source: "user" },
      over: true,
    });
    expect(status.resets_at.getTime() - status.period_start.getTime()).toBe(86_400_000);
    await store.spendLimits.setUserLimit(user.id, { usd: 2, period: "day" });
    expect((await store.spendLimits.status(user.id)).over).toBe(false);
  });

  it("without a limit, reports the month's spend and is never over", async () => {
    const user = await newUser();
    await spend(user, 3);
    expect(await store.spendLimits.status(user.id)).toMatchObject({
      spent_usd: 3,
      period: "month",
      limit: null,
      over: false,
    });
  });

  it("keeps the spend in memory between reads and adds the steps it is told of", async () => {
    const user = await newUser();
    const limits = limitsOn({ spendTtlMs: 60_000 });
    await limits.setUserLimit(user.id, { usd: 1, period: "day" });
    expect((await limits.status(user.id)).spent_usd).toBe(0);
    // Saved by a step elsewhere and not recorded here: unseen until the spend is read again.
    await spend(user, 0.4);
    expect((await limits.status(user.id)).spent_usd).toBe(0);
    // This process's own step: seen at once.
    await spend(user, 0.7);
    limits.record(user.id, 0.7);
    const status = await limits.status(user.id);
    expect(status.spent_usd).toBeCloseTo(0.7);
    expect(status.over).toBe(false);
    limits.record(user.id, 0.4);
    expect((await limits.status(user.id)).over).toBe(true);
  });

  it("reads another replica's spend again once its copy is older than the TTL", async () => {
    const user = await newUser();
    let now = Date.now();
    const b = limitsOn({ spendTtlMs: 3_000, now: () => now });
    await store.spendLimits.setUserLimit(user.id, { usd: 1, period: "month" });
    expect((await b.status(user.id)).over).toBe(false);
    // Replica A's step.
    await spend(user, 1.5);
    store.spendLimits.record(user.id, 1.5);
    expect((await b.status(user.id)).over).toBe(false);
    now += 3_000;
    expect((await b.status(user.id)).over).toBe(true);
  });

  it("starts over when the period rolls over", async () => {
    const user = await newUser();
    let now = Date.now();
    const limits = limitsOn({ spendTtlMs: 60_000, now: () => now });
    await limits.setUserLimit(user.id, { usd: 1, period: "day" });
    await spend(user, 1);
    const today = await limits.status(user.id);
    expect(today.over).toBe(true);
    now = today.resets_at.getTime();
    const tomorrow = await limits.status(user.id);
    expect(tomorrow).toMatchObject({ spent_usd: 0, over: false });
    expect(tomorrow.period_start).toEqual(today.resets_at);
  });

  it("applies a changed limit at once, with the spend it already knows", async () => {
    const user = await newUser();
    const limits = limitsOn({ spendTtlMs: 60_000 });
    await limits.setUserLimit(user.id, { usd: 100, period: "day" });
    await spend(user, 2);
    expect((await limits.status(user.id)).over).toBe(false);
    await limits.setUserLimit(user.id, { usd: 1, period: "day" });
    expect((await limits.status(user.id)).over).toBe(true);
  });

  it("keeps the default limit in the deployment settings, as JSON, and ignores a broken one", async () => {
    const settings = await store.deploymentSettings.update({
      default_limit: { usd: 12.5, period: "week" },
    });
    expect(settings.default_limit).toEqual({ usd: 12.5, period: "week" });
    const [row] = await db.query<{ value: string }>(
      "SELECT value FROM settings WHERE key = 'deployment.default_limit'",
    );
    expect(JSON.parse(row?.value ?? "null")).toEqual({ usd: 12.5, period: "week" });
    await db.query("UPDATE settings SET value = 'nope' WHERE key = 'deployment.default_limit'");
    await store.deploymentSettings.update({ system_prompt: null });
    expect((await store.deploymentSettings.get()).default_limit).toBeNull();
    expect((await store.deploymentSettings.update({ default_limit: null })).default_limit).toBe(
      null,
    );
  });

  it("a group's limit applies to its members over the default, under their own", async () => {
    const user = await newUser();
    const other = await newUser();
    const now = Date.now();
    let clock = now;
    const limits = limitsOn({ spendTtlMs: 3_000, now: () => clock });
    await store.deploymentSettings.update({ default_limit: { usd: 1, period: "day" } });
    const small = await store.createGroup({ name: unique("small"), user_ids: [user.id] });
    const large = await store.createGroup({ name: unique("large"), user_ids: [user.id] });
    expect(await limits.setGroupLimit(small.id, { usd: 5, period: "day" })).toMatchObject({
      group_id: small.id,
      usd: 5,
    });
    await limits.setGroupLimit(large.id, { usd: 70, period: "week" });
    // $10 a day against $5 a day: the week's is the more generous.
    expect(await limits.effectiveLimit(user.id)).toEqual({
      usd: 70,
      period: "week",
      source: "group",
    });
    expect((await limits.effectiveLimit(other.id))?.source).toBe("default");
    expect((await limits.listGroupLimits()).map((l) => l.group_id)).toEqual(
      expect.arrayContaining([small.id, large.id]),
    );

    // Their own wins; a group limit removed applies at once here.
    await limits.setUserLimit(user.id, { usd: 2, period: "month" });
    expect((await limits.effectiveLimit(user.id))?.source).toBe("user");
    await limits.deleteUserLimit(user.id);
    expect(await limits.deleteGroupLimit(large.id)).toBe(true);
    expect(await limits.effectiveLimit(user.id)).toMatchObject({ usd: 5, source: "group" });

    // Leaving the group (the groups module's change) is seen within the TTL.
    await store.updateGroup(small.id, { user_ids: [] });
    expect((await limits.effectiveLimit(user.id))?.source).toBe("group");
    clock += 3_000;
    expect((await limits.effectiveLimit(user.id))?.source).toBe("default");

    expect(
      await limits.setGroupLimit("00000000-0000-4000-8000-000000000000", { usd: 1, period: "day" }),
    ).toBeNull();
    await store.deleteGroup(small.id);
    expect(await limits.groupLimit(small.id)).toBeNull();
    await store.deploymentSettings.update({ default_limit: null });
  });

  it("deleting a chat does not lower the spend", async () => {
    const user = await newUser();
    await spend(user, 0.5);
    const { chat } = await store.createChat({
      owner_id: user.id,
      model_id: model.id,
      title: "t",
      first_message: [{ type: "text", text: "hi" }],
    });
    await store.saveMessage(chat.id, {
      id: randomUUID(),
      role: "assistant",
      parts: [{ type: "text", text: "hello" }],
      usage: {
        inputTokens: 1,
        outputTokens: 1,
        reasoningTokens: 0,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
      },
      model_id: model.id,
      cost_usd: 0.25,
    });
    const since = periodBounds("month", new Date()).start;
    expect(await store.spendLimits.spentSince(user.id, since)).toBe(0.75);
    await store.deleteChat(chat.id);
    expect(await store.spendLimits.spentSince(user.id, since)).toBe(0.75);
  });
});
