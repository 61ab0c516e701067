/**
 * Glob patterns as regular expressions over "/"-separated relative paths, shared by list_files'
 * pattern, search_files' glob and .gitignore rules so all three agree on what a pattern means:
 *
 *   *       any run of characters except "/"
 *   ?       one character except "/"
 *   [abc]   a character class ([!abc] or [^abc] negates it; never matches "/")
 *   **      as a whole path segment: zero or more directories ("**\/x", "a/**\/b", "a/**")
 *   {a,b}   alternatives (globs only; .gitignore has no braces)
 *   \x      the character x itself
 *
 * Unlike a shell, "*" also matches names that start with a dot: the model should see `.github/`.
 */

export interface GlobOptions {
  /** Expand `{a,b}` alternatives (default true). */
  braces?: boolean;
}

/** Brace expansion stops here: a pattern is for matching paths, not generating them. */
const MAX_ALTERNATIVES = 256;

/** A regular expression that matches a whole relative path against `pattern`. */
export function globToRegExp(pattern: string, options: GlobOptions = {}): RegExp {
  const alternatives = options.braces === false ? [pattern] : expandBraces(pattern);
  const body = alternatives.map(translate).join("|");
  return new RegExp(`^(?:${body})$`, "s");
}

/** `a{b,c}d` → [`abd`, `acd`], recursively; a brace without a top-level comma is literal. */
export function expandBraces(pattern: string): string[] {
  const open = findUnescaped(pattern, "{", 0);
  if (open === -1) return [pattern];
  const group = splitGroup(pattern, open);
  if (!group) {
    // Literal "{": escape it so translate() keeps it, and expand whatever follows.
    const rest = expandBraces(pattern.slice(open + 1));
    return rest.map((tail) => `${pattern.slice(0, open)}\\{${tail}`);
  }
  const prefix = pattern.slice(0, open);
  const suffixes = expandBraces(pattern.slice(group.end + 1));
  const out: string[] = [];
  for (const option of group.options) {
    for (const middle of expandBraces(option)) {
      for (const suffix of suffixes) {
        if (out.length >= MAX_ALTERNATIVES) return out;
        out.push(prefix + middle + suffix);
      }
    }
  }
  return out;
}

/** The options of the brace group opening at `open` and the index of its "}", if it is one. */
function splitGroup(pattern: string, open: number): { options: string[]; end: number } | null {
  const options: string[] = [];
  let depth = 0;
  let start = open + 1;
  for (let i = open + 1; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") {
      i++;
    } else if (c === "{") {
      depth++;
    } else if (c === "}" && depth > 0) {
      depth--;
    } else if (c === "," && depth === 0) {
      options.push(pattern.slice(start, i));
      start = i + 1;
    } else if (c === "}") {
      options.push(pattern.slice(start, i));
      return options.length > 1 ? { options, end: i } : null;
    }
  }
  return null;
}

function findUnescaped(text: string, char: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === char) return i;
  }
  return -1;
}

/** One brace-free glob as the source of a regular expression. */
function translate(glob: string): string {
  let out = "";
  let i = 0;
  while (i < glob.length) {
    const c = glob[i] as string;
    if (c === "*") {
      let end = i;
      while (glob[end] === "*") end++;
      const wholeSegment =
        (i === 0 || glob[i - 1] === "/") && (end === glob.length || glob[end] === "/");
      if (end - i >= 2 && wholeSegment) {
        if (end === glob.length) {
          out += ".*"; // "a/**": everything below a; "**" alone: everything
        } else {
          out += "(?:[^/]*/)*"; // "**/": zero or more directories
          end++; // the "/" is part of the group
        }
      } else {
        out += "[^/]*"; // "*", and "**" inside a segment (as git treats it)
      }
      i = end;
    } else if (c === "?") {
      out += "[^/]";
      i++;
    } else if (c === "[") {
      const charClass = translateClass(glob, i);
      if (charClass) {
        out += charClass.source;
        i = charClass.end + 1;
      } else {
        out += "\\[";
        i++;
      }
    } else if (c === "\\" && i + 1 < glob.length) {
      out += escapeRegExp(glob[i + 1] as string);
      i += 2;
    } else {
      out += escapeRegExp(c);
      i++;
    }
  }
  return out;
}

/** `[...]` starting at `open` as a regular-expression class, or null when it is not closed. */
function translateClass(glob: string, open: number): { source: string; end: number } | null {
  let i = open + 1;
  let negate = false;
  if (glob[i] === "!" || glob[i] === "^") {
    negate = true;
    i++;
  }
  let body = "";
  // A "]" right after the opening (or the negation) is a member, not the end.
  for (let first = true; i < glob.length; i++, first = false) {
    const c = glob[i] as string;
    if (c === "]" && !first) {
      if (body === "") return null;
      return { source: negate ? `[^${body}/]` : `[${body}]`, end: i };
    }
    if (c === "\\" && i + 1 < glob.length) {
      i++;
      body += escapeClassMember(glob[i] as string); // "\-" is a literal "-", not a range
    } else {
      body += c === "-" ? "-" : escapeClassMember(c);
    }
  }
  return null;
}

function escapeClassMember(char: string): string {
  return /[\][^\\-]/.test(char) ? `\\${char}` : char;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
