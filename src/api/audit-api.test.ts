/**
 * The audit log through the API: GET /audit (filters, cursor, 400s, admins only), the export
 * (CSV and JSON Lines, streamed, itself audited), secrets never recorded, failures recorded, and
 * chat actions on a running chat that complete (no ambient transaction around the event log).
 */
import { describe, expect, it } from "vitest";
import type { AuditEvent } from "../store/audit.ts";
import { claimChat, newUser, obj, useServedApi } from "./testing.ts";

describe("the audit log API", () => {
  const api = useServedApi();

  async function events(query: string, token = api.s.admin): Promise<AuditEvent[]> {
    const res = await api.client.get(`/api/v1/audit?${query}`, { token });
    expect(res.status, res.text).toBe(200);
    return obj(res).events as AuditEvent[];
  }

  describe("GET /api/v1/audit", () => {
    it("is for admins only", async () => {
      expect((await api.client.get("/api/v1/audit", { token: api.s.member })).status).toBe(403);
      expect((await api.client.get("/api/v1/audit")).status).toBe(401);
    });

    it("lists what was done, by whom, from where, newest first", async () => {
      const name = `Audited ${Date.now()}`;
      const created = await api.client.post("/api/v1/providers", {
        token: api.s.admin,
        headers: { "user-agent": "audit-test/1" },
        json: { type: "openai-compatible", name, base_url: "http://127.0.0.1:9/v1" },
      });
      expect(created.status).toBe(201);
      const id = obj(created).id as string;
      await api.client.patch(`/api/v1/providers/${id}`, {
        token: api.s.admin,
        json: { name: `${name} 2` },
      });
      const [update, create] = await events(`target=provider:${id}`);
      expect(update).toMatchObject({
        action: "provider.update",
        actor: { type: "user", id: api.s.adminId, name: "owner" },
        target: { type: "provider", id, name },
        outcome: "success",
        error: null,
        changes: { name: { from: name, to: `${name} 2` } },
      });
      expect(create).toMatchObject({
        action: "provider.create",
        target: { type: "provider", id, name },
        source: { address: "127.0.0.1", user_agent: "audit-test/1" },
        changes: { name: { to: name } },
      });
      expect(Date.parse(update?.time ?? "")).toBeGreaterThanOrEqual(Date.parse(create?.time ?? ""));
    });

    it("filters by actor, action prefix, target and time; pages by cursor", async () => {
      const user = await newUser(api.client, api.s.admin);
      for (const n of [1, 2, 3]) {
        const res = await api.client.post("/api/v1/users/me/tokens", {
          token: user.token,
          json: { name: `t${n}` },
        });
        expect(res.status).toBe(201);
      }
      const mine = await events(`actor=${user.id}&action=token.`);
      expect(mine.map((e) => e.target?.name)).toEqual(["t3", "t2", "t1"]);
      expect(await events(`actor=${user.id}&action=token*`)).toHaveLength(3);
      expect(await events(`actor=${user.id}&action=token.revoke`)).toHaveLength(0);
      const future = new Date(Date.now() + 3_600_000).toISOString();
      expect(await events(`actor=${user.id}&since=${future}`)).toHaveLength(0);
      expect(await events(`actor=${user.id}&action=token.&until=${future}`)).toHaveLength(3);
      const first = obj(
        await api.client.get(`/api/v1/audit?actor=${user.id}&action=token.&limit=2`, {
          token: api.s.admin,
        }),
      );
      expect((first.events as AuditEvent[]).map((e) => e.target?.name)).toEqual(["t3", "t2"]);
      const second = obj(
        await api.client.get(
          `/api/v1/audit?actor=${user.id}&action=token.&limit=2&cursor=${first.next_cursor}`,
          { token: api.s.admin },
        ),
      );
      expect((second.events as AuditEvent[]).map((e) => e.target?.name)).toEqual(["t1"]);
      expect(second.next_cursor).toBeNull();
    });

    it.each([
      ["since=yesterday", "since"],
      ["until=2026-13-01T00:00:00Z", "until"],
      ["limit=0", "limit"],
      ["limit=501", "limit"],
      ["cursor=not-a-cursor", "cursor"],
      ["target=:x", "target"],
      ["since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z", "since"],
    ])("a bad filter (%s) is a 400 naming %s", async (query, field) => {
      const res = await api.client.get(`/api/v1/audit?${query}`, { token: api.s.admin });
      expect(res.status).toBe(400);
      const fields = (obj(res).validations as Array<{ field: string }>).map((v) => v.field);
      expect(fields).toContain(field);
    });
  });

  describe("what is recorded", () => {
    it("never a secret: API keys, passwords, MCP headers, tokens", async () => {
      const secret = `sk-audit-${Date.now()}-secret`;
      const provider = obj(
        await api.client.post("/api/v1/providers", {
          token: api.s.admin,
          json: {
            type: "openai-compatible",
            name: `Secret ${Date.now()}`,
            base_url: "http://127.0.0.1:9/v1",
            api_key: secret,
          },
        }),
      );
      await api.client.patch(`/api/v1/providers/${provider.id}`, {
        token: api.s.admin,
        json: { api_key: `${secret}-2` },
      });
      const mcp = await api.client.post("/api/v1/mcp-servers", {
        token: api.s.admin,
        json: {
          name: `mcp-${Date.now()}`,
          url: "http://127.0.0.1:9/mcp",
          headers: { authorization: `Bearer ${secret}` },
        },
      });
      expect(mcp.status, mcp.text).toBe(201);
      const password = `${secret}-password`;
      const user = await api.client.post("/api/v1/users", {
        token: api.s.admin,
        json: { username: `s${Date.now()}`, email: `s${Date.now()}@example.com`, password },
      });
      expect(user.status).toBe(201);
      const token = obj(
        await api.client.post("/api/v1/users/me/tokens", { token: api.s.admin, json: {} }),
      ).token as string;
      const rows = await api.deps.store.audit.list({ limit: 500 });
      const text = JSON.stringify(rows.events);
      for (const value of [secret, password, token, api.s.admin]) expect(text).not.toContain(value);
      const [update, create] = (await events(`target=provider:${provider.id}`)).map(
        (e) => e.changes,
      );
      expect(update?.api_key).toBe("[changed]");
      expect(create?.api_key).toBe("[changed]");
      const [madeUser] = await events("action=user.create&limit=1");
      expect(madeUser?.changes?.password).toBe("[changed]");
      const [madeMcp] = await events("action=mcp_server.create&limit=1");
      expect(madeMcp?.changes?.headers).toBe("[changed]");
    });

    it("a failed sign-in: the name tried, no user id, never the password", async () => {
      const email = `nobody-${Date.now()}@example.com`;
      const password = `wrong-${Date.now()}`;
      const res = await api.client.post("/api/v1/users/login", { json: { email, password } });
      expect(res.status).toBe(401);
      const [row] = await events(`actor=${encodeURIComponent(email)}`);
      expect(row).toMatchObject({
        action: "user.login_failed",
        actor: { type: "user", id: null, name: email },
        outcome: "failure",
        error: "401 Invalid email or password.",
      });
      expect(JSON.stringify(row)).not.toContain(password);
    });

    it("a refused change: a failure row, and no change", async () => {
      // The seeded provider has models: deleting it is refused.
      const id = api.s.providerId;
      const res = await api.client.delete(`/api/v1/providers/${id}`, { token: api.s.admin });
      expect(res.status).toBe(409);
      expect(await api.deps.store.getProvider(id)).not.toBeNull();
      const [row] = await events(`target=provider:${id}&action=provider.delete`);
      expect(row).toMatchObject({ outcome: "failure", changes: null });
      expect(row?.error).toMatch(/^409 /u);
    });

    it("renaming and archiving a running chat complete while its events flow", async () => {
      const created = await api.client.post("/api/v1/chats", {
        token: api.s.member,
        json: { model_id: api.s.modelId, content: [{ type: "text", text: "hi" }] },
      });
      expect(created.status, created.text).toBe(201);
      const id = obj(created).id as string;
      await claimChat(api.deps.store, id);
      // A turn streaming: deltas, and durable events that wait on the group commit.
      let streaming = true;
      const turn = (async () => {
        for (let i = 0; streaming; i++) {
          await api.deps.store.events.append(id, "message_part", { delta: `${i}` });
          if (i % 10 === 0) await api.deps.store.events.append(id, "usage", { input: i });
        }
      })();
      try {
        const renamed = await api.client.patch(`/api/v1/chats/${id}`, {
          token: api.s.member,
          json: { title: "Renamed while running" },
        });
        expect(renamed.status, renamed.text).toBe(200);
        const archived = await api.client.patch(`/api/v1/chats/${id}`, {
          token: api.s.member,
          json: { archived: true },
        });
        expect(archived.status, archived.text).toBe(200);
      } finally {
        streaming = false;
        await turn;
      }
      const actions = (await events(`target=chat:${id}`)).map((e) => e.action);
      expect(actions).toEqual(["chat.archive", "chat.rename", "chat.create"]);
    }, 20_000);
  });

  describe("GET /api/v1/audit/export", () => {
    it("streams CSV with a header row and proper quoting, and is itself audited", async () => {
      const name = `Quote "me", please ${Date.now()}`;
      await api.client.post("/api/v1/providers", {
        token: api.s.admin,
        json: { type: "openai-compatible", name, base_url: "http://127.0.0.1:9/v1" },
      });
      const res = await api.client.get("/api/v1/audit/export?format=csv&action=provider.create", {
        token: api.s.admin,
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/csv");
      expect(res.headers.get("content-disposition")).toMatch(
        /^attachment; filename="keel-audit-\d{4}-\d{2}-\d{2}\.csv"$/u,
      );
      const lines = res.text.split("\r\n");
      expect(lines[0]).toBe(
        "time,actor_type,actor_id,actor_name,action,target_type,target_id,target_name,outcome,error,source_address,user_agent,changes",
      );
      expect(res.text).toContain(`"${name.replaceAll('"', '""')}"`);
      expect(lines.filter((l) => l.includes(",provider.create,")).length).toBeGreaterThan(0);
      const [exported] = await events("action=audit.export&limit=1");
      expect(exported?.actor.id).toBe(api.s.adminId);
    });

    it("streams JSON Lines, every page of a large result", async () => {
      // More than one export page (500 rows).
      await api.deps.store.audit.record(seedRow());
      for (let i = 0; i < 12; i++) {
        await Promise.all(
          Array.from({ length: 100 }, () => api.deps.store.audit.record(seedRow())),
        );
      }
      const res = await api.client.get("/api/v1/audit/export?format=jsonl&action=bulk.", {
        token: api.s.admin,
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-disposition")).toContain(".jsonl");
      const rows = res.text
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as AuditEvent);
      expect(rows).toHaveLength(1201);
      expect(new Set(rows.map((r) => r.id)).size).toBe(1201);
    }, 30_000);

    it("refuses a bad format or filter with a 400 naming it, and members with a 403", async () => {
      const bad = await api.client.get("/api/v1/audit/export?format=xml", { token: api.s.admin });
      expect(bad.status).toBe(400);
      expect(JSON.stringify(obj(bad).validations)).toContain("format");
      const member = await api.client.get("/api/v1/audit/export?format=csv", {
        token: api.s.member,
      });
      expect(member.status).toBe(403);
    });
  });
});

function seedRow() {
  return {
    actor: { type: "system" as const, id: null, name: null },
    action: "bulk.seed",
    target: null,
    source: { address: null, user_agent: null },
    outcome: "success" as const,
    error: null,
    changes: null,
  };
}
