/**
 * `GET /agent/keel-agent.mjs`: the standalone workspace agent that `npm run build` bundles into
 * `dist/agent/keel-agent.mjs` (scripts/build-agent.js), so a workspace needs only Node.js and the
 * one-liner the Workspaces page shows — no Keel checkout, no `npm install`.
 *
 * - Public, like the web UI's files: it holds no secret (the token is the workspace's to give).
 * - `no-cache` with a strong ETag of its content: the address stays the same across upgrades, so
 *   a client revalidates and gets the new file after one; an unchanged file is a 304.
 * - Read once per change (size and mtime), so a build while the server runs is picked up without
 *   a restart; until there is a file the route is a 404 that says how to build it.
 */
import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { resolve } from "node:path";
import type { Context, Handler } from "hono";

export const AGENT_BUNDLE_ROUTE = "/agent/keel-agent.mjs";

/** `dist/agent/keel-agent.mjs` of the package this file belongs to (src/server → the root). */
export const DEFAULT_AGENT_BUNDLE = resolve(
  import.meta.dirname,
  "..",
  "..",
  "dist",
  "agent",
  "keel-agent.mjs",
);

export const AGENT_NOT_BUILT_MESSAGE =
  "The workspace agent is not built on this server. Run `npm run build` (or `npm ci`) where " +
  "Keel is installed; no restart is needed. Until then, run `keel agent` from a Keel checkout.\n";

interface Loaded {
  size: number;
  mtimeMs: number;
  body: Uint8Array<ArrayBuffer>;
  etag: string;
}

/** The file, or null when it is not there; re-read only when its size or mtime changed. */
function bundleReader(file: string): () => Promise<Loaded | null> {
  let loaded: Loaded | null = null;
  return async () => {
    const s = await stat(file).catch(() => null);
    if (!s?.isFile()) return null;
    if (loaded && loaded.size === s.size && loaded.mtimeMs === s.mtimeMs) return loaded;
    const body = await readFile(file);
    const hash = createHash("sha256").update(body).digest("base64url").slice(0, 27);
    loaded = { size: s.size, mtimeMs: s.mtimeMs, body, etag: `"${hash}"` };
    return loaded;
  };
}

function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  // Weak comparison (RFC 9110 §13.1.2): a proxy may have weakened the tag.
  return ifNoneMatch.split(",").some((tag) => {
    const t = tag.trim();
    return t === "*" || t === etag || t === `W/${etag}`;
  });
}

export interface AgentBundleOptions {
  /** The built file; default `DEFAULT_AGENT_BUNDLE`. */
  file?: string;
}

/** The route's handler: `app.get(AGENT_BUNDLE_ROUTE, agentBundle())` (HEAD comes with GET). */
export function agentBundle(options: AgentBundleOptions = {}): Handler {
  const read = bundleReader(resolve(options.file ?? DEFAULT_AGENT_BUNDLE));
  return async (c: Context) => {
    const loaded = await read();
    if (loaded === null) {
      return c.body(AGENT_NOT_BUILT_MESSAGE, 404, {
        "content-type": "text/plain; charset=utf-8",
        "cache-control": "no-store",
      });
    }
    const headers = {
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": "no-cache",
      etag: loaded.etag,
      "x-content-type-options": "nosniff",
      // A browser following the link saves the file instead of showing a megabyte of code.
      "content-disposition": 'attachment; filename="keel-agent.mjs"',
    };
    if (matches(c.req.header("if-none-match"), loaded.etag)) return c.body(null, 304, headers);
    return c.body(loaded.body, 200, { ...headers, "content-length": String(loaded.size) });
  };
}

/** Whether the agent has been built at `file`. */
export async function agentBundleBuilt(file: string = DEFAULT_AGENT_BUNDLE): Promise<boolean> {
  return (await stat(file).catch(() => null))?.isFile() ?? false;
}
