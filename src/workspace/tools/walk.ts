/**
 * The directory walk behind list_files and the JS search: depth first, entries sorted by name
 * within each directory (ripgrep's `--sort path` order, so both searches list files alike),
 * `.gitignore` files respected, `.git` always skipped, symbolic links reported but never followed
 * (no cycles, no escaping into huge trees). Unreadable directories are skipped silently, as
 * ripgrep does.
 */
import type { Dirent } from "node:fs";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { type IgnoreStack, loadIgnoreChain, loadIgnoreFile } from "./gitignore.ts";
import { isInside } from "./paths.ts";

export interface WalkEntry {
  absolute: string;
  /** From the walk's start directory, "/"-separated. */
  relative: string;
  kind: "file" | "directory" | "symlink" | "other";
}

/** An explicit verdict on an entry (by its path from the start) that overrides .gitignore. */
export type WalkOverride = (relative: string, isDir: boolean) => "include" | "exclude" | undefined;

export interface WalkOptions {
  /** The workspace root: .gitignore files from here down to the start directory apply too. */
  root: string;
  signal: AbortSignal;
  override?: WalkOverride;
}

/** Every entry below `start` (absolute, a directory) that .gitignore does not exclude. */
export async function* walk(start: string, options: WalkOptions): AsyncGenerator<WalkEntry> {
  // Outside the workspace there is no known repository top: the start directory is the top.
  const top = isInside(options.root, start) ? path.resolve(options.root) : start;
  const stack = await loadIgnoreChain(top, start);
  yield* walkDirectory(start, toSlashes(path.relative(top, start)), "", stack, options);
}

async function* walkDirectory(
  directory: string,
  fromTop: string,
  fromStart: string,
  stack: IgnoreStack,
  options: WalkOptions,
): AsyncGenerator<WalkEntry> {
  options.signal.throwIfAborted();
  let entries: Dirent[];
  try {
    entries = await readdir(directory, { withFileTypes: true });
  } catch {
    return;
  }
  entries.sort((a, b) => compareNames(a.name, b.name));
  for (const entry of entries) {
    if (entry.name === ".git") continue;
    const kind = kindOf(entry);
    const isDir = kind === "directory";
    const topRelative = join(fromTop, entry.name);
    const relative = join(fromStart, entry.name);
    const verdict = options.override?.(relative, isDir);
    if (verdict === "exclude") continue;
    if (verdict !== "include" && stack.ignored(topRelative, isDir)) continue;
    const absolute = path.join(directory, entry.name);
    yield { absolute, relative, kind };
    if (isDir) {
      const inner = stack.with(await loadIgnoreFile(absolute, topRelative));
      yield* walkDirectory(absolute, topRelative, relative, inner, options);
    }
  }
}

function kindOf(entry: Dirent): WalkEntry["kind"] {
  if (entry.isSymbolicLink()) return "symlink";
  if (entry.isDirectory()) return "directory";
  if (entry.isFile()) return "file";
  return "other";
}

/** Byte order of the UTF-8 names, as ripgrep sorts (differs from "<" only for rare characters). */
function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function join(parent: string, name: string): string {
  return parent === "" ? name : `${parent}/${name}`;
}

function toSlashes(relative: string): string {
  return relative.split(path.sep).join("/");
}
