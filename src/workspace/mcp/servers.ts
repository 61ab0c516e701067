/**
 * The workspace's stdio MCP servers, run by `keel agent` where the code is (`.mcp.json`, see
 * config.ts) with the official SDK's client. Each server's tools are offered to the server as
 * `<server>__<tool>`; a call is routed to its server, bounded in time (then cancelled) and in
 * size (its answer as text the way an admin's MCP server's is, `src/mcp/content.ts`). Nothing a server does can stop the agent or hang a turn: one that does not
 * start is logged and skipped, one that dies or hangs answers its calls with an `is_error` result
 * that says what happened and what to do. Their stderr goes to the agent's log, bounded. A server
 * that announces its tools changed (`notifications/tools/list_changed`) is listed again, and the
 * agent tells the server the new set.
 */
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { ErrorCode, McpError, type Tool } from "@modelcontextprotocol/sdk/types.js";
import { mcpToolResult } from "../../mcp/content.ts";
import { jsonLength, MCP_TOOL_LIMITS, MCP_TOOL_NAME, type McpToolInfo } from "../protocol.ts";
import { fail, STOPPED, type WorkspaceToolResult } from "../tools/types.ts";
import { type McpServerConfig, readMcpConfig } from "./config.ts";

export interface WorkspaceMcpOptions {
  /** The workspace directory: `.mcp.json` is read here, and servers run here by default. */
  root: string;
  log(line: string): void;
  /** The agent's environment: `${VAR}` expansion, and the servers' base environment. */
  env?: NodeJS.ProcessEnv;
  /** A call that has not answered in this long is cancelled (default 60 s). */
  callTimeoutMs?: number;
  /** Starting a server and listing its tools, at most (default 30 s). */
  startTimeoutMs?: number;
  version?: string;
}

/** Never handed to an MCP server: it is the agent's own credential. */
const PRIVATE_VARIABLES = ["KEEL_AGENT_TOKEN"];
/** The frame with every tool's description and schema stays far below MAX_FRAME_BYTES. */
const TOOLS_BUDGET_CHARS = 1024 * 1024;
const MAX_TOOL_PAGES = 20;
const STDERR_LINES_LOGGED = 200;
const STDERR_LINE_CHARS = 500;
const STDERR_TAIL_LINES = 5;

interface RunningServer {
  readonly config: McpServerConfig;
  readonly client: Client;
  /** Why it stopped answering (it exited, or failed to start); null while it runs. */
  gone: string | null;
  readonly stderrTail: string[];
  /** As it last listed them. */
  tools: Tool[];
}

interface Route {
  readonly server: RunningServer;
  readonly tool: string;
}

export class WorkspaceMcp {
  readonly #o: WorkspaceMcpOptions;
  readonly #servers: RunningServer[] = [];
  readonly #routes = new Map<string, Route>();
  #tools: McpToolInfo[] = [];
  #started: Promise<void> | undefined;
  #stopping = false;
  #ready = false;
  readonly #listeners = new Set<() => void>();

  constructor(options: WorkspaceMcpOptions) {
    this.#o = options;
  }

  /** Reads `.mcp.json` and starts its servers; resolves when each has started or failed. */
  start(): Promise<void> {
    this.#started ??= this.#start();
    return this.#started;
  }

  /** The tools to offer the server (complete once `start` has resolved). */
  tools(): McpToolInfo[] {
    return this.#tools;
  }

