/**
 * A workspace's tools as the chat loop sees them: the model-facing schemas and descriptions of
 * `tools/schemas.ts`, each executed by sending the call over the workspace agent's connection.
 * The input is validated here (by the registry) and again by the agent.
 */
import type { ZodType } from "zod";
import { mayUseServerDirectory, SERVER_DIRECTORY_ADMINS_ONLY } from "../chatd/contract.ts";
import { defineTool, type Tool, ToolRegistry } from "../chatloop/tools.ts";
import type { Store, WorkspaceStore } from "../store/contract.ts";
import type { AgentHub } from "./hub.ts";
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

function remoteTool(
  hub: AgentHub,
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

/** The tools of one workspace (build once per workspace: registries cache their schemas). */
export function workspaceTools(hub: AgentHub, workspaceId: string, gate?: CallGate): ToolRegistry {
  const names = Object.keys(WORKSPACE_TOOL_SCHEMAS) as WorkspaceToolName[];
  return new ToolRegistry(names.map((name) => remoteTool(hub, workspaceId, name, gate)));
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

/** Registries per workspace, kept while the server runs (a handful of small objects each). */
export class WorkspaceToolCache {
  readonly #hub: AgentHub;
  readonly #gate: CallGate | undefined;
  readonly #registries = new Map<string, ToolRegistry>();

  constructor(hub: AgentHub, gate?: CallGate) {
    this.#hub = hub;
    this.#gate = gate;
  }

  for(workspaceId: string): ToolRegistry {
    let registry = this.#registries.get(workspaceId);
    if (!registry) {
      registry = workspaceTools(this.#hub, workspaceId, this.#gate);
      this.#registries.set(workspaceId, registry);
    }
    return registry;
  }
}
