/**
 * Hostile values in every field of every JSON endpoint the OpenAPI document lists (so a new
 * endpoint is fuzzed without touching this file): the server may refuse them (4xx) but never
 * fails on them (5xx), and it still answers afterwards.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { obj, type Reply, useServedApi } from "./testing.ts";

type Schema = {
  $ref?: string;
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  exclusiveMinimum?: number;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: Schema | boolean;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
};

interface Operation {
  parameters?: Array<{ name: string; in: string; schema?: Schema }>;
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { content?: Record<string, unknown> }>;
}

interface OpenApiDoc {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

/** Hostile JSON values, as JSON text (some cannot be built as objects without blowing a stack). */
const DEEP = 20_000;
const HOSTILE: Array<[string, string]> = [
  ["NUL", JSON.stringify("\u0000")],
  ["NUL inside", JSON.stringify("a\u0000b")],
  ["a lone high surrogate", '"\\ud800"'],
  ["a lone low surrogate inside", '"a\\udc00b"'],
  ["a surrogate pair reversed", '"\\udc00\\ud800"'],
  ["a huge string", JSON.stringify("x".repeat(300_000))],
  ["an empty string", '""'],
  ["blanks", JSON.stringify(" \t\n")],
  ["path traversal", JSON.stringify("../../../../etc/passwd")],
  ["an absolute path", JSON.stringify("/etc/shadow")],
  ["a Windows path", JSON.stringify("C:\\Windows\\System32\\..\\..")],
  ["SQL", JSON.stringify("'; DROP TABLE users; --")],
  ["SQL or", JSON.stringify("1' OR '1'='1")],
  ["percent NUL", JSON.stringify("%00")],
  ["markup", JSON.stringify("<script>alert(1)</script>")],
  ["a template", JSON.stringify("$" + "{jndi:ldap://x/}{{7*7}}")],
  ["right-to-left override", JSON.stringify("\u202egnp.exe")],
  ["BOM and zero-width", JSON.stringify("\uFEFF\u200B\u2028\u2029")],
  ["emoji and combining marks", JSON.stringify("🙂👩‍👩‍👧 e\u0301 Z̴̢̛")],
  ["an invalid date", JSON.stringify("2026-02-30")],
  ["a bare number as text", JSON.stringify("1")],
  ["a uuid of nothing", JSON.stringify("00000000-0000-4000-8000-000000000000")],
  ["null", "null"],
  ["true", "true"],
  ["false", "false"],
  ["zero", "0"],
  ["negative", "-1"],
  ["a float", "1.5"],
  ["huge", "1e308"],
  ["huge negative", "-1e308"],
  ["past 2^53", "9007199254740993"],
  ["tiny", "1e-320"],
  ["an empty array", "[]"],
  ["an array of NUL", JSON.stringify(["\u0000"])],
  ["an empty object", "{}"],
  ["an object with a NUL key", '{"\\u0000":1}'],
  ["an object with a lone surrogate key", '{"\\ud800":"\\udfff"}'],
  ["deeply nested arrays", `${"[".repeat(DEEP)}${"]".repeat(DEEP)}`],
  ["deeply nested objects", `${'{"a":'.repeat(DEEP)}1${"}".repeat(DEEP)}`],
];

/** Query parameters arrive as text: the hostile ones, plus cursors no page handed out. */
const cursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const HOSTILE_QUERY: Array<[string, string]> = [
  ...HOSTILE.filter(([, v]) => v.length < 10_000).map(([l, v]): [string, string] => {
    const parsed: unknown = JSON.parse(v);
    return [l, typeof parsed === "string" ? parsed : v];
  }),
  ["a cursor with Feb 30th", cursor(["2026-02-30", randomUUID()])],
  ["a cursor with the time 1", cursor(["1", randomUUID()])],
  ["a cursor in year 0", cursor(["0000-01-01T00:00:00.000Z", randomUUID()])],
  ["a cursor past year 9999", cursor(["+275760-09-13T00:00:00.000Z", randomUUID()])],
  ["a cursor with a NUL id", cursor(["2026-01-01T00:00:00.000Z", "\u0000"])],
  ["a cursor with a lone surrogate id", cursor(["2026-01-01T00:00:00.000Z", "\ud800"])],
  ["a cursor of numbers", cursor([1, 2])],
  ["a cursor of garbage", "!!!"],
];

