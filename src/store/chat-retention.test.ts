import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyChatRetention } from "./chat-retention.ts";
import type { Database } from "./db.ts";
import type { SqlStore } from "./store.ts";
import { createTestDatabase, type TestDatabase, unique } from "./test-support.ts";
import type { ChatStatus, ModelRecord, User } from "./types.ts";

describe("chat retention: archive idle chats, delete archived ones, audit each", () => {
  let testDb: TestDatabase;
  let store: SqlStore;
  let db: Database;
  let model: ModelRecord;
  let owner: User;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    ({ store, db } = await testDb.open());
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

  /** A chat last active `idleDays` ago, in `status`, archived `archivedDays` ago if given. */
  async function chat(
    title: string,
    idleDays: number,
    status: ChatStatus = "waiting",
    archivedDays?: number,
  ): Promise<string> {
    const { chat } = await store.createChat({
      owner_id: owner.id,
      model_id: model.id,
      title,
      first_message: [{ type: "text", text: "hello" }],
    });
    await db.query(
      `UPDATE chats SET status = $2, updated_at = now() - make_interval(days => $3::int)
        WHERE id = $1`,
      [chat.id, status, idleDays],
    );
    if (archivedDays !== undefined) {
      await db.query("UPDATE chats SET archived = true WHERE id = $1", [chat.id]);
      await db.query(
        "UPDATE chats SET archived_at = now() - make_interval(days => $2::int) WHERE id = $1",
        [chat.id, archivedDays],
      );
    }
    return chat.id;
  }

  const state = async (id: string) => {
    const [row] = await db.query<{ archived: boolean }>(
      "SELECT archived FROM chats WHERE id = $1",
      [id],
    );
    return row === undefined ? "deleted" : row.archived ? "archived" : "kept";
  };

  const audited = async (id: string) =>
    (
      await db.query<{ action: string; actor_type: string; actor_name: string }>(
        "SELECT action, actor_type, actor_name FROM audit_events WHERE target_id = $1",
        [id],
      )
    ).map((row) => `${row.actor_type}:${row.actor_name}:${row.action}`);

  it("archiving sets archived_at and unarchiving clears it, however it is done", async () => {
    const id = await chat("toggle", 0);
    await store.manageChat(id, { archived: true });
    const at = async () =>
      (
        await db.query<{ at: Date | null }>("SELECT archived_at AS at FROM chats WHERE id = $1", [
          id,
        ])
      )[0]?.at ?? null;
    expect(await at()).toBeInstanceOf(Date);
    await store.manageChat(id, { pinned: true }); // not an archive change: kept
    expect(await at()).toBeInstanceOf(Date);
    await store.manageChat(id, { archived: false });
    expect(await at()).toBeNull();
  });

  it("does nothing with both off", async () => {
    const old = await chat("old", 400);
    expect(await applyChatRetention(db, { archiveAfterDays: null, deleteAfterDays: null })).toEqual(
      {
        archived: 0,
        deleted: 0,
        skipped: false,
      },
    );
    expect(await state(old)).toBe("kept");
  });

  it("archives what is idle past the setting, deletes what was archived past its own, nothing else", async () => {
    const cases = {
      idle: await chat("idle 40 days", 40),
      failed: await chat("idle, ended in error", 40, "error"),
      recent: await chat("active 5 days ago", 5),
      running: await chat("running, 40 days since its last event", 40, "running"),
      queued: await chat("pending", 40, "pending"),
      archivedLong: await chat("archived 100 days ago", 200, "waiting", 100),
      archivedRecently: await chat("archived 10 days ago", 200, "waiting", 10),
    };
    const result = await applyChatRetention(db, { archiveAfterDays: 30, deleteAfterDays: 90 });
    expect(result).toMatchObject({ skipped: false });
    expect(result.deleted).toBeGreaterThanOrEqual(1);
    expect({
      idle: await state(cases.idle),
      failed: await state(cases.failed),
      recent: await state(cases.recent),
      running: await state(cases.running),
      queued: await state(cases.queued),
      archivedLong: await state(cases.archivedLong),
      archivedRecently: await state(cases.archivedRecently),
    }).toEqual({
      idle: "archived",
      failed: "archived",
      recent: "kept",
      running: "kept",
      queued: "kept",
      archivedLong: "deleted",
      archivedRecently: "archived",
    });
    expect(await audited(cases.idle)).toEqual(["system:retention:chat.archive"]);
    expect(await audited(cases.archivedLong)).toEqual(["system:retention:chat.delete"]);
    expect(await audited(cases.recent)).toEqual([]);
    // A deleted chat's messages and events went with it.
    const [left] = await db.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM messages WHERE chat_id = $1)
            + (SELECT count(*) FROM chat_events WHERE chat_id = $1) AS n`,
      [cases.archivedLong],
    );
    expect(Number(left?.n)).toBe(0);
  });

  it("works in batches, and a replica holding the lock makes the others skip", async () => {
    const ids = [await chat("b1", 50), await chat("b2", 50), await chat("b3", 50)];
    const result = await applyChatRetention(
      db,
      { archiveAfterDays: 45, deleteAfterDays: null },
      { batchSize: 2 },
    );
    expect(result.archived).toBeGreaterThanOrEqual(3);
    for (const id of ids) expect(await state(id)).toBe("archived");

    const more = await chat("b4", 50);
    await db.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock($1, $2)", [0x6b65656c, 20]);
      // Another replica's pass, while this one holds the lock.
      const other = await testDb.open();
      expect(
        await applyChatRetention(other.db, { archiveAfterDays: 45, deleteAfterDays: null }),
      ).toEqual({ archived: 0, deleted: 0, skipped: true });
    });
    expect(await state(more)).toBe("kept");
  });
});
