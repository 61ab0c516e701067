/**
 * The admin-configured MCP servers, as tools for chats. Connects lazily (at the first turn that
 * wants a server's tools), keeps one connection per server, and caches each server's tool list
 * for `toolsTtlMs`; a change of the server's configuration (its `updated_at`), or a failure,
 * drops the connection and the cache, so the next turn starts afresh.
 *
 * Nothing here can stall or break a turn:
 * - `tools()` is bounded by `listTimeoutMs` per server (in parallel); a server that is down,
 *   refuses or hangs contributes no tools (warned once until it recovers), and is not asked again
 *   for `retryAfterMs`, so a hanging server does not cost every turn the whole bound;
 * - a call is bounded by `callTimeoutMs` and by the turn's signal, and any failure is an
 *   `is_error` result saying what happened and what to do (errors.ts) — never a throw.
 * The configuration is read from the store at every `tools()` (one small query per turn), so
 * every replica follows an admin's change at its next turn.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { z } from "zod";
import type { Logger } from "../api/log.ts";
import { REDACTED } from "../chaterror/redact.ts";
import { type Tool, type ToolContext, ToolRegistry, type ToolResult } from "../chatloop/tools.ts";
import type { McpServerConfig, McpServerStore } from "../store/contract.ts";
import { connectClient, listAllTools, type McpTool, within } from "./connection.ts";
import { MCP_OUTPUT_CHARS, mcpToolResult } from "./content.ts";
import { McpServerError, mcpFailure } from "./errors.ts";
import {
  chatToolDescription,
  chatToolSchema,
  MAX_TOOLS_PER_SERVER,
  offeredTools,
} from "./naming.ts";

export interface McpManagerOptions {
  store: Pick<McpServerStore, "enabledConfigs">;
  logger: Pick<Logger, "info" | "warn">;
  /** A tool call, connecting included, at most (default 60 s). */
  callTimeoutMs?: number;
  /** Listing one server's tools for a turn, connecting included, at most (default 5 s). */
  listTimeoutMs?: number;
  /** How long a server's tool list is reused (default 60 s). */
  toolsTtlMs?: number;
  /** After a server failed to list its tools, how long it is left out before trying again (15 s). */
  retryAfterMs?: number;
  /** The most text of one result the model gets (default 64 Ki characters). */
  maxOutputChars?: number;
  /** Told to servers in the MCP handshake. */
  version?: string;
}

/** The bounds an embedder may set (`ServerConfig.mcp`). */
export type McpLimits = Pick<
  McpManagerOptions,
  "callTimeoutMs" | "listTimeoutMs" | "toolsTtlMs" | "retryAfterMs" | "maxOutputChars"
>;

type Resolved = Required<Omit<McpManagerOptions, "store" | "logger">>;

const DEFAULTS: Resolved = {
  callTimeoutMs: 60_000,
  listTimeoutMs: 5_000,
  toolsTtlMs: 60_000,
  retryAfterMs: 15_000,
  maxOutputChars: MCP_OUTPUT_CHARS,
  version: "0.1.0",
};

/** Connecting, when a call or a listing needs it, at most (shared by whoever waits for it). */
const CONNECT_TIMEOUT_MS = 30_000;

/** The key of `skipped` that stands for "more tools than MAX_TOOLS_PER_SERVER" (not a tool name). */
const TOO_MANY = "\u0000too many";

/** What a call's input is checked against here: an object; the server checks the rest. */
const ANY_OBJECT = z.record(z.string(), z.unknown());

/** One configured server: its configuration, its connection and its cached tools. */
interface ServerState {
  readonly config: McpServerConfig;
  client: Promise<Client> | undefined;
  tools: { list: Tool[]; at: number } | undefined;
  listing: Promise<Tool[]> | undefined;
  failedAt: number | undefined;
  /** Whether its unavailability was logged (once per failure streak). */
  warned: boolean;
  /** Tools already warned about (not offered: an invalid name). */
  readonly skipped: Set<string>;
}

export class McpManager {
  readonly #store: McpManagerOptions["store"];
  readonly #log: McpManagerOptions["logger"];
  readonly #o: Resolved;
  readonly #servers = new Map<string, ServerState>();
  #storeWarned = false;
  readonly #clashWarned = new Set<string>();
  #closed = false;

  constructor(options: McpManagerOptions) {
    this.#store = options.store;
    this.#log = options.logger;
    const defined = Object.entries(options).filter(([, v]) => v !== undefined);
    this.#o = { ...DEFAULTS, ...(Object.fromEntries(defined) as Partial<Resolved>) };
  }

