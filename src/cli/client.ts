/**
 * The public HTTP API as the CLI uses it: JSON requests with the saved token, errors worded by
 * the server, and a chat's event stream followed across reconnects. Loads nothing but
 * `fetch` until a stream is followed (CLI start-up cost, bench/cli.bench.ts).
 */

/** An API error as the server worded it (DESIGN §4 shape), or a connection failure. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  readonly status: number;
  readonly detail?: string;
  readonly validations?: Array<{ field: string; detail: string }>;

  constructor(
    status: number,
    message: string,
    extra: { detail?: string; validations?: Array<{ field: string; detail: string }> } = {},
  ) {
    super(message);
    this.status = status;
    this.detail = extra.detail;
    this.validations = extra.validations;
  }

  /** One block of text for a person: the message, then each invalid field. */
  describe(): string {
    const lines = [this.message];
    if (this.detail) lines.push(this.detail);
    for (const v of this.validations ?? []) lines.push(`  ${v.field}: ${v.detail}`);
    return lines.join("\n");
  }
}

export interface StreamEvent {
  id: string;
  event: string;
  data: unknown;
}

function errorFromBody(status: number, body: unknown): ApiError {
  if (
    typeof body === "object" &&
    body !== null &&
    "message" in body &&
    typeof body.message === "string"
  ) {
    const detail = "detail" in body && typeof body.detail === "string" ? body.detail : undefined;
    const validations =
      "validations" in body && Array.isArray(body.validations)
        ? (body.validations as Array<{ field: string; detail: string }>)
        : undefined;
    return new ApiError(status, body.message, { detail, validations });
  }
  return new ApiError(status, `The server answered ${status}.`);
}

/** How the server's audit log names the CLI as a request's source (its "user agent"). */
const USER_AGENT = "keel-cli/0.1.0";

/** The public HTTP API, as the CLI uses it. Every command goes through here. */
export class ApiClient {
  readonly baseUrl: string;
  readonly #token: string | undefined;

  constructor(baseUrl: string, token?: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.#token = token;
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {
      accept: "application/json",
      "user-agent": USER_AGENT,
    };
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}/api/v1${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      const reason =
        error instanceof Error && error.cause instanceof Error
          ? error.cause.message
          : String(error);
      throw new ApiError(
        0,
        `Cannot reach the Keel server at ${this.baseUrl} (${reason}). Is it running?`,
      );
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      if (response.status === 401 && this.#token) {
        throw new ApiError(401, "The server did not accept your token. Run `keel login` again.");
      }
      throw errorFromBody(response.status, parsed);
    }
    return parsed as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }
  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>("POST", path, body ?? {});
  }
  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>("PATCH", path, body);
  }
  delete(path: string): Promise<void> {
    return this.request<void>("DELETE", path);
  }

  /** A GET whose body is streamed as it comes (an export of any size), not read whole. */
  async download(path: string): Promise<ReadableStream<Uint8Array>> {
    const headers: Record<string, string> = { "user-agent": USER_AGENT };
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}/api/v1${path}`, { headers });
    } catch (error) {
      const reason =
        error instanceof Error && error.cause instanceof Error
          ? error.cause.message
          : String(error);
      throw new ApiError(0, `Cannot reach the Keel server at ${this.baseUrl} (${reason}).`);
    }
    if (response.ok && response.body) return response.body;
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    throw errorFromBody(response.status, parsed);
  }

  /**
   * Follows a chat's event stream, reconnecting with `Last-Event-ID` after a dropped connection,
   * so every event is seen once. Ends when `signal` aborts or `onEvent` returns "stop".
   */
  async followEvents(
    path: string,
    onEvent: (event: StreamEvent) => "stop" | undefined,
    options: { signal: AbortSignal; lastEventId?: string; onReconnect?: (error: unknown) => void },
  ): Promise<void> {
    const { EventSourceParserStream } = await import("eventsource-parser/stream");
    let lastEventId = options.lastEventId;
    for (let failures = 0; !options.signal.aborted; ) {
      try {
        const headers: Record<string, string> = {
          accept: "text/event-stream",
          "user-agent": USER_AGENT,
        };
        if (this.#token) headers.authorization = `Bearer ${this.#token}`;
        if (lastEventId) headers["last-event-id"] = lastEventId;
        const response = await fetch(`${this.baseUrl}/api/v1${path}`, {
          headers,
          signal: options.signal,
        });
        if (!response.ok || !response.body) {
          const text = await response.text();
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          throw errorFromBody(response.status, parsed);
        }
        failures = 0;
        const events = response.body
          .pipeThrough(new TextDecoderStream())
          .pipeThrough(new EventSourceParserStream());
        for await (const message of events) {
          if (message.id) lastEventId = message.id;
          let data: unknown;
          try {
            data = JSON.parse(message.data);
          } catch {
            data = message.data;
          }
          if (
            onEvent({ id: message.id ?? "", event: message.event ?? "message", data }) === "stop"
          ) {
            return;
          }
        }
      } catch (error) {
        if (options.signal.aborted) return;
        if (error instanceof ApiError && error.status >= 400 && error.status < 500) throw error;
        failures += 1;
        options.onReconnect?.(error);
        await new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 250 * 2 ** failures)));
      }
    }
  }
}
