import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChatSignal, ConflictError, InvalidCursorError, LastAdminError } from "./contract.ts";
import type { Database } from "./db.ts";
import { publicMessage } from "./public.ts";
import type { SqlStore } from "./store.ts";
import {
  appended,
  createTestDatabase,
  type Opened,
  sleep,
  type TestDatabase,
  unique,
  until,
} from "./test-support.ts";
import type { Chat, ChatEvent, Message, MessagePart, ModelRecord, User } from "./types.ts";

describe("store", () => {
  let testDb: TestDatabase;
  let a: Opened;
  /** A second replica on the same database. */
  let b: Opened;
  let store: SqlStore;
  let db: Database;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    a = await testDb.open();
    b = await testDb.open();
    store = a.store;
    db = a.db;
  });
  afterAll(async () => {
    await testDb?.cleanup();
  });

  async function newUser(role: "admin" | "member" = "member"): Promise<User> {
    const name = unique("user");
    return store.createUser({ username: name, email: `${name}@example.com`, password: "pw", role });
  }

  async function newModel(): Promise<ModelRecord> {
    const provider = await store.createProvider({ type: "openai-compatible", name: unique("p") });
    return store.createModel({ provider_id: provider.id, model: unique("m") });
  }

  async function newChat(owner?: User, model?: ModelRecord): Promise<Chat> {
    const { chat } = await store.createChat({
      owner_id: (owner ?? (await newUser())).id,
      model_id: (model ?? (await newModel())).id,
      title: "a chat",
      first_message: [{ type: "text", text: "hello" }],
    });
    return chat;
  }

  describe("database adapter", () => {
    it("rolls a failed transaction back", async () => {
      const name = unique("rollback");
      await expect(
        db.transaction(async (tx) => {
          await tx.query("INSERT INTO settings (key, value) VALUES ($1, 'x')", [name]);
          throw new Error("boom");
        }),
      ).rejects.toThrow("boom");
      expect(await db.query("SELECT 1 FROM settings WHERE key = $1", [name])).toEqual([]);
    });

    it("LISTENs and NOTIFYs, the notification arriving after commit", async () => {
      const received: string[] = [];
      const stop = await db.listen(["keel_test_channel"], (channel, payload) =>
        received.push(`${channel}:${payload}`),
      );
      await b.db.transaction(async (tx) => {
        await tx.query("SELECT pg_notify('keel_test_channel', 'in-tx')");
      });
      await b.db.notify("keel_test_channel", "direct");
      await until(() => received.length === 2, 5_000, "notifications");
      expect(received).toEqual(["keel_test_channel:in-tx", "keel_test_channel:direct"]);
      await stop();
    });
  });

  describe("users", () => {
    it("creates exactly one first user under concurrent calls, as admin", async () => {
      await db.query("TRUNCATE users CASCADE");
      expect(await store.countUsers()).toBe(0);
      const attempts = Array.from({ length: 6 }, (_, i) =>
        (i % 2 === 0 ? a : b).store.createFirstUser({
          username: `owner${i}`,
          email: `owner${i}@example.com`,
          password: "correct horse",
        }),
      );
      const results = await Promise.allSettled(attempts);
      const ok = results.filter((r) => r.status === "fulfilled");
      const failed = results.filter((r) => r.status === "rejected");
      expect(ok).toHaveLength(1);
      expect(failed).toHaveLength(5);
      for (const r of failed)
        expect((r as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
      expect(await store.countUsers()).toBe(1);
      const first = (ok[0] as PromiseFulfilledResult<User>).value;
      expect(first.role).toBe("admin");
      expect(first.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      await expect(
        store.createFirstUser({ username: "late", email: "late@example.com", password: "x" }),
      ).rejects.toBeInstanceOf(ConflictError);
    });

    it("verifies passwords and keeps only a salted Argon2id hash", async () => {
      const user = await store.createUser({
        username: "Alice",
        email: "Alice@Example.com",
        password: "s3cret pass",
        role: "member",
      });
      expect(await store.verifyPassword("alice@example.com", "s3cret pass")).toEqual(user);
      expect(await store.verifyPassword("alice@example.com", "wrong")).toBeNull();
      expect(await store.verifyPassword("nobody@example.com", "s3cret pass")).toBeNull();
      expect(await store.getUser(user.id)).toEqual(user);
      expect(await store.getUser("00000000-0000-0000-0000-000000000000")).toBeNull();

      const twin = await store.createUser({
        username: "alice2",
        email: "alice2@example.com",
        password: "s3cret pass",
        role: "member",
      });
      const rows = await db.query<{ password_hash: string }>(
        "SELECT password_hash FROM users WHERE id = ANY($1::text[])",
        [[user.id, twin.id]],
      );
      const [h1, h2] = rows.map((r) => r.password_hash);
      expect(h1).toMatch(/^\$argon2id\$/);
      expect(h1).not.toContain("s3cret");
      expect(h1).not.toBe(h2); // per-user salt
    });

    it("refuses a second user with the same email or username (any case)", async () => {
      const user = await newUser();
      await expect(
        store.createUser({
          username: unique("x"),
          email: user.email.toUpperCase(),
          password: "pw",
          role: "member",
        }),
      ).rejects.toBeInstanceOf(ConflictError);
      await expect(
        store.createUser({
          username: user.username.toUpperCase(),
          email: `${unique("y")}@example.com`,
          password: "pw",
          role: "member",
        }),
      ).rejects.toBeInstanceOf(ConflictError);
    });
  });

  describe("users: listing, roles and deactivation", () => {
    it("lists every user oldest first, each with its active flag", async () => {
      const first = await newUser();
      const second = await newUser("admin");
      const users = await store.listUsers();
      const ids = users.map((u) => u.id);
      expect(ids.indexOf(first.id)).toBeLessThan(ids.indexOf(second.id));
      expect(users.find((u) => u.id === second.id)).toEqual({ ...second, active: true });
      expect(first.active).toBe(true);
    });

    it("changes the role, and deactivates: no sign-in token works, every token is deleted", async () => {
      const admin = await newUser("admin"); // so the changes below never touch the last admin
      const user = await newUser();
      const session = await store.createToken(user.id, "session");
      const apiToken = await store.createToken(user.id, "api");
      expect(await store.updateUser(user.id, { role: "admin" })).toMatchObject({
        role: "admin",
        active: true,
      });
      const off = await store.updateUser(user.id, { active: false });
      expect(off).toMatchObject({ id: user.id, role: "admin", active: false });
      expect(await store.getUser(user.id)).toEqual(off);
      for (const token of [session, apiToken]) expect(await b.store.userForToken(token)).toBeNull();
      expect(await db.query("SELECT 1 FROM api_tokens WHERE user_id = $1", [user.id])).toEqual([]);
      // The password still matches; refusing the sign-in is the api's part.
      expect(await store.verifyPassword(user.email, "pw")).toMatchObject({ active: false });
      // Deactivating twice keeps the first time.
      const [before] = await db.query<{ at: unknown }>(
        "SELECT deactivated_at AS at FROM users WHERE id = $1",
        [user.id],
      );
      await store.updateUser(user.id, { active: false });
      const [again] = await db.query<{ at: unknown }>(
        "SELECT deactivated_at AS at FROM users WHERE id = $1",
        [user.id],
      );
      expect(again?.at).toEqual(before?.at);
      // A token minted while deactivated (a sign-in racing the change) does not authenticate.
      const raced = await store.createToken(user.id, "session");
      expect(await store.userForToken(raced)).toBeNull();

      const on = await store.updateUser(user.id, { active: true, role: "member" });
      expect(on).toMatchObject({ role: "member", active: true });
      expect(await store.userForToken(raced)).toEqual(on);
      expect(await store.userForToken(session)).toBeNull(); // deleted, not just refused
      expect(
        await store.updateUser("00000000-0000-4000-8000-000000000000", { active: false }),
      ).toBeNull();
      await expect(store.updateUser(user.id, { role: "owner" as "admin" })).rejects.toThrow(
        TypeError,
      );
      expect((await store.getUser(admin.id))?.active).toBe(true);
    });

    it("revokes one token", async () => {
      const user = await newUser();
      const kept = await store.createToken(user.id, "session");
      const revoked = await store.createToken(user.id, "session");
      expect(await store.revokeToken(revoked)).toBe(true);
      expect(await store.revokeToken(revoked)).toBe(false);
      expect(await store.revokeToken("not a token")).toBe(false);
      expect(await store.userForToken(revoked)).toBeNull();
      expect(await store.userForToken(kept)).toEqual(user);
    });

    describe("never leaves no active admin", () => {
      /** Only `n` admins exist (and a member): every other user is deleted. */
      async function onlyAdmins(n: number): Promise<{ admins: User[]; member: User }> {
        await db.query("TRUNCATE users CASCADE");
        const admins: User[] = [];
        for (let i = 0; i < n; i++) admins.push(await newUser("admin"));
        return { admins, member: await newUser() };
      }

      it.each([
        ["demoting", { role: "member" }],
        ["deactivating", { active: false }],
        ["demoting and deactivating", { role: "member", active: false }],
      ] as const)("refuses %s the last active admin, changing nothing", async (_, patch) => {
        const { admins, member } = await onlyAdmins(1);
        const [last] = admins as [User];
        const token = await store.createToken(last.id, "session");
        await expect(store.updateUser(last.id, patch)).rejects.toBeInstanceOf(LastAdminError);
        expect(await store.getUser(last.id)).toEqual(last);
        expect(await store.userForToken(token)).toEqual(last);
        // The member is free to change, and a deactivated admin does not count.
        expect(await store.updateUser(member.id, { active: false })).toMatchObject({
          active: false,
        });
        const other = await newUser("admin");
        await store.updateUser(other.id, { active: false });
        await expect(store.updateUser(last.id, patch)).rejects.toBeInstanceOf(LastAdminError);
        // With another active admin it is allowed.
        await store.updateUser(other.id, { active: true });
        expect(await store.updateUser(last.id, patch)).toMatchObject(patch);
      });

      it.each([
        ["two demotions", { role: "member" }, { role: "member" }],
        ["two deactivations", { active: false }, { active: false }],
        ["a demotion and a deactivation", { role: "member" }, { active: false }],
      ] as const)("of %s at once (two replicas), exactly one applies", async (_, p1, p2) => {
        for (let round = 0; round < 5; round++) {
          const { admins } = await onlyAdmins(2);
          const [x, y] = admins as [User, User];
          const results = await Promise.allSettled([
            a.store.updateUser(x.id, p1),
            b.store.updateUser(y.id, p2),
          ]);
          const applied = results.filter((r) => r.status === "fulfilled");
          const refused = results.filter((r) => r.status === "rejected");
          expect(applied).toHaveLength(1);
          expect((refused[0] as PromiseRejectedResult).reason).toBeInstanceOf(LastAdminError);
          const active = (await store.listUsers()).filter((u) => u.role === "admin" && u.active);
          expect(active).toHaveLength(1);
        }
      });
    });
  });

  describe("tokens", () => {
    it("stores only the sha256 of a token and resolves it to its user", async () => {
      const user = await newUser();
      const token = await store.createToken(user.id, "api", { name: "ci" });
      expect(token).toMatch(/^keel_[A-Za-z0-9_-]{43}$/);
      expect(await b.store.userForToken(token)).toEqual(user);

      const rows = await db.query("SELECT * FROM api_tokens WHERE user_id = $1", [user.id]);
      expect(rows).toHaveLength(1);
      const stored = JSON.stringify(rows);
      expect(stored).not.toContain(token);
      expect(stored).not.toContain(token.slice(5));
      expect(rows[0]).toMatchObject({ kind: "api", name: "ci", expires_at: null });
      expect(rows[0]?.last_used_at).not.toBeNull();
    });

    it("expires sessions and rejects unknown or malformed tokens", async () => {
      const user = await newUser();
      const session = await store.createToken(user.id, "session");
      const short = await store.createToken(user.id, "session", { ttlMs: 150 });
      expect(await store.userForToken(session)).toEqual(user);
      expect(await store.userForToken(short)).toEqual(user);
      const [row] = await db.query<{ days: number }>(
        `SELECT extract(epoch FROM expires_at - created_at) / 86400 AS days FROM api_tokens
         WHERE user_id = $1 ORDER BY expires_at DESC LIMIT 1`,
        [user.id],
      );
      expect(Number(row?.days)).toBeCloseTo(30, 3);
      await sleep(250);
      expect(await store.userForToken(short)).toBeNull();
      expect(await store.userForToken(session)).toEqual(user);
      expect(await store.userForToken(`keel_${"A".repeat(43)}`)).toBeNull();
      expect(await store.userForToken("not a token")).toBeNull();
      expect(await store.userForToken("")).toBeNull();
    });

    it("answers, in one statement, which open streams' readers may still read their chats", async () => {
      const owner = await newUser();
      const other = await newUser();
      const admin = await newUser("admin");
      const chat = await newChat(owner);
      const [ownerToken, otherToken, adminToken, revoked] = await Promise.all([
        store.createToken(owner.id, "session"),
        store.createToken(other.id, "session"),
        store.createToken(admin.id, "api"),
        store.createToken(owner.id, "api"),
      ]);
      await store.revokeToken(revoked);
      const cases: Array<[string, string, boolean]> = [
        [ownerToken, chat.id, true],
        [otherToken, chat.id, false],
        [adminToken, chat.id, true],
        [revoked, chat.id, false],
        [ownerToken, "no-such-chat", false],
        ["not a token", chat.id, false],
      ];
      const pairs = cases.map(([token, id]) => [token, id] as const);
      expect(await b.store.mayStillRead(pairs)).toEqual(cases.map(([, , allowed]) => allowed));
      await store.updateUser(owner.id, { active: false });
      expect(await b.store.mayStillRead([[ownerToken, chat.id]])).toEqual([false]);
      expect(await b.store.mayStillRead([])).toEqual([]);
    });
  });

  describe("providers", () => {
    const KEY = "sk-live-THIS-IS-THE-PLAINTEXT-KEY-0123456789";

    it("encrypts the API key at rest and only providerConfig decrypts it", async () => {
      const provider = await store.createProvider({
        type: "anthropic",
        name: "Anthropic",
        api_key: KEY,
        options: { headers: { "x-team": "core" }, nested: { list: [1, 2.5, "x"] } },
      });
      expect(provider).toMatchObject({
        type: "anthropic",
        name: "Anthropic",
        base_url: null,
        has_api_key: true,
        // Headers are credentials too: named, never shown.
        options: { headers: "[redacted]", nested: { list: [1, 2.5, "x"] } },
      });
      expect(JSON.stringify(provider)).not.toContain(KEY);
      expect(JSON.stringify(await store.getProvider(provider.id))).not.toContain(KEY);
      expect(JSON.stringify(await store.listProviders())).not.toContain(KEY);

      const [row] = await db.query("SELECT * FROM providers WHERE id = $1", [provider.id]);
      expect(JSON.stringify(row)).not.toContain(KEY);
      expect(JSON.stringify(row)).not.toContain(Buffer.from(KEY).toString("base64").slice(0, 20));
      expect(String(row?.api_key_encrypted)).toMatch(/^v1\./);

      // Another replica (same server key) decrypts it too.
      expect(await b.store.providerConfig(provider.id)).toEqual({
        type: "anthropic",
        name: "Anthropic",
        api_key: KEY,
        options: { headers: { "x-team": "core" }, nested: { list: [1, 2.5, "x"] } },
      });
      expect(await store.providerConfig("missing")).toBeNull();
    });

    it("encrypts credential options (Bedrock secrets, headers) at rest like the key", async () => {
      const SECRET = "aws-SECRET-access-key-plaintext-987";
      const provider = await store.createProvider({
        type: "bedrock",
        name: "Bedrock",
        options: { region: "eu-west-1", access_key_id: "AKIAEXAMPLE", secret_access_key: SECRET },
      });
      expect(provider.options).toEqual({
        region: "eu-west-1",
        access_key_id: "AKIAEXAMPLE",
        secret_access_key: "[redacted]",
      });
      const [row] = await db.query("SELECT * FROM providers WHERE id = $1", [provider.id]);
      expect(JSON.stringify(row)).not.toContain(SECRET);
      expect((await b.store.providerConfig(provider.id))?.options).toEqual({
        region: "eu-west-1",
        access_key_id: "AKIAEXAMPLE",
        secret_access_key: SECRET,
      });
      const updated = await store.updateProvider(provider.id, { options: { region: "us-east-1" } });
      expect(updated?.options).toEqual({ region: "us-east-1" });
      expect((await store.providerConfig(provider.id))?.options).toEqual({ region: "us-east-1" });
    });

    it("the same key encrypts differently each time (random IV)", async () => {
      const p1 = await store.createProvider({ type: "openai", name: "o1", api_key: KEY });
      const p2 = await store.createProvider({ type: "openai", name: "o2", api_key: KEY });
      const rows = await db.query<{ api_key_encrypted: string }>(
        "SELECT api_key_encrypted FROM providers WHERE id = ANY($1::text[])",
        [[p1.id, p2.id]],
      );
      expect(rows[0]?.api_key_encrypted).not.toBe(rows[1]?.api_key_encrypted);
    });

    it("updates, keeps, replaces and removes the key; deletes", async () => {
      const provider = await store.createProvider({
        type: "openai-compatible",
        name: "Local",
        base_url: "http://127.0.0.1:1234/v1",
        api_key: KEY,
      });
      const renamed = await store.updateProvider(provider.id, { name: "Local 2" });
      expect(renamed).toMatchObject({ name: "Local 2", has_api_key: true });
      expect((await store.providerConfig(provider.id))?.api_key).toBe(KEY);

      await store.updateProvider(provider.id, { api_key: "sk-new" });
      expect(await store.providerConfig(provider.id)).toEqual({
        type: "openai-compatible",
        name: "Local 2",
        base_url: "http://127.0.0.1:1234/v1",
        api_key: "sk-new",
        options: {},
      });
      const removed = await store.updateProvider(provider.id, { api_key: null, base_url: null });
      expect(removed).toMatchObject({ has_api_key: false, base_url: null });
      expect(await store.providerConfig(provider.id)).toEqual({
        type: "openai-compatible",
        name: "Local 2",
        options: {},
      });
      expect(await store.updateProvider("missing", { name: "x" })).toBeNull();
      expect(await store.deleteProvider(provider.id)).toBe(true);
      expect(await store.deleteProvider(provider.id)).toBe(false);
      expect(await store.getProvider(provider.id)).toBeNull();
    });

    it("refuses an unknown provider type", async () => {
      await expect(
        // @ts-expect-error: not a provider type
        store.createProvider({ type: "nope", name: "x" }),
      ).rejects.toThrow(/unknown provider type/);
    });
  });

  describe("models", () => {
    it("creates with defaults, round-trips pricing, lists, updates and guards deletion", async () => {
      const provider = await store.createProvider({ type: "openai", name: "OpenAI" });
      const model = await store.createModel({ provider_id: provider.id, model: "gpt-x" });
      expect(model).toMatchObject({
        provider_id: provider.id,
        model: "gpt-x",
        display_name: "gpt-x",
        context_window: null,
        pricing: null,
        enabled: true,
      });
      const pricing = {
        input_per_mtok: 3,
        output_per_mtok: 15,
        cache_read_per_mtok: 0.3,
        cache_write_per_mtok: 3.75,
      };
      const updated = await store.updateModel(model.id, {
        display_name: "GPT X",
        context_window: 200_000,
        pricing,
        enabled: false,
      });
      expect(updated).toMatchObject({ display_name: "GPT X", context_window: 200_000, pricing });
      expect(await store.getModel(model.id)).toEqual(updated);
      expect((await store.listModels()).map((m) => m.id)).toContain(model.id);
      expect((await store.listModels({ enabledOnly: true })).map((m) => m.id)).not.toContain(
        model.id,
      );
      await expect(
        store.createModel({ provider_id: "missing", model: "x" }),
      ).rejects.toBeInstanceOf(ConflictError);
      await expect(store.deleteProvider(provider.id)).rejects.toBeInstanceOf(ConflictError);

      await newChat(undefined, model);
      await expect(store.deleteModel(model.id)).rejects.toBeInstanceOf(ConflictError);
      const unused = await store.createModel({ provider_id: provider.id, model: "gpt-y" });
      expect(await store.deleteModel(unused.id)).toBe(true);
      expect(await store.getModel(unused.id)).toBeNull();
    });

    it("keeps a model's settings: none by default, set on create, replaced on update", async () => {
      const provider = await store.createProvider({ type: "anthropic", name: unique("Anthropic") });
      const plain = await store.createModel({ provider_id: provider.id, model: "claude-a" });
      expect(plain.settings).toEqual({});
      const settings = { temperature: 0.3, max_output_tokens: 8000, reasoning: "off" as const };
      const model = await store.createModel({
        provider_id: provider.id,
        model: "claude-b",
        settings,
      });
      expect(model.settings).toEqual(settings);
      expect((await store.getModel(model.id))?.settings).toEqual(settings);
      const updated = await store.updateModel(model.id, { settings: { reasoning: "high" } });
      expect(updated?.settings).toEqual({ reasoning: "high" });
      expect((await store.updateModel(model.id, { enabled: false }))?.settings).toEqual({
        reasoning: "high",
      });
      expect((await store.listModels()).find((m) => m.id === model.id)?.settings).toEqual({
        reasoning: "high",
      });
    });
  });

  describe("chats and messages", () => {
    it("creates a pending chat with its first message", async () => {
      const owner = await newUser();
      const model = await newModel();
      const { chat, message } = await store.createChat({
        owner_id: owner.id,
        model_id: model.id,
        title: "Fix the build",
        workspace_id: "ws-1",
        first_message: [{ type: "text", text: "the build is red" }],
      });
      expect(chat).toMatchObject({
        owner_id: owner.id,
        model_id: model.id,
        title: "Fix the build",
        status: "pending",
        workspace_id: "ws-1",
        archived: false,
        worker_id: null,
        heartbeat_at: null,
        last_error: null,
      });
      expect(message).toMatchObject({
        chat_id: chat.id,
        role: "user",
        usage: null,
        in_progress: false,
      });
      expect(await store.getChat(chat.id)).toEqual(chat);
      expect(await store.listMessages(chat.id)).toEqual([message]);
      // Announced in the same transaction: the message, then pending.
      expect(await eventsAfter(chat.id, 0)).toEqual([
        { type: "message", data: { message: publicMessage(message) } },
        { type: "status", data: { status: "pending" } },
      ]);
      expect(await store.getChat("missing")).toBeNull();
      await expect(
        store.createChat({
          owner_id: owner.id,
          model_id: "missing",
          title: "x",
          first_message: [],
        }),
      ).rejects.toBeInstanceOf(ConflictError);
    });

    it("lists newest first with cursor pages, leaving archived chats out", async () => {
      const owner = await newUser();
      const other = await newUser();
      const model = await newModel();
      const chats: Chat[] = [];
      for (let i = 0; i < 7; i++) chats.push(await newChat(owner, model));
      const foreign = await newChat(other, model);
      // Touch one so it becomes the newest.
      await sleep(5);
      const touched = await store.updateChat(chats[2]?.id ?? "", { title: "renamed" });
      await store.updateChat(chats[4]?.id ?? "", { archived: true });

      const seen: Chat[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await b.store.listChats(owner.id, { limit: 2, before: cursor });
        seen.push(...page.items);
        cursor = page.next_cursor ?? undefined;
        pages += 1;
      } while (cursor);
      expect(pages).toBe(3);
      expect(seen).toHaveLength(6);
      expect(seen[0]?.id).toBe(touched?.id);
      expect(seen.map((c) => c.id)).not.toContain(chats[4]?.id);
      expect(new Set(seen.map((c) => c.id)).size).toBe(6);
      const sorted = [...seen].sort((x, y) =>
        x.updated_at === y.updated_at
          ? y.id.localeCompare(x.id)
          : y.updated_at.localeCompare(x.updated_at),
      );
      expect(seen).toEqual(sorted);

      const all = await store.listChats(undefined, { limit: 1000 });
      expect(all.items.map((c) => c.id)).toContain(foreign.id);
      expect(all.items.map((c) => c.id)).toContain(chats[0]?.id);
      await expect(
        store.listChats(owner.id, { limit: 2, before: "garbage" }),
      ).rejects.toBeInstanceOf(InvalidCursorError);
    });

    it("updates title, model, archive flag and last error", async () => {
      const chat = await newChat();
      const model = await newModel();
      const error = { kind: "auth", message: "Invalid API key", status_code: 401, detail: "x" };
      const updated = await store.updateChat(chat.id, {
        title: "t2",
        model_id: model.id,
        last_error: error,
      });
      expect(updated).toMatchObject({ title: "t2", model_id: model.id, last_error: error });
      expect(updated && updated.updated_at >= chat.updated_at).toBe(true);
      expect((await store.updateChat(chat.id, { last_error: null }))?.last_error).toBeNull();
      expect(await store.updateChat("missing", { title: "x" })).toBeNull();
    });

    it("round-trips message parts and usage exactly, in order", async () => {
      const chat = await newChat();
      const parts: MessagePart[] = [
        {
          type: "reasoning",
          text: "thinking…",
          provider_metadata: { anthropic: { signature: "sig==", nested: { a: [1, { b: null }] } } },
        },
        { type: "text", text: 'Ünïcödé ✓ "quotes" \\ back\nslash 😀' },
        {
          type: "tool_call",
          tool_call_id: "call_1",
          name: "read_file",
          input: { path: "/x", options: { lines: [1, 2], deep: { flag: true, n: 1.25e-7 } } },
        },
      ];
      const usage = {
        inputTokens: 1234,
        outputTokens: 56,
        reasoningTokens: 7,
        cacheReadTokens: 0,
        cacheWriteTokens: 9_007_199_254_740_991,
      };
      const id = crypto.randomUUID();
      const model = await store.getModel(chat.model_id);
      const assistant = await store.insertMessage(chat.id, {
        id,
        role: "assistant",
        parts,
        usage,
        model_id: model?.id,
      });
      expect(assistant).toMatchObject({ id, role: "assistant", parts, usage, model_id: model?.id });
      const tool = await store.insertMessage(chat.id, {
        role: "tool",
        parts: [
          {
            type: "tool_result",
            tool_call_id: "call_1",
            name: "read_file",
            output: { content: "line1\nline2", size: 11, list: [] },
            is_error: false,
          },
        ],
      });
      const messages = await b.store.listMessages(chat.id);
      expect(messages.map((m) => m.role)).toEqual(["user", "assistant", "tool"]);
      expect(messages[1]).toEqual(assistant);
      expect(messages[2]).toEqual(tool);
      expect(messages[1]?.parts).toStrictEqual(parts);
      expect(messages[1]?.usage).toStrictEqual(usage);
      await expect(
        store.insertMessage(chat.id, { id, role: "assistant", parts: [] }),
      ).rejects.toBeInstanceOf(ConflictError);

      // jsonb cannot hold U+0000: it is stored as U+FFFD rather than failing the write.
      const binary = await store.insertMessage(chat.id, {
        role: "tool",
        parts: [
          {
            type: "tool_result",
            tool_call_id: "call_2",
            name: "read_file",
            output: { content: "ELF\u0000\u0000x", literal: "\\u0000" },
            is_error: false,
          },
        ],
      });
      expect(binary.parts[0]).toMatchObject({
        output: { content: "ELF\uFFFD\uFFFDx", literal: "\\u0000" },
      });
    });
  });

  describe("saving a message in place", () => {
    it("inserts, then replaces parts, usage and in_progress by id, keeping its place", async () => {
      const chat = await newChat();
      const id = crypto.randomUUID();
      const first = await store.saveMessage(chat.id, {
        id,
        role: "assistant",
        parts: [{ type: "reasoning", text: "hm" }],
        model_id: chat.model_id,
        in_progress: true,
      });
      expect(first).toMatchObject({ id, role: "assistant", in_progress: true, usage: null });
      // Something written after it (a queued message moved by a recovery, say).
      const later = await store.insertMessage(chat.id, {
        role: "user",
        parts: [{ type: "text", text: "later" }],
      });
      const usage = {
        inputTokens: 3,
        outputTokens: 4,
        reasoningTokens: 0,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
      };
      const parts: MessagePart[] = [
        { type: "reasoning", text: "hm" },
        { type: "text", text: "done" },
      ];
      const final = await b.store.saveMessage(chat.id, {
        id,
        role: "assistant",
        parts,
        usage,
        model_id: chat.model_id,
      });
      expect(final).toMatchObject({ id, parts, usage, in_progress: false });
      expect(final.created_at).toBe(first.created_at);
      const messages = await store.listMessages(chat.id);
      expect(messages.map((m) => m.id)).toEqual([messages[0]?.id, id, later.id]);
      expect(messages[1]).toEqual(final);

      // Another chat's or another role's message is never overwritten.
      const other = await newChat();
      await expect(
        store.saveMessage(other.id, { id, role: "assistant", parts: [] }),
      ).rejects.toBeInstanceOf(ConflictError);
      await expect(
        store.saveMessage(chat.id, { id: later.id, role: "assistant", parts: [] }),
      ).rejects.toBeInstanceOf(ConflictError);
      await expect(
        store.saveMessage("missing", { id: crypto.randomUUID(), role: "assistant", parts: [] }),
      ).rejects.toBeInstanceOf(ConflictError);
      expect(await store.listMessages(chat.id)).toEqual(messages);

      expect(await store.deleteMessage(other.id, id)).toBe(false);
      expect(await store.deleteMessage(chat.id, id)).toBe(true);
      expect((await store.listMessages(chat.id)).map((m) => m.id)).toEqual([
        messages[0]?.id,
        later.id,
      ]);
      // Saving writes no event: the turn announces a message when it is final.
      expect((await eventsAfter(chat.id, 0)).map((e) => e.type)).toEqual(["message", "status"]);
    });
  });

  describe("queued messages", () => {
    const text = (t: string): MessagePart[] => [{ type: "text", text: t }];

    it("queues while running and drains in order", async () => {
      const chat = await newChat();
      await claim(chat.id, "w-queue");
      expect((await store.enqueueUserMessage(chat.id, text("one"))).appended).toBeNull();
      expect((await b.store.enqueueUserMessage(chat.id, text("two"))).appended).toBeNull();
      expect((await store.enqueueUserMessage(chat.id, text("three"))).appended).toBeNull();
      expect(await store.listMessages(chat.id)).toHaveLength(1);
      const queuedAt = await lastSeq(chat.id);

      const drained = await store.drainQueuedMessages(chat.id);
      expect(drained.map((m) => m.parts)).toEqual([text("one"), text("two"), text("three")]);
      const messages = await store.listMessages(chat.id);
      expect(messages.slice(1)).toEqual(drained);
      expect(await store.drainQueuedMessages(chat.id)).toEqual([]);
      expect(await store.listQueuedMessages(chat.id)).toEqual([]);
      expect((await store.getChat(chat.id))?.status).toBe("running");
      // Queued and drained without events: the owner announces what it drains.
      expect(await lastSeq(chat.id)).toBe(queuedAt);
    });

    it("lists the queue oldest first; each message keeps its id into the transcript", async () => {
      const chat = await newChat();
      const other = await newChat();
      await claim(chat.id, "w-ids");
      await claim(other.id, "w-ids");
      await store.enqueueUserMessage(chat.id, text("one"));
      await store.enqueueUserMessage(other.id, text("elsewhere"));
      await store.enqueueUserMessage(chat.id, text("two"));
      const queued = await b.store.listQueuedMessages(chat.id);
      expect(queued.map((q) => [q.chat_id, q.parts])).toEqual([
        [chat.id, text("one")],
        [chat.id, text("two")],
      ]);
      for (const q of queued) {
        expect(q.id).toMatch(
          /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
        );
        expect(q.created_at).toMatch(/^\d{4}-\d\d-\d\dT/);
      }
      expect(new Set(queued.map((q) => q.id)).size).toBe(2);
      expect(await store.listQueuedMessages("missing")).toEqual([]);

      // Drained by the owner: the same ids.
      const drained = await store.drainQueuedMessages(chat.id);
      expect(drained.map((m) => m.id)).toEqual(queued.map((q) => q.id));
      expect(await store.listQueuedMessages(chat.id)).toEqual([]);

      // Moved by a release: the same id, in the message and in its `message` event.
      const [late] = await store.listQueuedMessages(other.id);
      const before = await lastSeq(other.id);
      const released = await store.releaseChat(other.id, "w-ids", "waiting");
      expect(released.moved.map((m) => m.id)).toEqual([late?.id]);
      const [event] = await eventsAfter(other.id, before);
      expect(event).toMatchObject({ type: "message", data: { message: { id: late?.id } } });
      expect((await store.listMessages(other.id)).at(-1)?.id).toBe(late?.id);
    });

    it("appends at once when the chat is pending, waiting or in error", async () => {
      const chat = await newChat();
      const pending = await store.enqueueUserMessage(chat.id, text("more"));
      expect(pending.appended?.parts).toEqual(text("more"));
      expect((await store.getChat(chat.id))?.status).toBe("pending");
      // Announced with the write; still pending, so no second `pending`.
      expect((await eventsAfter(chat.id, 0)).slice(2)).toEqual([
        { type: "message", data: { message: publicMessage(pending.appended as Message) } },
      ]);

      await claim(chat.id, "w-append");
      await store.releaseChat(chat.id, "w-append", "error", { kind: "auth", message: "bad key" });
      expect(await store.getChat(chat.id)).toMatchObject({
        status: "error",
        last_error: { kind: "auth", message: "bad key" },
      });
      const errored = await lastSeq(chat.id);
      const resumed = await store.enqueueUserMessage(chat.id, text("try again"));
      expect(resumed.appended).not.toBeNull();
      expect(await store.getChat(chat.id)).toMatchObject({ status: "pending", last_error: null });
      expect(await eventsAfter(chat.id, errored)).toEqual([
        { type: "message", data: { message: publicMessage(resumed.appended as Message) } },
        { type: "status", data: { status: "pending" } },
      ]);
      expect((await store.listMessages(chat.id)).map((m) => m.parts)).toEqual([
        text("hello"),
        text("more"),
        text("try again"),
      ]);
      await expect(store.enqueueUserMessage("missing", text("x"))).rejects.toThrow(/not exist/);
    });

    it("a message queued after the last drain is not stranded by the release", async () => {
      const chat = await newChat();
      await claim(chat.id, "w-strand");
      const signals: string[] = [];
      const stop = store.signals.listen((s) => signals.push(`${s.type}:${s.chat_id}`));
      await store.enqueueUserMessage(chat.id, text("late"));
      const before = await lastSeq(chat.id);
      const released = await store.releaseChat(chat.id, "w-strand", "waiting");
      stop();
      const late = (await store.listMessages(chat.id)).at(-1);
      expect(late?.parts).toEqual(text("late"));
      expect(released).toEqual({ applied: true, status: "pending", moved: [late] });
      const after = await store.getChat(chat.id);
      expect(after).toMatchObject({ status: "pending", worker_id: null });
      expect(signals).toContain(`pending:${chat.id}`);
      // Announced in the release's transaction: the moved message, then the status it really has.
      expect(await eventsAfter(chat.id, before)).toEqual([
        { type: "message", data: { message: publicMessage(late as Message) } },
        { type: "status", data: { status: "pending" } },
      ]);
    });
  });

  describe("ownership", () => {
    it("two workers acquiring at once never get the same chat", async () => {
      const owner = await newUser();
      const model = await newModel();
      const ids = new Set<string>();
      for (let i = 0; i < 24; i++) ids.add((await newChat(owner, model)).id);

      const got: Record<string, string[]> = { w1: [], w2: [] };
      const work = async (worker: "w1" | "w2", replica: SqlStore): Promise<void> => {
        for (;;) {
          const chats = await replica.acquireChats(worker, 3);
          if (chats.length === 0) return;
          for (const chat of chats) {
            expect(chat).toMatchObject({ status: "running", worker_id: worker });
            expect(chat.heartbeat_at).not.toBeNull();
            got[worker]?.push(chat.id);
          }
        }
      };
      await Promise.all([work("w1", a.store), work("w2", b.store), work("w1", a.store)]);
      const all = [...(got.w1 ?? []), ...(got.w2 ?? [])];
      expect(new Set(all).size).toBe(all.length);
      for (const id of ids) expect(all).toContain(id);
      // Each claim appended its `running`, once, after `pending`.
      for (const id of ids) {
        expect((await eventsAfter(id, 1)).filter((e) => e.type === "status")).toEqual([
          { type: "status", data: { status: "pending" } },
          { type: "status", data: { status: "running" } },
        ]);
      }
      expect(got.w1?.length).toBeGreaterThan(0);
      expect(got.w2?.length).toBeGreaterThan(0);
    });

    it("heartbeats what it owns, reports what it lost, releases only its own", async () => {
      const chat = await newChat();
      await claim(chat.id, "w-a");
      const before = await store.getChat(chat.id);
      await sleep(5);
      expect(await store.heartbeat("w-a", [chat.id, "missing"])).toEqual(["missing"]);
      const after = await store.getChat(chat.id);
      expect(
        after?.heartbeat_at && before?.heartbeat_at && after.heartbeat_at > before.heartbeat_at,
      ).toBe(true);
      expect(after?.updated_at).toBe(before?.updated_at);
      expect(await store.heartbeat("w-b", [chat.id])).toEqual([chat.id]);

      const claimedAt = await lastSeq(chat.id);
      expect(await b.store.releaseChat(chat.id, "w-b", "waiting")).toEqual(notApplied);
      expect((await store.getChat(chat.id))?.status).toBe("running");
      expect(await store.releaseChat(chat.id, "w-a", "waiting")).toEqual({
        applied: true,
        status: "waiting",
        moved: [],
      });
      expect(await store.getChat(chat.id)).toMatchObject({
        status: "waiting",
        worker_id: null,
        heartbeat_at: null,
      });
      expect(await store.releaseChat(chat.id, "w-a", "waiting")).toEqual(notApplied);
      expect(await eventsAfter(chat.id, claimedAt)).toEqual([
        { type: "status", data: { status: "waiting" } },
      ]);
      expect(await store.heartbeat("w-a", [chat.id])).toEqual([chat.id]);
      await expect(store.releaseChat(chat.id, "w-a", "running")).rejects.toThrow(TypeError);
    });

    it("setStatus takes the chat from its owner, moving and announcing what was queued", async () => {
      const chat = await newChat();
      await claim(chat.id, "w-set");
      await store.enqueueUserMessage(chat.id, [{ type: "text", text: "queued" }]);
      const before = await lastSeq(chat.id);
      const change = await store.setStatus(chat.id, "waiting");
      const queued = (await store.listMessages(chat.id)).at(-1) as Message;
      expect(queued.parts).toEqual([{ type: "text", text: "queued" }]);
      expect(change).toEqual({ applied: true, status: "pending", moved: [queued] });
      expect(await store.getChat(chat.id)).toMatchObject({ status: "pending", worker_id: null });
      expect(await store.heartbeat("w-set", [chat.id])).toEqual([chat.id]);
      expect(await eventsAfter(chat.id, before)).toEqual([
        { type: "message", data: { message: publicMessage(queued) } },
        { type: "status", data: { status: "pending" } },
      ]);
      // No change, no event.
      expect(await store.setStatus(chat.id, "pending")).toMatchObject({ status: "pending" });
      expect(await eventsAfter(chat.id, before)).toHaveLength(2);
      expect(await store.setStatus("missing", "waiting")).toEqual(notApplied);
      await expect(store.setStatus(chat.id, "running")).rejects.toThrow(TypeError);
    });

    it("setStatusIf applies only while the chat is in `from` and unowned", async () => {
      const chat = await newChat();
      const before = await lastSeq(chat.id);
      // Claimed first: Stop of a "pending" chat must not take it from its new owner.
      await claim(chat.id, "w-cas");
      const claimedAt = await lastSeq(chat.id);
      expect(await store.setStatusIf(chat.id, "pending", "waiting")).toEqual(notApplied);
      expect(await store.getChat(chat.id)).toMatchObject({ status: "running", worker_id: "w-cas" });
      expect(await lastSeq(chat.id)).toBe(claimedAt);
      await store.releaseChat(chat.id, "w-cas", "pending");
      // Pending and unowned: applies, and announces it.
      const released = await lastSeq(chat.id);
      expect(await b.store.setStatusIf(chat.id, "pending", "waiting")).toEqual({
        applied: true,
        status: "waiting",
        moved: [],
      });
      expect(await store.getChat(chat.id)).toMatchObject({ status: "waiting", worker_id: null });
      expect(await eventsAfter(chat.id, before)).toEqual([
        { type: "status", data: { status: "running" } },
        { type: "status", data: { status: "pending" } },
        { type: "status", data: { status: "waiting" } },
      ]);
      expect(await lastSeq(chat.id)).toBe(released + 1);
      // Not in `from` any more: nothing.
      expect(await store.setStatusIf(chat.id, "pending", "waiting")).toEqual(notApplied);
      await expect(store.setStatusIf(chat.id, "running", "waiting")).rejects.toThrow(TypeError);
      await expect(store.setStatusIf(chat.id, "pending", "running")).rejects.toThrow(TypeError);
    });

    it("setStatusIf and a concurrent claim: exactly one wins", async () => {
      const owner = await newUser();
      const model = await newModel();
      const chats = await Promise.all(Array.from({ length: 8 }, () => newChat(owner, model)));
      const [stops, claimed] = await Promise.all([
        Promise.all(chats.map((chat) => b.store.setStatusIf(chat.id, "pending", "waiting"))),
        (async () => {
          const got: Chat[] = [];
          for (let i = 0; i < 8; i++) got.push(...(await store.acquireChats("w-race", 2)));
          return got;
        })(),
      ]);
      for (const [i, chat] of chats.entries()) {
        const won = claimed.some((c) => c.id === chat.id);
        expect(stops[i]?.applied, chat.id).toBe(!won);
        const statuses = (await store.events.listAfter(chat.id, 0))
          .filter((e) => e.type === "status")
          .map((e) => (e.data as { status: string }).status);
        expect(statuses).toEqual(won ? ["pending", "running"] : ["pending", "waiting"]);
      }
      for (const chat of claimed) await store.releaseChat(chat.id, "w-race", "waiting");
    });

    it("recovers chats whose heartbeat is stale, by the database's clock", async () => {
      const stale = await newChat();
      const fresh = await newChat();
      await claim(stale.id, "w-dead");
      await claim(fresh.id, "w-alive");
      await store.enqueueUserMessage(stale.id, [{ type: "text", text: "queued" }]);
      await db.query(
        "UPDATE chats SET heartbeat_at = now() - interval '10 minutes' WHERE id = $1",
        [stale.id],
      );
      const before = await lastSeq(stale.id);
      const queued = expect.objectContaining({ parts: [{ type: "text", text: "queued" }] });
      expect(await b.store.recoverStaleChats(60_000)).toEqual([
        { chat_id: stale.id, moved: [queued] },
      ]);
      expect(await store.getChat(stale.id)).toMatchObject({
        status: "pending",
        worker_id: null,
        heartbeat_at: null,
      });
      const moved = (await store.listMessages(stale.id)).at(-1) as Message;
      expect(moved).toEqual(queued);
      expect(await eventsAfter(stale.id, before)).toEqual([
        { type: "message", data: { message: publicMessage(moved) } },
        { type: "status", data: { status: "pending" } },
      ]);
      expect(await store.getChat(fresh.id)).toMatchObject({
        status: "running",
        worker_id: "w-alive",
      });
      expect(await store.heartbeat("w-dead", [stale.id])).toEqual([stale.id]);
      expect(await store.recoverStaleChats(60_000)).toEqual([]);
      await store.releaseChat(fresh.id, "w-alive", "waiting");
    });
  });

  describe("events and signals", () => {
    let owner: User;
    let model: ModelRecord;
    beforeAll(async () => {
      owner = await newUser();
      model = await newModel();
    });

    /** Collects one subscription's events. */
    function collect(
      store: SqlStore,
      chatId: string,
      afterSeq?: number,
    ): { events: ChatEvent[]; stop: () => void } {
      const events: ChatEvent[] = [];
      const stop = store.events.subscribe(chatId, (event) => events.push(event), afterSeq);
      return { events, stop };
    }

    const seqs = (events: ChatEvent[]): number[] => events.map((e) => e.seq);
    const range = (from: number, to: number): number[] =>
      Array.from({ length: to - from + 1 }, (_, i) => from + i);

    it("allocates seq per chat from 1 and lists persisted events after a seq", async () => {
      const chat = await eventless(owner, model);
      const other = await eventless(owner, model);
      const e1 = await appended(a.store.events.append(chat, "status", { status: "running" }));
      const e2 = await appended(
        a.store.events.append(chat, "message_part", {
          message_id: "m1",
          part: { type: "text", text: "Hel" },
        }),
      );
      const o1 = await appended(a.store.events.append(other, "status", { status: "running" }));
      const e3 = await appended(
        b.store.events.append(chat, "usage", {
          message_id: "m1",
          usage: { inputTokens: 10, outputTokens: 2.5 },
          cost_usd: 0.000123,
        }),
      );
      expect([e1.seq, e2.seq, e3.seq, o1.seq]).toEqual([1, 2, 3, 1]);
      expect(e2).toMatchObject({ chat_id: chat, type: "message_part" });
      expect(e2.created_at).toMatch(/Z$/);
      expect(await b.store.events.listAfter(chat, 0)).toEqual([e1, e2, e3]);
      expect(await a.store.events.listAfter(chat, 1)).toEqual([e2, e3]);
      expect(await a.store.events.listAfter(chat, 1, 1)).toEqual([e2]);
      expect(await a.store.events.listAfter(chat, 3)).toEqual([]);
      await expect(a.store.events.append("missing", "status", {})).rejects.toThrow(/not exist/);
    });

    it("keeps seq gap-free and unique under concurrent appends from every replica", async () => {
      const chat = await eventless(owner, model);
      const appends = Array.from({ length: 40 }, (_, i) =>
        appended((i % 2 === 0 ? a : b).store.events.append(chat, "message_part", { i })),
      );
      const events = await Promise.all(appends);
      expect(events.map((e) => e.seq).sort((x, y) => x - y)).toEqual(range(1, 40));
      const stored = await a.store.events.listAfter(chat, 0);
      expect(seqs(stored)).toEqual(range(1, 40));
      // Each seq holds the data of the append that got it.
      for (const event of events) {
        expect(stored[event.seq - 1]?.data).toEqual(event.data);
      }
    });

    it("delivers to subscribers on this and other replicas, once each and in order", async () => {
      const chat = await eventless(owner, model);
      const onA = collect(a.store, chat);
      const onB = collect(b.store, chat);
      const onA2 = collect(a.store, chat);
      const appends: Promise<ChatEvent>[] = [];
      for (let i = 0; i < 30; i++) {
        appends.push(
          appended((i % 3 === 0 ? b : a).store.events.append(chat, "message_part", { i })),
        );
      }
      await Promise.all(appends);
      for (const sub of [onA, onB, onA2]) {
        await until(() => sub.events.length >= 30, 5_000, "30 events");
      }
      await sleep(100); // anything extra would arrive by now
      for (const sub of [onA, onB, onA2]) {
        expect(seqs(sub.events)).toEqual(range(1, 30));
        sub.stop();
      }
      const stored = await a.store.events.listAfter(chat, 0);
      expect(onB.events).toEqual(stored);

      await a.store.events.append(chat, "status", { status: "waiting" });
      await sleep(100);
      expect(onA.events).toHaveLength(30);
      expect(onB.events).toHaveLength(30);
    });

    it("subscribes from a seq: persisted events first, then live, nothing twice", async () => {
      const chat = await eventless(owner, model);
      for (let i = 0; i < 5; i++) await a.store.events.append(chat, "message_part", { i });
      const sub = collect(b.store, chat, 2);
      const live = Array.from({ length: 5 }, (_, i) =>
        a.store.events.append(chat, "message_part", { i: 5 + i }),
      );
      await Promise.all(live);
      await until(() => sub.events.length >= 8, 5_000, "8 events");
      await sleep(50);
      expect(seqs(sub.events)).toEqual(range(3, 10));
      sub.stop();

      const caughtUp = collect(a.store, chat, 10);
      await sleep(50);
      expect(caughtUp.events).toEqual([]);
      await b.store.events.append(chat, "status", { status: "waiting" });
      await until(() => caughtUp.events.length === 1, 5_000, "the live event");
      expect(caughtUp.events[0]?.seq).toBe(11);
      caughtUp.stop();
    });

    it("carries an event too big for NOTIFY across replicas", async () => {
      const chat = await eventless(owner, model);
      const text = "x".repeat(20_000) + "✓".repeat(1000);
      const onA = collect(a.store, chat);
      const fromSeq = collect(a.store, chat, 0);
      await b.store.events.append(chat, "message", {
        message: { parts: [{ type: "text", text }] },
      });
      await b.store.events.append(chat, "status", { status: "waiting" });
      for (const sub of [onA, fromSeq]) {
        await until(() => sub.events.length >= 2, 5_000, "the large event");
        expect(seqs(sub.events)).toEqual([1, 2]);
        expect(sub.events[0]?.data).toEqual({ message: { parts: [{ type: "text", text }] } });
        sub.stop();
      }
    });

    it("sends signals to every replica, this one included, once each", async () => {
      const onA: ChatSignal[] = [];
      const onB: ChatSignal[] = [];
      const stopA = a.store.signals.listen((s) => onA.push(s));
      const stopB = b.store.signals.listen((s) => onB.push(s));
      await a.store.signals.send({ type: "interrupt", chat_id: "c1" });
      await b.store.signals.send({ type: "pending", chat_id: "c2" });
      const expected = [
        { type: "interrupt", chat_id: "c1" },
        { type: "pending", chat_id: "c2" },
      ];
      await until(() => onA.length >= 2 && onB.length >= 2, 5_000, "signals");
      await sleep(100);
      for (const received of [onA, onB]) {
        expect(received).toHaveLength(2);
        expect(received).toEqual(expect.arrayContaining(expected));
      }
      stopA();
      stopB();
      await a.store.signals.send({ type: "interrupt", chat_id: "c3" });
      await sleep(50);
      expect(onA.some((s) => s.chat_id === "c3")).toBe(false);
    });

    it("recovers events published while its LISTEN connection was down", async () => {
      const chat = await eventless(owner, model);
      const sub = collect(a.store, chat, 0);
      await a.store.events.append(chat, "status", { status: "running" });
      await until(() => sub.events.length === 1, 5_000, "first event");
      // Kill every LISTEN connection on this database; the stores reconnect on their own.
      const killed = await a.db.query<{ ok: boolean }>(
        `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
           WHERE application_name = 'keel-listen' AND datname = current_database()`,
      );
      expect(killed.length).toBeGreaterThanOrEqual(2);
      for (let i = 0; i < 3; i++) await b.store.events.append(chat, "message_part", { i });
      await until(() => sub.events.length === 4, 10_000, "events after the reconnect");
      expect(seqs(sub.events)).toEqual([1, 2, 3, 4]);
      // Live again: signals and events cross over the new connection.
      const signals: ChatSignal[] = [];
      const stop = a.store.signals.listen((s) => signals.push(s));
      await b.store.signals.send({ type: "interrupt", chat_id: chat });
      await b.store.events.append(chat, "status", { status: "waiting" });
      await until(() => signals.length === 1 && sub.events.length === 5, 5_000, "live again");
      stop();
      sub.stop();
    });
  });

  /** What the store's own announcements look like: type and data, in log order. */
  async function eventsAfter(
    chatId: string,
    afterSeq: number,
  ): Promise<Array<{ type: string; data: unknown }>> {
    const events = await store.events.listAfter(chatId, afterSeq);
    return events.map((e) => ({ type: e.type, data: e.data }));
  }

  async function lastSeq(chatId: string): Promise<number> {
    return (await store.events.listAfter(chatId, 0)).at(-1)?.seq ?? 0;
  }

  /** A chat whose event log is empty (the events tests count from seq 1). */
  async function eventless(owner: User, model: ModelRecord): Promise<string> {
    const chat = await newChat(owner, model);
    await db.query("DELETE FROM chat_events WHERE chat_id = $1", [chat.id]);
    await db.query("UPDATE chats SET last_event_seq = 0 WHERE id = $1", [chat.id]);
    return chat.id;
  }

  const notApplied = { applied: false, status: null, moved: [] };

  /** Makes `workerId` own the chat, leaving every other pending chat as it was. */
  async function claim(chatId: string, workerId: string): Promise<void> {
    // Push every other pending chat out of the way, acquire, then put them back.
    const others = await db.query<{ id: string }>(
      "UPDATE chats SET status = 'waiting' WHERE status = 'pending' AND id <> $1 RETURNING id",
      [chatId],
    );
    try {
      const [chat] = await store.acquireChats(workerId, 1);
      expect(chat?.id).toBe(chatId);
    } finally {
      if (others.length > 0) {
        await db.query("UPDATE chats SET status = 'pending' WHERE id = ANY($1::text[])", [
          others.map((o) => o.id),
        ]);
      }
    }
  }
});
