/**
 * The web UI: the files `npm run build` writes to `web/dist`, served at `/` by `keel server`.
 *
 * - Only GET and HEAD, and never for `/api`, `/healthz` or `/readyz` (those keep the API's JSON
 *   404s): such requests fall through to the API's not-found handler.
 * - `/assets/*` are content-hashed by the build: cached for a year, `immutable`.
 * - Any other existing file is served with `no-cache` (revalidated by ETag). A path that names no
 *   file gets `index.html` (`no-cache`), so the UI's own routes (`/chats/<id>`) load the app — but
 *   a path with a file extension, or under `/assets/`, that names no file is a 404.
 * - A path that decodes to something outside the directory (`..`, also percent-encoded), holds a
 *   NUL or is malformed percent-encoding is a 404; symlinks leading outside are refused as well.
 * - Every response carries a strict Content-Security-Policy, `nosniff` and `no-referrer`.
 * - Without `index.html` (the UI was never built) every UI request is a 503 page saying how to
 *   build it; the API is unaffected.
 */
import type { Stats } from "node:fs";
import { readFile, realpath, stat } from "node:fs/promises";
import { extname, resolve, sep } from "node:path";
import type { Context, MiddlewareHandler } from "hono";

/** `web/dist` of the package this file belongs to (src/server → the package root). */
export const DEFAULT_WEB_DIR = resolve(import.meta.dirname, "..", "..", "web", "dist");

export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
  "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; " +
  "form-action 'self'";

/** Headers of every response the UI handler makes. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

export const IMMUTABLE = "public, max-age=31536000, immutable";

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".ico": "image/x-icon",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".json": "application/json; charset=utf-8",
  ".webmanifest": "application/manifest+json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
};

export function contentType(file: string): string {
  return CONTENT_TYPES[extname(file).toLowerCase()] ?? "application/octet-stream";
}

export const NOT_BUILT_MESSAGE =
  "The web UI is not built. Run `npm run build` (or `npm ci`), then restart keel server.";

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Keel: web UI not built</title></head>
<body>
<h1>Keel</h1>
<p>The web UI is not built. Run <code>npm run build</code> (or <code>npm ci</code>), then restart
<code>keel server</code>.</p>
<p>The API at <code>/api/v1</code> is running.</p>
</body>
</html>
`;

/** Paths the UI never answers: the API's and the probes'. */
function isApiPath(path: string): boolean {
  return ["/api", "/healthz", "/readyz"].some((p) => path === p || path.startsWith(`${p}/`));
}

/** The request target's path as sent (after the host, before `?`), still percent-encoded. */
function rawPath(url: string): string {
  const afterScheme = url.indexOf("//");
  const start = url.indexOf("/", afterScheme === -1 ? 0 : afterScheme + 2);
  if (start === -1) return "/";
  const end = url.slice(start).search(/[?#]/);
  return end === -1 ? url.slice(start) : url.slice(start, start + end);
}

/** The decoded path, or null when it is malformed, holds a NUL or steps up (`..`). */
function safePath(raw: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return null;
  }
  if (decoded.includes("\0")) return null;
  if (decoded.split(/[/\\]/).some((segment) => segment === "..")) return null;
  return decoded;
}

function within(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

async function fileStat(path: string): Promise<Stats | null> {
  try {
    const s = await stat(path);
    return s.isFile() ? s : null;
  } catch {
    return null;
  }
}

function etagOf(s: Stats): string {
  return `W/"${s.size.toString(16)}-${Math.floor(s.mtimeMs).toString(16)}"`;
}

export interface WebUiOptions {
  /** The built UI (holding `index.html`); default `DEFAULT_WEB_DIR`. */
  webDir?: string;
}

/**
 * The UI handler: answers GET/HEAD outside the API, else passes the request on. Register it after
 * the API's routes (`app.get("*", webUi(…))`), so it only sees what none of them answered.
 */
export function webUi(options: WebUiOptions = {}): MiddlewareHandler {
  const root = resolve(options.webDir ?? DEFAULT_WEB_DIR);
  const index = resolve(root, "index.html");

  const respond = (
    c: Context,
    status: number,
    body: string | Uint8Array | null,
    headers: Record<string, string>,
  ): Response =>
    new Response(c.req.method === "HEAD" ? null : body, {
      status,
      headers: { ...SECURITY_HEADERS, ...headers },
    });

  const notFound = (c: Context) =>
    respond(c, 404, "Not found.\n", {
      "content-type": "text/plain; charset=utf-8",
      "cache-control": "no-cache",
    });

  async function sendFile(c: Context, path: string, s: Stats, cacheControl: string) {
    const etag = etagOf(s);
    const headers = { "content-type": contentType(path), "cache-control": cacheControl, etag };
    const match = c.req.header("if-none-match");
    if (match?.split(",").some((tag) => tag.trim() === etag || tag.trim() === "*")) {
      return respond(c, 304, null, headers);
    }
    const body = await readFile(path);
    return respond(c, 200, body, { ...headers, "content-length": String(body.byteLength) });
  }

  return async (c, next) => {
    if ((c.req.method !== "GET" && c.req.method !== "HEAD") || isApiPath(c.req.path)) {
      return next();
    }
    const indexStat = await fileStat(index);
    if (indexStat === null) {
      return respond(c, 503, NOT_BUILT_PAGE, {
        "content-type": "text/html; charset=utf-8",
        "cache-control": "no-store",
      });
    }
    const path = safePath(rawPath(c.req.url));
    if (path === null) return notFound(c);
    const full = resolve(root, `.${path.startsWith("/") ? "" : "/"}${path}`);
    if (!within(root, full)) return notFound(c);
    const inAssets = path.startsWith("/assets/");

    const s = await fileStat(full);
    if (s !== null) {
      // A symlink may point anywhere: serve only what really lies inside the directory.
      const [real, realRoot] = await Promise.all([realpath(full), realpath(root)]);
      if (!within(realRoot, real)) return notFound(c);
      return sendFile(c, full, s, inAssets ? IMMUTABLE : "no-cache");
    }
    const last = path.slice(path.lastIndexOf("/") + 1);
    if (inAssets || extname(last) !== "") return notFound(c);
    return sendFile(c, index, indexStat, "no-cache");
  };
}

/** Whether `webDir` holds a built UI (`index.html`). */
export async function webUiBuilt(webDir: string = DEFAULT_WEB_DIR): Promise<boolean> {
  return (await fileStat(resolve(webDir, "index.html"))) !== null;
}
