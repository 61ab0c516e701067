/**
 * `keel agent`: its flags. Checking them and running the agent (WebSocket, tools, MCP servers)
 * is in `agent-run.ts`, loaded by the action only.
 */
import { Command, Option } from "commander";
import type { CliIO } from "./io.ts";

export interface AgentFlags {
  url?: string;
  token?: string;
  dir?: string;
  /** False with --no-mcp. */
  mcp?: boolean;
}

export interface AgentSettings {
  url: string;
  token: string;
  dir: string;
  /** Run the workspace's `.mcp.json` servers; with how long one call may take (ms). */
  mcp: { callTimeoutMs: number | undefined } | null;
}

export function agentCommand(io: CliIO): Command {
  return new Command("agent")
    .description(
      "Run the workspace agent: connect to the Keel server (outbound only) with the workspace's " +
        "agent token and run the tool calls of its chats in DIR, with the stdio MCP servers of " +
        "DIR/.mcp.json. Reconnects by itself; Ctrl-C or SIGTERM stops it and the tools and MCP " +
        "servers it runs. Give the token in KEEL_AGENT_TOKEN rather than --token: a command " +
        "line is visible to other users in `ps`. KEEL_MCP_CALL_TIMEOUT_MS bounds one MCP call " +
        "(default 60000).",
    )
    .addOption(
      new Option("--url <url>", "the Keel server, e.g. http://127.0.0.1:3000").env("KEEL_URL"),
    )
    .addOption(
      new Option("--token <token>", "the workspace's agent token (prefer the variable)").env(
        "KEEL_AGENT_TOKEN",
      ),
    )
    .option("--dir <dir>", "the workspace directory the tools work in (default: this directory)")
    .option(
      "--no-mcp",
      "do not start the MCP servers of DIR/.mcp.json (keel server runs its own agents so)",
    )
    .action(async (flags: AgentFlags) => {
      const { agent } = await import("./agent-run.ts");
      io.setExitCode(await agent(flags, io));
    });
}
