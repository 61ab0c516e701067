import { StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import { describe, expect, it } from "vitest";
import { type FailureContext, McpServerError, mcpFailure } from "./errors.ts";

const aborted = () => {
  const controller = new AbortController();
  controller.abort();
  return controller.signal;
};
const live = () => new AbortController().signal;
const base: FailureContext = { server: "docs", doing: "calling search", timeoutMs: 60_000 };
const refused = new TypeError("fetch failed", {
  cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" }),
});

describe("mcpFailure", () => {
  it.each<[string, unknown, Partial<FailureContext>, string, RegExp]>([
    [
      "the turn stopped",
      new Error("aborted"),
      { stop: aborted(), deadline: live() },
      "stopped",
      /^Stopped while calling search: the turn was stopped\.$/,
    ],
    [
      "the bound ran out",
      new Error("aborted"),
      { stop: live(), deadline: aborted() },
      "timeout",
      /"docs" did not answer within 60 s while calling search/,
    ],
    [
      "the SDK's own timeout",
      new McpError(ErrorCode.RequestTimeout, "Request timed out"),
      {},
      "timeout",
      /did not answer within 60 s/,
    ],
    [
      "401",
      new StreamableHTTPError(401, "Unauthorized"),
      {},
      "unreachable",
      /answered HTTP 401 .*check the server's headers/,
    ],
    [
      "404",
      new StreamableHTTPError(404, "Not Found"),
      {},
      "unreachable",
      /answered HTTP 404 .*check the URL/,
    ],
    [
      "connection refused",
      refused,
      {},
      "unreachable",
      /"docs" could not be reached while calling search \(ECONNREFUSED: connect ECONNREFUSED/,
    ],
    [
      "a JSON-RPC error",
      new McpError(ErrorCode.InvalidParams, "bad query"),
      {},
      "refused",
      /"docs" refused the request while calling search: MCP error -32602: bad query/,
    ],
    [
      "the connection closed",
      new McpError(ErrorCode.ConnectionClosed, "Connection closed"),
      {},
      "unreachable",
      /could not be reached/,
    ],
  ])("%s", (_name, error, context, kind, message) => {
    const failure = mcpFailure(error, { ...base, ...context });
    expect(McpServerError.isInstance(failure)).toBe(true);
    expect(failure.kind).toBe(kind);
    expect(failure.message).toMatch(message);
  });

  it("scrubs a header value the server echoed in its error", () => {
    const error = new McpError(ErrorCode.InternalError, "bad token mcp-header-value-123 for you");
    const failure = mcpFailure(error, { ...base, secrets: ["mcp-header-value-123"] });
    expect(failure.message).not.toContain("mcp-header-value-123");
    expect(failure.message).toContain("[redacted]");
  });

  it("cuts a long error page", () => {
    const failure = mcpFailure(new McpError(ErrorCode.InternalError, "x".repeat(5000)), base);
    expect(failure.message.length).toBeLessThan(500);
  });
});
