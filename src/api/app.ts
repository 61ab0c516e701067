/**
 * Composes the HTTP API: error shape, access log, body limit, the route modules and the OpenAPI
 * document generated from the same zod schemas that validate requests.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Hono, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { ChatService } from "../chatd/contract.ts";
import { Transport } from "../provider/transport.ts";
import type { Store } from "../store/contract.ts";
import { createAuditor } from "./audit.ts";
import { authMiddleware, SESSION_COOKIE, socketAddress } from "./auth.ts";
import type { ApiOptions, AppEnv, ResolvedOptions, RouteContext } from "./context.ts";
import { errorHandler, notFoundHandler, payloadTooLarge, validationHook } from "./errors.ts";
import { jsonLogger, type Logger, redacting } from "./log.ts";
import { serveOpenApi } from "./openapi.ts";
import { DEFAULT_SIGNIN_LIMITS, LoginRateLimiter } from "./rate-limit.ts";
import { auditRoutes } from "./routes/audit.ts";
import { chatRoutes } from "./routes/chats.ts";
import { groupRoutes } from "./routes/groups.ts";
import { healthRoutes } from "./routes/health.ts";
import { limitRoutes } from "./routes/limits.ts";
import { mcpServerRoutes } from "./routes/mcp-servers.ts";
import { modelRoutes } from "./routes/models.ts";
import { providerRoutes } from "./routes/providers.ts";
import { settingsRoutes } from "./routes/settings.ts";
import { usageRoutes } from "./routes/usage.ts";
import { userRoutes } from "./routes/users.ts";
import { workspaceRoutes } from "./routes/workspaces.ts";

export interface ApiDeps {
  store: Store;
  chats: ChatService;
  /** Default: JSON lines on stderr. Secret-named fields are redacted before it sees them. */
  logger?: Logger;
  options: ApiOptions;
  /**
   * The providers' shared transport (the server passes chatd's). Default: one of the API's own,
   * with short keep-alive so an idle one never holds the process open.
   */
  transport?: Transport;
}

export const API_PREFIX = "/api/v1";

function resolveOptions(options: ApiOptions): ResolvedOptions {
  return {
    secureCookies: options.secureCookies,
    ready: options.ready,
    heartbeatMs: options.heartbeatMs ?? 15_000,
    bodyLimitBytes: options.bodyLimitBytes ?? 1024 * 1024,
    sessionTtlMs: options.sessionTtlMs ?? 14 * 24 * 60 * 60 * 1000,
    loginRateLimit: options.loginRateLimit ?? DEFAULT_SIGNIN_LIMITS.account,
    addressRateLimit: options.addressRateLimit ?? DEFAULT_SIGNIN_LIMITS.address,
    clientIp: options.clientIp ?? socketAddress,
    maxStreamBufferBytes: options.maxStreamBufferBytes ?? 8 * 1024 * 1024,
    streamAccessCheckMs: options.streamAccessCheckMs ?? 5_000,
    providerCheckTimeoutMs: options.providerCheckTimeoutMs ?? 15_000,
    ...(options.shutdown ? { shutdown: options.shutdown } : {}),
  };
}

/**
 * One line per request (probes left out): method, path, status, duration. At debug level only —
 * at the default level they drowned everything else (494 of 539 lines) — except a 5xx, which is
 * a warning whatever the level.
 */
function accessLog(logger: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const start = performance.now();
    await next();
    const path = c.req.path;
    if (path === "/healthz" || path === "/readyz") return;
    const fields = {
      method: c.req.method,
      path,
      status: c.res.status,
      ms: Math.round(performance.now() - start),
    };
    if (c.res.status >= 500) logger.warn("request", fields);
    else logger.debug?.("request", fields);
  };
}

/**
 * API responses carry tokens and private data: no caching unless a route says otherwise, no
 * content sniffing and no referrer (like the UI's pages).
 */
const noStore: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  if (!c.res.headers.has("cache-control")) c.header("cache-control", "no-store");
  c.header("x-content-type-options", "nosniff");
  c.header("referrer-policy", "no-referrer");
};

export function createApi(deps: ApiDeps): Hono<AppEnv> {
  const logger = redacting(deps.logger ?? jsonLogger((line) => process.stderr.write(line)));
  const options = resolveOptions(deps.options);
  const ctx: RouteContext = {
    store: deps.store,
    chats: deps.chats,
    logger,
    options,
    limiter: new LoginRateLimiter(deps.store.signInLimits, {
      account: options.loginRateLimit,
      address: options.addressRateLimit,
    }),
    transport: deps.transport ?? new Transport({ keepAliveTimeoutMs: 1_000 }),
    audit: createAuditor(deps.store, options.clientIp),
    ...authMiddleware(deps.store, { secureCookies: options.secureCookies }),
  };

  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  app.onError(errorHandler(logger));
  app.notFound(notFoundHandler);
  app.use("*", accessLog(logger));
  app.use(`${API_PREFIX}/*`, noStore);
  app.use(
    `${API_PREFIX}/*`,
    bodyLimit({
      maxSize: options.bodyLimitBytes,
      onError: () => {
        throw payloadTooLarge(options.bodyLimitBytes);
      },
    }),
  );

  app.route("/", healthRoutes(ctx));
  app.route(API_PREFIX, userRoutes(ctx));
  app.route(API_PREFIX, providerRoutes(ctx));
  app.route(API_PREFIX, modelRoutes(ctx));
  app.route(API_PREFIX, groupRoutes(ctx));
  app.route(API_PREFIX, settingsRoutes(ctx));
  app.route(API_PREFIX, limitRoutes(ctx));
  app.route(API_PREFIX, mcpServerRoutes(ctx));
  app.route(API_PREFIX, chatRoutes(ctx));
  app.route(API_PREFIX, workspaceRoutes(ctx));
  app.route(API_PREFIX, auditRoutes(ctx));
  app.route(API_PREFIX, usageRoutes(ctx));

  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "A session token (POST /users/login) or an API token (POST /users/me/tokens).",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "cookie", {
    type: "apiKey",
    in: "cookie",
    name: SESSION_COOKIE,
    description: "The session cookie the UI gets from sign-in.",
  });
  serveOpenApi(app, `${API_PREFIX}/openapi.json`, {
    title: "Keel API",
    version: "1",
    description:
      "Errors are { message, detail?, validations?: [{ field, detail }] }. " +
      "Request bodies are limited to " +
      `${options.bodyLimitBytes} bytes; unknown fields are refused.`,
  });
  return app;
}
