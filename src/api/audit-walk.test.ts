/**
 * THE WALK: every mutating operation (POST, PUT, PATCH, DELETE) of the OpenAPI document runs
 * once with a valid request, and afterwards an audit row with its action exists. An operation
 * missing from `WALK` fails the test by its name: a new route cannot ship without its audit.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { type Client, newUser, obj, type Reply, type Seeded, useServedApi } from "./testing.ts";

const text = (t: string) => [{ type: "text", text: t }];
const tag = () => randomBytes(4).toString("hex");

interface Walk {
  client: Client;
  s: Seeded;
}

/** One operation's example: the request (null: made by the seed already) and its action. */
interface Step {
  action: string;
  request: ((w: Walk) => Promise<Reply>) | null;
}

async function provider(w: Walk): Promise<string> {
  const res = await w.client.post("/api/v1/providers", {
    token: w.s.admin,
    json: { type: "openai-compatible", name: `walk ${tag()}`, base_url: "http://127.0.0.1:9/v1" },
  });
  return obj(res).id as string;
}

async function model(w: Walk): Promise<string> {
  const res = await w.client.post("/api/v1/models", {
    token: w.s.admin,
    json: { provider_id: w.s.providerId, model: `walk-${tag()}` },
  });
  return obj(res).id as string;
}

async function mcpServer(w: Walk): Promise<string> {
  const res = await w.client.post("/api/v1/mcp-servers", {
    token: w.s.admin,
    json: { name: `walk-${tag()}`, url: "http://127.0.0.1:9/mcp" },
  });
  return obj(res).id as string;
}

async function group(w: Walk): Promise<string> {
  const res = await w.client.post("/api/v1/groups", {
    token: w.s.admin,
    json: { name: `walk ${tag()}` },
  });
  return obj(res).id as string;
}

async function chat(w: Walk): Promise<string> {
  const res = await w.client.post("/api/v1/chats", {
    token: w.s.member,
    json: { model_id: w.s.modelId, content: text("hello") },
  });
  return obj(res).id as string;
}

/** A chat no turn runs for (its first turn taken out of the queue). */
async function waitingChat(w: Walk): Promise<string> {
  const id = await chat(w);
  await w.client.post(`/api/v1/chats/${id}/interrupt`, { token: w.s.member });
  return id;
}

