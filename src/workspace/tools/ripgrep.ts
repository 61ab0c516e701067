/**
 * search_files through ripgrep, when `rg` is on PATH: much faster on large trees. The flags make
 * it see what the JS search sees: hidden files included, `.git` skipped, .gitignore honoured even
 * outside a git repository, files visited in name order (`--sort path`) so the first matches
 * under the cap are the same, files above the size limit skipped.
 */
import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { access } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import { LIMITS } from "./schemas.ts";

export interface Match {
  absolute: string;
  line: number;
  /** The line without its terminator. */
  text: string;
}

export interface SearchTarget {
  /** The directory searched (cwd "." for rg), or the one file searched. */
  absolute: string;
  isFile: boolean;
  glob?: string | undefined;
}

/**
 * ripgrep failed before finding anything: most often it rejected the pattern (its regex dialect
 * differs from JavaScript's), or it is too old for a flag. The caller can search without it.
 */
export class RipgrepError extends Error {}

/** The path of an executable `rg` on PATH, or null. */
export async function findRipgrep(): Promise<string | null> {
  for (const directory of (process.env.PATH ?? "").split(path.delimiter)) {
    if (directory === "") continue;
    const candidate = path.join(directory, "rg");
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** Matches from `rg --json`, in file order. Returning early (at the cap) stops ripgrep. */
export async function* ripgrepMatches(
  rg: string,
  pattern: string,
  target: SearchTarget,
  signal: AbortSignal,
): AsyncGenerator<Match> {
  const cwd = target.isFile ? path.dirname(target.absolute) : target.absolute;
  const args = [
    "--json",
    "--no-config",
    "--hidden",
    "--no-require-git",
    "--sort=path",
    `--max-filesize=${LIMITS.maxFileBytes}`,
  ];
  if (target.glob !== undefined && !target.isFile) args.push(`--glob=${target.glob}`);
  // Last, because among --glob flags the last match wins: no user glob brings .git back.
  args.push("--glob=!.git", "--regexp", pattern, "--", target.isFile ? target.absolute : ".");

  const child = spawn(rg, args, { cwd, stdio: ["ignore", "pipe", "pipe"], signal });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (text: string) => {
    if (stderr.length < 4096) stderr += text;
  });
  const closed = new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve(code));
  });
  closed.catch(() => {}); // observed below; an early return must not leave it unhandled
  let found = 0;
  try {
    for await (const line of createInterface({ input: child.stdout, crlfDelay: Infinity })) {
      const match = parseMatch(line, cwd);
      if (!match) continue;
      found++;
      yield match;
    }
    const code = await closed;
    // Exit 2 is any error, an unreadable file among others included: it only matters when
    // nothing was found (a rejected pattern stops rg before it reads anything).
    if (code === 2 && found === 0) throw new RipgrepError(stderr.trim() || "ripgrep failed");
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill();
  }
}

interface RgText {
  text?: string;
  bytes?: string;
}

interface RgMatchEvent {
  type: "match";
  data: { path: RgText; lines: RgText; line_number: number | null };
}

function parseMatch(line: string, cwd: string): Match | null {
  let event: unknown;
  try {
    event = JSON.parse(line);
  } catch {
    return null;
  }
  if (!isMatchEvent(event)) return null;
  const { data } = event;
  return {
    absolute: path.resolve(cwd, decode(data.path)),
    line: data.line_number ?? 0,
    text: decode(data.lines).replace(/\r?\n$/, ""),
  };
}

function isMatchEvent(event: unknown): event is RgMatchEvent {
  return (
    typeof event === "object" &&
    event !== null &&
    "type" in event &&
    event.type === "match" &&
    "data" in event &&
    typeof event.data === "object" &&
    event.data !== null
  );
}

/** rg --json gives text as `text`, or as base64 `bytes` when it is not valid UTF-8. */
function decode(value: RgText): string {
  if (typeof value.text === "string") return value.text;
  return Buffer.from(value.bytes ?? "", "base64").toString("utf8");
}