describe("fuzzing every JSON endpoint of the OpenAPI document", () => {
  const t = useServedApi();
  let doc: OpenApiDoc;
  /** A valid id per path prefix, for `{id}` (things the fuzzing may change without harm). */
  const ids = new Map<string, string>();

  /** The document and the things `{id}` names, made once (inside a test: the api is per test). */
  async function setup(): Promise<void> {
    if (ids.size > 0) return;
    const { client, s } = t;
    doc = obj(await client.get("/api/v1/openapi.json")) as unknown as OpenApiDoc;
    const name = `fuzz${randomBytes(3).toString("hex")}`;
    const user = await client.post("/api/v1/users", {
      token: s.admin,
      json: { username: name, email: `${name}@example.com`, password: "fuzz-password" },
    });
    const chat = await client.post("/api/v1/chats", {
      token: s.admin,
      json: { model_id: s.modelId, content: [{ type: "text", text: "fuzz" }] },
    });
    const workspace = await client.post("/api/v1/workspaces", {
      token: s.admin,
      json: { name: "fuzz" },
    });
    ids.set("users", (obj(user).user as { id: string }).id);
    ids.set("providers", s.providerId);
    ids.set("models", s.disabledModelId);
    ids.set("chats", obj(chat).id as string);
    ids.set("workspaces", obj(workspace).id as string);
  }

  const resolve = (schema: Schema): Schema => {
    if (schema.$ref === undefined) return schema;
    const found = doc.components.schemas[schema.$ref.replace("#/components/schemas/", "")];
    if (found === undefined) throw new Error(`unknown $ref ${schema.$ref}`);
    return resolve(found);
  };

  /** A valid value for `schema` (required properties only), named ids pointing at real things. */
  function sample(raw: Schema, field = ""): unknown {
    const schema = resolve(raw);
    const options = schema.anyOf ?? schema.oneOf;
    if (options) return sample(options.find((o) => resolve(o).type !== "null") ?? {}, field);
    if (schema.const !== undefined) return schema.const;
    if (schema.enum) return schema.enum[0];
    const type = Array.isArray(schema.type) ? schema.type.find((x) => x !== "null") : schema.type;
    const unique = randomBytes(4).toString("hex");
    switch (type) {
      case "string": {
        const named: Record<string, string> = {
          provider_id: t.s.providerId,
          model_id: t.s.modelId,
          workspace_id: ids.get("workspaces") ?? "",
          email: `fuzz-${unique}@example.com`,
          username: `fuzz-${unique}`,
          password: "fuzz-password",
          base_url: "http://127.0.0.1:9/v1",
          directory: "/tmp",
        };
        if (field in named) return named[field];
        if (schema.format === "uuid") return randomUUID();
        return `fuzz ${unique}`;
      }
      case "integer":
      case "number":
        return Math.max(1, schema.minimum ?? 0);
      case "boolean":
        return true;
      case "array":
        return [sample(schema.items ?? {}, field)];
      case "object": {
        const out: Record<string, unknown> = {};
        for (const key of schema.required ?? []) {
          out[key] = sample(schema.properties?.[key] ?? {}, key);
        }
        return out;
      }
      default:
        return "fuzz";
    }
  }

  /** Every field of `schema` as a path, with the value its parent needs to exist. */
  function fields(raw: Schema, path: Array<string | number> = []): Array<Array<string | number>> {
    const schema = resolve(raw);
    const options = schema.anyOf ?? schema.oneOf;
    if (options) return options.flatMap((o) => fields(o, path));
    const out: Array<Array<string | number>> = [];
    for (const [key, prop] of Object.entries(schema.properties ?? {})) {
      out.push([...path, key], ...fields(prop, [...path, key]));
    }
    if (typeof schema.additionalProperties === "object") {
      out.push([...path, "x-fuzz"], ...fields(schema.additionalProperties, [...path, "x-fuzz"]));
    }
    if (schema.items) out.push([...path, 0], ...fields(schema.items, [...path, 0]));
    return out;
  }

  /** `base` with a marker at `path` (creating what leads to it from `schema`). */
  function withMarker(schema: Schema, path: Array<string | number>): unknown {
    const base = sample(schema);
    let node = base as Record<string | number, unknown>;
    let at = resolve(schema);
    path.forEach((key, i) => {
      const options = at.anyOf ?? at.oneOf;
      if (options) at = resolve(options.find((o) => resolve(o).type !== "null") ?? {});
      const child: Schema =
        typeof key === "number"
          ? (at.items ?? {})
          : (at.properties?.[key] ??
            (typeof at.additionalProperties === "object" ? at.additionalProperties : {}));
      if (i === path.length - 1) {
        node[key] = MARKER;
      } else {
        if (node[key] === undefined || node[key] === null) node[key] = sample(child, String(key));
        node = node[key] as Record<string | number, unknown>;
      }
      at = resolve(child);
    });
    return base;
  }

  const MARKER = "__fuzz_marker__";

  function operations(): Array<{ method: string; path: string; op: Operation }> {
    const out: Array<{ method: string; path: string; op: Operation }> = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const streams = Object.values(op.responses).some((r) => r.content?.["text/event-stream"]);
        if (streams) continue; // an open event stream never ends by itself
        out.push({ method: method.toUpperCase(), path, op });
      }
    }
    return out;
  }

  function concrete(path: string): string {
    const resource = path.split("/")[3] ?? "";
    return path.replace("{id}", ids.get(resource) ?? randomUUID());
  }

  const failures: string[] = [];
  function check(what: string, reply: Reply): void {
    if (reply.status >= 500) failures.push(`${what}: ${reply.status} ${reply.text.slice(0, 200)}`);
  }

  it("answers every hostile value in every body field and query parameter without a 5xx", async () => {
    await setup();
    const { client, s } = t;
    let sent = 0;
    let bodies = 0;
    for (const { method, path, op } of operations()) {
      const url = concrete(path);
      const schema = op.requestBody?.content["application/json"]?.schema;
      if (schema) {
        bodies++;
        const paths = [[], ...fields(schema)];
        for (const field of paths) {
          const body = JSON.stringify(field.length === 0 ? MARKER : withMarker(schema, field));
          for (const [label, value] of HOSTILE) {
            const reply = await client.request(method, url, {
              token: s.admin,
              raw: body.replace(JSON.stringify(MARKER), value),
              headers: { "content-type": "application/json" },
            });
            sent++;
            check(`${method} ${path} ${field.join(".") || "(body)"} = ${label}`, reply);
          }
        }
      }
      for (const param of op.parameters ?? []) {
        if (param.in !== "query") continue;
        for (const [label, value] of HOSTILE_QUERY) {
          const query = new URLSearchParams({ [param.name]: value });
          const reply = await client.request(method, `${url}?${query}`, { token: s.admin });
          sent++;
          check(`${method} ${path} ?${param.name} = ${label}`, reply);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(bodies).toBeGreaterThanOrEqual(10);
    expect(sent).toBeGreaterThan(1000);

    // Still serving, and still itself.
    expect((await client.get("/healthz")).status).toBe(200);
    const me = await client.get("/api/v1/users/me", { token: s.admin });
    expect(obj(me).user).toMatchObject({ username: "owner", role: "admin", active: true });
  }, 300_000);

  it.each([
    ["NUL", "a\u0000b"],
    ["a lone surrogate", "a\ud800b"],
  ])("names the field of a text with %s: 400 with its validation", async (_, bad) => {
    const { client, s } = t;
    const cases: Array<[string, string, unknown, string]> = [
      ["POST", "/api/v1/users/login", { email: bad, password: "whatever-pass" }, "email"],
      ["POST", "/api/v1/users/me/tokens", { name: bad }, "name"],
      ["POST", "/api/v1/providers", { type: "openai", name: bad }, "name"],
      [
        "POST",
        "/api/v1/chats",
        { model_id: s.modelId, content: [{ type: "text", text: bad }] },
        "content[0].text",
      ],
      ["POST", "/api/v1/workspaces", { name: bad }, "name"],
    ];
    for (const [method, path, json, field] of cases) {
      const reply = await client.request(method, path, { token: s.admin, json });
      expect(reply.status, path).toBe(400);
      expect(obj(reply).validations, path).toContainEqual({
        field,
        detail: "Text without U+0000 or unpaired UTF-16 surrogates.",
      });
    }
  });

  it.each([
    // A list cursor is ["l", pinned, updated_at, id].
    ["Feb 30th", ["l", false, "2026-02-30", "x"]],
    ["the time 1", ["l", false, "1", "x"]],
    ["a NUL id", ["l", false, "2026-01-01T00:00:00.000Z", "\u0000"]],
  ])("refuses a cursor with %s: 400 naming cursor", async (_, value) => {
    const reply = await t.client.get(`/api/v1/chats?cursor=${cursor(value)}`, {
      token: t.s.member,
    });
    expect(reply.status).toBe(400);
    expect(obj(reply).validations).toEqual([
      { field: "cursor", detail: "Not a cursor from a previous page." },
    ]);
  });
});
