/**
 * write_file: the whole content of a file, creating missing parent directories. Reports the
 * bytes written and whether the file was created or overwritten, so the model notices when it
 * replaced something it did not mean to. An existing file keeps its permissions (it is written
 * in place, not replaced by a new file).
 */
import { mkdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { displayPath, errorCode, fsErrorText, resolvePath } from "./paths.ts";
import type { WriteFileInput } from "./schemas.ts";
import { fail, ok, type WorkspaceToolContext, type WorkspaceToolResult } from "./types.ts";

export async function writeFileTool(
  input: WriteFileInput,
  ctx: WorkspaceToolContext,
): Promise<WorkspaceToolResult> {
  const absolute = resolvePath(ctx.root, input.path);
  const shown = displayPath(ctx.root, absolute);
  try {
    const before = await sizeOf(absolute);
    if (before === "directory") {
      return fail(`${shown} is a directory; write_file needs a file path.`);
    }
    await mkdir(path.dirname(absolute), { recursive: true });
    await writeFile(absolute, input.content, { encoding: "utf8", signal: ctx.signal });
    const bytes = Buffer.byteLength(input.content);
    return ok(
      before === null
        ? `Created ${shown} (${bytes} bytes).`
        : `Overwrote ${shown} (${bytes} bytes; it had ${before} bytes).`,
    );
  } catch (error) {
    return fail(fsErrorText(error, shown));
  }
}

/** The size of an existing file, "directory", or null when nothing is there. */
async function sizeOf(absolute: string): Promise<number | "directory" | null> {
  try {
    const stats = await stat(absolute);
    return stats.isDirectory() ? "directory" : stats.size;
  } catch (error) {
    if (errorCode(error) === "ENOENT") return null;
    throw error;
  }
}
