/**
 * .gitignore rules, as git reads them, for list_files and the JS search: comments and blank
 * lines, `!` negation, a trailing "/" for directories only, a leading (or inner) "/" anchoring a
 * pattern to its file's directory, `**`, and escapes (`\#`, `\!`, `\ `). A .gitignore in a deeper
 * directory overrides a shallower one, and the last matching rule wins. A path below an ignored
 * directory is never looked at (the walker does not descend), which is git's "a file cannot be
 * re-included when its parent directory is excluded".
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { type GlobOptions, globToRegExp } from "./glob.ts";

export interface IgnoreRule {
  regex: RegExp;
  negate: boolean;
  dirOnly: boolean;
}

/** The rules of one .gitignore, applying below `base` ("/"-separated, "" for the walk's top). */
export interface IgnoreFile {
  base: string;
  rules: IgnoreRule[];
}

/** The rules of a .gitignore file's text. */
export function parseGitignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const raw of text.split("\n")) {
    const rule = parseLine(raw.endsWith("\r") ? raw.slice(0, -1) : raw);
    if (rule) rules.push(rule);
  }
  return rules;
}

function parseLine(line: string): IgnoreRule | null {
  if (line.startsWith("#")) return null;
  return compileRule(trimTrailingSpaces(line), { braces: false });
}

/**
 * One pattern with .gitignore's meaning ("!" negates, a trailing "/" means directories only, a
 * "/" elsewhere anchors it), or null for an empty one. search_files' glob is read this way too,
 * as ripgrep reads its --glob (where braces are allowed).
 */
export function compileRule(line: string, options: GlobOptions): IgnoreRule | null {
  let pattern = line;
  if (pattern === "") return null;
  const negate = pattern.startsWith("!");
  if (negate) pattern = pattern.slice(1);
  const dirOnly = pattern.endsWith("/");
  if (dirOnly) pattern = pattern.slice(0, -1);
  if (pattern === "" || pattern === "/") return null;
  // A "/" anywhere but at the end anchors the pattern to the .gitignore's directory; without
  // one it matches a name at any depth.
  const anchored = pattern.includes("/");
  if (pattern.startsWith("/")) pattern = pattern.slice(1);
  const glob = anchored ? pattern : `**/${pattern}`;
  return { regex: globToRegExp(glob, options), negate, dirOnly };
}

/** Trailing spaces are dropped unless escaped with a backslash. */
function trimTrailingSpaces(line: string): string {
  let end = line.length;
  while (end > 0 && line[end - 1] === " " && line[end - 2] !== "\\") end--;
  return line.slice(0, end);
}

/** The .gitignore files in effect at some directory, shallowest first. Immutable. */
export class IgnoreStack {
  readonly files: readonly IgnoreFile[];

  constructor(files: readonly IgnoreFile[] = []) {
    this.files = files;
  }

  /** This stack plus a deeper directory's file (itself when there is none). */
  with(file: IgnoreFile | null): IgnoreStack {
    return file && file.rules.length > 0 ? new IgnoreStack([...this.files, file]) : this;
  }

  /** Whether `relative` ("/"-separated, from the walk's top) is ignored. */
  ignored(relative: string, isDir: boolean): boolean {
    // Deepest file first, last rule first: the first rule that matches is the one that wins.
    for (let f = this.files.length - 1; f >= 0; f--) {
      const file = this.files[f] as IgnoreFile;
      const local = below(file.base, relative);
      if (local === null) continue;
      for (let r = file.rules.length - 1; r >= 0; r--) {
        const rule = file.rules[r] as IgnoreRule;
        if (rule.dirOnly && !isDir) continue;
        if (rule.regex.test(local)) return !rule.negate;
      }
    }
    return false;
  }
}

/** `relative` as seen from `base`, or null when it is not below it. */
function below(base: string, relative: string): string | null {
  if (base === "") return relative;
  return relative.startsWith(`${base}/`) ? relative.slice(base.length + 1) : null;
}

/** The .gitignore of `directory` (absolute), whose path from the walk's top is `base`. */
export async function loadIgnoreFile(directory: string, base: string): Promise<IgnoreFile | null> {
  try {
    const text = await readFile(path.join(directory, ".gitignore"), "utf8");
    return { base, rules: parseGitignore(text) };
  } catch {
    return null; // none, or unreadable: nothing is ignored by it
  }
}

/**
 * The stack in effect inside `directory`: the .gitignore files of `top` and of every directory
 * from there down to `directory` itself (both absolute; `directory` at or below `top`).
 */
export async function loadIgnoreChain(top: string, directory: string): Promise<IgnoreStack> {
  const relative = path.relative(top, directory);
  const segments = relative === "" ? [] : relative.split(path.sep);
  let stack = new IgnoreStack().with(await loadIgnoreFile(top, ""));
  for (let i = 1; i <= segments.length; i++) {
    const base = segments.slice(0, i).join("/");
    stack = stack.with(await loadIgnoreFile(path.join(top, ...segments.slice(0, i)), base));
  }
  return stack;
}