  /** Calls `listener` whenever the tools change after the start; returns its removal. */
  onToolsChanged(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Runs `<server>__<tool>`; never throws. Waits at most for the servers' start (while they start)
   * and then the call's bound.
   */
  async call(name: string, input: unknown, signal: AbortSignal): Promise<WorkspaceToolResult> {
    if (!this.#ready) await Promise.race([this.start(), aborted(signal)]);
    if (signal.aborted) return fail(STOPPED);
    const route = this.#routes.get(name);
    if (!route) {
      return fail(
        `No MCP tool "${name}" in this workspace: its servers (.mcp.json) offer ` +
          `${[...this.#routes.keys()].join(", ") || "none"}.`,
      );
    }
    const { server, tool } = route;
    if (server.gone !== null) return fail(goneMessage(server));
    if (typeof input !== "object" || input === null || Array.isArray(input)) {
      return fail(`The arguments of "${name}" must be a JSON object.`);
    }
    const timeoutMs = this.#o.callTimeoutMs ?? 60_000;
    try {
      const answer = await server.client.callTool(
        { name: tool, arguments: input as Record<string, unknown> },
        undefined,
        { signal, timeout: timeoutMs, maxTotalTimeout: timeoutMs },
      );
      const { output, is_error } = mcpToolResult(answer);
      return { output: typeof output === "string" ? output : JSON.stringify(output), is_error };
    } catch (error) {
      if (signal.aborted) return fail(STOPPED);
      if (error instanceof McpError && error.code === ErrorCode.RequestTimeout) {
        return fail(
          `The MCP tool "${name}" did not answer within ${seconds(timeoutMs)}, so it was ` +
            `cancelled. The MCP server "${server.config.name}" may be stuck, or the task too ` +
            "long for one call: try a smaller request; if it keeps happening, tell the user to " +
            "check that server (keel agent's log shows its output).",
        );
      }
      if (server.gone !== null) return fail(goneMessage(server));
      // The server wrote that message: it goes to the model, so it is bounded like an answer.
      const why = message(error).slice(0, STDERR_LINE_CHARS * 4);
      return fail(`The MCP server "${server.config.name}" failed the call: ${why}`);
    }
  }

  /**
   * Stops every server (each gets its stdin closed, then SIGTERM, then SIGKILL), also those still
   * starting; none starts after it.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.allSettled(this.#servers.map((server) => server.client.close()));
  }

  async #start(): Promise<void> {
    const { servers, notices } = await readMcpConfig(this.#o.root, this.#o.env ?? process.env);
    for (const notice of notices) this.#o.log(notice);
    await Promise.all(servers.map((config) => this.#startServer(config)));
    this.#collect();
    this.#ready = true;
    if (servers.length > 0) {
      this.#o.log(`MCP: ${this.#tools.length} tools from ${servers.length} servers in .mcp.json`);
    }
  }

  /** The tools of every server, in the order of `.mcp.json`, within the bounds. */
  #collect(): void {
    this.#tools = [];
    this.#routes.clear();
    let budget = TOOLS_BUDGET_CHARS;
    for (const server of this.#servers) {
      for (const tool of server.tools) {
        const info = this.#offer(server, tool, budget);
        if (info === null) continue;
        budget -= jsonLength(info);
        this.#tools.push(info);
        this.#routes.set(info.name, { server, tool: tool.name });
      }
    }
  }

  /** All the pages of a server's tools. */
  async #listTools(client: Client): Promise<Tool[]> {
    const timeout = this.#o.startTimeoutMs ?? 30_000;
    const tools: Tool[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_TOOL_PAGES; page++) {
      const listed = await client.listTools(cursor ? { cursor } : undefined, { timeout });
      tools.push(...listed.tools);
      cursor = listed.nextCursor;
      if (!cursor) break;
    }
    return tools;
  }

  /** A server said its tools changed: list them again and tell whoever listens. */
  async #refresh(server: RunningServer): Promise<void> {
    await this.#started;
    if (this.#stopping || server.gone !== null) return;
    try {
      server.tools = await this.#listTools(server.client);
    } catch (error) {
      this.#o.log(
        `MCP server "${server.config.name}": listing its changed tools failed (${message(error)})`,
      );
      return;
    }
    this.#collect();
    this.#o.log(`MCP server "${server.config.name}" changed its tools: ${server.tools.length} now`);
    for (const listener of this.#listeners) listener();
  }

