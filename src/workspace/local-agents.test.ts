import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SqlStore } from "../store/store.ts";
import { createTestDatabase, type TestDatabase } from "../store/test-support.ts";
import { LocalAgents } from "./local-agents.ts";

/** Records what LocalAgents asks of the supervisor. */
function recordingSupervisor() {
  const calls: string[] = [];
  const tokens = new Map<string, string>();
  return {
    calls,
    tokens,
    ensure(id: string, dir: string, token: string) {
      calls.push(`ensure ${id} ${dir}`);
      tokens.set(id, token);
    },
    async stop(id: string) {
      calls.push(`stop ${id}`);
    },
    async close() {
      calls.push("close");
    },
  };
}

describe("LocalAgents", () => {
  let testDb: TestDatabase;
  let store: SqlStore;
  let ownerId: string;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    store = (await testDb.open()).store;
    ownerId = (
      await store.createFirstUser({ username: "o", email: "o@example.com", password: "password" })
    ).id;
  });
  afterAll(async () => {
    await testDb?.cleanup();
  });

  it("starts an agent per directory workspace once, with a working token, and stops it on delete", async () => {
    const supervisor = recordingSupervisor();
    const local = new LocalAgents({ store: store.workspaces, supervisor, log: () => {} });
    const { workspace } = await store.workspaces.create({
      owner_id: ownerId,
      name: "here",
      directory: "/srv/here",
    });
    await store.workspaces.create({ owner_id: ownerId, name: "remote", directory: null });

    await local.reconcile();
    await local.reconcile(); // nothing new: no second start, no second token
    expect(supervisor.calls).toEqual([`ensure ${workspace.id} /srv/here`]);
    const token = supervisor.tokens.get(workspace.id) ?? "";
    expect((await store.workspaces.forAgentToken(token))?.id).toBe(workspace.id);

    await store.workspaces.delete(workspace.id);
    await local.reconcile();
    await local.close();
    expect(supervisor.calls.slice(1)).toEqual([`stop ${workspace.id}`, "close"]);
  });

  it("a failing pass is logged and the next one goes on", async () => {
    const logs: string[] = [];
    const failing = {
      list: async () => {
        throw new Error("database away");
      },
      rotateAgentToken: async () => null,
    };
    const local = new LocalAgents({
      store: failing,
      supervisor: recordingSupervisor(),
      log: (message, fields) => logs.push(`${message} ${JSON.stringify(fields)}`),
    });
    await local.reconcile();
    expect(logs).toEqual([expect.stringMatching(/supervising local agents failed.*database away/)]);
    await local.close();
  });
});
