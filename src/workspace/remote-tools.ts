/**
 * A workspace's tools as the chat loop sees them: the model-facing schemas and descriptions of
 * `tools/schemas.ts`, each executed by sending the call over the workspace agent's connection.
 * The input is validated here (by the registry) and again by the agent. Beside them, the tools of
 * the workspace's own MCP servers (`.mcp.json`, run by its agent): their JSON Schemas go to the
 * provider as the servers gave them, and the servers validate their input themselves.
 */
import { type ZodType, z } from "zod";
import { mayUseServerDirectory, SERVER_DIRECTORY_ADMINS_ONLY } from "../chatd/contract.ts";
import { defineTool, type Tool, ToolRegistry } from "../chatloop/tools.ts";
import type { Store, WorkspaceStore } from "../store/contract.ts";
import type { AgentHub } from "./hub.ts";
import type { McpToolInfo } from "./protocol.ts";
import {
  WORKSPACE_TOOL_DESCRIPTIONS,
  WORKSPACE_TOOL_SCHEMAS,
  type WorkspaceToolName,
} from "./tools/schemas.ts";

/**
 * Decides, at the moment a call would run, whether it may: the reason it may not (told to the
 * model as the call's error result), or null.
 */
export type CallGate = (workspaceId: string, chatId: string) => Promise<string | null>;

/** What the tools need of the hub. */
export type ToolHub = Pick<AgentHub, "call" | "mcpTools" | "mcpToolsFor">;

function remoteTool(
  hub: ToolHub,
  workspaceId: string,
  name: WorkspaceToolName,
  gate: CallGate | undefined,
): Tool {
  // The input is forwarded as validated, whatever its tool: the agent validates it again.
  const inputSchema: ZodType<unknown> = WORKSPACE_TOOL_SCHEMAS[name];
  return defineTool({
    name,
    description: WORKSPACE_TOOL_DESCRIPTIONS[name],
    inputSchema,
    execute: async (input, context) => {
      const refused = await gate?.(workspaceId, context.chatId);
      if (refused) return { output: refused, is_error: true };
      return hub.call(workspaceId, name, input, {
        signal: context.signal,
        onOutput: context.onOutput,
      });
    },
  });
}

/** An MCP tool of the workspace's agent: gated and sent like the built-in ones. */
function mcpTool(hub: ToolHub, workspaceId: string, info: McpToolInfo, gate?: CallGate): Tool {
  return defineTool({
    name: info.name,
    description: info.description,
    // Only the shape here: the MCP server checks its arguments against its own schema.
    inputSchema: z.record(z.string(), z.unknown()),
    jsonSchema: info.input_schema,
    execute: async (input, context) => {
      const refused = await gate?.(workspaceId, context.chatId);
      if (refused) return { output: refused, is_error: true };
      return hub.call(workspaceId, info.name, input, {
        signal: context.signal,
        onOutput: context.onOutput,
      });
    },
  });
}

/**
 * The tools of one workspace: the built-in ones and its agent's MCP tools (by default those it
 * offers now). Build once per tool set: registries cache their schemas.
 */
export function workspaceTools(
  hub: ToolHub,
  workspaceId: string,
  gate?: CallGate,
  mcp: readonly McpToolInfo[] = hub.mcpTools(workspaceId),
): ToolRegistry {
  const names = Object.keys(WORKSPACE_TOOL_SCHEMAS) as WorkspaceToolName[];
  const registry = new ToolRegistry(names.map((name) => remoteTool(hub, workspaceId, name, gate)));
  for (const info of mcp) {
    // The protocol keeps MCP names apart from built-in ones (`server__tool`); this is the backstop.
    if (!registry.has(info.name)) registry.register(mcpTool(hub, workspaceId, info, gate));
  }
  return registry;
}

/**
 * The rule for server-side directories, at every call: the chat's owner must be an active admin
 * now (`mayUseServerDirectory`). Workspaces with their own agent are not gated.
 */
export function serverDirectoryGate(
  store: Pick<Store, "getChat" | "getUser"> & { workspaces: Pick<WorkspaceStore, "get"> },
): CallGate {
  return async (workspaceId, chatId) => {
    const workspace = await store.workspaces.get(workspaceId);
    if (!workspace?.directory) return null;
    const chat = await store.getChat(chatId);
    const owner = chat ? await store.getUser(chat.owner_id) : null;
    return mayUseServerDirectory(owner) ? null : SERVER_DIRECTORY_ADMINS_ONLY;
  };
}

/**
 * Registries per workspace, kept while the server runs (a handful of small objects each), each
 * rebuilt when its agent's MCP tools change (the hub hands out a new array then). The tools are
 * those of the agent wherever it is connected (`mcpToolsFor`: this replica's, or as recorded by
 * the replica that holds it), so a chat has them on any replica.
 */
export class WorkspaceToolCache {
  readonly #hub: ToolHub;
  readonly #gate: CallGate | undefined;
  readonly #registries = new Map<string, { mcp: readonly McpToolInfo[]; registry: ToolRegistry }>();

  constructor(hub: ToolHub, gate?: CallGate) {
    this.#hub = hub;
    this.#gate = gate;
  }

  async for(workspaceId: string): Promise<ToolRegistry> {
    const mcp = await this.#hub.mcpToolsFor(workspaceId);
    const cached = this.#registries.get(workspaceId);
    if (cached?.mcp === mcp) return cached.registry;
    const registry = workspaceTools(this.#hub, workspaceId, this.#gate, mcp);
    this.#registries.set(workspaceId, { mcp, registry });
    return registry;
  }
}
