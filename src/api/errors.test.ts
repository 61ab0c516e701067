import { describe, expect, it, vi } from "vitest";
import type { AppEnv } from "./context.ts";
import { Client, obj, serveApi, useServedApi } from "./testing.ts";

describe("errors", () => {
  const api = useServedApi({ heartbeatMs: 60_000 });

  /** The server still answers ordinary requests. */
  async function stillServing(): Promise<void> {
    expect((await api.client.get("/healthz")).status).toBe(200);
    expect((await api.client.get("/api/v1/users/me", { token: api.s.member })).status).toBe(200);
  }

  function expectErrorShape(body: Record<string, unknown>): void {
    expect(typeof body.message).toBe("string");
    for (const key of Object.keys(body))
      expect(["message", "detail", "validations"]).toContain(key);
  }

  describe("bad input", () => {
    it("unknown fields are named in validations", async () => {
      const res = await api.client.post("/api/v1/chats", {
        token: api.s.member,
        json: { model_id: api.s.modelId, content: [{ type: "text", text: "hi" }], temperature: 2 },
      });
      expect(res.status).toBe(400);
      expect(obj(res)).toEqual({
        message: "Invalid request body.",
        validations: [{ field: "temperature", detail: "Unknown field." }],
      });
      await stillServing();
    });

    it("malformed JSON is a 400 that says so", async () => {
      const res = await api.client.post("/api/v1/chats", {
        token: api.s.member,
        raw: '{"model_id": ',
        headers: { "content-type": "application/json" },
      });
      expect(res.status).toBe(400);
      expectErrorShape(obj(res));
      expect(obj(res).message).toMatch(/Malformed JSON/);
      await stillServing();
    });

    it("a body that is not JSON is a 415 in the same shape", async () => {
      const res = await api.client.post("/api/v1/chats", {
        token: api.s.member,
        raw: "model_id=1",
        headers: { "content-type": "application/x-www-form-urlencoded" },
      });
      expect(res.status).toBe(415);
      expectErrorShape(obj(res));
      await stillServing();
    });

    it("a 10 MB message is a 413 (with and without Content-Length)", async () => {
      const big = JSON.stringify({
        model_id: api.s.modelId,
        content: [{ type: "text", text: "x".repeat(10 * 1024 * 1024) }],
      });
      const sized = await api.client.post("/api/v1/chats", {
        token: api.s.member,
        raw: big,
        headers: { "content-type": "application/json" },
      });
      expect(sized.status).toBe(413);
      expectErrorShape(obj(sized));
      expect(obj(sized).message).toMatch(/too large/);
      await stillServing();

      const bytes = new TextEncoder().encode(big);
      const chunked = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < bytes.length; i += 64 * 1024) {
            controller.enqueue(bytes.subarray(i, i + 64 * 1024));
          }
          controller.close();
        },
      });
      const streamed = await api.client.post(`/api/v1/chats`, {
        token: api.s.member,
        raw: chunked,
        headers: { "content-type": "application/json" },
      });
      expect(streamed.status).toBe(413);
      expectErrorShape(obj(streamed));
      await stillServing();
    });

    it("a text part over the documented limit is a 400 on that field", async () => {
      const res = await api.client.post("/api/v1/chats", {
        token: api.s.member,
        json: {
          model_id: api.s.modelId,
          content: [{ type: "text", text: "y".repeat(300 * 1024) }],
        },
      });
      expect(res.status).toBe(400);
      expect((obj(res).validations as Array<{ field: string }>)[0]?.field).toBe("content[0].text");
    });

    it("an unknown chat id is 404, whether or not it looks like an id", async () => {
      for (const id of ["00000000-0000-4000-8000-000000000000", "nope", "1%20OR%201=1"]) {
        const res = await api.client.get(`/api/v1/chats/${id}`, { token: api.s.member });
        expect(res.status, id).toBe(404);
        expectErrorShape(obj(res));
      }
      await stillServing();
    });

    it("an unknown route is 404 in the same shape", async () => {
      for (const path of ["/api/v1/nothing", "/api/v2/chats", "/"]) {
        const res = await api.client.get(path, { token: api.s.member });
        expect(res.status, path).toBe(404);
        expectErrorShape(obj(res));
      }
      const wrongMethod = await api.client.request("PUT", "/api/v1/chats", { token: api.s.member });
      expect(wrongMethod.status).toBe(404);
    });

    it("an unexpected exception is a 500 without details, logged without secrets", async () => {
      // The one injected fault: the store's next listModels fails as a lost database would.
      const failing = vi
        .spyOn(api.deps.store, "listModels")
        .mockRejectedValueOnce(new Error("database fell over"));
      const res = await api.client
        .get("/api/v1/models", { token: api.s.member })
        .finally(() => failing.mockRestore());
      expect(res.status).toBe(500);
      expect(obj(res)).toEqual({ message: "Internal error; the server log has the details." });
      expect(res.text).not.toContain("fell over");
      const logged = api.served.logs.find((l) => l.includes("unhandled error"));
      expect(logged).toContain("database fell over");
      expect(logged).not.toContain(api.s.member);
      await stillServing();
      expect((await api.client.get("/api/v1/models", { token: api.s.member })).status).toBe(200);
    });
  });

  describe("health", () => {
    it("healthz is always 200; readyz follows ready()", async () => {
      let ready = false;
      const other = await serveApi(api.deps, { ready: () => ready });
      try {
        const c = new Client(other.url);
        expect(obj(await c.get("/healthz"))).toEqual({ status: "ok" });
        expect((await c.get("/readyz")).status).toBe(503);
        ready = true;
        expect((await c.get("/readyz")).status).toBe(200);
      } finally {
        await other.close();
      }
    });
  });
});

describe("the error handler", () => {
  it("words a server key that cannot decrypt a stored secret for the admin, not as an internal error", async () => {
    const { Hono } = await import("hono");
    const { errorHandler } = await import("./errors.ts");
    const { SecretKeyError } = await import("../store/secrets.ts");
    const lines: string[] = [];
    const logger = {
      info: () => {},
      warn: () => {},
      error: (message: string) => lines.push(message),
    };
    const app = new Hono<AppEnv>();
    app.onError(errorHandler(logger));
    app.get("/x", () => {
      throw new SecretKeyError("cannot decrypt a stored provider API key");
    });
    const response = await app.request("/x");
    expect(response.status).toBe(500);
    const body = (await response.json()) as { message: string; detail: string };
    expect(body.message).toMatch(/secret key is not the one they were encrypted with/);
    expect(body.detail).toBe("cannot decrypt a stored provider API key");
    expect(lines).toEqual(["the server key cannot decrypt a stored secret"]);
  });
});