  /** The tools of every enabled server that answers in time, named `<server>__<tool>`. */
  async tools(): Promise<Tool[]> {
    if (this.#closed) return [];
    let configs: McpServerConfig[];
    try {
      configs = await this.#store.enabledConfigs();
      this.#storeWarned = false;
    } catch (error) {
      if (!this.#storeWarned) {
        this.#log.warn("cannot read the MCP servers' configuration: chats get no MCP tools", {
          error: error instanceof Error ? error.message : String(error),
        });
        this.#storeWarned = true;
      }
      return [];
    }
    this.#sync(configs);
    const lists = await Promise.all([...this.#servers.values()].map((s) => this.#toolsOf(s)));
    return lists.flat();
  }

  /**
   * A turn's registry: `base` (e.g. the workspace's tools) and the MCP servers' tools. An MCP
   * tool whose name `base` already has is left out (logged once): the workspace's own wins.
   */
  async registryFor(base: ToolRegistry): Promise<ToolRegistry> {
    const extra = await this.tools();
    if (extra.length === 0) return base;
    const registry = new ToolRegistry(base.tools());
    for (const tool of extra) {
      if (registry.has(tool.name)) {
        if (!this.#clashWarned.has(tool.name)) {
          this.#clashWarned.add(tool.name);
          this.#log.warn(
            "MCP tool left out: a tool of the same name comes first (the workspace's)",
            {
              tool: tool.name,
            },
          );
        }
        continue;
      }
      registry.register(tool);
    }
    return registry;
  }

  /** Closes every connection; `tools()` offers nothing afterwards. */
  async close(): Promise<void> {
    this.#closed = true;
    const servers = [...this.#servers.values()];
    this.#servers.clear();
    await Promise.all(servers.map((s) => this.#disconnect(s)));
  }

  /** Keeps the servers still configured as they were; anything changed starts afresh. */
  #sync(configs: readonly McpServerConfig[]): void {
    const seen = new Set<string>();
    for (const config of configs) {
      seen.add(config.id);
      const current = this.#servers.get(config.id);
      if (current && current.config.updated_at === config.updated_at) continue;
      if (current) void this.#disconnect(current);
      this.#servers.set(config.id, {
        config,
        client: undefined,
        tools: undefined,
        listing: undefined,
        failedAt: undefined,
        warned: false,
        skipped: new Set(),
      });
    }
    for (const [id, state] of this.#servers) {
      if (seen.has(id)) continue;
      this.#servers.delete(id);
      void this.#disconnect(state);
    }
  }