/** Keyed by "METHOD /path" as in the OpenAPI document. */
const WALK: Record<string, Step> = {
  "POST /users/first": { action: "user.create", request: null },
  "POST /users/login": {
    action: "user.login",
    request: (w) =>
      w.client.post("/api/v1/users/login", {
        json: { email: "member@example.com", password: "member-password" },
      }),
  },
  "POST /users/logout": {
    action: "user.logout",
    request: async (w) => {
      const user = await newUser(w.client, w.s.admin);
      return w.client.post("/api/v1/users/logout", { token: user.token });
    },
  },
  "PATCH /users/me": {
    action: "preferences.update",
    request: (w) =>
      w.client.patch("/api/v1/users/me", {
        token: w.s.member,
        json: { instructions: "Be brief." },
      }),
  },
  "PATCH /users/{id}": {
    action: "user.update",
    request: async (w) => {
      const user = await newUser(w.client, w.s.admin);
      return w.client.patch(`/api/v1/users/${user.id}`, {
        token: w.s.admin,
        json: { active: false },
      });
    },
  },
  "POST /users": {
    action: "user.create",
    request: (w) => {
      const name = `walk-${tag()}`;
      return w.client.post("/api/v1/users", {
        token: w.s.admin,
        json: { username: name, email: `${name}@example.com`, password: "a-password-1" },
      });
    },
  },
  "POST /users/me/tokens": {
    action: "token.create",
    request: (w) => w.client.post("/api/v1/users/me/tokens", { token: w.s.member, json: {} }),
  },
  "PUT /users/{id}/limit": {
    action: "limit.update",
    request: (w) =>
      w.client.request("PUT", `/api/v1/users/${w.s.memberId}/limit`, {
        token: w.s.admin,
        json: { usd: 10, period: "month" },
      }),
  },
  "DELETE /users/{id}/limit": {
    action: "limit.update",
    request: (w) => w.client.delete(`/api/v1/users/${w.s.memberId}/limit`, { token: w.s.admin }),
  },
  "PUT /groups/{id}/limit": {
    action: "limit.update",
    request: async (w) =>
      w.client.request("PUT", `/api/v1/groups/${await group(w)}/limit`, {
        token: w.s.admin,
        json: { usd: 5, period: "week" },
      }),
  },
  "DELETE /groups/{id}/limit": {
    action: "limit.update",
    request: async (w) =>
      w.client.delete(`/api/v1/groups/${await group(w)}/limit`, { token: w.s.admin }),
  },
  "POST /providers": {
    action: "provider.create",
    request: (w) =>
      w.client.post("/api/v1/providers", {
        token: w.s.admin,
        json: { type: "openai-compatible", name: `walk ${tag()}`, base_url: "http://127.0.0.1:9" },
      }),
  },
  "PATCH /providers/{id}": {
    action: "provider.update",
    request: async (w) =>
      w.client.patch(`/api/v1/providers/${await provider(w)}`, {
        token: w.s.admin,
        json: { name: `walk ${tag()}` },
      }),
  },
  "DELETE /providers/{id}": {
    action: "provider.delete",
    request: async (w) =>
      w.client.delete(`/api/v1/providers/${await provider(w)}`, { token: w.s.admin }),
  },
  "POST /providers/{id}/test": {
    action: "provider.test",
    request: async (w) =>
      w.client.post(`/api/v1/providers/${await provider(w)}/test`, {
        token: w.s.admin,
        json: {},
      }),
  },
  "POST /models": {
    action: "model.create",
    request: (w) =>
      w.client.post("/api/v1/models", {
        token: w.s.admin,
        json: { provider_id: w.s.providerId, model: `walk-${tag()}` },
      }),
  },
  "PATCH /models/{id}": {
    action: "model.update",
    request: async (w) =>
      w.client.patch(`/api/v1/models/${await model(w)}`, {
        token: w.s.admin,
        json: { display_name: "Walked" },
      }),
  },
  "DELETE /models/{id}": {
    action: "model.delete",
    request: async (w) => w.client.delete(`/api/v1/models/${await model(w)}`, { token: w.s.admin }),
  },
  "POST /mcp-servers": {
    action: "mcp_server.create",
    request: (w) =>
      w.client.post("/api/v1/mcp-servers", {
        token: w.s.admin,
        json: { name: `walk-${tag()}`, url: "http://127.0.0.1:9/mcp" },
      }),
  },
  "PATCH /mcp-servers/{id}": {
    action: "mcp_server.update",
    request: async (w) =>
      w.client.patch(`/api/v1/mcp-servers/${await mcpServer(w)}`, {
        token: w.s.admin,
        json: { enabled: false },
      }),
  },
  "DELETE /mcp-servers/{id}": {
    action: "mcp_server.delete",
    request: async (w) =>
      w.client.delete(`/api/v1/mcp-servers/${await mcpServer(w)}`, { token: w.s.admin }),
  },
  "PATCH /settings": {
    action: "settings.update",
    request: (w) =>
      w.client.patch("/api/v1/settings", {
        token: w.s.admin,
        json: { system_prompt: `walk ${tag()}`, audit_retention_days: 400 },
      }),
  },
  "POST /groups": {
    action: "group.create",
    request: (w) =>
      w.client.post("/api/v1/groups", { token: w.s.admin, json: { name: `walk ${tag()}` } }),
  },
  "PATCH /groups/{id}": {
    action: "group.update",
    request: async (w) =>
      w.client.patch(`/api/v1/groups/${await group(w)}`, {
        token: w.s.admin,
        json: { user_ids: [w.s.memberId] },
      }),
  },
  "DELETE /groups/{id}": {
    action: "group.delete",
    request: async (w) => w.client.delete(`/api/v1/groups/${await group(w)}`, { token: w.s.admin }),
  },
  "POST /workspaces": {
    action: "workspace.create",
    request: (w) =>
      w.client.post("/api/v1/workspaces", { token: w.s.member, json: { name: `walk-${tag()}` } }),
  },
  "DELETE /workspaces/{id}": {
    action: "workspace.delete",
    request: async (w) => {
      const made = await w.client.post("/api/v1/workspaces", {
        token: w.s.member,
        json: { name: `walk-${tag()}` },
      });
      return w.client.delete(`/api/v1/workspaces/${obj(made).id}`, { token: w.s.member });
    },
  },
  "POST /chats": {
    action: "chat.create",
    request: (w) =>
      w.client.post("/api/v1/chats", {
        token: w.s.member,
        json: { model_id: w.s.modelId, content: text("hi") },
      }),
  },
  "PATCH /chats/{id}": {
    action: "chat.rename",
    request: async (w) =>
      w.client.patch(`/api/v1/chats/${await chat(w)}`, {
        token: w.s.member,
        json: { title: "Walked" },
      }),
  },
  "DELETE /chats/{id}": {
    action: "chat.delete",
    request: async (w) =>
      w.client.delete(`/api/v1/chats/${await waitingChat(w)}?permanent=true`, {
        token: w.s.member,
      }),
  },
  "POST /chats/{id}/messages": {
    action: "chat.message",
    request: async (w) =>
      w.client.post(`/api/v1/chats/${await chat(w)}/messages`, {
        token: w.s.member,
        json: { content: text("more") },
      }),
  },
  "POST /chats/{id}/interrupt": {
    action: "chat.interrupt",
    request: async (w) =>
      w.client.post(`/api/v1/chats/${await chat(w)}/interrupt`, { token: w.s.member }),
  },
  "PATCH /chats/{id}/messages/{message_id}": {
    action: "chat.message_edit",
    request: async (w) => {
      const id = await waitingChat(w);
      const detail = obj(await w.client.get(`/api/v1/chats/${id}`, { token: w.s.member }));
      const [first] = detail.messages as Array<{ id: string }>;
      return w.client.patch(`/api/v1/chats/${id}/messages/${first?.id}`, {
        token: w.s.member,
        json: { content: text("edited") },
      });
    },
  },
  "POST /chats/{id}/regenerate": {
    action: "chat.regenerate",
    request: async (w) =>
      w.client.post(`/api/v1/chats/${await waitingChat(w)}/regenerate`, { token: w.s.member }),
  },
  "POST /chats/{id}/compact": {
    action: "chat.compact",
    request: async (w) =>
      w.client.post(`/api/v1/chats/${await waitingChat(w)}/compact`, { token: w.s.member }),
  },
};

