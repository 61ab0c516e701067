import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConflictError } from "./contract.ts";
import type { SqlStore } from "./store.ts";
import { createTestDatabase, type TestDatabase, unique } from "./test-support.ts";
import type { User } from "./types.ts";
import { AGENT_TOKEN_PREFIX } from "./workspaces.ts";

describe("workspaces", () => {
  let testDb: TestDatabase;
  let store: SqlStore;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    store = (await testDb.open()).store;
    // Someone must stay admin for members to be deactivated.
    await store.createFirstUser({ username: "owner", email: "owner@example.com", password: "pw" });
  });
  afterAll(async () => {
    await testDb?.cleanup();
  });

  async function newUser(): Promise<User> {
    const name = unique("user");
    return store.createUser({
      username: name,
      email: `${name}@example.com`,
      password: "password",
      role: "member",
    });
  }

  it("creates a workspace with a one-time agent token, stored only as its hash", async () => {
    const owner = await newUser();
    const { workspace, agent_token } = await store.workspaces.create({
      owner_id: owner.id,
      name: "repo",
      directory: "/srv/repo",
    });
    expect(agent_token.startsWith(AGENT_TOKEN_PREFIX)).toBe(true);
    expect(workspace).toMatchObject({
      owner_id: owner.id,
      name: "repo",
      directory: "/srv/repo",
      agent: { connected: false, version: null, last_seen_at: null },
    });
    expect(await store.workspaces.get(workspace.id)).toEqual(workspace);
    expect((await store.workspaces.forAgentToken(agent_token))?.id).toBe(workspace.id);
    const [row] = await (await testDb.open()).db.query("SELECT * FROM workspaces WHERE id = $1", [
      workspace.id,
    ]);
    expect(JSON.stringify(row)).not.toContain(agent_token);
  });

  it.each([
    ["an unknown token", `${AGENT_TOKEN_PREFIX}nope`],
    ["a user token", "keel_abc"],
    ["an empty string", ""],
  ])("%s is no agent token", async (_name, token) => {
    expect(await store.workspaces.forAgentToken(token)).toBeNull();
  });

  it("a user token never authenticates an agent, nor an agent token a user", async () => {
    const owner = await newUser();
    const userToken = await store.createToken(owner.id, "api");
    const { agent_token } = await store.workspaces.create({
      owner_id: owner.id,
      name: "w",
      directory: null,
    });
    expect(await store.workspaces.forAgentToken(userToken)).toBeNull();
    expect(await store.userForToken(agent_token)).toBeNull();
  });

  it("a deactivated owner's agent token stops working", async () => {
    const owner = await newUser();
    const { agent_token } = await store.workspaces.create({
      owner_id: owner.id,
      name: "w",
      directory: null,
    });
    await store.updateUser(owner.id, { active: false });
    expect(await store.workspaces.forAgentToken(agent_token)).toBeNull();
  });

  it("rotating the token retires the old one", async () => {
    const owner = await newUser();
    const { workspace, agent_token } = await store.workspaces.create({
      owner_id: owner.id,
      name: "w",
      directory: null,
    });
    const fresh = await store.workspaces.rotateAgentToken(workspace.id);
    expect(fresh).not.toBe(agent_token);
    expect(await store.workspaces.forAgentToken(agent_token)).toBeNull();
    expect((await store.workspaces.forAgentToken(fresh ?? ""))?.id).toBe(workspace.id);
    expect(await store.workspaces.rotateAgentToken("no-such-id")).toBeNull();
  });

  it("lists a user's workspaces oldest first; all of them for an admin view", async () => {
    const [one, two] = [await newUser(), await newUser()];
    const a = await store.workspaces.create({ owner_id: one.id, name: "a", directory: null });
    const b = await store.workspaces.create({ owner_id: one.id, name: "b", directory: null });
    const c = await store.workspaces.create({ owner_id: two.id, name: "c", directory: null });
    expect((await store.workspaces.list(one.id)).map((w) => w.name)).toEqual(["a", "b"]);
    const all = (await store.workspaces.list(undefined)).map((w) => w.id);
    for (const w of [a, b, c]) expect(all).toContain(w.workspace.id);
  });

  it("an unknown owner is a conflict", async () => {
    await expect(
      store.workspaces.create({ owner_id: "nobody", name: "w", directory: null }),
    ).rejects.toBeInstanceOf(ConflictError);
  });

  it("tracks the agent's connection by replica", async () => {
    const owner = await newUser();
    const { workspace } = await store.workspaces.create({
      owner_id: owner.id,
      name: "w",
      directory: null,
    });
    const agent = async () => (await store.workspaces.get(workspace.id))?.agent;
    await store.workspaces.agentConnected(workspace.id, "replica-1", "0.1.0");
    expect(await agent()).toMatchObject({ connected: true, version: "0.1.0" });
    // A late disconnect from a replica that no longer holds it changes nothing.
    await store.workspaces.agentConnected(workspace.id, "replica-2", "0.1.1");
    await store.workspaces.agentDisconnected(workspace.id, "replica-1");
    expect(await agent()).toMatchObject({ connected: true, version: "0.1.1" });
    await store.workspaces.agentsSeen([workspace.id], "replica-2");
    await store.workspaces.agentDisconnected(workspace.id, "replica-2");
    const gone = await agent();
    expect(gone).toMatchObject({ connected: false, version: "0.1.1" });
    expect(gone?.last_seen_at).not.toBeNull();
  });

  it("a replica's heartbeat takes back a cleared record and reports agents held elsewhere", async () => {
    const owner = await newUser();
    const { workspace } = await store.workspaces.create({
      owner_id: owner.id,
      name: "w",
      directory: null,
    });
    const id = workspace.id;
    await store.workspaces.agentConnected(id, "replica-1", "1", {
      platform: "linux",
      directory: "/w",
    });
    expect(await store.workspaces.agentHolder(id)).toBe("replica-1");
    expect(await store.workspaces.heldAgents()).toContainEqual({
      id,
      replica: "replica-1",
      platform: "linux",
      directory: "/w",
    });
    // Its own disconnect of an earlier connection landed after the new connection's connect.
    await store.workspaces.agentDisconnected(id, "replica-1");
    expect(await store.workspaces.agentHolder(id)).toBeNull();
    expect(await store.workspaces.agentsSeen([id], "replica-1")).toEqual([]);
    expect(await store.workspaces.agentHolder(id)).toBe("replica-1");
    // An agent of the workspace connected to another replica since: reported, not taken back.
    await store.workspaces.agentConnected(id, "replica-2", "1");
    expect(await store.workspaces.agentsSeen([id], "replica-1")).toEqual([id]);
    expect(await store.workspaces.agentHolder(id)).toBe("replica-2");
  });

  it("deleting a workspace keeps the chats bound to it", async () => {
    const owner = await newUser();
    const { workspace } = await store.workspaces.create({
      owner_id: owner.id,
      name: "w",
      directory: null,
    });
    expect(await store.workspaces.delete(workspace.id)).toBe(true);
    expect(await store.workspaces.delete(workspace.id)).toBe(false);
    expect(await store.workspaces.get(workspace.id)).toBeNull();
  });
});