  /** Starts one server and lists its tools; none (logged) when it cannot be used. */
  async #startServer(config: McpServerConfig): Promise<void> {
    // Stopped while `.mcp.json` was read. Past this check the server is in #servers (no await in
    // between), so `stop` closes it.
    if (this.#stopping) return;
    const transport = new StdioClientTransport({
      command: config.command,
      args: config.args,
      env: serverEnvironment(this.#o.env ?? process.env, config.env),
      cwd: config.cwd,
      stderr: "pipe",
    });
    const client = new Client(
      { name: "keel-agent", version: this.#o.version ?? "0" },
      {
        listChanged: {
          // Listed by #refresh instead: all pages, bounded in time.
          tools: { autoRefresh: false, onChanged: () => void this.#refresh(server) },
        },
      },
    );
    const server: RunningServer = { config, client, gone: null, stderrTail: [], tools: [] };
    this.#servers.push(server);
    this.#forwardStderr(server, transport);
    let connected = false;
    let errors = 0;
    client.onerror = (error) => {
      // Once it runs (a failed start says why itself), what it sends that is not the protocol
      // is worth a line — not a flood of them.
      if (connected && ++errors <= STDERR_TAIL_LINES) {
        this.#o.log(`MCP server "${config.name}": ${message(error).slice(0, STDERR_LINE_CHARS)}`);
      }
    };
    client.onclose = () => {
      if (this.#stopping || server.gone !== null) return;
      server.gone = "it exited";
      this.#o.log(`MCP server "${config.name}" exited${tail(server)}`);
    };
    const timeout = this.#o.startTimeoutMs ?? 30_000;
    try {
      await client.connect(transport, { timeout });
      connected = true;
      server.tools = await this.#listTools(client);
      this.#o.log(`MCP server "${config.name}" started: ${server.tools.length} tools`);
    } catch (error) {
      server.gone = `it did not start: ${message(error)}`;
      if (!this.#stopping) {
        this.#o.log(
          `MCP server "${config.name}" did not start (${message(error)}); its tools are ` +
            `skipped. Check its command in .mcp.json (${config.command}).${tail(server)}`,
        );
      }
      await client.close().catch(() => {});
    }
  }

  /** The tool as offered to the server, or null (logged) when it cannot be. */
  #offer(server: RunningServer, tool: Tool, budget: number): McpToolInfo | null {
    const name = `${server.config.name}__${tool.name}`;
    const skip = (why: string) => {
      this.#o.log(`MCP tool "${tool.name}" of "${server.config.name}" skipped: ${why}`);
      return null;
    };
    if (!MCP_TOOL_NAME.test(name)) {
      return skip(`"${name}" is not 1–64 letters, digits, '_' or '-' (a model's tool name).`);
    }
    if (this.#routes.has(name)) return skip(`"${name}" is offered twice.`);
    if (this.#tools.length >= MCP_TOOL_LIMITS.count) {
      return skip(`a workspace offers at most ${MCP_TOOL_LIMITS.count} MCP tools.`);
    }
    if (jsonLength(tool.inputSchema) > MCP_TOOL_LIMITS.schemaChars) {
      return skip(`its input schema is larger than ${MCP_TOOL_LIMITS.schemaChars} characters.`);
    }
    const description = tool.description ?? tool.title ?? "";
    // The draft a schema declares is the provider's business, not the model's.
    const { $schema: _, ...inputSchema } = tool.inputSchema;
    const info: McpToolInfo = {
      name,
      description:
        description.length <= MCP_TOOL_LIMITS.descriptionChars
          ? description
          : `${description.slice(0, MCP_TOOL_LIMITS.descriptionChars - 1)}…`,
      input_schema: inputSchema,
    };
    if (jsonLength(info) > budget)
      return skip("the tools' descriptions and schemas are too large together.");
    return info;
  }

  #forwardStderr(server: RunningServer, transport: StdioClientTransport): void {
    const stream = transport.stderr; // typed a Stream; a PassThrough with stderr "pipe"
    if (!(stream instanceof Readable)) return;
    let logged = 0;
    const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
    lines.on("line", (raw) => {
      const line = raw.length > STDERR_LINE_CHARS ? `${raw.slice(0, STDERR_LINE_CHARS)}…` : raw;
      server.stderrTail.push(line);
      if (server.stderrTail.length > STDERR_TAIL_LINES) server.stderrTail.shift();
      logged++;
      if (logged <= STDERR_LINES_LOGGED) this.#o.log(`[mcp ${server.config.name}] ${line}`);
      if (logged === STDERR_LINES_LOGGED) {
        this.#o.log(`[mcp ${server.config.name}] (further output of this server is not logged)`);
      }
    });
  }
}

/** The agent's environment without its own secrets, then the entry's variables. */
function serverEnvironment(
  env: NodeJS.ProcessEnv,
  extra: Record<string, string>,
): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && !PRIVATE_VARIABLES.includes(name)) result[name] = value;
  }
  return { ...result, ...extra };
}

function goneMessage(server: RunningServer): string {
  return (
    `The MCP server "${server.config.name}" is not running (${server.gone}), so the tool did ` +
    "not run. Tell the user: check that server (keel agent's log shows its output), then " +
    `restart keel agent.${tail(server)}`
  );
}

function tail(server: RunningServer): string {
  if (server.stderrTail.length === 0) return "";
  return ` Its last output:\n${server.stderrTail.join("\n")}`;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}
