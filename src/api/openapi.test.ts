import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApi } from "./app.ts";
import { silentLogger } from "./log.ts";
import { OPERATION_IDS, PUBLIC_OPERATIONS } from "./openapi.ts";
import { makeDeps, type TestDeps } from "./testing.ts";

interface OpenApiDoc {
  openapi: string;
  servers?: Array<{ url: string }>;
  paths: Record<
    string,
    Record<
      string,
      { operationId?: string; security?: unknown[]; responses: Record<string, unknown> }
    >
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

  async function document(): Promise<OpenApiDoc> {
    const app = createApi({
      store: deps.store,
      chats: deps.chats,
      logger: silentLogger,
      options: { secureCookies: false, ready: () => true },
    });
    return (await (await app.request("/api/v1/openapi.json")).json()) as OpenApiDoc;
  }

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
        "patch /api/v1/chats/{id}",
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
    expect(doc.paths["/api/v1/users/login"]?.post?.security).toEqual([]);
    expect(doc.paths["/api/v1/setup"]?.get?.security).toEqual([]);
    expect(doc.paths["/api/v1/users/logout"]?.post?.security).toEqual([
      { bearer: [] },
      { cookie: [] },
    ]);
    for (const name of ["SetupStatus", "UserList", "UpdateUserRequest", "QueuedMessage"]) {
      expect(doc.components.schemas[name], name).toBeDefined();
    }
    expect(doc.components.schemas.UpdateUserRequest?.additionalProperties).toBe(false);
  });

  it("is one client generators take as is: named operations, security on each, a server", async () => {
    const doc = await document();
    expect(doc.servers).toEqual([expect.objectContaining({ url: "/" })]);
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ key: `${method} ${path}`, op })),
    );
    // Every operation has a name of its own (a new route: add it to OPERATION_IDS).
    const unnamed = operations.filter(({ key }) => OPERATION_IDS[key] === undefined);
    expect(unnamed.map(({ key }) => key)).toEqual([]);
    const ids = operations.map(({ op }) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    // Security is declared on each: empty only for the public ones.
    for (const { key, op } of operations) {
      expect(op.security, key).toEqual(
        PUBLIC_OPERATIONS.has(key) ? [] : [{ bearer: [] }, { cookie: [] }],
      );
    }
  });

  it("passes `redocly lint` with the recommended rules (no errors)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "keel-openapi-"));
    try {
      const file = join(dir, "openapi.json");
      await writeFile(file, JSON.stringify(await document()));
      const cli = join(import.meta.dirname, "../../node_modules/@redocly/cli/bin/cli.js");
      const result = spawnSync(process.execPath, [cli, "lint", file, "--format=json"], {
        encoding: "utf8",
        env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
      });
      const report = JSON.parse(result.stdout) as {
        problems: Array<{ ruleId: string; severity: string; message: string }>;
      };
      const errors = report.problems.filter((p) => p.severity === "error");
      expect(errors.map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
      // The warnings left: health and setup have no client errors to declare (no 4XX).
      const warnings = report.problems.filter((p) => p.severity === "warn");
      expect([...new Set(warnings.map((p) => p.ruleId))]).toEqual(
        warnings.length > 0 ? ["operation-4xx-response"] : [],
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
