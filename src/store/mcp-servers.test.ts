import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConflictError } from "./contract.ts";
import { mergeHeaders } from "./mcp-servers.ts";
import { createTestDatabase, type Opened, type TestDatabase, unique } from "./test-support.ts";

describe("MCP servers in the store", () => {
  let database: TestDatabase;
  let opened: Opened;
  beforeAll(async () => {
    database = await createTestDatabase();
    opened = await database.open();
  });
  afterAll(async () => {
    await database?.cleanup();
  });

  const SECRET = "Bearer mcp-secret-0123456789";

  it("stores the header values encrypted, names them in plain, and decrypts them for config", async () => {
    const { store, db } = opened;
    const server = await store.mcpServers.create({
      name: unique("docs"),
      url: "https://mcp.example.com/mcp",
      headers: { Authorization: SECRET, "X-Team": "keel" },
      tools_deny: ["delete_everything"],
    });
    expect(server).toMatchObject({
      header_names: ["Authorization", "X-Team"],
      enabled: true,
      tools_allow: null,
      tools_deny: ["delete_everything"],
    });
    expect(JSON.stringify(server)).not.toContain("mcp-secret");

    const [row] = await db.query<Record<string, unknown>>(
      "SELECT * FROM mcp_servers WHERE id = $1",
      [server.id],
    );
    expect(String(row?.headers_encrypted)).toMatch(/^v1\./);
    expect(JSON.stringify(row)).not.toContain("mcp-secret");
    expect(JSON.stringify(row)).not.toContain('keel"');

    expect((await store.mcpServers.config(server.id))?.headers).toEqual({
      Authorization: SECRET,
      "X-Team": "keel",
    });
    expect(JSON.stringify(await store.mcpServers.list())).not.toContain("mcp-secret");
  });

  it("a ciphertext moved to another row does not decrypt", async () => {
    const { store, db } = opened;
    const a = await store.mcpServers.create({
      name: unique("a"),
      url: "http://127.0.0.1:1/mcp",
      headers: { Authorization: SECRET },
    });
    const b = await store.mcpServers.create({ name: unique("b"), url: "http://127.0.0.1:1/mcp" });
    await db.query(
      "UPDATE mcp_servers SET headers_encrypted = (SELECT headers_encrypted FROM mcp_servers WHERE id = $1) WHERE id = $2",
      [a.id, b.id],
    );
    await expect(store.mcpServers.config(b.id)).rejects.toThrow(/cannot decrypt/);
    await store.mcpServers.delete(b.id);
  });

  it("merges header changes by name, keeps what a patch leaves out, and clears with null", async () => {
    const { store } = opened;
    const server = await store.mcpServers.create({
      name: unique("merge"),
      url: "http://127.0.0.1:1/mcp",
      headers: { Authorization: SECRET, "X-Old": "1" },
    });
    const renamed = await store.mcpServers.update(server.id, {
      enabled: false,
      headers: { authorization: "Bearer new", "X-Old": null, "X-New": "2" },
    });
    expect(renamed?.enabled).toBe(false);
    expect((await store.mcpServers.config(server.id))?.headers).toEqual({
      authorization: "Bearer new",
      "X-New": "2",
    });
    // A patch without headers keeps them.
    await store.mcpServers.update(server.id, { url: "http://127.0.0.1:2/mcp" });
    expect((await store.mcpServers.config(server.id))?.header_names).toEqual([
      "authorization",
      "X-New",
    ]);
    const cleared = await store.mcpServers.update(server.id, { headers: null });
    expect(cleared?.header_names).toEqual([]);
    expect((await store.mcpServers.config(server.id))?.headers).toEqual({});
  });

  it("enabledConfigs leaves disabled servers out", async () => {
    const { store } = opened;
    const on = await store.mcpServers.create({ name: unique("on"), url: "http://127.0.0.1:1/" });
    const off = await store.mcpServers.create({
      name: unique("off"),
      url: "http://127.0.0.1:1/",
      enabled: false,
    });
    const ids = (await store.mcpServers.enabledConfigs()).map((c) => c.id);
    expect(ids).toContain(on.id);
    expect(ids).not.toContain(off.id);
  });

  it("a name already used is a ConflictError, on create and on rename", async () => {
    const { store } = opened;
    const name = unique("taken");
    await store.mcpServers.create({ name, url: "http://127.0.0.1:1/" });
    await expect(store.mcpServers.create({ name, url: "http://127.0.0.1:1/" })).rejects.toThrow(
      ConflictError,
    );
    const other = await store.mcpServers.create({ name: unique("other"), url: "http://x.test/" });
    await expect(store.mcpServers.update(other.id, { name })).rejects.toThrow(ConflictError);
  });

  it("unknown ids: null and false", async () => {
    const id = "0195c1a4-8f1e-7b7a-9c55-2f1d0e6a4b21";
    expect(await opened.store.mcpServers.get(id)).toBeNull();
    expect(await opened.store.mcpServers.update(id, { enabled: true })).toBeNull();
    expect(await opened.store.mcpServers.delete(id)).toBe(false);
  });

  it("a server with encrypted headers pins the secret key, like a provider's API key", async () => {
    const other = await createTestDatabase();
    try {
      const first = await other.open();
      await first.store.mcpServers.create({
        name: "pinned",
        url: "http://127.0.0.1:1/",
        headers: { Authorization: SECRET },
      });
      await first.store.close();
      await expect(other.open({ secretKey: "a".repeat(64) })).rejects.toThrow(/secret key/);
    } finally {
      await other.cleanup();
    }
  });
});

describe("mergeHeaders", () => {
  it.each([
    ["adds", { A: "1" }, { B: "2" }, { A: "1", B: "2" }],
    [
      "replaces case-insensitively, taking the new spelling",
      { auth: "1" },
      { Auth: "2" },
      { Auth: "2" },
    ],
    ["removes with null", { A: "1", B: "2" }, { a: null }, { B: "2" }],
    ["ignores removing an absent header", { A: "1" }, { Z: null }, { A: "1" }],
  ])("%s", (_name, current, patch, expected) => {
    expect(mergeHeaders(current, patch as Record<string, string | null>)).toEqual(expected);
  });
});
