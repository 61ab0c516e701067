/**
 * A workspace's tools as the chat loop sees them: the model-facing schemas and descriptions of
 * `tools/schemas.ts`, each executed by sending the call over the workspace agent's connection.
 * The input is validated here (by the registry) and again by the agent.
 */
import type { ZodType } from "zod";
import { defineTool, type Tool, ToolRegistry } from "../chatloop/tools.ts";
import type { AgentHub } from "./hub.ts";
import {
  WORKSPACE_TOOL_DESCRIPTIONS,
  WORKSPACE_TOOL_SCHEMAS,
  type WorkspaceToolName,
} from "./tools/schemas.ts";

function remoteTool(hub: AgentHub, workspaceId: string, name: WorkspaceToolName): Tool {
  // The input is forwarded as validated, whatever its tool: the agent validates it again.
  const inputSchema: ZodType<unknown> = WORKSPACE_TOOL_SCHEMAS[name];
  return defineTool({
    name,
    description: WORKSPACE_TOOL_DESCRIPTIONS[name],
    inputSchema,
    execute: (input, context) =>
      hub.call(workspaceId, name, input, { signal: context.signal, onOutput: context.onOutput }),
  });
}

/** The tools of one workspace (build once per workspace: registries cache their schemas). */
export function workspaceTools(hub: AgentHub, workspaceId: string): ToolRegistry {
  const names = Object.keys(WORKSPACE_TOOL_SCHEMAS) as WorkspaceToolName[];
  return new ToolRegistry(names.map((name) => remoteTool(hub, workspaceId, name)));
}

/** Registries per workspace, kept while the server runs (a handful of small objects each). */
export class WorkspaceToolCache {
  readonly #hub: AgentHub;
  readonly #registries = new Map<string, ToolRegistry>();

  constructor(hub: AgentHub) {
    this.#hub = hub;
  }

  for(workspaceId: string): ToolRegistry {
    let registry = this.#registries.get(workspaceId);
    if (!registry) {
      registry = workspaceTools(this.#hub, workspaceId);
      this.#registries.set(workspaceId, registry);
    }
    return registry;
  }
}
