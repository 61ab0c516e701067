/**
 * What this replica knows of agents connected to other replicas, from what their holders recorded
 * with the workspace: the MCP tools they offered (read when a turn gathers its tools, the same
 * array while unchanged, so registries can be cached by identity) and where they run (their OS and
 * directory, for the chat's instructions — a synchronous question, so the held agents are read
 * every `refreshMs` and the answer comes from that snapshot).
 */
import type { AgentEnvironment, WorkspaceStore } from "../store/contract.ts";
import type { McpToolInfo } from "./protocol.ts";

const NO_MCP_TOOLS: readonly McpToolInfo[] = Object.freeze([]);

export interface RemoteAgentsOptions {
  store: Pick<WorkspaceStore, "agentMcpTools" | "heldAgents">;
  replicaId: string;
  warn(message: string, fields?: Record<string, unknown>): void;
  /** How often the agents held by other replicas are read (default 2 s). */
  refreshMs?: number;
}

export class RemoteAgents {
  readonly #o: RemoteAgentsOptions;
  /** Workspace id → its MCP tools as recorded (and their JSON, to keep the array while equal). */
  readonly #tools = new Map<string, { json: string; tools: readonly McpToolInfo[] }>();
  /** Workspace id → where its agent runs, for agents held by other replicas. */
  #environments = new Map<string, AgentEnvironment>();
  #timer: NodeJS.Timeout | undefined;
  #refreshing: Promise<void> | undefined;
  #again = false;

  constructor(options: RemoteAgentsOptions) {
    this.#o = options;
  }

  async start(): Promise<void> {
    await this.refresh();
    this.#timer = setInterval(() => void this.refresh(), this.#o.refreshMs ?? 2_000);
    this.#timer.unref();
  }

  close(): void {
    clearInterval(this.#timer);
  }

  /** Where the agent another replica holds runs; null when no other replica holds it. */
  environment(workspaceId: string): AgentEnvironment | null {
    return this.#environments.get(workspaceId) ?? null;
  }

  /** The MCP tools recorded with the workspace; `fallback` when the database cannot say. */
  async mcpTools(
    workspaceId: string,
    fallback: readonly McpToolInfo[],
  ): Promise<readonly McpToolInfo[]> {
    let json: string | null;
    try {
      json = await this.#o.store.agentMcpTools(workspaceId);
    } catch (error) {
      this.#o.warn("reading the agent's MCP tools failed", { error: String(error) });
      return this.#tools.get(workspaceId)?.tools ?? fallback;
    }
    if (json === null) return NO_MCP_TOOLS;
    const known = this.#tools.get(workspaceId);
    if (known?.json === json) return known.tools;
    // Written by the holder from a validated `tools` frame: the protocol's limits already hold.
    const tools = Object.freeze(JSON.parse(json) as McpToolInfo[]);
    this.#tools.set(workspaceId, { json, tools });
    return tools;
  }

  /** Reads the held agents again (once more after the current read, if one is under way). */
  refresh(): Promise<void> {
    if (this.#refreshing) {
      this.#again = true;
      return this.#refreshing;
    }
    this.#refreshing = this.#read().finally(() => {
      this.#refreshing = undefined;
      if (this.#again) {
        this.#again = false;
        void this.refresh();
      }
    });
    return this.#refreshing;
  }

  async #read(): Promise<void> {
    try {
      const held = await this.#o.store.heldAgents();
      const next = new Map<string, AgentEnvironment>();
      for (const agent of held) {
        if (agent.replica === this.#o.replicaId) continue; // this replica's own: its connections say
        next.set(agent.id, { platform: agent.platform, directory: agent.directory });
      }
      this.#environments = next;
    } catch (error) {
      // The last snapshot stays: a database hiccup does not make every agent look absent.
      this.#o.warn("reading the agents of other replicas failed", { error: String(error) });
    }
  }
}
