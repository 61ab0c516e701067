/**
 * Authentication: `Authorization: Bearer <token>` (API tokens, CLI) or the session cookie (the
 * UI), both resolved by `store.userForToken`. A presented but unknown Authorization header is a
 * 401; it never falls back to the cookie.
 *
 * A browser attaches the cookie to requests other sites make, so an unsafe request (POST, PUT,
 * PATCH, DELETE) authenticated by the cookie must come from the UI's own origin (DESIGN §8):
 * `Origin` is this server's scheme://host:port, or absent with `Sec-Fetch-Site: same-origin` or
 * `none`; `Sec-Fetch-Site: cross-site` or `same-site` is refused whatever `Origin` says. Anything
 * else is a 403 before the token is even looked up. Bearer tokens are not sent by browsers on
 * their own, so they are unaffected.
 */
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context, MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import type { Store } from "../store/contract.ts";
import type { User } from "../store/types.ts";
import type { AppEnv } from "./context.ts";
import { ApiError } from "./errors.ts";

export const SESSION_COOKIE = "keel_session";
/** Longer than any token the store mints; longer input is refused without a lookup. */
const MAX_TOKEN_LENGTH = 512;

export const authRequired = (): ApiError =>
  new ApiError(401, "Authentication required: send Authorization: Bearer <token> or sign in.", {
    headers: { "www-authenticate": 'Bearer realm="keel"' },
  });

/** The token the request presents, `""` for a malformed header, undefined for none. */
export function presentedToken(c: Context): string | undefined {
  const header = c.req.header("authorization");
  if (header !== undefined) return /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(header)?.[1] ?? "";
  return getCookie(c, SESSION_COOKIE);
}

const UNSAFE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export const crossSiteRefused = (): ApiError =>
  new ApiError(
    403,
    "Cross-site request refused: the session cookie only works from Keel's own pages.",
    {
      detail:
        "An unsafe request signed in by the session cookie must come from this server's origin " +
        "(Origin or Sec-Fetch-Site says otherwise). Other clients send Authorization: Bearer <token>.",
    },
  );

/** The origins this server answers as: the request's Host, by its scheme (and https when cookies are Secure). */
function ownOrigins(c: Context, secure: boolean): string[] {
  const host = c.req.header("host");
  if (!host) return [];
  const scheme = new URL(c.req.url).protocol;
  const origins = [`${scheme}//${host}`.toLowerCase()];
  if (secure && scheme !== "https:") origins.push(`https://${host}`.toLowerCase());
  return origins;
}

/** Throws 403 unless an unsafe cookie-authenticated request comes from the UI's own origin. */
export function checkSameOrigin(c: Context, secure: boolean): void {
  if (!UNSAFE_METHODS.has(c.req.method)) return;
  if (c.req.header("authorization") !== undefined) return;
  if (getCookie(c, SESSION_COOKIE) === undefined) return;
  const site = c.req.header("sec-fetch-site")?.toLowerCase();
  if (site === "cross-site" || site === "same-site") throw crossSiteRefused();
  const origin = c.req.header("origin");
  if (origin === undefined) {
    if (site === "same-origin" || site === "none") return;
    throw crossSiteRefused();
  }
  let normalized: string;
  try {
    normalized = new URL(origin).origin.toLowerCase();
  } catch {
    throw crossSiteRefused();
  }
  if (origin === "null" || !ownOrigins(c, secure).some((own) => sameOrigin(own, normalized))) {
    throw crossSiteRefused();
  }
}

/** Origins compared with default ports made explicit (`http://h` = `http://h:80`). */
function sameOrigin(a: string, b: string): boolean {
  try {
    const [x, y] = [new URL(a), new URL(b)];
    return x.origin === y.origin;
  } catch {
    return false;
  }
}

export async function authenticate(c: Context, store: Store): Promise<User | null> {
  const token = presentedToken(c);
  if (token === undefined || token === "" || token.length > MAX_TOKEN_LENGTH) return null;
  return store.userForToken(token);
}

export function authMiddleware(
  store: Store,
  options: { secureCookies: boolean },
): {
  requireUser: MiddlewareHandler<AppEnv>;
  requireAdmin: MiddlewareHandler<AppEnv>;
} {
  const requireUser: MiddlewareHandler<AppEnv> = async (c, next) => {
    checkSameOrigin(c, options.secureCookies);
    const user = await authenticate(c, store);
    if (user === null) throw authRequired();
    c.set("user", user);
    await next();
  };
  const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
    checkSameOrigin(c, options.secureCookies);
    const user = await authenticate(c, store);
    if (user === null) throw authRequired();
    if (user.role !== "admin") throw new ApiError(403, "This needs an administrator.");
    c.set("user", user);
    await next();
  };
  return { requireUser, requireAdmin };
}

/** The user `requireUser`/`requireAdmin` authenticated. */
export function currentUser(c: Context<AppEnv>): User {
  const user = c.get("user");
  if (user === undefined) throw authRequired();
  return user;
}

export function setSessionCookie(
  c: Context,
  token: string,
  options: { secure: boolean; ttlMs: number },
): void {
  setCookie(c, SESSION_COOKIE, token, cookieAttributes(options.secure, options.ttlMs / 1000));
}

/** Tells the browser to drop the session cookie (`Max-Age=0`, the attributes it was set with). */
export function clearSessionCookie(c: Context, options: { secure: boolean }): void {
  setCookie(c, SESSION_COOKIE, "", cookieAttributes(options.secure, 0));
}

function cookieAttributes(secure: boolean, maxAgeSeconds: number) {
  return {
    httpOnly: true,
    sameSite: "Lax",
    secure,
    path: "/",
    maxAge: Math.floor(maxAgeSeconds),
  } as const;
}

/**
 * The socket's remote address (Node); "unknown" where there is none (in-process requests).
 * Forwarding headers are not trusted here: behind a proxy, pass `clientIp` to `createApi`.
 */
export function socketAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "unknown";
  }
}