  #toolsOf(s: ServerState): Promise<Tool[]> {
    const now = Date.now();
    if (s.tools && now - s.tools.at < this.#o.toolsTtlMs) return Promise.resolve(s.tools.list);
    if (s.failedAt !== undefined && now - s.failedAt < this.#o.retryAfterMs) {
      return Promise.resolve([]);
    }
    s.listing ??= this.#list(s).finally(() => {
      s.listing = undefined;
    });
    return s.listing;
  }

  /** Lists the server's tools within the bound; never throws (a failure: no tools). */
  async #list(s: ServerState): Promise<Tool[]> {
    const timeoutMs = this.#o.listTimeoutMs;
    const deadline = AbortSignal.timeout(timeoutMs);
    try {
      const client = await within(this.#client(s), deadline);
      const listed = await listAllTools(client, { signal: deadline, timeoutMs });
      const tools = this.#chatTools(s, listed);
      s.tools = { list: tools, at: Date.now() };
      s.failedAt = undefined;
      if (s.warned) {
        this.#log.info("MCP server reachable again", { mcp_server: s.config.name });
        s.warned = false;
      }
      return tools;
    } catch (error) {
      const failure = mcpFailure(error, {
        server: s.config.name,
        doing: "listing its tools",
        timeoutMs,
        deadline,
        secrets: Object.values(s.config.headers),
      });
      s.failedAt = Date.now();
      s.tools = undefined;
      void this.#disconnect(s);
      if (!s.warned) {
        this.#log.warn("MCP server unavailable: its tools are left out of chats for now", {
          mcp_server: s.config.name,
          error: failure.message,
        });
        s.warned = true;
      }
      return [];
    }
  }

  #chatTools(s: ServerState, listed: readonly McpTool[]): Tool[] {
    const tools: Tool[] = [];
    for (const offered of offeredTools(s.config, listed)) {
      if (offered.leftOut === "invalid name" && !s.skipped.has(offered.tool.name)) {
        s.skipped.add(offered.tool.name);
        this.#log.warn("MCP tool left out: its name does not fit a provider's tool names", {
          mcp_server: s.config.name,
          tool: offered.tool.name.slice(0, 200),
          rule: "<server>__<tool> must match ^[a-zA-Z0-9_-]{1,64}$",
        });
      }
      if (offered.leftOut === "too many" && !s.skipped.has(TOO_MANY)) {
        s.skipped.add(TOO_MANY);
        this.#log.warn(
          "MCP server offers more tools than Keel gives a chat: the rest are left out",
          {
            mcp_server: s.config.name,
            listed: listed.length,
            limit: MAX_TOOLS_PER_SERVER,
            advice: "name the tools chats need in tools_allow",
          },
        );
      }
      if (offered.chatName === null) continue;
      const serverId = s.config.id;
      const toolName = offered.tool.name;
      tools.push({
        name: offered.chatName,
        description: chatToolDescription(s.config.name, offered.tool),
        inputSchema: ANY_OBJECT,
        jsonSchema: chatToolSchema(offered.tool),
        // The registry checked `input` against ANY_OBJECT before calling.
        execute: (input, context) =>
          this.call(serverId, toolName, input as Record<string, unknown>, context),
      });
    }
    return tools;
  }

  /** Runs one tool of one server. Never throws; bounded by the call timeout and the turn. */
  async call(
    serverId: string,
    tool: string,
    input: Record<string, unknown>,
    context: Pick<ToolContext, "signal">,
  ): Promise<ToolResult> {
    const s = this.#servers.get(serverId);
    if (!s) {
      return {
        output:
          "This MCP server is no longer configured (an admin removed, disabled or changed it). " +
          "Its tools will be refreshed at the next message; do not call it again in this turn.",
        is_error: true,
      };
    }
    const timeoutMs = this.#o.callTimeoutMs;
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = AbortSignal.any([context.signal, deadline]);
    const at = {
      secrets: Object.values(s.config.headers),
      server: s.config.name,
      doing: `calling ${tool}`,
      timeoutMs,
      stop: context.signal,
      deadline,
    };
    // A connection made before this call may have lost its session (the server restarted):
    // then one retry on a fresh connection.
    for (let attempt = 0; ; attempt++) {
      const reused = s.client !== undefined;
      try {
        const client = await within(this.#client(s), signal);
        const answer = await within(
          client.callTool({ name: tool, arguments: input }, undefined, {
            signal,
            timeout: timeoutMs,
          }),
          signal,
        );
        return withoutHeaderValues(mcpToolResult(answer, this.#o.maxOutputChars), s.config);
      } catch (error) {
        const failure = mcpFailure(error, at);
        if (failure.kind === "stopped" || failure.kind === "refused") {
          return { output: failure.message, is_error: true };
        }
        // Down, hung or lost: the next use reconnects and lists the tools again.
        s.tools = undefined;
        await this.#disconnect(s);
        if (attempt === 0 && reused && failure.status === 404 && !signal.aborted) continue;
        this.#log.warn("MCP tool call failed", {
          mcp_server: s.config.name,
          tool,
          error: failure.message,
        });
        return { output: failure.message, is_error: true };
      }
    }
  }

  /** The server's connection, made once and shared; a failed attempt is forgotten. */
  #client(s: ServerState): Promise<Client> {
    if (this.#closed) {
      return Promise.reject(
        new McpServerError("unreachable", "Keel's MCP client is shutting down."),
      );
    }
    if (s.client) return s.client;
    const connecting = connectClient(s.config, {
      signal: AbortSignal.timeout(CONNECT_TIMEOUT_MS),
      timeoutMs: CONNECT_TIMEOUT_MS,
      version: this.#o.version,
    });
    s.client = connecting;
    connecting.catch(() => {
      if (s.client === connecting) s.client = undefined;
    });
    return connecting;
  }

  async #disconnect(s: ServerState): Promise<void> {
    const client = s.client;
    s.client = undefined;
    if (!client) return;
    await client.then((c) => c.close()).catch(() => {});
  }
}

/** Header values shorter than this are not scrubbed as exact strings (too likely in any text). */
const MIN_SECRET_LENGTH = 6;

/**
 * The result without the server's own header values, should it echo one (a "whoami" tool, a
 * debug dump): they are the admin's credentials, and what the model reads is shown to users.
 */
function withoutHeaderValues(result: ToolResult, server: McpServerConfig): ToolResult {
  if (typeof result.output !== "string") return result;
  let output = result.output;
  for (const value of Object.values(server.headers)) {
    if (value.length >= MIN_SECRET_LENGTH) output = output.replaceAll(value, REDACTED);
  }
  return { ...result, output };
}
