/**
 * Hot reads (`read-cache.ts`) through the store, two stores as two replicas on one database: a
 * read is served from memory until the thing changes, here at once and on the other replica
 * through its NOTIFY.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestDatabase,
  type Opened,
  type TestDatabase,
  unique,
  until,
} from "./test-support.ts";

describe("hot reads", () => {
  let testDb: TestDatabase;
  let a: Opened;
  let b: Opened;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    a = await testDb.open();
    b = await testDb.open();
  });
  afterAll(async () => {
    await testDb?.cleanup();
  });

  async function newModel() {
    const provider = await a.store.createProvider({ type: "openai-compatible", name: unique("p") });
    return a.store.createModel({ provider_id: provider.id, model: unique("m") });
  }

  it("a model read twice is read from the database once", async () => {
    const model = await newModel();
    await b.store.getModel(model.id);
    // Behind the cache's back: a cached read does not see it.
    await b.db.query("UPDATE models SET display_name = 'changed underneath' WHERE id = $1", [
      model.id,
    ]);
    expect((await b.store.getModel(model.id))?.display_name).toBe(model.display_name);
  });

  it("a change is seen at once on the replica that made it and soon on the others", async () => {
    const model = await newModel();
    expect((await a.store.getModel(model.id))?.enabled).toBe(true);
    expect((await b.store.getModel(model.id))?.enabled).toBe(true);
    await a.store.updateModel(model.id, { enabled: false });
    expect((await a.store.getModel(model.id))?.enabled).toBe(false);
    await until(async () => (await b.store.getModel(model.id))?.enabled === false);
    await b.store.deleteModel(model.id);
    await until(async () => (await a.store.getModel(model.id)) === null);
  });

  it("settings, preferences and providers are dropped on change the same way", async () => {
    const provider = await a.store.createProvider({ type: "openai-compatible", name: unique("p") });
    expect((await b.store.getProvider(provider.id))?.base_url ?? null).toBeNull();
    await a.store.updateProvider(provider.id, { base_url: "http://127.0.0.1:9/v1" });
    await until(
      async () => (await b.store.getProvider(provider.id))?.base_url === "http://127.0.0.1:9/v1",
    );

    expect((await b.store.deploymentSettings.get()).system_prompt).toBeNull();
    await a.store.deploymentSettings.update({ system_prompt: "Be brief." });
    await until(async () => (await b.store.deploymentSettings.get()).system_prompt === "Be brief.");

    const name = unique("u");
    const user = await a.store.createUser({
      username: name,
      email: `${name}@example.com`,
      password: "pw",
      role: "member",
    });
    expect((await b.store.userPreferences.get(user.id)).instructions).toBeNull();
    await a.store.userPreferences.update(user.id, { instructions: "Use tabs." });
    await until(
      async () => (await b.store.userPreferences.get(user.id)).instructions === "Use tabs.",
    );
  });

  it("hands each caller its own copy", async () => {
    const model = await newModel();
    const first = await a.store.getModel(model.id);
    if (first) first.display_name = "mutated by a caller";
    expect((await a.store.getModel(model.id))?.display_name).toBe(model.display_name);
  });
});
