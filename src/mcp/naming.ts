/**
 * Which of a server's tools chats get, and under which name: `<server>__<tool>`, filtered by the
 * server's `tools_allow` (null: all) and then `tools_deny`. Providers accept tool names of
 * `^[a-zA-Z0-9_-]{1,64}$` only; a tool whose combined name does not fit is not offered (and
 * the caller logs why), rather than renamed into something the server would not recognise. At
 * most MAX_TOOLS_PER_SERVER are offered, in the server's order (`tools_allow` narrows a big one).
 */
import type { McpServerRecord } from "../store/contract.ts";
import type { McpTool } from "./connection.ts";

export const SEPARATOR = "__";
/** Tools offered per server at most: every one costs prompt tokens at every model step. */
export const MAX_TOOLS_PER_SERVER = 128;
const PROVIDER_TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

export interface OfferedTool {
  tool: McpTool;
  /** What models call it; null when it is not offered. */
  chatName: string | null;
  /** Why it is not offered (null when it is). */
  leftOut: "not allowed" | "denied" | "invalid name" | "too many" | null;
}

export function chatToolName(server: string, tool: string): string {
  return `${server}${SEPARATOR}${tool}`;
}

export function offeredTools(
  server: Pick<McpServerRecord, "name" | "tools_allow" | "tools_deny">,
  tools: readonly McpTool[],
): OfferedTool[] {
  const allow = server.tools_allow === null ? null : new Set(server.tools_allow);
  const deny = new Set(server.tools_deny ?? []);
  let offered = 0;
  return tools.map((tool): OfferedTool => {
    const name = chatToolName(server.name, tool.name);
    if (allow !== null && !allow.has(tool.name)) {
      return { tool, chatName: null, leftOut: "not allowed" };
    }
    if (deny.has(tool.name)) return { tool, chatName: null, leftOut: "denied" };
    if (!PROVIDER_TOOL_NAME.test(name)) return { tool, chatName: null, leftOut: "invalid name" };
    if (++offered > MAX_TOOLS_PER_SERVER) return { tool, chatName: null, leftOut: "too many" };
    return { tool, chatName: name, leftOut: null };
  });
}

/** The description a model reads: the tool's own, saying which server it comes from. */
export function chatToolDescription(server: string, tool: McpTool): string {
  const own = (tool.description ?? tool.title ?? "").trim();
  const text = `From the MCP server "${server}".${own ? ` ${own}` : ""}`;
  return text.length <= 8192 ? text : `${text.slice(0, 8192)}…`;
}

/** The tool's input schema as the provider gets it (an object schema; `$schema` dropped). */
export function chatToolSchema(tool: McpTool): Record<string, unknown> {
  const { $schema: _, ...schema } = tool.inputSchema as Record<string, unknown>;
  return { ...schema, type: "object" };
}
