/**
 * Paths as the model gives them and as the tools report them. The model may use a path relative
 * to the workspace root or an absolute one (the workspace is the agent's own machine; there is no
 * sandbox to escape). Paths inside the root are reported back relative to it, with "/"
 * separators, so the model can pass them straight to the next tool call.
 */
import path from "node:path";
import { STOPPED } from "./types.ts";

/** An absolute, normalised path: `input` resolved against `root` unless already absolute. */
export function resolvePath(root: string, input: string): string {
  return path.resolve(root, input);
}

/** True when `target` is `root` itself or lies below it. */
export function isInside(root: string, target: string): boolean {
  const relative = path.relative(path.resolve(root), path.resolve(target));
  // "..foo" is a name inside the root; only ".." itself or a "../" prefix leaves it.
  const leaves = relative === ".." || relative.startsWith(`..${path.sep}`);
  return !leaves && !path.isAbsolute(relative);
}

/** How a path is shown to the model: relative to the root when inside it ("." for the root). */
export function displayPath(root: string, target: string): string {
  const absolute = path.resolve(target);
  if (!isInside(root, absolute)) return absolute;
  const relative = path.relative(path.resolve(root), absolute);
  return relative === "" ? "." : relative.split(path.sep).join("/");
}

/**
 * A sentence for a failed file-system call on `shown` (a display path) that says what happened
 * and, where there is one, what the model can do about it.
 */
export function fsErrorText(error: unknown, shown: string): string {
  if (error instanceof Error && error.name === "AbortError") return STOPPED;
  const code = errorCode(error);
  switch (code) {
    case "ENOENT":
      return `No such file or directory: ${shown}. Check the path (list_files shows what exists; relative paths start at the workspace root).`;
    case "EACCES":
    case "EPERM":
      return `Permission denied: ${shown}.`;
    case "EISDIR":
      return `${shown} is a directory, not a file. Use list_files to see its contents.`;
    case "ENOTDIR":
      return `A component of ${shown} is a file, not a directory.`;
    case "EEXIST":
      return `${shown} already exists.`;
    case "ELOOP":
      return `Too many levels of symbolic links at ${shown}.`;
    case "ENAMETOOLONG":
      return `The path is too long: ${shown}.`;
    case "ENOSPC":
      return `No space left on the device while writing ${shown}.`;
    case "EROFS":
      return `${shown} is on a read-only file system.`;
    case "EMFILE":
    case "ENFILE":
      return `Too many open files while accessing ${shown}; try again.`;
    default: {
      const message = error instanceof Error ? error.message : String(error);
      return `Could not access ${shown}: ${message}`;
    }
  }
}

/** The `code` of a Node.js system error (ENOENT, EACCES, …), if it has one. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error) {
    const { code } = error;
    return typeof code === "string" ? code : undefined;
  }
  return undefined;
}