const MUTATING = ["post", "put", "patch", "delete"];

describe("the audit walk: every mutating operation writes its audit row", () => {
  const api = useServedApi();

  async function operations(): Promise<string[]> {
    const doc = obj(await api.client.get("/api/v1/openapi.json"));
    const paths = doc.paths as Record<string, Record<string, unknown>>;
    return Object.entries(paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((method) => MUTATING.includes(method))
        .map((method) => `${method.toUpperCase()} ${path.replace(/^\/api\/v1/u, "")}`),
    );
  }

  it("has an example for every mutating operation of the OpenAPI document", async () => {
    const missing = (await operations()).filter((op) => !(op in WALK));
    expect(missing, `add these operations to WALK (and audit them): ${missing.join(", ")}`).toEqual(
      [],
    );
  });

  it("finds an audit row with the operation's action after each", async () => {
    const failures: string[] = [];
    for (const op of await operations()) {
      const step = WALK[op];
      if (step === undefined) continue;
      const walk: Walk = { client: api.client, s: api.s };
      const newest = async () =>
        (await api.deps.store.audit.list({ action: step.action, limit: 1 })).events[0];
      // The newest row of the action before and after (no clock compared: the database's may
      // not be this process's).
      const before = step.request === null ? undefined : (await newest())?.id;
      if (step.request !== null) {
        const res = await step.request(walk);
        if (res.status >= 300) {
          failures.push(`${op}: the example answered ${res.status} ${res.text.slice(0, 200)}`);
          continue;
        }
      }
      const row = await newest();
      if (row === undefined || row.id === before || row.outcome !== "success") {
        failures.push(`${op}: no new "${step.action}" audit row`);
      }
    }
    expect(failures).toEqual([]);
  }, 60_000);
});
