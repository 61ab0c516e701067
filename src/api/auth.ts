/**
 * Authentication: `Authorization: Bearer <token>` (API tokens, CLI) or the session cookie (the
 * UI), both resolved by `store.userForToken`. A presented but unknown Authorization header is a
 * 401; it never falls back to the cookie.
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

export async function authenticate(c: Context, store: Store): Promise<User | null> {
  const token = presentedToken(c);
  if (token === undefined || token === "" || token.length > MAX_TOKEN_LENGTH) return null;
  return store.userForToken(token);
}

export function authMiddleware(store: Store): {
  requireUser: MiddlewareHandler<AppEnv>;
  requireAdmin: MiddlewareHandler<AppEnv>;
} {
  const requireUser: MiddlewareHandler<AppEnv> = async (c, next) => {
    const user = await authenticate(c, store);
    if (user === null) throw authRequired();
    c.set("user", user);
    await next();
  };
  const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
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
