import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_BUNDLE_ROUTE, AGENT_NOT_BUILT_MESSAGE, agentBundle } from "./agent-bundle.ts";
import { webUi } from "./web.ts";

const BUILD_SCRIPT = join(import.meta.dirname, "../../scripts/build-agent.js");

/** The agent's route, then the UI's catch-all, as `runServer` mounts them. */
function appWith(file: string, webDir: string): Hono {
  const app = new Hono();
  app.get(AGENT_BUNDLE_ROUTE, agentBundle({ file }));
  app.get("*", webUi({ webDir }));
  return app;
}

describe("GET /agent/keel-agent.mjs", () => {
  let dir: string;
  let file: string;
  let app: Hono;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "keel-agent-bundle-"));
    file = join(dir, "agent", "keel-agent.mjs");
    // The UI is not built here: its 503 must not shadow the agent.
    app = appWith(file, join(dir, "no-web-ui"));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("is a 404 that says how to build it while there is no file", async () => {
    const response = await app.request(AGENT_BUNDLE_ROUTE);
    expect(response.status).toBe(404);
    expect(await response.text()).toBe(AGENT_NOT_BUILT_MESSAGE);
    expect(AGENT_NOT_BUILT_MESSAGE).toContain("npm run build");
    expect(response.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("no-store");
  });

  it("serves the file `npm run build:agent` writes, as JavaScript, revalidated by its ETag", async () => {
    const build = spawnSync(process.execPath, [BUILD_SCRIPT, file], { encoding: "utf8" });
    expect(build.status, build.stderr).toBe(0);
    const built = await readFile(file);

    const response = await app.request(AGENT_BUNDLE_ROUTE);
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).equals(built)).toBe(true);
    expect(response.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("no-cache");
    expect(response.headers.get("content-length")).toBe(String(built.byteLength));
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    const etag = response.headers.get("etag");
    expect(etag).toMatch(/^"[\w-]{27}"$/);
    expect(built.toString("utf8", 0, 20)).toMatch(/^#!\/usr\/bin\/env node\n/);

    for (const tag of [etag, `W/${etag}`, `"other", ${etag}`]) {
      const again = await app.request(AGENT_BUNDLE_ROUTE, {
        headers: { "if-none-match": String(tag) },
      });
      expect(again.status, String(tag)).toBe(304);
      expect(await again.text()).toBe("");
    }
    const head = await app.request(AGENT_BUNDLE_ROUTE, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  }, 60_000);

  it("serves a rebuilt file at once, under a new ETag", async () => {
    await writeFile(file, "// version one\n");
    const first = await app.request(AGENT_BUNDLE_ROUTE);
    expect(await first.text()).toBe("// version one\n");
    await writeFile(file, "// version two, longer\n");
    const second = await app.request(AGENT_BUNDLE_ROUTE, {
      headers: { "if-none-match": String(first.headers.get("etag")) },
    });
    expect(second.status).toBe(200);
    expect(await second.text()).toBe("// version two, longer\n");
    expect(second.headers.get("etag")).not.toBe(first.headers.get("etag"));
  });
});
