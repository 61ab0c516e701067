/**
 * The owner's event log (`event-log.ts`, `chat-events.ts`) on a real database, two stores as two
 * replicas. A gate on the group commit statement holds an owner's events unpersisted, as a slow
 * database or a replica killed before its next commit would.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "./db.ts";
import { openDatabase, startStore } from "./index.ts";
import { loadSecretKey } from "./secrets.ts";
import type { SqlStore } from "./store.ts";
import { appended, createTestDatabase, type TestDatabase, unique, until } from "./test-support.ts";
import type { ChatEvent, ModelRecord, User } from "./types.ts";

const GROUP_COMMIT = "INSERT INTO chat_events (chat_id, seq, type, data, created_at)";
const TABLE_READ = "FROM chat_events WHERE chat_id = $1 AND seq > $2";

/** A replica whose group commits can be held, and whose statements are counted. */
interface Replica {
  store: SqlStore;
  db: Database;
  /** Group commits (and table reads after a seq) run so far. */
  commits: () => number;
  tableReads: () => number;
  hold: () => void;
  release: () => void;
  /** The next group commit fails (as a dropped connection would). */
  failNext: () => void;
}

function gated(db: Database): Omit<Replica, "store"> {
  let held: Promise<void> | null = null;
  let open: () => void = () => {};
  let commits = 0;
  let tableReads = 0;
  let fail = false;
  const wrapped: Database = {
    kind: db.kind,
    shared: db.shared,
    async query(sql, params) {
      if (sql.includes(GROUP_COMMIT)) {
        commits += 1;
        if (held) await held;
        if (fail) {
          fail = false;
          throw new Error("connection terminated unexpectedly");
        }
      }
      if (sql.includes(TABLE_READ)) tableReads += 1;
      return db.query(sql, params);
    },
    exec: (sql) => db.exec(sql),
    transaction: (fn) => db.transaction(fn),
    ambient: (fn) => db.ambient(fn),
    inTransaction: () => db.inTransaction(),
    afterCommit: (fn) => db.afterCommit(fn),
    listen: (channels, onNotification, onReconnect) =>
      db.listen(channels, onNotification, onReconnect),
    notify: (channel, payload) => db.notify(channel, payload),
    close: () => db.close(),
  };
  return {
    db: wrapped,
    commits: () => commits,
    tableReads: () => tableReads,
    hold: () => {
      held ??= new Promise((resolve) => {
        open = resolve;
      });
    },
    release: () => {
      held = null;
      open();
    },
    failNext: () => {
      fail = true;
    },
  };
}

