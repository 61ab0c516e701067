/**
 * What a chat's model is told before the conversation (DESIGN.md §7): Keel's built-in prompt with
 * its environment, the deployment's prompt, the owner's instructions, the workspace's `AGENTS.md`.
 * `gatherInstructions` is the one function that reads them: the daemon calls it once at the start
 * of each turn, and `GET /chats/{id}/instructions` calls it to show the user what is in effect.
 */
import { type InstructionLayer, instructionLayers, SYSTEM_PROMPT } from "../chatloop/history.ts";
import type { DeploymentSettings, Store, UserPreferences } from "../store/contract.ts";
import type { Chat } from "../store/types.ts";

/** The files looked for at the workspace's root, first found wins. */
export const WORKSPACE_INSTRUCTION_FILES = ["AGENTS.md", "CLAUDE.md"] as const;
/** Bound on reading the workspace's instruction file through its agent (both names together). */
export const DEFAULT_WORKSPACE_READ_TIMEOUT_MS = 5_000;

/**
 * A workspace as the instructions see it, through its agent (`src/workspace/instructions.ts`
 * implements it over the agent hub). Neither method waits for an absent agent.
 */
export interface WorkspaceContextSource {
  /** The connected agent's OS and working directory; null when no agent is connected here. */
  environment(workspaceId: string): { platform: string | null; directory: string | null } | null;
  /**
   * A text file of the workspace (relative to its root), read through its agent: the text, and
   * `more` when it is only the file's start. Null when there is no agent, no such file, or the
   * read failed, was aborted or is not allowed for the chat (its tools would be refused too).
   */
  readFile(
    workspaceId: string,
    path: string,
    options: { chatId: string; signal: AbortSignal },
  ): Promise<{ text: string; more: boolean } | null>;
}

export type InstructionsStore = Pick<Store, "deploymentSettings" | "userPreferences">;

export interface GatherOptions {
  store: InstructionsStore;
  chat: Pick<Chat, "id" | "owner_id" | "workspace_id">;
  /** The workspaces' agents (absent: no workspace layer and no workspace environment). */
  workspaces?: WorkspaceContextSource;
  /** Keel's built-in prompt (default `SYSTEM_PROMPT`). */
  builtIn?: string;
  /** Today (default: now, the server's clock; told in UTC). */
  now?: Date;
  readTimeoutMs?: number;
  /** Ends the workspace read early (Stop, shutdown). */
  signal?: AbortSignal;
}

export interface GatheredInstructions {
  layers: InstructionLayer[];
  /**
   * The deployment's settings as read for them (the daemon's title and summary models come from
   * here too).
   */
  settings: DeploymentSettings;
  /** The chat owner's preferences as read for them (their compaction threshold, too). */
  preferences: UserPreferences;
}

/**
 * Reads every source as it is now and returns the layers in order. Never fails on the
 * workspace: an absent agent, a missing file, a failed or slow read (past `readTimeoutMs`) is no
 * workspace layer.
 */
export async function gatherInstructions(options: GatherOptions): Promise<GatheredInstructions> {
  const { store, chat, workspaces } = options;
  const workspaceId = chat.workspace_id;
  const [settings, preferences, workspaceFile] = await Promise.all([
    store.deploymentSettings.get(),
    store.userPreferences.get(chat.owner_id),
    workspaceId !== null && workspaces
      ? readInstructionFile(workspaces, workspaceId, options)
      : Promise.resolve(null),
  ]);
  const environment =
    workspaceId !== null && workspaces ? workspaces.environment(workspaceId) : null;
  const layers = instructionLayers({
    builtIn: options.builtIn ?? SYSTEM_PROMPT,
    environment: {
      now: options.now ?? new Date(),
      platform: environment?.platform ?? null,
      directory: environment?.directory ?? null,
    },
    deploymentPrompt: settings.system_prompt,
    userInstructions: preferences.instructions,
    workspaceFile,
  });
  return { layers, settings, preferences };
}

async function readInstructionFile(
  workspaces: WorkspaceContextSource,
  workspaceId: string,
  options: GatherOptions,
): Promise<{ name: string; text: string; more: boolean } | null> {
  if (workspaces.environment(workspaceId) === null) return null;
  const timeout = AbortSignal.timeout(options.readTimeoutMs ?? DEFAULT_WORKSPACE_READ_TIMEOUT_MS);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  try {
    for (const name of WORKSPACE_INSTRUCTION_FILES) {
      if (signal.aborted) return null;
      const file = await workspaces.readFile(workspaceId, name, {
        chatId: options.chat.id,
        signal,
      });
      if (signal.aborted) return null;
      if (file !== null) return { name, ...file };
    }
  } catch {
    // Never fails the turn: no workspace layer.
  }
  return null;
}
