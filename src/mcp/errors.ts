/**
 * Why talking to an MCP server failed, in words for the model and the admin: what happened and
 * what to do. Every failure of a connection, a listing or a call is classified here once, so the
 * chat's tool result, the server log and the admin's "list tools" answer say the same thing.
 */
import { StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import { redactSecrets } from "../chaterror/redact.ts";

const MARKER = Symbol.for("keel.mcp-server-error");

/**
 * - `unreachable`: no answer at the HTTP level (refused, DNS, reset, an HTTP error status);
 * - `timeout`: no answer within the bound;
 * - `refused`: the server answered with a JSON-RPC error (unknown tool, invalid arguments, …);
 * - `stopped`: the turn was stopped (the caller's signal), not the server's doing.
 */
export type McpFailureKind = "unreachable" | "timeout" | "refused" | "stopped";

export class McpServerError extends Error {
  readonly [MARKER] = true;
  override readonly name = "McpServerError";
  readonly kind: McpFailureKind;
  /** The HTTP status the server answered with, when that was the failure. */
  readonly status: number | undefined;

  constructor(kind: McpFailureKind, message: string, status?: number) {
    super(message);
    this.kind = kind;
    this.status = status;
  }

  static isInstance(error: unknown): error is McpServerError {
    return typeof error === "object" && error !== null && MARKER in error;
  }
}

/** Longest piece of a server's own error text repeated (an HTML error page can be long). */
const DETAIL_CHARS = 300;

export interface FailureContext {
  /** The server's name, as admins configured it. */
  server: string;
  /** What was being done: "calling get_page", "listing its tools", "connecting". */
  doing: string;
  timeoutMs: number;
  /** The caller's own signal (the turn): its abort is `stopped`, not a failure of the server. */
  stop?: AbortSignal;
  /** The bound's signal: its abort is `timeout`. */
  deadline?: AbortSignal;
  /** The header values sent: a server's error text that echoes one is scrubbed of it. */
  secrets?: readonly string[];
}

/** Classifies `error` (anything the SDK or fetch threw) into an McpServerError for people. */
export function mcpFailure(error: unknown, at: FailureContext): McpServerError {
  if (McpServerError.isInstance(error)) return error;
  const name = `The MCP server "${at.server}"`;
  if (at.stop?.aborted) {
    return new McpServerError("stopped", `Stopped while ${at.doing}: the turn was stopped.`);
  }
  if (
    at.deadline?.aborted ||
    (error instanceof McpError && error.code === ErrorCode.RequestTimeout)
  ) {
    return new McpServerError(
      "timeout",
      `${name} did not answer within ${seconds(at.timeoutMs)} while ${at.doing}; the request ` +
        "was abandoned. It may be overloaded or stuck: try again later, with a smaller request, " +
        "or tell an admin.",
    );
  }
  if (error instanceof StreamableHTTPError && typeof error.code === "number" && error.code > 0) {
    const status = error.code;
    const advice =
      status === 401 || status === 403
        ? "It refused Keel's credentials: an admin should check the server's headers (e.g. Authorization)."
        : status === 404
          ? "The URL may be wrong, or the server lost the session: an admin should check the URL."
          : "Try again later, or tell an admin if it persists.";
    return new McpServerError(
      "unreachable",
      `${name} answered HTTP ${status} while ${at.doing}. ${advice}`,
      status,
    );
  }
  if (error instanceof McpError && error.code !== ErrorCode.ConnectionClosed) {
    return new McpServerError(
      "refused",
      `${name} refused the request while ${at.doing}: ${detail(error.message, at.secrets)}`,
    );
  }
  return new McpServerError(
    "unreachable",
    `${name} could not be reached while ${at.doing} (${detail(causeText(error), at.secrets)}). It may be ` +
      "down or restarting: try again later, or tell an admin if it persists.",
  );
}

/** fetch's "fetch failed" hides the useful part (ECONNREFUSED, ENOTFOUND) in `cause`. */
function causeText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === "string" ? `${code}: ${cause.message}` : cause.message;
  }
  return error.message || error.name;
}

function detail(text: string, secrets: readonly string[] = []): string {
  const line = redactSecrets(text, secrets).replace(/\s+/g, " ").trim();
  return line.length <= DETAIL_CHARS ? line : `${line.slice(0, DETAIL_CHARS)}…`;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
