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
    const local = new LocalAgents({
      store: store.workspaces,
      supervisor,
      replicaId: "here",
      adoptUnrecorded: true,
      log: () => {},
    });
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
      directoryWorkspaces: async () => {
        throw new Error("database away");
      },
      rotateAgentToken: async () => null,
    };
    const local = new LocalAgents({
      store: failing,
      supervisor: recordingSupervisor(),
      replicaId: "here",
      adoptUnrecorded: true,
      log: (message, fields) => logs.push(`${message} ${JSON.stringify(fields)}`),
    });
    await local.reconcile();
    expect(logs).toEqual([expect.stringMatching(/supervising local agents failed.*database away/)]);
    await local.close();
  });

  it("runs only the directories its own replica created (and unrecorded ones where told to)", async () => {
    // Two replicas on one database, each creating a directory workspace on its own machine.
    const a = (await testDb.open()).store;
    const b = (await testDb.open()).store;
    a.workspaces.setReplica("replica-a");
    b.workspaces.setReplica("replica-b");
    const onA = (await a.workspaces.create({ owner_id: ownerId, name: "a", directory: "/srv/a" }))
      .workspace;
    const onB = (await b.workspaces.create({ owner_id: ownerId, name: "b", directory: "/srv/b" }))
      .workspace;
    // Made by a store that was never told its replica (as before replicas were recorded).
    const legacy = (
      await store.workspaces.create({ owner_id: ownerId, name: "old", directory: "/srv/old" })
    ).workspace;

    const run = async (replicaId: string, adoptUnrecorded: boolean) => {
      const supervisor = recordingSupervisor();
      const local = new LocalAgents({
        store: a.workspaces,
        supervisor,
        replicaId,
        adoptUnrecorded,
        log: () => {},
      });
      await local.reconcile();
      await local.close();
      return supervisor.calls.filter((c) => c.startsWith("ensure"));
    };
    expect(await run("replica-a", false)).toEqual([`ensure ${onA.id} /srv/a`]);
    expect(await run("replica-b", false)).toEqual([`ensure ${onB.id} /srv/b`]);
    // The embedded database's one server also runs the unrecorded one, as it always did.
    expect(await run("replica-a", true)).toEqual([
      `ensure ${onA.id} /srv/a`,
      `ensure ${legacy.id} /srv/old`,
    ]);
    for (const id of [onA.id, onB.id, legacy.id]) await store.workspaces.delete(id);
  });
});
