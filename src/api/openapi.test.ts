import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApi } from "./app.ts";
import { silentLogger } from "./log.ts";
import { makeDeps, type TestDeps } from "./testing.ts";

interface OpenApiDoc {
  openapi: string;
  paths: Record<
    string,
    Record<string, { security?: unknown[]; responses: Record<string, unknown> }>
  >;
  components: { schemas: Record<string, { additionalProperties?: unknown }> };
}

describe("openapi.json", () => {
  let deps: TestDeps;
  beforeAll(async () => {
    deps = await makeDeps();
  });
  afterAll(async () => {
    await deps?.close();
  });

  it("is OpenAPI 3.1 and documents every route the app serves", async () => {
    const app = createApi({
      store: deps.store,
      chats: deps.chats,
      logger: silentLogger,
      options: { secureCookies: false, ready: () => true },
    });
    const res = await app.request("/api/v1/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as OpenApiDoc;
    expect(doc.openapi).toBe("3.1.0");

    const served = app.routes
      .filter((r) => r.method !== "ALL" && r.path !== "/api/v1/openapi.json")
      .map((r) => `${r.method.toLowerCase()} ${r.path.replaceAll(/:([^/]+)/g, "{$1}")}`);
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method} ${path}`),
    );
    expect([...new Set(served)].sort()).toEqual([...documented].sort());
    expect(documented).toEqual(
      expect.arrayContaining([
        "get /api/v1/setup",
        "post /api/v1/users/first",
        "post /api/v1/users/login",
        "post /api/v1/users/logout",
        "post /api/v1/users",
        "get /api/v1/users",
        "patch /api/v1/users/{id}",
        "get /api/v1/users/me",
        "patch /api/v1/users/me",
        "post /api/v1/users/me/tokens",
        "post /api/v1/providers",
        "get /api/v1/providers",
        "get /api/v1/providers/{id}",
        "patch /api/v1/providers/{id}",
        "delete /api/v1/providers/{id}",
        "post /api/v1/models",
        "get /api/v1/models",
        "patch /api/v1/models/{id}",
        "delete /api/v1/models/{id}",
        "post /api/v1/chats",
        "get /api/v1/chats",
        "get /api/v1/chats/{id}",
        "post /api/v1/chats/{id}/messages",
        "post /api/v1/chats/{id}/interrupt",
        "delete /api/v1/chats/{id}",
        "get /api/v1/chats/{id}/stream",
        "get /api/v1/chats/{id}/instructions",
        "get /healthz",
        "get /readyz",
      ]),
    );

    // Generated from the validating schemas: strict request objects, the shared error shape.
    expect(doc.components.schemas.CreateChatRequest?.additionalProperties).toBe(false);
    expect(doc.components.schemas.Error).toBeDefined();
    const stream = doc.paths["/api/v1/chats/{id}/stream"]?.get;
    expect(stream?.responses["200"]).toMatchObject({ content: { "text/event-stream": {} } });
    expect(stream?.security).toEqual([{ bearer: [] }, { cookie: [] }]);
    expect(doc.paths["/api/v1/users/login"]?.post?.security).toBeUndefined();
    expect(doc.paths["/api/v1/setup"]?.get?.security).toBeUndefined();
    expect(doc.paths["/api/v1/users/logout"]?.post?.security).toEqual([
      { bearer: [] },
      { cookie: [] },
    ]);
    for (const name of ["SetupStatus", "UserList", "UpdateUserRequest", "QueuedMessage"]) {
      expect(doc.components.schemas[name], name).toBeDefined();
    }
    expect(doc.components.schemas.UpdateUserRequest?.additionalProperties).toBe(false);
  });
});
