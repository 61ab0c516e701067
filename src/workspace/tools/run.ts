/**
 * The one entry point the agent uses: a tool call by name with the model's raw input. The input
 * is validated against the tool's schema, the tool runs, and whatever happens — an unknown tool,
 * invalid input, a file-system error, a Stop — comes back as a result. This never throws: an
 * error is the model's to read and act on, and it must not take down the agent.
 */
import { z } from "zod";
import { editFileTool } from "./edit.ts";
import { executeTool } from "./execute.ts";
import { listFilesTool } from "./list.ts";
import {
  processListTool,
  processOutputTool,
  processSignalTool,
  startBackground,
} from "./processes.ts";
import { readFileTool } from "./read.ts";
import {
  isWorkspaceToolName,
  WORKSPACE_TOOL_SCHEMAS,
  type WorkspaceToolInputs,
  type WorkspaceToolName,
} from "./schemas.ts";
import { searchFilesTool } from "./search.ts";
import { fail, STOPPED, type WorkspaceToolContext, type WorkspaceToolResult } from "./types.ts";
import { writeFileTool } from "./write.ts";

export type { WorkspaceToolContext, WorkspaceToolResult } from "./types.ts";

type Implementations = {
  [Name in WorkspaceToolName]: (
    input: WorkspaceToolInputs[Name],
    ctx: WorkspaceToolContext,
  ) => Promise<WorkspaceToolResult>;
};

/** The schemas, typed so that a tool's name picks its input type (one correlated lookup). */
const SCHEMAS: { [Name in WorkspaceToolName]: z.ZodType<WorkspaceToolInputs[Name]> } =
  WORKSPACE_TOOL_SCHEMAS;

const TOOLS: Implementations = {
  read_file: readFileTool,
  write_file: writeFileTool,
  edit_file: editFileTool,
  list_files: listFilesTool,
  search_files: searchFilesTool,
  execute: (input, ctx) =>
    input.background ? startBackground(input, ctx) : executeTool(input, ctx),
  process_output: processOutputTool,
  process_list: processListTool,
  process_signal: processSignalTool,
};

/**
 * The tools that only look (no effect; not process_output, whose read moves the process's cursor:
 * what it read would be lost).
 */
const LOOKS: ReadonlySet<WorkspaceToolName> = new Set([
  "read_file",
  "list_files",
  "search_files",
  "process_list",
]);

export async function runWorkspaceTool(
  name: string,
  input: unknown,
  ctx: WorkspaceToolContext,
): Promise<WorkspaceToolResult> {
  if (!isWorkspaceToolName(name)) {
    const known = Object.keys(WORKSPACE_TOOL_SCHEMAS).join(", ");
    return fail(`Unknown tool "${name}". The workspace tools are: ${known}.`);
  }
  if (ctx.signal.aborted) return fail("Stopped before the tool ran.");
  try {
    const result = await dispatch(name, input, ctx);
    // A look that finished just as it was stopped answers as stopped, whichever won the race (a
    // fast ripgrep can exit before its kill); a change that finished did happen, and says so.
    if (ctx.signal.aborted && LOOKS.has(name)) return fail(STOPPED);
    return result;
  } catch (error) {
    if (ctx.signal.aborted) return fail(STOPPED);
    const message = error instanceof Error ? error.message || error.name : String(error);
    return fail(`${name} failed: ${message}`);
  }
}

async function dispatch<Name extends WorkspaceToolName>(
  name: Name,
  input: unknown,
  ctx: WorkspaceToolContext,
): Promise<WorkspaceToolResult> {
  const parsed = SCHEMAS[name].safeParse(input);
  if (!parsed.success) {
    return fail(`Invalid arguments for ${name}:\n${z.prettifyError(parsed.error)}`);
  }
  return TOOLS[name](parsed.data, ctx);
}
