import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../store/db.ts";
import type { SqlStore } from "../store/store.ts";
import { createTestDatabase, type TestDatabase, unique } from "../store/test-support.ts";
import { startHousekeeping } from "./housekeeping.ts";

describe("housekeeping: chat retention as the settings say", () => {
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

  it("does nothing while retention is off, archives once it is on, and logs what it did", async () => {
    const id = await idleChat(10);
    const job = startHousekeeping({ store, logger, firstDelayMs: 60_000 });
    try {
      await job.runOnce();
      expect(await archived(id)).toBe(false);
      await store.deploymentSettings.update({ chat_archive_after_days: 7 });
      await job.runOnce();
      expect(await archived(id)).toBe(true);
      expect(
        logs.some((l) => l.startsWith("info chat retention") && l.includes('"archived":1')),
      ).toBe(true);
    } finally {
      await job.stop();
      await store.deploymentSettings.update({ chat_archive_after_days: null });
    }
  });

  it("runs its first pass on its own after the first delay", async () => {
    const id = await idleChat(10);
    await store.deploymentSettings.update({ chat_archive_after_days: 7 });
    const job = startHousekeeping({ store, logger, firstDelayMs: 10, intervalMs: 60_000 });
    try {
      await expect.poll(() => archived(id), { timeout: 5_000 }).toBe(true);
    } finally {
      await job.stop();
      await store.deploymentSettings.update({ chat_archive_after_days: null });
    }
  });

  it("a failed pass is logged and the next one runs", async () => {
    let calls = 0;
    const failing = {
      deploymentSettings: store.deploymentSettings,
      chatRetention: {
        apply: async () => {
          calls++;
          if (calls === 1) throw new Error("connection terminated");
          return { archived: 0, deleted: 0, skipped: false };
        },
      },
    };
    await store.deploymentSettings.update({ chat_delete_after_days: 30 });
    const job = startHousekeeping({ store: failing, logger, firstDelayMs: 60_000 });
    try {
      await job.runOnce();
      await job.runOnce();
      expect(calls).toBe(2);
      expect(
        logs.some((l) => l.startsWith("warn chat retention failed") && l.includes("terminated")),
      ).toBe(true);
    } finally {
      await job.stop();
      await store.deploymentSettings.update({ chat_delete_after_days: null });
    }
  });
});
