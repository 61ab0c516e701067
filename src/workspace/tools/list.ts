/**
 * list_files: the entries under a directory whose path (relative to that directory) matches a
 * glob, depth first and sorted by name within each directory, skipping what .gitignore excludes
 * and `.git`. Directories are listed too, marked with a trailing "/": with the default pattern
 * the listing shows the tree's shape, empty directories included. Paths are shown relative to
 * the workspace root (absolute outside it), ready to pass to read_file.
 */
import { stat } from "node:fs/promises";
import { globToRegExp } from "./glob.ts";
import { displayPath, fsErrorText, resolvePath } from "./paths.ts";
import { LIMITS, type ListFilesInput } from "./schemas.ts";
import { fail, ok, type WorkspaceToolContext, type WorkspaceToolResult } from "./types.ts";
import { walk } from "./walk.ts";

const DEFAULT_PATTERN = "**/*";

export async function listFilesTool(
  input: ListFilesInput,
  ctx: WorkspaceToolContext,
): Promise<WorkspaceToolResult> {
  const start = resolvePath(ctx.root, input.path || ".");
  const shown = displayPath(ctx.root, start);
  try {
    const stats = await stat(start);
    if (!stats.isDirectory()) {
      return fail(`${shown} is a file, not a directory. Use read_file to read it.`);
    }
  } catch (error) {
    return fail(fsErrorText(error, shown));
  }

  const pattern = (input.pattern ?? DEFAULT_PATTERN).replace(/^(\.\/)+/, "");
  const matches = globToRegExp(pattern);
  const found: string[] = [];
  let bytes = 0;
  let truncated = false;
  for await (const entry of walk(start, { root: ctx.root, signal: ctx.signal })) {
    if (!matches.test(entry.relative)) continue;
    const line = displayPath(ctx.root, entry.absolute) + (entry.kind === "directory" ? "/" : "");
    bytes += Buffer.byteLength(line) + 1;
    if (found.length === LIMITS.listMaxEntries || bytes > LIMITS.listMaxBytes) {
      truncated = true;
      break;
    }
    found.push(line);
  }

  if (found.length === 0) return ok(`No files under ${shown} match "${pattern}".`);
  const note = truncated
    ? `\n\n[Showing the first ${found.length} entries. Narrow the path or the pattern ` +
      '(e.g. "src/**/*.ts") to see the rest.]'
    : "";
  return ok(found.join("\n") + note);
}
