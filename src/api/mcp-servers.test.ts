import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { refusedUrl, startTestMcpServer, type TestMcpServer } from "../mcp/testing.ts";
import { obj, useServedApi } from "./testing.ts";

const SECRET = "Bearer mcp-api-secret-4242";

describe("MCP servers API", () => {
  const api = useServedApi();
  let n = 0;
  const fresh = () => `srv${++n}`;

  const create = (token: string, json: unknown) =>
    api.client.post("/api/v1/mcp-servers", { token, json });

  it.each([
    ["list", "GET", "/api/v1/mcp-servers"],
    ["create", "POST", "/api/v1/mcp-servers"],
    ["read", "GET", "/api/v1/mcp-servers/0195c1a4-8f1e-7b7a-9c55-2f1d0e6a4b21"],
    ["change", "PATCH", "/api/v1/mcp-servers/0195c1a4-8f1e-7b7a-9c55-2f1d0e6a4b21"],
    ["delete", "DELETE", "/api/v1/mcp-servers/0195c1a4-8f1e-7b7a-9c55-2f1d0e6a4b21"],
  ])("a member may not %s them: 403", async (_name, method, path) => {
    const json =
      method === "POST" || method === "PATCH" ? { name: "x", url: "http://a.test/" } : undefined;
    const reply = await api.client.request(method, path, { token: api.s.member, json });
    expect(reply.status).toBe(403);
  });

  it("round trip: create, read, list, change, delete; header values never come back", async () => {
    const name = fresh();
    const created = await create(api.s.admin, {
      name,
      url: "https://mcp.example.com/mcp",
      headers: { Authorization: SECRET },
      tools_allow: ["search", "fetch"],
    });
    expect(created.status).toBe(201);
    const server = obj(created);
    expect(server).toMatchObject({
      name,
      url: "https://mcp.example.com/mcp",
      header_names: ["Authorization"],
      enabled: true,
      tools_allow: ["search", "fetch"],
      tools_deny: null,
    });
    const path = `/api/v1/mcp-servers/${server.id}`;

    expect(obj(await api.client.get(path, { token: api.s.admin }))).toEqual(server);
    const list = obj(await api.client.get("/api/v1/mcp-servers", { token: api.s.admin }));
    expect(list.mcp_servers).toContainEqual(server);

    const changed = await api.client.patch(path, {
      token: api.s.admin,
      json: { enabled: false, headers: { "X-Extra": "also-secret-value" }, tools_allow: null },
    });
    expect(changed.status).toBe(200);
    expect(obj(changed)).toMatchObject({
      enabled: false,
      header_names: ["Authorization", "X-Extra"],
      tools_allow: null,
    });
    const config = await api.deps.store.mcpServers.config(server.id as string);
    expect(config?.headers).toEqual({ Authorization: SECRET, "X-Extra": "also-secret-value" });

    expect((await api.client.delete(path, { token: api.s.admin })).status).toBe(204);
    expect((await api.client.get(path, { token: api.s.admin })).status).toBe(404);
    expect((await api.client.delete(path, { token: api.s.admin })).status).toBe(404);

    const everything = [...api.client.seen, ...api.served.logs].join("\n");
    expect(everything).not.toContain("mcp-api-secret");
    expect(everything).not.toContain("also-secret-value");
    expect(api.served.logs.join("\n")).toContain("mcp server created");
  });

  it.each([
    ["a name with a space", { name: "my docs" }, "name"],
    ["a name with '__'", { name: "my__docs" }, "name"],
    ["a name over 30 characters", { name: "a".repeat(31) }, "name"],
    ["an empty name", { name: "" }, "name"],
    ["a name with a dot", { name: "docs.v2" }, "name"],
    ["a URL that is not http(s)", { url: "ftp://example.com/mcp" }, "url"],
    ["a URL with credentials", { url: "https://user:pw@example.com/mcp" }, "url"],
    ["a header name with a space", { headers: { "X Bad": "v" } }, "headers"],
    ["a header value with a newline", { headers: { "X-Bad": "a\r\nb" } }, "headers"],
    ["a header the transport sets", { headers: { "Mcp-Session-Id": "x" } }, "headers"],
    ["tools_allow that is not a list", { tools_allow: "search" }, "tools_allow"],
    ["an unknown field", { command: "npx server" }, "command"],
  ])("%s: 400 naming the field, nothing created", async (_name, override, field) => {
    const before = obj(await api.client.get("/api/v1/mcp-servers", { token: api.s.admin }));
    const reply = await create(api.s.admin, {
      name: fresh(),
      url: "http://127.0.0.1:1/mcp",
      ...override,
    });
    expect(reply.status).toBe(400);
    const fields = (obj(reply).validations as Array<{ field: string }>).map((v) => v.field);
    expect(fields.some((f) => f === field || f.startsWith(`${field}.`))).toBe(true);
    const after = obj(await api.client.get("/api/v1/mcp-servers", { token: api.s.admin }));
    expect(after).toEqual(before);
  });

  it("a name already used: 409, on create and on rename", async () => {
    const name = fresh();
    expect((await create(api.s.admin, { name, url: "http://127.0.0.1:1/" })).status).toBe(201);
    const again = await create(api.s.admin, { name, url: "http://127.0.0.1:1/" });
    expect(again.status).toBe(409);
    expect(obj(again).message).toContain(`"${name}" already exists`);
    const other = obj(await create(api.s.admin, { name: fresh(), url: "http://127.0.0.1:1/" }));
    const rename = await api.client.patch(`/api/v1/mcp-servers/${other.id}`, {
      token: api.s.admin,
      json: { name },
    });
    expect(rename.status).toBe(409);
  });
  // Encrypted in the row: src/store/mcp-servers.test.ts reads the table itself.
});

describe("MCP server tools (admin check)", () => {
  const api = useServedApi();
  let mcp: TestMcpServer;
  beforeAll(async () => {
    mcp = await startTestMcpServer();
  });
  afterAll(async () => {
    await mcp?.close();
  });

  it("connects, lists the tools and says which chats get; the headers reach the server", async () => {
    const server = obj(
      await api.client.post("/api/v1/mcp-servers", {
        token: api.s.admin,
        json: {
          name: "docs",
          url: mcp.url,
          headers: { Authorization: SECRET },
          tools_deny: ["hang"],
        },
      }),
    );
    const path = `/api/v1/mcp-servers/${server.id}/tools`;
    expect((await api.client.get(path, { token: api.s.member })).status).toBe(403);
    const reply = await api.client.get(path, { token: api.s.admin });
    expect(reply.status).toBe(200);
    const tools = obj(reply).tools as Array<Record<string, unknown>>;
    expect(tools).toContainEqual({
      name: "echo",
      chat_name: "docs__echo",
      description: "Echoes its text.",
      offered: true,
    });
    expect(tools.find((t) => t.name === "hang")).toMatchObject({ chat_name: null, offered: false });
    expect(mcp.requests.at(-1)?.authorization).toBe(SECRET);
    expect(reply.text).not.toContain("mcp-api-secret");
  });

  it("a server that cannot be reached: 502 saying so", async () => {
    const server = obj(
      await api.client.post("/api/v1/mcp-servers", {
        token: api.s.admin,
        json: { name: "down", url: await refusedUrl() },
      }),
    );
    const reply = await api.client.get(`/api/v1/mcp-servers/${server.id}/tools`, {
      token: api.s.admin,
    });
    expect(reply.status).toBe(502);
    expect(obj(reply).message).toMatch(/"down" could not be reached .*ECONNREFUSED/);
  });
});
