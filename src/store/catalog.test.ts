/**
 * The catalog's refusals in words people act on — a provider name taken, a provider that still
 * has models, a model that chats use — with counts from the database; and migration 13, which
 * makes provider names unique without failing on a database that already holds duplicates.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConflictError } from "./contract.ts";
import { openDatabase } from "./index.ts";
import { MIGRATIONS, migrate } from "./migrations.ts";
import type { SqlStore } from "./store.ts";
import {
  createPostgresDatabase,
  createTestDatabase,
  dropPostgresDatabase,
  type TestDatabase,
  unique,
} from "./test-support.ts";

describe("catalog", () => {
  let testDb: TestDatabase;
  let store: SqlStore;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    store = (await testDb.open()).store;
  });
  afterAll(async () => {
    await testDb?.cleanup();
  });

  it("refuses a provider name already taken, whatever its case, naming it", async () => {
    const name = unique("Team");
    const first = await store.createProvider({ type: "openai", name });
    const again = store.createProvider({ type: "anthropic", name: name.toUpperCase() });
    await expect(again).rejects.toBeInstanceOf(ConflictError);
    await expect(again).rejects.toThrow(`A provider named "${name.toUpperCase()}" already exists`);
    const other = await store.createProvider({ type: "openai", name: unique("Other") });
    await expect(store.updateProvider(other.id, { name })).rejects.toThrow(
      `A provider named "${name}" already exists: choose another name.`,
    );
    expect((await store.updateProvider(first.id, { name: name.toLowerCase() }))?.name).toBe(
      name.toLowerCase(),
    );
  });

  it("refuses to delete a provider with models, counting them", async () => {
    const provider = await store.createProvider({ type: "openai", name: unique("p") });
    const models = await Promise.all(
      ["a", "b", "c"].map((model) => store.createModel({ provider_id: provider.id, model })),
    );
    await expect(store.deleteProvider(provider.id)).rejects.toThrow(
      "This provider has 3 models: delete them or move them to another provider first.",
    );
    for (const model of models) await store.deleteModel(model.id);
    expect(await store.deleteProvider(provider.id)).toBe(true);
  });

  it("refuses to delete a model chats use, counting them and saying to disable it", async () => {
    const provider = await store.createProvider({ type: "openai", name: unique("p") });
    const model = await store.createModel({ provider_id: provider.id, model: "m" });
    const owner = await store.createUser({
      username: unique("u"),
      email: `${unique("u")}@example.com`,
      password: "pw",
      role: "member",
    });
    for (const title of ["one", "two"]) {
      await store.createChat({
        owner_id: owner.id,
        model_id: model.id,
        title,
        first_message: [{ type: "text", text: "hello" }],
      });
    }
    const refused = store.deleteModel(model.id);
    await expect(refused).rejects.toBeInstanceOf(ConflictError);
    await expect(refused).rejects.toThrow(
      /^2 chats use this model — disable it instead: nobody can pick it for a new chat then/,
    );
  });
});

describe("migration 13: unique provider names", () => {
  let url: string | undefined;
  afterAll(async () => {
    if (url !== undefined) await dropPostgresDatabase(url);
  });

  it("renames the later of duplicate names (any case) instead of failing", async () => {
    url = await createPostgresDatabase({ empty: true });
    const db = await openDatabase({ dataDir: "/unused", postgresUrl: url }, { poolSize: 1 });
    try {
      await migrate(
        db,
        MIGRATIONS.filter((m) => m.version < 13),
      );
      const rows: Array<[string, string, string]> = [
        ["aaaaaaaa-0001", "OpenAI", "2026-01-01"],
        ["bbbbbbbb-0002", "openai", "2026-01-02"],
        ["cccccccc-0003", "OpenAI", "2026-01-03"],
        ["dddddddd-0004", "Anthropic", "2026-01-01"],
      ];
      for (const [id, name, at] of rows) {
        await db.query(
          "INSERT INTO providers (id, type, name, created_at) VALUES ($1, 'openai', $2, $3)",
          [id, name, at],
        );
      }
      expect(await migrate(db)).toContain(13);
      const names = await db.query<{ id: string; name: string }>(
        "SELECT id, name FROM providers ORDER BY created_at, id",
      );
      expect(names.map((r) => r.name)).toEqual([
        "OpenAI",
        "Anthropic",
        "openai (bbbbbbbb)",
        "OpenAI (cccccccc)",
      ]);
      await expect(
        db.query("INSERT INTO providers (id, type, name) VALUES ('x', 'openai', 'ANTHROPIC')"),
      ).rejects.toThrow(/providers_name_key/);
    } finally {
      await db.close();
    }
  });
});
