/**
 * search_files: the lines matching a regular expression, as `path:line: text`, in file order
 * (depth first, by name) and capped. ripgrep does the work when it is on PATH; otherwise, or when
 * ripgrep rejects a pattern JavaScript accepts (look-around, say), a JS search walks the same
 * files with the same .gitignore logic, skipping binary files (a NUL byte in the first 8 KB) and
 * files above the size limit. Both give the same lines for the same tree — except where the two
 * regex dialects differ: in ripgrep `\w`, `\d` and `\b` know Unicode, in JavaScript only ASCII.
 */
import { open, readFile, stat } from "node:fs/promises";
import { compileRule } from "./gitignore.ts";
import { displayPath, fsErrorText, resolvePath } from "./paths.ts";
import {
  findRipgrep,
  type Match,
  RipgrepError,
  ripgrepMatches,
  type SearchTarget,
} from "./ripgrep.ts";
import { LIMITS, type SearchFilesInput } from "./schemas.ts";
import { fail, ok, type WorkspaceToolContext, type WorkspaceToolResult } from "./types.ts";
import { type WalkOverride, walk } from "./walk.ts";

const SNIFF_BYTES = 8192;

export interface SearchOptions {
  /** "auto" (default): ripgrep when it is on PATH. The others are for tests. */
  engine?: "auto" | "ripgrep" | "js";
}

export async function searchFilesTool(
  input: SearchFilesInput,
  ctx: WorkspaceToolContext,
  options: SearchOptions = {},
): Promise<WorkspaceToolResult> {
  const absolute = resolvePath(ctx.root, input.path || ".");
  const shown = displayPath(ctx.root, absolute);
  let target: SearchTarget;
  try {
    const stats = await stat(absolute);
    target = { absolute, isFile: !stats.isDirectory(), glob: input.glob };
    if (target.isFile && (await isBinary(absolute))) {
      return fail(`${shown} is a binary file; search_files only searches text.`);
    }
  } catch (error) {
    return fail(fsErrorText(error, shown));
  }

  const regex = compilePattern(input.pattern);
  const engine = options.engine ?? "auto";
  const rg = engine === "js" ? null : await findRipgrep();
  if (engine === "ripgrep" && rg === null) return fail("ripgrep (rg) is not on PATH.");

  let collected: Collected;
  if (rg !== null) {
    try {
      collected = await collect(ripgrepMatches(rg, input.pattern, target, ctx.signal), ctx.root);
    } catch (error) {
      ctx.signal.throwIfAborted();
      if (!(error instanceof RipgrepError)) throw error;
      if (typeof regex === "string") return fail(invalidPattern(input.pattern, error.message));
      collected = await collect(jsMatches(regex, target, ctx), ctx.root);
    }
  } else {
    if (typeof regex === "string") return fail(invalidPattern(input.pattern, regex));
    collected = await collect(jsMatches(regex, target, ctx), ctx.root);
  }
  return ok(report(collected, input.pattern, shown));
}

/** The pattern as a JS RegExp (Unicode-aware when it can be), or why it is not one. */
export function compilePattern(pattern: string): RegExp | string {
  try {
    return new RegExp(pattern, "u");
  } catch {
    // Without the "u" flag JavaScript accepts more (e.g. "\-"), as ripgrep does.
  }
  try {
    return new RegExp(pattern);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

function invalidPattern(pattern: string, why: string): string {
  return (
    `Invalid regular expression ${JSON.stringify(pattern)}: ${why}\n` +
    'Escape special characters with a backslash to match them literally (e.g. "\\(" for "(", ' +
    '"\\." for ".").'
  );
}

interface Collected {
  lines: string[];
  /** Why the output stopped early, if it did. */
  capped?: "matches" | "bytes";
}

/** Formats matches until a cap, then stops the source (ending ripgrep or the walk). */
async function collect(matches: AsyncGenerator<Match>, root: string): Promise<Collected> {
  const lines: string[] = [];
  let bytes = 0;
  for await (const match of matches) {
    if (lines.length === LIMITS.searchMaxMatches) return { lines, capped: "matches" };
    const line = `${displayPath(root, match.absolute)}:${match.line}: ${cut(match.text)}`;
    bytes += Buffer.byteLength(line) + 1;
    if (bytes > LIMITS.searchMaxBytes) return { lines, capped: "bytes" };
    lines.push(line);
  }
  return { lines };
}

function cut(text: string): string {
  const max = LIMITS.searchMaxLineChars;
  return text.length > max ? `${text.slice(0, max)}… [line cut: ${text.length} characters]` : text;
}

function report(collected: Collected, pattern: string, shown: string): string {
  const { lines, capped } = collected;
  if (lines.length === 0) return `No matches for ${JSON.stringify(pattern)} in ${shown}.`;
  if (!capped) return lines.join("\n");
  const limit =
    capped === "matches"
      ? `the first ${LIMITS.searchMaxMatches} matches`
      : `the first ${lines.length} matches (output is capped at ${LIMITS.searchMaxBytes / 1024} KB)`;
  return (
    `${lines.join("\n")}\n\n[Showing ${limit}; there are more. Narrow the search with a more ` +
    "specific pattern, a path or a glob.]"
  );
}

/** The JS search: the walk's files (or the one file), line by line. */
async function* jsMatches(
  regex: RegExp,
  target: SearchTarget,
  ctx: WorkspaceToolContext,
): AsyncGenerator<Match> {
  if (target.isFile) {
    yield* fileMatches(regex, target.absolute);
    return;
  }
  const override = target.glob === undefined ? undefined : globOverride(target.glob);
  const options = { root: ctx.root, signal: ctx.signal, override };
  for await (const entry of walk(target.absolute, options)) {
    if (entry.kind !== "file") continue; // symbolic links are not followed, as with ripgrep
    yield* fileMatches(regex, entry.absolute);
  }
}

async function* fileMatches(regex: RegExp, absolute: string): AsyncGenerator<Match> {
  let bytes: Buffer;
  try {
    const stats = await stat(absolute);
    if (stats.size > LIMITS.maxFileBytes) return;
    bytes = await readFile(absolute);
  } catch {
    return; // unreadable: skipped, as ripgrep does (it only warns)
  }
  if (bytes.subarray(0, SNIFF_BYTES).includes(0)) return;
  const lines = bytes.toString("utf8").split("\n");
  if (lines.at(-1) === "") lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i] as string;
    // The "\r" of a "\r\n" ending stays while matching, as with ripgrep ("x$" does not match
    // "x\r"), and is not shown.
    if (regex.test(text)) yield { absolute, line: i + 1, text: text.replace(/\r$/, "") };
  }
}

/**
 * search_files' glob as ripgrep applies --glob: a match includes a file even if .gitignore
 * excludes it, "!" excludes (directories too, so "!node_modules" prunes), and with a plain glob a
 * file that does not match is left out. Without a "/" the glob matches a name at any depth.
 */
function globOverride(glob: string): WalkOverride | undefined {
  const rule = compileRule(glob, { braces: true });
  if (!rule) return undefined;
  return (relative, isDir) => {
    const hit = (!rule.dirOnly || isDir) && rule.regex.test(relative);
    if (hit) return rule.negate ? "exclude" : "include";
    return rule.negate || isDir ? undefined : "exclude";
  };
}

async function isBinary(absolute: string): Promise<boolean> {
  const handle = await open(absolute, "r");
  try {
    const buffer = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, SNIFF_BYTES, 0);
    return buffer.subarray(0, bytesRead).includes(0);
  } finally {
    await handle.close();
  }
}
