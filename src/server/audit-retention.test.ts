import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../store/db.ts";
import type { SqlStore } from "../store/store.ts";
import { createTestDatabase, type TestDatabase, unique } from "../store/test-support.ts";
import { startAuditRetention } from "./audit-retention.ts";

describe("audit retention job", () => {
  let testDb: TestDatabase;
  let store: SqlStore;
  let db: Database;
  const logs: string[] = [];
  const logger = {
    info: (msg: string, fields?: object) => logs.push(`info ${msg} ${JSON.stringify(fields)}`),
    warn: (msg: string, fields?: object) => logs.push(`warn ${msg} ${JSON.stringify(fields)}`),
  };

  beforeAll(async () => {
    testDb = await createTestDatabase();
    ({ store, db } = await testDb.open());
  });
  afterAll(async () => {
    await testDb?.cleanup();
  });

  async function aged(action: string, days: number[]): Promise<void> {
    await db.query(
      `INSERT INTO audit_events (time, actor_type, action, outcome)
       SELECT now() - make_interval(days => d), 'system', $1, 'success' FROM unnest($2::int[]) AS d`,
      [action, days],
    );
  }

  async function left(action: string): Promise<number> {
    return (await store.audit.list({ action, limit: 100 })).events.length;
  }

  it("deletes only the events older than the setting, at start and on each pass", async () => {
    const action = unique("aged.thing");
    await aged(action, [0, 30, 364, 366, 1000]);
    const job = startAuditRetention({ store, logger, firstDelayMs: 0, intervalMs: 60_000 });
    try {
      // The pass right after start: the default, 365 days.
      await new Promise((resolve) => setTimeout(resolve, 200));
      await job.runOnce();
      expect(await left(action)).toBe(3);
      await store.audit.setRetentionDays(20);
      expect(await job.runOnce()).toBe(2);
      expect(await left(action)).toBe(1);
      expect(logs.some((line) => line.startsWith("info audit retention"))).toBe(true);
      const [pruned] = (await store.audit.list({ action: "audit.prune", limit: 1 })).events;
      expect(pruned).toMatchObject({
        actor: { type: "system" },
        changes: { deleted: { to: 2 }, retention_days: { to: 20 } },
      });
    } finally {
      await job.stop();
    }
  });

  it("keeps everything when the setting is null (forever)", async () => {
    const action = unique("kept.thing");
    await aged(action, [5000]);
    await store.audit.setRetentionDays(null);
    const job = startAuditRetention({ store, logger, firstDelayMs: 60_000 });
    try {
      expect(await job.runOnce()).toBe(0);
      expect(await left(action)).toBe(1);
    } finally {
      await job.stop();
      await store.audit.setRetentionDays(365);
    }
  });

  it("deletes in batches until none is left", async () => {
    const action = unique("many.thing");
    await aged(
      action,
      Array.from({ length: 2500 }, () => 400),
    );
    expect(await store.audit.prune(1000)).toBeGreaterThanOrEqual(2500);
    expect(await left(action)).toBe(0);
  });
});
