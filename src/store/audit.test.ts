import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AuditActorType,
  AuditCursorError,
  type AuditEntry,
  DEFAULT_AUDIT_RETENTION_DAYS,
  LOCK_AUDIT_RETENTION,
} from "./audit.ts";
import type { Database } from "./db.ts";
import { LOCK_NAMESPACE } from "./migrations.ts";
import type { SqlStore } from "./store.ts";
import { createTestDatabase, type TestDatabase, unique } from "./test-support.ts";

function entry(over: Partial<AuditEntry> = {}): AuditEntry {
  return {
    actor: { type: "user", id: "u1", name: "alice" },
    action: "provider.update",
    target: { type: "provider", id: "p1", name: "OpenAI" },
    source: { address: "10.0.0.1", user_agent: "test" },
    outcome: "success",
    error: null,
    changes: { name: { from: "a", to: "b" }, api_key: "[changed]" },
    ...over,
  };
}

describe("audit log", () => {
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

  it("records a row and reads it back as written", async () => {
    const action = unique("thing.create");
    await store.audit.record(entry({ action }));
    const { events, next_cursor } = await store.audit.list({ action, limit: 10 });
    expect(next_cursor).toBeNull();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ ...entry({ action }), id: expect.any(String) });
    expect(new Date(events[0]?.time ?? "").toISOString()).toBe(events[0]?.time);
  });

  it("filters by actor (id or name), action (exact or prefix), target, and time", async () => {
    const ns = unique("ns").replace(/[^a-z0-9]/gu, "");
    await store.audit.record(entry({ action: `${ns}.create`, actor: actor("user", "ua", "Ann") }));
    await store.audit.record(entry({ action: `${ns}.delete`, actor: actor("user", "ub", "Bob") }));
    await store.audit.record(
      entry({ action: `${ns}x.create`, target: { type: `${ns}t`, id: "t9", name: null } }),
    );
    const actions = async (filter: Parameters<typeof store.audit.list>[0]) =>
      (await store.audit.list(filter)).events.map((e) => e.action).sort();
    expect(await actions({ action: `${ns}.`, limit: 50 })).toEqual([
      `${ns}.create`,
      `${ns}.delete`,
    ]);
    expect(await actions({ action: `${ns}*`, limit: 50 })).toHaveLength(3);
    expect(await actions({ action: `${ns}.create`, limit: 50 })).toEqual([`${ns}.create`]);
    expect(await actions({ action: `${ns}.`, actor: "ub", limit: 50 })).toEqual([`${ns}.delete`]);
    expect(await actions({ action: `${ns}.`, actor: "ann", limit: 50 })).toEqual([`${ns}.create`]);
    expect(await actions({ target: { type: `${ns}t` }, limit: 50 })).toEqual([`${ns}x.create`]);
    expect(await actions({ target: { type: `${ns}t`, id: "t8" }, limit: 50 })).toEqual([]);
    // A LIKE wildcard in the prefix is a literal character.
    expect(await actions({ action: `${ns}_`, limit: 50 })).toEqual([]);
    const future = new Date(Date.now() + 60_000);
    expect(await actions({ action: `${ns}*`, since: future, limit: 50 })).toEqual([]);
    expect(await actions({ action: `${ns}*`, until: future, limit: 50 })).toHaveLength(3);
  });

  it("pages newest first with a cursor, rows of the same millisecond included", async () => {
    const action = unique("page.test");
    // One statement: every row has the same time, so only the id orders them.
    await db.query(
      `INSERT INTO audit_events (actor_type, action, outcome)
       SELECT 'system', $1, 'success' FROM generate_series(1, 7)`,
      [action],
    );
    await store.audit.record(entry({ action }));
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.audit.list({ action, limit: 3, ...(cursor ? { cursor } : {}) });
      seen.push(...page.events.map((e) => e.id));
      cursor = page.next_cursor ?? undefined;
      pages += 1;
    } while (cursor !== undefined);
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(8);
    const all = (await store.audit.list({ action, limit: 100 })).events.map((e) => e.id);
    expect(seen).toEqual(all);
  });

  it("refuses a cursor it did not make", async () => {
    for (const cursor of ["nope", Buffer.from("[1,2]").toString("base64url"), "%%%"]) {
      await expect(store.audit.list({ cursor, limit: 1 })).rejects.toBeInstanceOf(AuditCursorError);
    }
  });

  it("audited: the change and its row commit together", async () => {
    const name = unique("ws");
    const action = unique("workspace.create");
    const owner = await store.createFirstUser({
      username: "owner",
      email: "owner@example.com",
      password: "pw",
    });
    const created = await store.audit.audited(
      { actor: actor("user", owner.id, "owner"), action, source: entry().source },
      async (note) => {
        const { workspace } = await store.workspaces.create({
          owner_id: owner.id,
          name,
          directory: null,
        });
        note.target = { type: "workspace", id: workspace.id, name };
        note.changes = { name: { to: name } };
        return workspace;
      },
    );
    const [row] = (await store.audit.list({ action, limit: 5 })).events;
    expect(row?.target).toEqual({ type: "workspace", id: created.id, name });
    expect(row?.changes).toEqual({ name: { to: name } });
  });

  it("audited: a change whose audit row cannot be written is not kept", async () => {
    const owner = (await store.listUsers())[0];
    if (!owner) throw new Error("no user");
    const name = unique("ws");
    // An actor type the table refuses: the row's INSERT fails after the change ran.
    const bad = actor("nobody" as AuditActorType, owner.id, "owner");
    await expect(
      store.audit.audited({ actor: bad, action: "workspace.create", source: entry().source }, () =>
        store.workspaces.create({ owner_id: owner.id, name, directory: null }),
      ),
    ).rejects.toThrow();
    const rows = await db.query("SELECT 1 FROM workspaces WHERE name = $1", [name]);
    expect(rows).toHaveLength(0);
  });

  it("audited: a change that throws rolls back what it had done", async () => {
    const owner = (await store.listUsers())[0];
    if (!owner) throw new Error("no user");
    const name = unique("ws");
    const action = unique("workspace.create");
    await expect(
      store.audit.audited({ actor: entry().actor, action, source: entry().source }, async () => {
        await store.workspaces.create({ owner_id: owner.id, name, directory: null });
        throw new Error("refused after the change");
      }),
    ).rejects.toThrow("refused after the change");
    expect(await db.query("SELECT 1 FROM workspaces WHERE name = $1", [name])).toHaveLength(0);
    expect((await store.audit.list({ action, limit: 5 })).events).toHaveLength(0);
  });

  it("a new chat and its audit row are one statement: no chat without its row", async () => {
    const owner = (await store.listUsers())[0];
    if (!owner) throw new Error("no user");
    const provider = await store.createProvider({ type: "openai-compatible", name: unique("p") });
    const model = await store.createModel({ provider_id: provider.id, model: unique("m") });
    const title = unique("chat");
    const base = { owner_id: owner.id, model_id: model.id, first_message: [] };
    const audit = entry({ action: "chat.create", target: null, changes: null });
    const { chat } = await store.createChat({ ...base, title, audit });
    const [row] = (await store.audit.list({ target: { type: "chat", id: chat.id }, limit: 5 }))
      .events;
    expect(row).toMatchObject({ action: "chat.create", target: { id: chat.id, name: title } });
    const refused = unique("chat");
    const bad = { ...audit, actor: actor("nobody" as AuditActorType, owner.id, "x") };
    await expect(store.createChat({ ...base, title: refused, audit: bad })).rejects.toThrow();
    expect(await db.query("SELECT 1 FROM chats WHERE title = $1", [refused])).toHaveLength(0);
    // A message, a rewind and a compaction request write theirs in their own transaction.
    await store.enqueueUserMessage(chat.id, [{ type: "text", text: "kept" }], {
      ...audit,
      action: "chat.message",
      target: { type: "chat", id: chat.id, name: title },
    });
    await expect(
      store.enqueueUserMessage(chat.id, [{ type: "text", text: "never" }], bad),
    ).rejects.toThrow();
    await expect(store.rewindChat(chat.id, { audit: bad })).rejects.toThrow();
    await expect(store.requestCompaction(chat.id, bad)).rejects.toThrow();
    const texts = (await store.listMessages(chat.id)).map((m) => JSON.stringify(m.parts));
    expect(texts.join()).toContain("kept");
    expect(texts.join()).not.toContain("never");
    expect((await store.getChat(chat.id))?.compact_requested ?? false).toBe(false);
    const actions = (await store.audit.list({ target: { type: "chat", id: chat.id }, limit: 9 }))
      .events;
    expect(actions.map((e) => e.action)).toEqual(["chat.message", "chat.create"]);
  });

  it("ambient transaction: a nested transaction is a savepoint, afterCommit waits for COMMIT", async () => {
    const key = unique("ambient");
    const order: string[] = [];
    await db.ambient(async () => {
      expect(db.inTransaction()).toBe(true);
      await db.query("INSERT INTO settings (key, value) VALUES ($1, 'outer')", [key]);
      await expect(
        db.transaction(async () => {
          await db.query("UPDATE settings SET value = 'inner' WHERE key = $1", [key]);
          throw new Error("inner fails");
        }),
      ).rejects.toThrow("inner fails");
      await db.afterCommit(() => {
        order.push("after");
      });
      order.push("body");
      // Another connection does not see the uncommitted row.
      const other = await testDb.open();
      expect(await other.db.query("SELECT 1 FROM settings WHERE key = $1", [key])).toHaveLength(0);
    });
    expect(db.inTransaction()).toBe(false);
    expect(order).toEqual(["body", "after"]);
    // A plain transaction is not ambient: a query beside it runs on the pool, as before.
    await db.transaction(async () => {
      expect(db.inTransaction()).toBe(false);
    });
    const [row] = await db.query<{ value: string }>("SELECT value FROM settings WHERE key = $1", [
      key,
    ]);
    expect(row?.value).toBe("outer");
  });

  it("ambient transaction: a rolled-back change never reaches the read cache", async () => {
    const before = await store.deploymentSettings.get();
    await expect(
      db.ambient(async () => {
        await store.deploymentSettings.update({ system_prompt: "uncommitted" });
        expect((await store.deploymentSettings.get()).system_prompt).toBe("uncommitted");
        throw new Error("roll back");
      }),
    ).rejects.toThrow("roll back");
    expect(await store.deploymentSettings.get()).toEqual(before);
    await db.ambient(() => store.deploymentSettings.update({ system_prompt: "committed" }));
    expect((await store.deploymentSettings.get()).system_prompt).toBe("committed");
  });

  it("retention: a setting (default 365 days, or forever), pruning only older rows", async () => {
    expect(await store.audit.retentionDays()).toBe(DEFAULT_AUDIT_RETENTION_DAYS);
    const action = unique("old.thing");
    await db.query(
      `INSERT INTO audit_events (time, actor_type, action, outcome)
       SELECT now() - make_interval(days => d), 'system', $1, 'success'
         FROM unnest(ARRAY[1, 9, 11, 400]) AS d`,
      [action],
    );
    await store.audit.setRetentionDays(null);
    expect(await store.audit.retentionDays()).toBeNull();
    expect(await store.audit.prune()).toBe(0);
    await store.audit.setRetentionDays(10);
    expect(await store.audit.prune(1)).toBeGreaterThanOrEqual(2);
    const left = (await store.audit.list({ action, limit: 10 })).events;
    expect(left).toHaveLength(2);
    await store.audit.setRetentionDays(DEFAULT_AUDIT_RETENTION_DAYS);
  });

  it("retention: one replica prunes at a time", async () => {
    await store.audit.setRetentionDays(1);
    await db.query(
      `INSERT INTO audit_events (time, actor_type, action, outcome)
       VALUES (now() - interval '5 days', 'system', 'held.thing', 'success')`,
    );
    const other = await testDb.open();
    let pruned = -1;
    await other.db.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock($1, $2)", [
        LOCK_NAMESPACE,
        LOCK_AUDIT_RETENTION,
      ]);
      pruned = await store.audit.prune();
    });
    expect(pruned).toBe(0);
    expect(await store.audit.prune()).toBeGreaterThanOrEqual(1);
    await store.audit.setRetentionDays(DEFAULT_AUDIT_RETENTION_DAYS);
  });
});

function actor(type: AuditActorType, id: string, name: string) {
  return { type, id, name };
}