describe("the owner's event log", () => {
  let testDb: TestDatabase;
  const replicas: Replica[] = [];
  let a: Replica;
  let b: Replica;
  let owner: User;
  let model: ModelRecord;

  async function replica(): Promise<Replica> {
    const options = testDb.options();
    const key = await loadSecretKey(options.dataDir, options.secretKey);
    const gate = gated(await openDatabase(options, { poolSize: 5 }));
    const store = await startStore(gate.db, key, () => {});
    const made = { store, ...gate };
    replicas.push(made);
    return made;
  }

  beforeAll(async () => {
    testDb = await createTestDatabase();
    a = await replica();
    b = await replica();
    const name = unique("user");
    owner = await a.store.createUser({
      username: name,
      email: `${name}@example.com`,
      password: "pw",
      role: "member",
    });
    const provider = await a.store.createProvider({ type: "openai-compatible", name: unique("p") });
    model = await a.store.createModel({ provider_id: provider.id, model: unique("m") });
  });
  afterAll(async () => {
    for (const r of replicas) {
      r.release();
      await r.store.close().catch(() => {});
    }
    await testDb?.cleanup();
  });

  /** A new chat claimed by `by` (only it is pending then); its `status: running` seq. */
  async function claimed(by: Replica, worker: string): Promise<{ id: string; running: number }> {
    // Only the new chat is pending (a takeover before may have left others so).
    await by.db.query("UPDATE chats SET status = 'waiting' WHERE status = 'pending'");
    const { chat } = await a.store.createChat({
      owner_id: owner.id,
      model_id: model.id,
      title: "t",
      first_message: [{ type: "text", text: "hi" }],
    });
    const [taken] = await by.store.acquireChats(worker, 1);
    expect(taken?.id).toBe(chat.id);
    return { id: chat.id, running: taken?.last_event_seq ?? 0 };
  }

  function follow(store: SqlStore, chatId: string, afterSeq: number): ChatEvent[] {
    const seen: ChatEvent[] = [];
    store.events.subscribe(chatId, (event) => seen.push(event), afterSeq);
    return seen;
  }

  const delta = (text: string) => ({ message_id: "m1", part: { type: "text", text } });
  const seqsOf = (events: ChatEvent[]) => events.map((event) => event.seq);
  const persisted = async (chatId: string) =>
    seqsOf(await a.store.events.listAfter(chatId, 0)).slice(2); // after `message`, `pending`

  it("hands deltas to subscribers before they are persisted, and other events only after", async () => {
    const { id, running } = await claimed(a, "w1");
    const seen = follow(a.store, id, running);
    a.hold();
    try {
      for (const text of ["He", "ll", "o"])
        await a.store.events.append(id, "message_part", delta(text));
      expect(seqsOf(seen)).toEqual([running + 1, running + 2, running + 3]);
      const message = a.store.events.append(id, "message", { message: { id: "m1" } });
      void a.store.events.append(id, "message_part", delta("!"));
      await new Promise((resolve) => setTimeout(resolve, 50));
      // Neither the message (not committed) nor the delta behind it.
      expect(seen).toHaveLength(3);
      expect(await persisted(id)).toEqual([running]);
      a.release();
      const event = await appended(message);
      expect(event.seq).toBe(running + 4);
      await until(() => seen.length === 5);
      expect(seqsOf(seen)).toEqual([
        running + 1,
        running + 2,
        running + 3,
        running + 4,
        running + 5,
      ]);
      await until(async () => (await persisted(id)).length === 6);
    } finally {
      a.release();
    }
  });

  it("persists many chats' deltas in a few group commits, not one write each", async () => {
    const chats: Array<{ id: string; running: number }> = [];
    for (let i = 0; i < 20; i++) chats.push(await claimed(a, "w2"));
    const before = a.commits();
    // 20 chats × 25 deltas, appended at once (a busy moment of 20 streams).
    const appends = chats.flatMap(({ id }) =>
      Array.from({ length: 25 }, (_, i) =>
        a.store.events.append(id, "message_part", delta(`${i}`)),
      ),
    );
    await Promise.all(appends);
    await until(async () => {
      const counts = await Promise.all(chats.map(({ id }) => persisted(id)));
      return counts.every((seqs) => seqs.length === 26);
    });
    // 500 events: one commit took them all (a second at most, for a timer that fired between).
    expect(a.commits() - before).toBeLessThanOrEqual(2);
  });

  it("a failed group commit is tried again: nothing lost, nothing written twice", async () => {
    const { id, running } = await claimed(a, "w2b");
    const seen = follow(a.store, id, running);
    a.failNext();
    await a.store.events.append(id, "message_part", delta("a"));
    const message = await appended(a.store.events.append(id, "message", { message: { id: "m" } }));
    // The durable event resolved only once a later commit wrote it.
    expect(message.seq).toBe(running + 2);
    expect(await persisted(id)).toEqual([running, running + 1, running + 2]);
    expect(seqsOf(seen)).toEqual([running + 1, running + 2]);
  });

  it("serves a resume inside the owner's ring from memory", async () => {
    const { id, running } = await claimed(a, "w3");
    for (let i = 0; i < 5; i++) await a.store.events.append(id, "message_part", delta(`${i}`));
    const reads = a.tableReads();
    const seen = follow(a.store, id, running + 2);
    await until(() => seen.length === 3);
    expect(seqsOf(seen)).toEqual([running + 3, running + 4, running + 5]);
    expect(a.tableReads()).toBe(reads);
  });

  it("serves a stream from the start of a chat created and claimed here from memory", async () => {
    const { id, running } = await claimed(a, "w3b");
    await a.store.events.append(id, "message_part", delta("x"));
    const reads = a.tableReads();
    const seen = follow(a.store, id, 0);
    await until(() => seen.length === running + 1);
    expect(seen.map((event) => event.type)).toEqual([
      "message",
      "status",
      "status",
      "message_part",
    ]);
    expect(a.tableReads()).toBe(reads);
    // Claimed by another replica, the same chat's start is read from the table there.
    const other = await claimed(b, "w3c");
    const readsB = b.tableReads();
    const onB = follow(b.store, other.id, 0);
    await until(() => onB.length === other.running);
    expect(b.tableReads()).toBeGreaterThan(readsB);
  });

  it("a follower on another replica gets the owner's events from its commits, in order", async () => {
    const { id, running } = await claimed(a, "w4");
    const onB = follow(b.store, id, running);
    for (let i = 0; i < 30; i++) {
      void a.store.events.append(id, i % 10 === 9 ? "usage" : "message_part", delta(`${i}`));
      if (i % 7 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await until(() => onB.length === 30);
    expect(seqsOf(onB)).toEqual(Array.from({ length: 30 }, (_, i) => running + 1 + i));
  });

  it("an event for a chat another replica owns is numbered by that replica", async () => {
    const { id, running } = await claimed(a, "w5");
    await a.store.events.append(id, "message_part", delta("x"));
    expect(await b.store.events.append(id, "title", { title: "Renamed" })).toBeNull();
    const onA = follow(a.store, id, running);
    await until(() => onA.some((event) => event.type === "title"));
    expect(onA.map((event) => [event.seq, event.type])).toEqual([
      [running + 1, "message_part"],
      [running + 2, "title"],
    ]);
  });

  it("a release goes on after the owner's last event, with nothing in between", async () => {
    const { id, running } = await claimed(a, "w6");
    for (let i = 0; i < 3; i++) await a.store.events.append(id, "message_part", delta(`${i}`));
    const change = await a.store.releaseChat(id, "w6", "waiting");
    expect(change.applied).toBe(true);
    const events = await a.store.events.listAfter(id, running);
    expect(events.map((event) => [event.seq, event.type])).toEqual([
      [running + 1, "message_part"],
      [running + 2, "message_part"],
      [running + 3, "message_part"],
      [running + 4, "status"],
    ]);
    // Appends after the release are numbered by the database, after them.
    const title = await appended(b.store.events.append(id, "title", { title: "t2" }));
    expect(title.seq).toBe(running + 5);
  });

  it("a takeover starts past every seq the dead owner handed out, and none of its late events land", async () => {
    const { id, running } = await claimed(a, "w7");
    const onA = follow(a.store, id, running);
    const onB = follow(b.store, id, running);
    a.hold();
    try {
      for (let i = 0; i < 4; i++) await a.store.events.append(id, "message_part", delta(`${i}`));
      expect(seqsOf(onA)).toEqual([running + 1, running + 2, running + 3, running + 4]);
      // `a` stops heartbeating (it is dead to the others): `b` takes the chat back.
      const recovered = await b.store.recoverStaleChats(0);
      expect(recovered.map((r) => r.chat_id)).toContain(id);
    } finally {
      a.release();
    }
    await until(() => onB.length === 1 && onA.length === 5);
    const [pending] = onB;
    expect(pending?.type).toBe("status");
    // Past anything `a` could have handed out unpersisted.
    expect(pending?.seq).toBeGreaterThan(running + 4);
    expect(onA.at(-1)).toEqual(pending);
    // `a`'s held commit found the chat taken: none of its four deltas exists.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seqsOf(await a.store.events.listAfter(id, running))).toEqual([pending?.seq]);
    // And `a` no longer numbers the chat's events: an append goes to the database after it.
    const next = await appended(a.store.events.append(id, "title", { title: "later" }));
    expect(next.seq).toBe((pending?.seq ?? 0) + 1);
  });
  it("a takeover announces a message the dead owner saved but never got its event out", async () => {
    const { id } = await claimed(a, "w8");
    const message = await a.store.saveMessage(id, {
      id: unique("msg"),
      role: "assistant",
      parts: [{ type: "text", text: "Done." }],
    });
    a.hold();
    try {
      // Its event waits for a commit that never comes (the replica is about to die).
      void a.store.events.append(id, "message", { message: { id: message.id } }).catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 50));
      await b.store.recoverStaleChats(0);
    } finally {
      a.release();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    const events = await b.store.events.listAfter(id, 0);
    const announced = events
      .filter((event) => event.type === "message")
      .map((event) => (event.data as { message: { id: string } }).message.id);
    // Once, by the takeover, before its `pending`.
    expect(announced.filter((m) => m === message.id)).toHaveLength(1);
    const last = events.slice(-2).map((event) => event.type);
    expect(last).toEqual(["message", "status"]);
  });
});
