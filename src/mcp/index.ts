/**
 * The MCP client side of the server process: admin-configured MCP servers (Streamable HTTP)
 * whose tools reach every chat as `<server>__<tool>` (docs/agent.md, "MCP servers").
 */
export { McpServerError } from "./errors.ts";
export { type McpLimits, McpManager, type McpManagerOptions } from "./manager.ts";
export { probeTools } from "./probe.ts";
