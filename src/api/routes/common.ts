/** Small pieces shared by the route modules: the router factory and OpenAPI response helpers. */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { ZodType } from "zod";
import type { ApiApp, AppEnv } from "../context.ts";
import { validationHook } from "../errors.ts";
import { ErrorSchema } from "../schemas.ts";

/** A router whose every zod failure becomes DESIGN §4's error shape. */
export function newRouter(): ApiApp {
  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
}

export const json = <T extends ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

/** A JSON request body; `required: false` lets a client send none (treated as `{}`). */
export const jsonBody = <T extends ZodType>(schema: T, required = true) => ({
  required,
  content: { "application/json": { schema } },
});

const ERROR_DESCRIPTIONS = {
  400: "Invalid request: `validations` names each field",
  401: "Authentication required",
  403: "Administrators only",
  404: "Not found",
  409: "Conflict",
  413: "Request body too large",
  415: "Request body is not JSON",
  429: "Too many failed attempts; see Retry-After",
  502: "An upstream server (e.g. an MCP server) could not be reached or failed",
  503: "Busy hashing other passwords; see Retry-After",
};

type ErrorCode = keyof typeof ERROR_DESCRIPTIONS;
type ErrorResponse = ReturnType<typeof json<typeof ErrorSchema>>;

/** The documented error responses of a route (all share the error shape). */
export function errors<const C extends ErrorCode>(...codes: C[]): Record<C, ErrorResponse> {
  const out = {} as Record<C, ErrorResponse>;
  for (const code of codes) out[code] = json(ErrorSchema, ERROR_DESCRIPTIONS[code]);
  return out;
}

/** Bearer token or session cookie (the security schemes registered in app.ts). */
export const SECURED: Array<Record<string, string[]>> = [{ bearer: [] }, { cookie: [] }];

export const noContent = (description: string) => ({ description });
