/** What every workspace tool is given and what it answers. */
import type { BackgroundProcesses } from "./processes.ts";

export interface WorkspaceToolContext {
  /** The workspace directory: relative paths start here, and paths inside it are shown relative. */
  root: string;
  /** Aborted on Stop or shutdown: the tool ends promptly (execute kills its process group). */
  signal: AbortSignal;
  /** Output as it is produced (execute only); the result still carries the whole, capped text. */
  onOutput?(delta: string): void;
  /**
   * The agent's background processes (execute with background, process_*); the agent keeps one
   * for its lifetime. Without it, those tools answer that background processes are unavailable.
   */
  processes?: BackgroundProcesses;
}

/** Text for the model; `is_error` when the tool could not do what was asked. */
export interface WorkspaceToolResult {
  output: string;
  is_error: boolean;
}

export function ok(output: string): WorkspaceToolResult {
  return { output, is_error: false };
}

export function fail(output: string): WorkspaceToolResult {
  return { output, is_error: true };
}

/** What a tool that was cancelled part-way (Stop, shutdown) answers. */
export const STOPPED = "Stopped: the tool was cancelled before it finished.";
