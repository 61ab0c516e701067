/**
 * The error shape of DESIGN.md §4 — `{ message, detail?, validations?: [{ field, detail }] }` —
 * and the handlers that turn every failure into it: validation (zod), malformed JSON, oversized
 * bodies, unknown routes, refusals from chatd and the store, and anything unexpected (500, logged,
 * never a crash).
 */
import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ZodError } from "zod";
import { ChatRequestError } from "../chatd/contract.ts";
import { ConflictError, PasswordHashingBusyError } from "../store/contract.ts";
import { SecretKeyError } from "../store/secrets.ts";
import type { AppEnv } from "./context.ts";
import type { Logger } from "./log.ts";

export interface Validation {
  field: string;
  detail: string;
}

export interface ErrorBody {
  message: string;
  /** A stable code for a refusal clients recognise (e.g. `spend_limit_reached`). */
  code?: string;
  detail?: string;
  validations?: Validation[];
}

/** A refusal the api means to send: status and body as given. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  readonly status: ContentfulStatusCode;
  readonly detail: string | undefined;
  readonly validations: Validation[] | undefined;
  readonly headers: Record<string, string> | undefined;
  readonly code: string | undefined;
  constructor(
    status: ContentfulStatusCode,
    message: string,
    extra: {
      detail?: string;
      validations?: Validation[];
      headers?: Record<string, string>;
      code?: string;
    } = {},
  ) {
    super(message);
    this.status = status;
    this.code = extra.code;
    this.detail = extra.detail;
    this.validations = extra.validations;
    this.headers = extra.headers;
  }

  body(): ErrorBody {
    const body: ErrorBody = { message: this.message };
    if (this.code !== undefined) body.code = this.code;
    if (this.detail !== undefined) body.detail = this.detail;
    if (this.validations !== undefined) body.validations = this.validations;
    return body;
  }
}

export const notFound = (what: string): ApiError => new ApiError(404, `${what} not found.`);

/** `content[0].text` from zod's `["content", 0, "text"]`. */
function fieldName(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** One `{field, detail}` per problem; an unknown field is named on its own. */
export function validationsOf(error: ZodError): Validation[] {
  const out: Validation[] = [];
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        out.push({ field: fieldName([...issue.path, key]), detail: "Unknown field." });
      }
      continue;
    }
    const detail = issue.message.endsWith("received undefined") ? "Required." : issue.message;
    out.push({ field: fieldName(issue.path), detail });
  }
  return out;
}

const TARGET_NAMES: Record<string, string> = {
  json: "request body",
  query: "query parameters",
  header: "request headers",
  cookie: "cookies",
  form: "form body",
};

/**
 * The zod-openapi hook for every route: a body, query or header that fails its schema is a 400
 * with one validation per problem; a path parameter that is not an id names nothing, so 404.
 */
export function validationHook(
  result: { target: string } & ({ success: true } | { success: false; error: ZodError }),
): void {
  if (result.success) return;
  if (result.target === "param") throw new ApiError(404, "Not found.");
  const where = TARGET_NAMES[result.target] ?? result.target;
  throw new ApiError(400, `Invalid ${where}.`, { validations: validationsOf(result.error) });
}

function respond(c: Context<AppEnv>, err: ApiError): Response {
  if (err.headers) for (const [k, v] of Object.entries(err.headers)) c.header(k, v);
  return c.json(err.body(), err.status);
}

/** Messages for the HTTP exceptions Hono's own validators and gates throw. */
function fromHttpException(err: HTTPException): ApiError {
  switch (err.status) {
    case 413:
      return payloadTooLarge();
    case 415:
      return new ApiError(415, "Unsupported media type: send the request body as JSON.", {
        detail: "Set Content-Type: application/json.",
      });
    default:
      return new ApiError(err.status, err.message || "Bad request.");
  }
}

export function payloadTooLarge(limitBytes?: number): ApiError {
  return new ApiError(413, "Request body too large.", {
    ...(limitBytes !== undefined ? { detail: `The limit is ${limitBytes} bytes.` } : {}),
  });
}

/** 503 at once when the process already checks as many passwords as it allows. */
export function hashingBusy(err: PasswordHashingBusyError): ApiError {
  return new ApiError(503, "The server is busy checking other passwords; try again in a moment.", {
    detail: "Sign-ins and new passwords are hashed a few at a time; retry after Retry-After.",
    headers: { "retry-after": String(err.retryAfterSeconds) },
  });
}

export function errorHandler(logger: Logger): ErrorHandler<AppEnv> {
  return (err, c) => {
    if (err instanceof ApiError) return respond(c, err);
    if (err instanceof HTTPException) return respond(c, fromHttpException(err));
    if (err instanceof ChatRequestError) {
      return respond(c, new ApiError(err.status, err.message, err.code ? { code: err.code } : {}));
    }
    if (err instanceof ConflictError) return respond(c, new ApiError(409, err.message));
    if (err instanceof PasswordHashingBusyError) return respond(c, hashingBusy(err));
    if (err instanceof SecretKeyError) {
      logger.error("the server key cannot decrypt a stored secret", { path: c.req.path });
      return respond(
        c,
        new ApiError(
          500,
          "The server cannot read the stored provider credentials: its secret key is not the one " +
            "they were encrypted with. Start every server with the same key (KEEL_SECRET_KEY or " +
            "<data dir>/secret.key), or enter the provider's key again.",
          { detail: err.message },
        ),
      );
    }
    logger.error("unhandled error", {
      method: c.req.method,
      path: c.req.path,
      error: { name: err.name, message: err.message, stack: err.stack },
    });
    return c.json<ErrorBody>({ message: "Internal error; the server log has the details." }, 500);
  };
}

export const notFoundHandler: NotFoundHandler<AppEnv> = (c) =>
  c.json<ErrorBody>({ message: `No route for ${c.req.method} ${c.req.path}.` }, 404);
