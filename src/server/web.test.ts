import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApi } from "../api/app.ts";
import { silentLogger } from "../api/log.ts";
import { makeDeps, type TestDeps } from "../api/testing.ts";
import { CONTENT_SECURITY_POLICY, DEFAULT_WEB_DIR, IMMUTABLE, webUi } from "./web.ts";

const INDEX = "<!doctype html><title>Keel test UI</title><div id=root></div>";
/** In files next to (not inside) the web directory: must never appear in a response. */
const SECRET = "TOP-SECRET-OUTSIDE-WEBDIR";

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw HTTP request: the path goes on the wire exactly as given (fetch would normalise it). */
function raw(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString("utf8"),
        }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

function expectSecurityHeaders(reply: Reply, what: string): void {
  expect(reply.headers["content-security-policy"], what).toBe(CONTENT_SECURITY_POLICY);
  expect(reply.headers["x-content-type-options"], what).toBe("nosniff");
  expect(reply.headers["referrer-policy"], what).toBe("no-referrer");
}

describe("the web UI", () => {
  let deps: TestDeps;
  let parent: string;
  let webDir: string;
  let built: { url: string; close: () => Promise<void> };
  let unbuilt: { url: string; close: () => Promise<void> };

  /** The API with the UI mounted after it, as `startServer` does, on a real socket. */
  async function serveWith(dir: string) {
    const app = createApi({
      store: deps.store,
      chats: deps.chats,
      logger: silentLogger,
      options: { secureCookies: false, ready: () => true },
    });
    app.get("*", webUi({ webDir: dir }));
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
    });
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      close: () =>
        new Promise<void>((resolve) => {
          if ("closeAllConnections" in server) server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  }

  beforeAll(async () => {
    deps = await makeDeps();
    parent = await mkdtemp(join(tmpdir(), "keel-web-"));
    webDir = join(parent, "dist");
    await mkdir(join(webDir, "assets"), { recursive: true });
    await mkdir(join(webDir, "nested"), { recursive: true });
    const files: Record<string, string> = {
      "index.html": INDEX,
      "assets/app-3f2a1b.js": "console.log('app');",
      "assets/app-3f2a1b.js.map": '{"version":3}',
      "assets/style-9c8d.css": "body{color:red}",
      "assets/logo-1a2b.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>",
      "assets/font-77aa.woff2": "wOF2",
      "favicon.ico": "ico",
      "icon.png": "png",
      "manifest.json": '{"name":"Keel"}',
      "nested/readme.txt": "plain",
    };
    for (const [name, content] of Object.entries(files)) {
      await writeFile(join(webDir, name), content);
    }
    // What traversal would reach: the parent's files, and a symlink inside pointing out.
    await writeFile(join(parent, "package.json"), `{"name":"${SECRET}"}`);
    await writeFile(join(parent, "secret.txt"), SECRET);
    await symlink(join(parent, "secret.txt"), join(webDir, "leak.txt"));
    await symlink(parent, join(webDir, "assets", "up"));
    built = await serveWith(webDir);
    const empty = join(parent, "empty");
    await mkdir(empty);
    unbuilt = await serveWith(empty);
  });

  afterAll(async () => {
    await built?.close();
    await unbuilt?.close();
    await deps?.close();
    if (parent) await rm(parent, { recursive: true, force: true });
  });

  it("defaults to web/dist of the package", () => {
    expect(DEFAULT_WEB_DIR).toBe(join(import.meta.dirname, "..", "..", "web", "dist"));
  });

  it.each([
    ["/", "text/html; charset=utf-8", "no-cache", INDEX],
    ["/index.html", "text/html; charset=utf-8", "no-cache", INDEX],
    ["/assets/app-3f2a1b.js", "text/javascript; charset=utf-8", IMMUTABLE, "console.log('app');"],
    ["/assets/app-3f2a1b.js.map", "application/json; charset=utf-8", IMMUTABLE, '{"version":3}'],
    ["/assets/style-9c8d.css", "text/css; charset=utf-8", IMMUTABLE, "body{color:red}"],
    ["/assets/logo-1a2b.svg", "image/svg+xml", IMMUTABLE, "<svg"],
    ["/assets/font-77aa.woff2", "font/woff2", IMMUTABLE, "wOF2"],
    ["/favicon.ico", "image/x-icon", "no-cache", "ico"],
    ["/icon.png", "image/png", "no-cache", "png"],
    ["/manifest.json", "application/json; charset=utf-8", "no-cache", '{"name":"Keel"}'],
    ["/nested/readme.txt", "text/plain; charset=utf-8", "no-cache", "plain"],
    ["/assets/app-3f2a1b.js?v=1", "text/javascript; charset=utf-8", IMMUTABLE, "console.log"],
  ])("serves %s as %s (%s)", async (path, type, cache, content) => {
    const reply = await raw(built.url, "GET", path);
    expect(reply.status).toBe(200);
    expect(reply.headers["content-type"]).toBe(type);
    expect(reply.headers["cache-control"]).toBe(cache);
    expect(reply.body).toContain(content);
    expect(reply.headers.etag).toMatch(/^W\/"/);
    expectSecurityHeaders(reply, path);
  });

  it.each([
    "/chats",
    "/chats/0195c1a4-8f1e-7b7a-9c55-2f1d0e6a4b21",
    "/settings/users/",
    "/login?next=%2Fchats",
    "/nested",
    "/assetsx/foo",
    "/v1.2/thing",
  ])("answers the UI route %s with index.html, not cached", async (path) => {
    const reply = await raw(built.url, "GET", path);
    expect(reply.status).toBe(200);
    expect(reply.body).toBe(INDEX);
    expect(reply.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(reply.headers["cache-control"]).toBe("no-cache");
    expectSecurityHeaders(reply, path);
  });

  it.each([
    "/missing.js",
    "/chats/x.png",
    "/assets/missing-123.js",
    "/assets/no-extension",
    "/assets/",
    "/assets",
  ])("answers %s (names no file, has an extension or is under /assets) with 404", async (path) => {
    const reply = await raw(built.url, "GET", path);
    if (path === "/assets") {
      // A directory without a trailing slash and without an extension is a UI route.
      expect(reply.status).toBe(200);
      expect(reply.body).toBe(INDEX);
      return;
    }
    expect(reply.status).toBe(404);
    expect(reply.body).not.toContain("Keel test UI");
    expectSecurityHeaders(reply, path);
  });

  it("answers HEAD like GET, without a body, and revalidates by ETag", async () => {
    const get = await raw(built.url, "GET", "/assets/style-9c8d.css");
    const head = await raw(built.url, "HEAD", "/assets/style-9c8d.css");
    expect(head.status).toBe(200);
    expect(head.body).toBe("");
    expect(head.headers["content-type"]).toBe(get.headers["content-type"]);
    expect(head.headers.etag).toBe(get.headers.etag);
    expectSecurityHeaders(head, "HEAD");

    const etag = String(get.headers.etag);
    const fresh = await raw(built.url, "GET", "/", {
      "if-none-match": String((await raw(built.url, "GET", "/")).headers.etag),
    });
    expect(fresh.status).toBe(304);
    expect(fresh.body).toBe("");
    expectSecurityHeaders(fresh, "304");
    const stale = await raw(built.url, "GET", "/assets/style-9c8d.css", {
      "if-none-match": 'W/"0-0"',
    });
    expect(stale.status).toBe(200);
    const same = await raw(built.url, "GET", "/assets/style-9c8d.css", { "if-none-match": etag });
    expect(same.status).toBe(304);
  });

  it.each([
    "/../package.json",
    "/../../package.json",
    "/%2e%2e/package.json",
    "/%2E%2E/package.json",
    "/assets/..%2f..%2fpackage.json",
    "/assets/..%2F..%2Fsecret.txt",
    "/..%2fpackage.json",
    "/%2e%2e%2fpackage.json",
    "/assets/%2e%2e/%2e%2e/package.json",
    "/assets/..%5c..%5cpackage.json",
    "/..%5cpackage.json",
    "/leak.txt",
    "/assets/up/secret.txt",
    "/assets/up/package.json",
    "/index.html%00.js",
    "/%00",
    "/a%00b",
    "/%E0%A4%A",
    "/%",
    "//package.json",
    "/.%2e/package.json",
  ])("does not leak a file outside the directory for %s", async (path) => {
    const reply = await raw(built.url, "GET", path);
    expect(reply.body).not.toContain(SECRET);
    expect(JSON.stringify(reply.headers)).not.toContain(SECRET);
    // Refused (404, or 400 from the HTTP layer), or at most the UI itself.
    if (reply.status === 200) expect(reply.body).toBe(INDEX);
    else expect([400, 404]).toContain(reply.status);
  });

  it("leaves the API, the probes and other methods to the API's JSON answers", async () => {
    const cases: Array<[string, string, number, RegExp]> = [
      ["GET", "/api/v1/setup", 200, /needs_first_user/],
      ["GET", "/api/v1/nothing", 404, /No route for GET \/api\/v1\/nothing/],
      ["GET", "/api/v1/nothing.js", 404, /No route for/],
      ["GET", "/api", 404, /No route for GET \/api\./],
      ["GET", "/api/", 404, /No route for/],
      ["HEAD", "/api/v1/nothing", 404, /^$/],
      ["GET", "/healthz", 200, /"ok"/],
      ["GET", "/readyz", 200, /"ready"/],
      ["GET", "/healthz/extra", 404, /No route for/],
      ["POST", "/", 404, /No route for POST \//],
      ["PUT", "/chats", 404, /No route for PUT \/chats/],
      ["DELETE", "/index.html", 404, /No route for/],
    ];
    for (const [method, path, status, body] of cases) {
      const reply = await raw(built.url, method, path);
      const what = `${method} ${path}`;
      expect(reply.status, what).toBe(status);
      expect(reply.body, what).toMatch(body);
      if (method !== "HEAD")
        expect(reply.headers["content-type"], what).toMatch(/application\/json/);
      expect(reply.headers["content-security-policy"], what).toBeUndefined();
    }
  });

  it("answers 503 with how to build it when index.html is missing; the API keeps working", async () => {
    for (const path of ["/", "/chats/1", "/assets/app.js"]) {
      const reply = await raw(unbuilt.url, "GET", path);
      expect(reply.status, path).toBe(503);
      expect(reply.headers["content-type"]).toBe("text/html; charset=utf-8");
      expect(reply.body).toContain("The web UI is not built.");
      expect(reply.body).toContain("npm run build");
      expect(reply.body).toContain("keel server");
      expectSecurityHeaders(reply, path);
    }
    const api = await raw(unbuilt.url, "GET", "/api/v1/setup");
    expect(api.status).toBe(200);
    expect(JSON.parse(api.body)).toHaveProperty("needs_first_user");
    expect((await raw(unbuilt.url, "GET", "/healthz")).status).toBe(200);
  });
});
