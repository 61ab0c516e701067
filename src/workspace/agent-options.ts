/**
 * The command line of the standalone agent (`keel-agent.mjs`, agent-main.ts): `keel agent`'s
 * options — `--url`, `--token`, `--dir`, `--no-mcp` and the variables behind them — read with
 * `node:util`'s parseArgs instead of commander, so the bundle carries none of the CLI. The flags
 * are then checked and run by the same code as `keel agent`'s (src/cli/agent-run.ts). Node.js 20's
 * parseArgs has no `allowNegative`: hence `--no-mcp` as a flag of its own.
 */
import { parseArgs } from "node:util";
import type { AgentFlags } from "../cli/agent.ts";

export const AGENT_USAGE = `Usage: node keel-agent.mjs --url URL [--dir DIR] [--no-mcp]

Runs a Keel workspace agent: connects to the Keel server (outbound only) with the workspace's
agent token and runs the tool calls of its chats in DIR, with the stdio MCP servers of
DIR/.mcp.json. Reconnects by itself; Ctrl-C or SIGTERM stops it and what it runs.

Options:
  --url URL      the Keel server, e.g. https://keel.example.com (or set KEEL_URL)
  --token TOKEN  the workspace's agent token: prefer KEEL_AGENT_TOKEN, or give neither in a
                 terminal and paste it when asked (a command line shows in \`ps\` and history)
  --dir DIR      the workspace directory the tools work in (default: this directory)
  --no-mcp       do not start the MCP servers of DIR/.mcp.json
  -V, --version  print the version
  -h, --help     print this help

KEEL_MCP_CALL_TIMEOUT_MS bounds one MCP call (default 60000).
`;

export type AgentCommand =
  | { kind: "run"; flags: AgentFlags }
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "usage-error"; message: string };

/** The command line and environment read (not yet checked: agent-run.ts does that). */
export function parseAgentCommand(
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): AgentCommand {
  let values: {
    url?: string;
    token?: string;
    dir?: string;
    "no-mcp"?: boolean;
    help?: boolean;
    version?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        url: { type: "string" },
        token: { type: "string" },
        dir: { type: "string" },
        "no-mcp": { type: "boolean" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "V" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    // parseArgs' own wording names the option ("Unknown option '--foo'").
    return { kind: "usage-error", message: (error as Error).message };
  }
  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };
  const flags: AgentFlags = {
    url: values.url || env.KEEL_URL || undefined,
    token: values.token || env.KEEL_AGENT_TOKEN || undefined,
    dir: values.dir,
    mcp: !values["no-mcp"],
  };
  return { kind: "run", flags };
}

/** The oldest Node.js the bundle is built for (scripts/build-agent.js: target node20). */
export const MIN_NODE_MAJOR = 20;

/** Why this Node.js cannot run the agent, or null when it can. */
export function unsupportedNode(version: string = process.versions.node): string | null {
  const major = Number(version.split(".")[0]);
  if (major >= MIN_NODE_MAJOR) return null;
  return `keel-agent needs Node.js ${MIN_NODE_MAJOR} or later; this is Node.js ${version}.`;
}
