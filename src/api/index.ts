/** The HTTP API (DESIGN.md §4): `createApi({ store, chats, logger?, options })` → a Hono app. */
export { API_PREFIX, type ApiDeps, createApi } from "./app.ts";
export { SESSION_COOKIE } from "./auth.ts";
export type { ApiOptions, AppEnv } from "./context.ts";
export type { ErrorBody, Validation } from "./errors.ts";
export { jsonLogger, type LogFields, type Logger, redact, silentLogger } from "./log.ts";
export { MAX_CONTENT_PARTS, MAX_TEXT_PART_CHARS } from "./schemas.ts";
