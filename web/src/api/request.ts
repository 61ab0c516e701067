/**
 * One typed request to the API, checked against the server's routes: `paths` is generated from
 * the OpenAPI document (./openapi.gen.ts, `npm run api:types`), so a path the server does not
 * serve, a method it does not take, a missing path parameter or a body field it would refuse is
 * a `tsc -p web` error — the style of `openapi-fetch`, in the few lines this UI needs.
 *
 * Same-origin with the session cookie. A failed request throws `ApiError` carrying the §4 error
 * body, so every screen can show the server's own words.
 */
import type { components, paths } from "./openapi.gen.ts";

export const API_BASE = "/api/v1";

type ApiErrorBody = components["schemas"]["Error"];

const marker = Symbol.for("keel.web.ApiError");

export class ApiError extends Error {
  readonly [marker] = true;
  readonly status: number;
  readonly detail: string | undefined;
  readonly validations: ApiErrorBody["validations"];
  /** The refusal's stable code, when it has one (e.g. `spend_limit_reached`). */
  readonly code: string | undefined;

  constructor(status: number, body: ApiErrorBody) {
    super(body.message);
    this.name = "ApiError";
    this.status = status;
    this.code = body.code;
    this.detail = body.detail;
    this.validations = body.validations;
  }

  static isInstance(error: unknown): error is ApiError {
    return typeof error === "object" && error !== null && marker in error;
  }
}

async function failure(response: Response): Promise<ApiError> {
  let body: ApiErrorBody = { message: `The server answered ${response.status}.` };
  try {
    const parsed = (await response.json()) as Partial<ApiErrorBody>;
    if (typeof parsed.message === "string") body = parsed as ApiErrorBody;
  } catch {
    // Not JSON (a proxy's page): keep the status line.
  }
  return new ApiError(response.status, body);
}

// ---- the types, from `paths` ------------------------------------------------------------------

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** The API's paths as the UI writes them: under `API_BASE`, templates kept (`/chats/{id}`). */
type ApiPath = {
  [P in keyof paths]: P extends `${typeof API_BASE}${infer R}` ? R : never;
}[keyof paths];

/** The operation `method path`, or `never` when the server has none. */
type Operation<M extends Method, P extends ApiPath> =
  Lowercase<M> extends keyof paths[`${typeof API_BASE}${P}`]
    ? paths[`${typeof API_BASE}${P}`][Lowercase<M>]
    : never;

/** The paths that take `method`: any other is a type error at the call. */
export type PathOf<M extends Method> = {
  [P in ApiPath]: [Operation<M, P>] extends [never] ? never : P;
}[ApiPath];

/** `{ name: V }` when the operation requires `key`, `{ name?: V }` when optional, else none. */
type Field<O, Key extends string, Name extends string, V> = Key extends keyof O
  ? O extends Record<Key, unknown>
    ? { [K in Name]: V }
    : { [K in Name]?: V }
  : { [K in Name]?: never };

type Params<O> = O extends { parameters: infer X } ? X : Record<never, never>;
type Part<O, Key extends string> = Key extends keyof O ? NonNullable<O[Key & keyof O]> : never;
type Json<C> = C extends { content: { "application/json": infer B } } ? B : never;

/** What a call passes besides method and path: `params` (path), `query`, `body` — as declared. */
export type CallInit<O> = Field<Params<O>, "path", "params", Part<Params<O>, "path">> &
  Field<Params<O>, "query", "query", Part<Params<O>, "query">> &
  Field<O, "requestBody", "body", Json<Part<O, "requestBody">>>;

/** The JSON body `method path` takes, e.g. `Body<"PATCH", "/chats/{id}">`. */
export type Body<M extends Method, P extends PathOf<M>> = Json<
  Part<Operation<M, P>, "requestBody">
>;

/** The 200 or 201 JSON body; `undefined` for an operation that answers 202 or 204 alone. */
export type ResponseOf<O> = O extends { responses: infer R }
  ? 200 extends keyof R
    ? Json<R[200]>
    : 201 extends keyof R
      ? Json<R[201]>
      : undefined
  : never;

/** The init argument may be left out only when nothing in it is required. */
type InitArgs<O> =
  Record<never, never> extends CallInit<O> ? [init?: CallInit<O>] : [init: CallInit<O>];

// ---- the call ---------------------------------------------------------------------------------

interface LooseInit {
  params?: Record<string, string>;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
}

/** `/chats/{id}` with `{ id: "a b" }` → `/chats/a%20b`, then the query's defined values. */
function url(path: string, init: LooseInit): string {
  const filled = path.replaceAll(/\{([^}]+)\}/g, (_, name: string) => {
    const value = init.params?.[name];
    if (value === undefined) throw new Error(`request: no value for {${name}} in ${path}`);
    return encodeURIComponent(value);
  });
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(init.query ?? {})) {
    if (value !== undefined) query.set(key, String(value));
  }
  const search = query.toString();
  return `${API_BASE}${filled}${search ? `?${search}` : ""}`;
}

export async function request<M extends Method, P extends PathOf<M>>(
  method: M,
  path: P,
  ...[init]: InitArgs<Operation<M, P>>
): Promise<ResponseOf<Operation<M, P>>> {
  // The types above proved the shape; at run time the init is just its loose form.
  const loose = (init ?? {}) as LooseInit;
  const options: RequestInit = { method, credentials: "same-origin", headers: {} };
  if (loose.body !== undefined) {
    options.headers = { "content-type": "application/json" };
    options.body = JSON.stringify(loose.body);
  }
  const response = await fetch(url(path, loose), options);
  if (!response.ok) throw await failure(response);
  type Result = ResponseOf<Operation<M, P>>;
  if (response.status === 204 || response.status === 202) return undefined as Result;
  return (await response.json()) as Result;
}
