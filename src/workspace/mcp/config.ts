/**
 * A workspace's `.mcp.json`, in the format other agents read too:
 *
 *   {"mcpServers": {"name": {"command": "...", "args": [...], "env": {...}, "cwd"?: "..."}}}
 *
 * Only stdio servers are for `keel agent`: an entry with a `url` (or `type` "http"/"sse") is an
 * HTTP server, which an admin adds to Keel itself, so it is skipped with a notice. `${VAR}` and
 * `${VAR:-default}` in `command`, `args`, `env` and `cwd` are taken from the agent's environment,
 * so a committed file can name a credential without holding it. Nothing here throws: a file that
 * cannot be used is a warning for the agent's log, and one bad entry does not stop the others.
 */
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { z } from "zod";

export const MCP_CONFIG_FILE = ".mcp.json";
/** A server's name becomes its tools' prefix (`name__tool`), which must fit in 64 characters. */
const SERVER_NAME = /^[a-zA-Z0-9_-]{1,40}$/;
/** A `.mcp.json` larger than this is not a configuration file. */
const MAX_FILE_BYTES = 1024 * 1024;

export interface McpServerConfig {
  name: string;
  command: string;
  args: string[];
  /** Added to the agent's environment (after `${VAR}` expansion). */
  env: Record<string, string>;
  /** Absolute; the workspace root unless the entry says otherwise (relative to the root). */
  cwd: string;
}

export interface McpConfig {
  servers: McpServerConfig[];
  /** Lines for the agent's log: entries skipped and why, or why the whole file was. */
  notices: string[];
}

const File = z.looseObject({ mcpServers: z.record(z.string(), z.unknown()) });

const StdioEntry = z.looseObject({
  type: z.literal("stdio").optional(),
  command: z.string().min(1),
  args: z.array(z.string()).default([]),
  env: z.record(z.string(), z.string()).default({}),
  cwd: z.string().min(1).optional(),
});

/** Reads `<root>/.mcp.json`; a missing file is no servers and no notice. */
export async function readMcpConfig(root: string, env: NodeJS.ProcessEnv): Promise<McpConfig> {
  const path = join(root, MCP_CONFIG_FILE);
  let text: string;
  try {
    const bytes = await readFile(path);
    if (bytes.length > MAX_FILE_BYTES) {
      return none(`${path} is larger than 1 MB: no MCP servers started.`);
    }
    text = bytes.toString("utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { servers: [], notices: [] };
    return none(`cannot read ${path} (${(error as Error).message}): no MCP servers started.`);
  }
  return parseMcpConfig(text, root, env);
}

/** The stdio servers of a `.mcp.json` text, and notices for everything left out. */
export function parseMcpConfig(text: string, root: string, env: NodeJS.ProcessEnv): McpConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return none(
      `${MCP_CONFIG_FILE} is not valid JSON (${(error as Error).message}): no MCP servers ` +
        "started. Fix the file and restart keel agent.",
    );
  }
  const file = File.safeParse(json);
  if (!file.success) {
    return none(
      `${MCP_CONFIG_FILE} must be {"mcpServers": {"name": {"command": …}}}: no MCP servers started.`,
    );
  }
  const servers: McpServerConfig[] = [];
  const notices: string[] = [];
  for (const [name, entry] of Object.entries(file.data.mcpServers)) {
    const server = serverConfig(name, entry, root, env);
    if (typeof server === "string") notices.push(`MCP server "${name}" skipped: ${server}`);
    else servers.push(server);
  }
  return { servers, notices };
}

/** The entry as a server to start, or why it is not one. */
function serverConfig(
  name: string,
  entry: unknown,
  root: string,
  env: NodeJS.ProcessEnv,
): McpServerConfig | string {
  if (!SERVER_NAME.test(name)) {
    return "its name must be 1–40 letters, digits, '_' or '-' (it prefixes its tools' names).";
  }
  if (isHttpEntry(entry)) {
    return "it is an HTTP server; keel agent starts stdio servers only (an admin can add HTTP servers to Keel).";
  }
  const parsed = StdioEntry.safeParse(entry);
  if (!parsed.success) {
    return `not a stdio server entry (${z.prettifyError(parsed.error).replaceAll("\n", " ")}).`;
  }
  const missing = new Set<string>();
  const expand = (value: string) => expandVariables(value, env, missing);
  const server: McpServerConfig = {
    name,
    command: expand(parsed.data.command),
    args: parsed.data.args.map(expand),
    env: Object.fromEntries(Object.entries(parsed.data.env).map(([k, v]) => [k, expand(v)])),
    cwd: resolve(root, expand(parsed.data.cwd ?? ".")),
  };
  if (missing.size > 0) {
    const names = [...missing].map((v) => `$${v}`).join(", ");
    return `it needs ${names}, which ${missing.size === 1 ? "is" : "are"} not set in keel agent's environment.`;
  }
  return server;
}

function isHttpEntry(entry: unknown): boolean {
  if (typeof entry !== "object" || entry === null) return false;
  const { url, type } = entry as { url?: unknown; type?: unknown };
  return url !== undefined || type === "http" || type === "sse" || type === "streamable-http";
}

/** `${VAR}` and `${VAR:-default}` from `env`; names without a value (and no default) are collected. */
function expandVariables(value: string, env: NodeJS.ProcessEnv, missing: Set<string>): string {
  return value.replaceAll(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
    (_match, name: string, fallback: string | undefined) => {
      const found = env[name];
      if (found !== undefined && found !== "") return found;
      if (fallback !== undefined) return fallback;
      missing.add(name);
      return "";
    },
  );
}

function none(notice: string): McpConfig {
  return { servers: [], notices: [notice] };
}
