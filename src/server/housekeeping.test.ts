import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../store/db.ts";
import type { SqlStore } from "../store/store.ts";
import { createTestDatabase, type TestDatabase, unique } from "../store/test-support.ts";
import {
  auditRetentionTask,
  chatRetentionTask,
  type HousekeepingTask,
  startHousekeeping,
} from "./housekeeping.ts";

describe("housekeeping: chat and audit retention as the settings say", () => {
  let testDb: TestDatabase;
  let store: SqlStore;
  let db: Database;
  let ownerId: string;
  let modelId: string;
  const logs: string[] = [];
  const logger = {
    info: (msg: string, fields?: object) => logs.push(`info ${msg} ${JSON.stringify(fields)}`),
    warn: (msg: string, fields?: object) => logs.push(`warn ${msg} ${JSON.stringify(fields)}`),
  };

  beforeAll(async () => {
    testDb = await createTestDatabase();
    ({ store, db } = await testDb.open());
    const provider = await store.createProvider({ type: "openai-compatible", name: unique("p") });
    modelId = (await store.createModel({ provider_id: provider.id, model: unique("m") })).id;
    const name = unique("u");
    ownerId = (
      await store.createUser({
        username: name,
        email: `${name}@x.org`,
        password: "pw",
        role: "member",
      })
    ).id;
  });
  afterAll(async () => {
    await testDb?.cleanup();
  });

  async function idleChat(days: number): Promise<string> {
    const { chat } = await store.createChat({
      owner_id: ownerId,
      model_id: modelId,
      title: "t",
      first_message: [{ type: "text", text: "hi" }],
    });
    await db.query(
      "UPDATE chats SET status = 'waiting', updated_at = now() - make_interval(days => $2::int) WHERE id = $1",
      [chat.id, days],
    );
    return chat.id;
  }
  const archived = async (id: string) => (await store.getChat(id))?.archived;

  async function agedAuditEvents(action: string, days: number[]): Promise<void> {
    await db.query(
      `INSERT INTO audit_events (time, actor_type, action, outcome)
       SELECT now() - make_interval(days => d), 'system', $1, 'success' FROM unnest($2::int[]) AS d`,
      [action, days],
    );
  }
  const auditLeft = async (action: string) =>
    (await store.audit.list({ action, limit: 100 })).events.length;

  it("chat retention does nothing while off, archives once on, and says what it did", async () => {
    const id = await idleChat(10);
    const task = chatRetentionTask(store);
    expect(await task.run()).toBeNull();
    expect(await archived(id)).toBe(false);
    await store.deploymentSettings.update({ chat_archive_after_days: 7 });
    try {
      expect(await task.run()).toMatchObject({ archived: 1, deleted: 0, archive_after_days: 7 });
      expect(await archived(id)).toBe(true);
      expect(await task.run()).toBeNull(); // nothing left to do
    } finally {
      await store.deploymentSettings.update({ chat_archive_after_days: null });
    }
  });

  it("audit retention deletes only events older than the setting, and records its pruning", async () => {
    const action = unique("aged.thing");
    await agedAuditEvents(action, [0, 30, 364, 366, 1000]);
    const task = auditRetentionTask(store);
    await task.run(); // the default, 365 days
    expect(await auditLeft(action)).toBe(3);
    await store.audit.setRetentionDays(20);
    try {
      expect(await task.run()).toEqual({ deleted: 2 });
      expect(await auditLeft(action)).toBe(1);
      const [pruned] = (await store.audit.list({ action: "audit.prune", limit: 1 })).events;
      expect(pruned).toMatchObject({
        actor: { type: "system" },
        changes: { deleted: { to: 2 }, retention_days: { to: 20 } },
      });
    } finally {
      await store.audit.setRetentionDays(365);
    }
  });

  it("audit retention keeps everything when the setting is null (forever), and deletes in batches", async () => {
    const kept = unique("kept.thing");
    await agedAuditEvents(kept, [5000]);
    await store.audit.setRetentionDays(null);
    try {
      expect(await auditRetentionTask(store).run()).toBeNull();
      expect(await auditLeft(kept)).toBe(1);
    } finally {
      await store.audit.setRetentionDays(365);
    }
    const many = unique("many.thing");
    await agedAuditEvents(
      many,
      Array.from({ length: 2500 }, () => 400),
    );
    expect(await store.audit.prune(1000)).toBeGreaterThanOrEqual(2500);
    expect(await auditLeft(many)).toBe(0);
  });

  it("runs its first pass on its own after the first delay, and logs each task's counts", async () => {
    const id = await idleChat(10);
    await store.deploymentSettings.update({ chat_archive_after_days: 7 });
    const job = startHousekeeping({
      tasks: [chatRetentionTask(store)],
      logger,
      firstDelayMs: 10,
      intervalMs: 60_000,
    });
    try {
      await expect.poll(() => archived(id), { timeout: 5_000 }).toBe(true);
      await expect
        .poll(() =>
          logs.some((l) => l.startsWith("info chat retention") && l.includes('"archived":1')),
        )
        .toBe(true);
    } finally {
      await job.stop();
      await store.deploymentSettings.update({ chat_archive_after_days: null });
    }
  });

  it("a failed task is logged, does not stop the next one, and runs again at the next pass", async () => {
    const ran: string[] = [];
    let calls = 0;
    const failing: HousekeepingTask = {
      name: "flaky",
      run: async () => {
        calls++;
        if (calls === 1) throw new Error("connection terminated");
        return null;
      },
    };
    const next: HousekeepingTask = {
      name: "next",
      run: async () => {
        ran.push("next");
        return { done: 1 };
      },
    };
    const job = startHousekeeping({ tasks: [failing, next], logger, firstDelayMs: 60_000 });
    try {
      await job.runOnce();
      await job.runOnce();
      expect(calls).toBe(2);
      expect(ran).toEqual(["next", "next"]);
      expect(
        logs.some(
          (l) => l.startsWith("warn flaky failed; it runs again") && l.includes("terminated"),
        ),
      ).toBe(true);
      expect(logs).toContain('info next {"done":1}');
    } finally {
      await job.stop();
    }
  });

  it("after stop, no pass runs", async () => {
    let calls = 0;
    const task: HousekeepingTask = {
      name: "counted",
      run: async () => {
        calls++;
        return null;
      },
    };
    const job = startHousekeeping({ tasks: [task], logger, firstDelayMs: 60_000 });
    await job.stop();
    await job.runOnce();
    expect(calls).toBe(0);
  });
});
