/**
 * An admin's checks of a provider, against real sockets: "Test connection" through the fake
 * provider (a reply → ok; a 401 → `auth` in the words a chat would show, the key nowhere), and
 * the model list from a small `node:http` server speaking each type's list format.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  errorReply,
  type FakeProvider,
  hangAfter,
  startFakeProvider,
  textReply,
} from "../../test/fakeprovider/index.ts";
import { Client, makeDeps, obj, seedStore, serveApi, useServedApi } from "./testing.ts";

const KEY = "sk-checks-THE-SECRET-KEY-42";

/** Answers GET …/models as each provider type does; a wrong key gets a 401 that echoes it. */
async function startModelLister(): Promise<{
  url: string;
  seen: IncomingMessage[];
  server: Server;
}> {
  const seen: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    seen.push(req);
    const url = new URL(req.url ?? "/", "http://x");
    const authorized =
      req.headers.authorization === `Bearer ${KEY}` ||
      req.headers["x-api-key"] === KEY ||
      req.headers["x-goog-api-key"] === KEY;
    res.setHeader("content-type", "application/json");
    if (!authorized) {
      res.statusCode = 401;
      res.end(
        JSON.stringify({
          error: {
            message: `Incorrect API key provided: ${String(req.headers.authorization)}`,
            type: "invalid_request_error",
            code: "invalid_api_key",
          },
        }),
      );
      return;
    }
    if (url.pathname === "/v1beta/models") {
      res.end(
        JSON.stringify({
          models: [
            {
              name: "models/gemini-x",
              displayName: "Gemini X",
              supportedGenerationMethods: ["generateContent"],
            },
            { name: "models/embed-1", supportedGenerationMethods: ["embedContent"] },
          ],
        }),
      );
      return;
    }
    if (url.pathname === "/v1/models") {
      res.end(
        JSON.stringify({
          data: [{ id: "model-b", display_name: "Model B" }, { id: "model-a" }],
        }),
      );
      return;
    }
    res.statusCode = 404;
    res.end(JSON.stringify({ error: { message: "not found" } }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, seen, server };
}

/** A port nothing listens on: one the system just handed out and took back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("provider checks", () => {
  const api = useServedApi();
  let fake: FakeProvider;
  let lister: Awaited<ReturnType<typeof startModelLister>>;

  beforeAll(async () => {
    fake = await startFakeProvider();
    lister = await startModelLister();
  });
  afterAll(async () => {
    await fake?.close();
    await new Promise((resolve) => lister?.server.close(resolve));
  });
  beforeEach(() => fake.reset());

  async function provider(json: Record<string, unknown>): Promise<string> {
    const res = await api.client.post("/api/v1/providers", {
      token: api.s.admin,
      json: { name: `P ${Math.random().toString(36).slice(2)}`, ...json },
    });
    expect(res.status, res.text).toBe(201);
    return obj(res).id as string;
  }
  async function model(providerId: string, id: string) {
    const res = await api.client.post("/api/v1/models", {
      token: api.s.admin,
      json: { provider_id: providerId, model: id },
    });
    expect(res.status).toBe(201);
  }
  const testConnection = (id: string, json?: unknown) =>
    api.client.post(`/api/v1/providers/${id}/test`, { token: api.s.admin, json });

  describe("POST /providers/{id}/test", () => {
    it("a reply from the provider's first model: ok, with its latency", async () => {
      const id = await provider({
        type: "openai-compatible",
        base_url: `${fake.url}/v1`,
        api_key: KEY,
      });
      await model(id, "fake-first");
      fake.enqueue(textReply("OK"));
      const res = await testConnection(id);
      expect(res.status).toBe(200);
      const body = obj(res);
      expect(Object.keys(body).sort()).toEqual(["latency_ms", "ok"]);
      expect(body.ok).toBe(true);
      expect(body.latency_ms).toEqual(expect.any(Number));
      expect(fake.requests).toHaveLength(1);
      expect(fake.requests[0]?.model).toBe("fake-first");
      expect(fake.requests[0]?.headers.authorization).toBe(`Bearer ${KEY}`);
    });

    it("a given model is the one tried", async () => {
      const id = await provider({ type: "anthropic", base_url: `${fake.url}/v1`, api_key: KEY });
      fake.enqueue(textReply("OK"));
      const res = await testConnection(id, { model: "claude-given" });
      expect(obj(res)).toMatchObject({ ok: true });
      expect(fake.requests[0]).toMatchObject({ format: "anthropic", model: "claude-given" });
    });

    it("a 401: {ok: false, kind: auth} in a chat's words, the key in no response or log", async () => {
      const id = await provider({
        type: "openai-compatible",
        base_url: `${fake.url}/v1`,
        api_key: KEY,
      });
      await model(id, "fake-first");
      fake.enqueue(errorReply("auth", { message: `Incorrect API key provided: ${KEY}` }));
      const res = await testConnection(id);
      expect(res.status).toBe(200);
      const body = obj(res);
      expect(body).toMatchObject({ ok: false, kind: "auth", latency_ms: expect.any(Number) });
      expect(body.message).toMatch(/rejected the API key \(401\)/);
      expect(res.text).not.toContain(KEY);
      for (const line of api.served.logs) expect(line).not.toContain(KEY);
      expect(api.served.logs.some((l) => l.includes("provider tested"))).toBe(true);
    });

    it("nowhere to connect: a classified failure, not an error of the route", async () => {
      const id = await provider({
        type: "openai-compatible",
        name: "P",
        base_url: `http://127.0.0.1:${await closedPort()}/v1`,
      });
      const res = await testConnection(id, { model: "m" });
      expect(res.status).toBe(200);
      const body = obj(res);
      expect(body.ok).toBe(false);
      expect(body.kind).toEqual(expect.any(String));
      expect(body.message).toBe("The connection to P was interrupted.");
      expect(body.detail).toMatch(/ECONNREFUSED/);
    });

    it("no model yet: the model list where the type has one, else what to do", async () => {
      const listing = await provider({
        type: "openai",
        base_url: `${lister.url}/v1`,
        api_key: KEY,
      });
      expect(obj(await testConnection(listing))).toMatchObject({ ok: true });
      const bedrock = await provider({ type: "bedrock", options: { region: "us-east-1" } });
      expect(obj(await testConnection(bedrock))).toEqual({
        ok: false,
        kind: "config",
        message: expect.stringMatching(/needs a model to test with: add one/),
        latency_ms: 0,
      });
    });

    it("a provider that does not answer in time: a classified timeout, not a hanging request", async () => {
      // The deadline of this server's checks is short; the fake sends the headers, then nothing.
      const deps = await makeDeps();
      const seeded = await seedStore(deps);
      const served = await serveApi(deps, { providerCheckTimeoutMs: 300 });
      try {
        const client = new Client(served.url);
        const created = await client.post("/api/v1/providers", {
          token: seeded.admin,
          json: { type: "openai-compatible", name: "Slow", base_url: `${fake.url}/v1` },
        });
        fake.enqueue(hangAfter("O", 1));
        const res = await client.post(`/api/v1/providers/${obj(created).id}/test`, {
          token: seeded.admin,
          json: { model: "slow-model" },
        });
        expect(obj(res)).toMatchObject({
          ok: false,
          kind: "timeout",
          message: "The request to Slow timed out.",
        });
      } finally {
        await served.close();
        await deps.close();
      }
    });

    it("is admin-only, and 404 for an unknown provider", async () => {
      const id = await provider({ type: "anthropic" });
      const path = `/api/v1/providers/${id}/test`;
      expect((await api.client.post(path, { token: api.s.member })).status).toBe(403);
      expect((await api.client.post(path)).status).toBe(401);
      const unknown = "/api/v1/providers/00000000-0000-4000-8000-000000000000/test";
      expect((await api.client.post(unknown, { token: api.s.admin })).status).toBe(404);
      expect(fake.requests).toHaveLength(0);
    });
  });

  describe("GET /providers/{id}/models", () => {
    it.each([
      ["openai-compatible", "/v1", [{ id: "model-a" }, { id: "model-b", display_name: "Model B" }]],
      ["openai", "/v1", [{ id: "model-a" }, { id: "model-b", display_name: "Model B" }]],
      ["anthropic", "/v1", [{ id: "model-a" }, { id: "model-b", display_name: "Model B" }]],
      ["openrouter", "/v1", [{ id: "model-a" }, { id: "model-b", display_name: "Model B" }]],
      ["google", "/v1beta", [{ id: "gemini-x", display_name: "Gemini X" }]],
    ] as const)("%s: the models it lists, by id", async (type, path, expected) => {
      const id = await provider({ type, base_url: `${lister.url}${path}`, api_key: KEY });
      const res = await api.client.get(`/api/v1/providers/${id}/models`, { token: api.s.admin });
      expect(res.status).toBe(200);
      expect(obj(res)).toEqual({ models: expected, listable: true });
    });

    it.each([
      ["bedrock", { options: { region: "us-east-1" } }],
      ["azure", { options: { resource_name: "team" } }],
    ] as const)("%s cannot list: {models: [], listable: false}", async (type, extra) => {
      const id = await provider({ type, ...extra });
      const res = await api.client.get(`/api/v1/providers/${id}/models`, { token: api.s.admin });
      expect(obj(res)).toEqual({ models: [], listable: false });
    });

    it("a provider without a list (404 there) cannot list: listable false", async () => {
      const id = await provider({
        type: "openai-compatible",
        base_url: `${lister.url}/no-list-here`,
        api_key: KEY,
      });
      const res = await api.client.get(`/api/v1/providers/${id}/models`, { token: api.s.admin });
      expect(res.status).toBe(200);
      expect(obj(res)).toEqual({ models: [], listable: false });
    });

    it("a refused list: 502 with the classified message, the key nowhere", async () => {
      const id = await provider({
        type: "openai-compatible",
        base_url: `${lister.url}/v1`,
        api_key: `${KEY}-wrong`,
      });
      const res = await api.client.get(`/api/v1/providers/${id}/models`, { token: api.s.admin });
      expect(res.status).toBe(502);
      expect(obj(res).message).toMatch(/rejected the API key \(401\)/);
      expect(res.text).not.toContain(KEY);
      expect(
        (await api.client.get(`/api/v1/providers/${id}/models`, { token: api.s.member })).status,
      ).toBe(403);
    });
  });
});
