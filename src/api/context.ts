/**
 * What every route module receives: the injected dependencies, the resolved options and the auth
 * middleware. Routes hold no state of their own beyond this.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import type { ChatService } from "../chatd/contract.ts";
import type { Transport } from "../provider/transport.ts";
import type { Store } from "../store/contract.ts";
import type { User } from "../store/types.ts";
import type { Auditor } from "./audit.ts";
import type { Logger } from "./log.ts";
import type { LoginRateLimiter } from "./rate-limit.ts";

/** Hono's environment for the api: the authenticated user, set by `requireUser`/`requireAdmin`. */
export interface AppEnv {
  Variables: { user?: User };
}

export type ApiApp = OpenAPIHono<AppEnv>;

export interface ApiOptions {
  /** Mark the session cookie `Secure` (serve over HTTPS, or behind a TLS proxy). */
  secureCookies: boolean;
  /** `/readyz` answers 200 while this is true, else 503. */
  ready: () => boolean;
  /** Interval of the SSE `: keep-alive` comment on every open stream; default 15 s. */
  heartbeatMs?: number;
  /** Largest request body; default 1 MiB. Larger → 413. */
  bodyLimitBytes?: number;
  /** Lifetime of a session token (and its cookie); default 14 days. */
  sessionTtlMs?: number;
  /** Failed sign-ins allowed per email+client IP within the window; default 5 per 15 min. */
  loginRateLimit?: { maxFailures: number; windowMs: number };
  /** Failed sign-ins allowed per client IP (any email) within the window; default 20 per 15 min. */
  addressRateLimit?: { maxFailures: number; windowMs: number };
  /** The client's address, for the sign-in rate limit; default the socket's remote address. */
  clientIp?: (c: Context) => string;
  /** Aborting it ends every open event stream (server shutdown); clients reconnect elsewhere. */
  shutdown?: AbortSignal;
  /** An SSE client this many bytes behind is disconnected (it resumes by Last-Event-ID); 8 MiB. */
  maxStreamBufferBytes?: number;
  /**
   * How often an open event stream checks that its token still works and its user may still
   * read the chat (logout, deactivation, a lost admin role, on any replica); default 5 s.
   */
  streamAccessCheckMs?: number;
  /** How long "Test connection" and a provider's model list may take; default 15 s. */
  providerCheckTimeoutMs?: number;
}

export type ResolvedOptions = Required<Omit<ApiOptions, "shutdown">> & { shutdown?: AbortSignal };

export interface RouteContext {
  store: Store;
  chats: ChatService;
  logger: Logger;
  options: ResolvedOptions;
  limiter: LoginRateLimiter;
  /** Records each mutating action in the audit log (`audit.ts`): one wrapper per handler. */
  audit: Auditor;
  /** The providers' HTTP client, for the admin's checks of a provider (test, model list). */
  transport: Transport;
  /** Authenticates (Bearer token or session cookie) or answers 401. */
  requireUser: MiddlewareHandler<AppEnv>;
  /** `requireUser`, then 403 unless the user is an admin. */
  requireAdmin: MiddlewareHandler<AppEnv>;
}
