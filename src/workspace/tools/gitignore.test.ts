import { describe, expect, it } from "vitest";
import { compileRule, IgnoreStack, loadIgnoreChain, parseGitignore } from "./gitignore.ts";
import { makeTree } from "./testing.ts";

/** Whether `candidate` is ignored by a root .gitignore holding `text`. */
function ignoredBy(text: string, candidate: string, isDir = false): boolean {
  return new IgnoreStack([{ base: "", rules: parseGitignore(text) }]).ignored(candidate, isDir);
}

describe(".gitignore rules", () => {
  it.each<[string, string, string, boolean, boolean]>([
    // [case, .gitignore, path, is a directory, ignored]
    ["a name matches at any depth", "*.log", "debug.log", false, true],
    ["a name matches at any depth (nested)", "*.log", "a/b/debug.log", false, true],
    ["no match", "*.log", "debug.txt", false, false],
    ["a plain name matches files", "build", "build", false, true],
    ["a plain name matches directories", "build", "x/build", true, true],
    ["comments are ignored", "# *.log", "a.log", false, false],
    ["an escaped # is a pattern", "\\#notes", "#notes", false, true],
    ["blank lines are ignored", "\n\n   \n", "a", false, false],
    ["trailing spaces are dropped", "a.txt   ", "a.txt", false, true],
    ["an escaped trailing space is kept", "a\\ ", "a ", false, true],
    ["CRLF files", "a.txt\r\nb.txt\r\n", "b.txt", false, true],
    ["negation re-includes", "*.log\n!keep.log", "keep.log", false, false],
    ["negation: others stay ignored", "*.log\n!keep.log", "other.log", false, true],
    ["the last matching rule wins", "!keep.log\n*.log", "keep.log", false, true],
    ["an escaped ! is a pattern", "\\!important", "!important", false, true],
    ["a trailing / matches directories", "out/", "out", true, true],
    ["a trailing / does not match files", "out/", "out", false, false],
    ["a trailing / matches at any depth", "out/", "a/out", true, true],
    ["a leading / anchors", "/todo.txt", "todo.txt", false, true],
    ["a leading / anchors (not nested)", "/todo.txt", "sub/todo.txt", false, false],
    ["an inner / anchors", "doc/frotz", "doc/frotz", false, true],
    ["an inner / anchors (not nested)", "doc/frotz", "a/doc/frotz", false, false],
    ["a leading **/ matches anywhere", "**/foo", "a/b/foo", false, true],
    ["a leading **/ matches at the top", "**/foo", "foo", false, true],
    ["**/ followed by a path", "**/foo/bar", "x/foo/bar", false, true],
    ["a trailing /** matches inside", "abc/**", "abc/x/y", false, true],
    ["a trailing /** does not match the directory", "abc/**", "abc", true, false],
    ["/**/ matches zero directories", "a/**/b", "a/b", false, true],
    ["/**/ matches several directories", "a/**/b", "a/x/y/b", false, true],
    ["? matches one character", "file?.txt", "file1.txt", false, true],
    ["? does not match /", "a?b", "a/b", false, false],
    ["a character class", "*.[oa]", "x.a", false, true],
    ["a negated character class", "*.[!oa]", "x.a", false, false],
    ["* does not cross directories in anchored patterns", "src/*.js", "src/a/b.js", false, false],
    ["braces are literal in .gitignore", "{a,b}", "a", false, false],
    ["a lone ! is nothing", "!", "a", false, false],
    ["a lone / is nothing", "/", "a", false, false],
  ])("%s", (_, text, candidate, isDir, expected) => {
    expect(ignoredBy(text, candidate, isDir)).toBe(expected);
  });
});

describe("IgnoreStack", () => {
  const stack = new IgnoreStack()
    .with({ base: "", rules: parseGitignore("*.log\n/top-only\n") })
    .with({ base: "pkg", rules: parseGitignore("!keep.log\ndist/\n/anchored\n") });

  it.each<[string, boolean, boolean]>([
    ["a.log", false, true],
    ["pkg/a.log", false, true],
    ["pkg/keep.log", false, false], // a deeper file overrides a shallower one
    ["keep.log", false, true], // ...only below its own directory
    ["pkg/dist", true, true],
    ["dist", true, false],
    ["pkg/anchored", false, true], // anchored to the directory of its .gitignore
    ["pkg/sub/anchored", false, false],
    ["anchored", false, false],
    ["top-only", false, true],
    ["pkg/top-only", false, false],
    ["pkgx/dist", true, false], // "pkg" is not a prefix of "pkgx"
  ])("%s (dir: %s) ignored: %s", (candidate, isDir, expected) => {
    expect(stack.ignored(candidate, isDir)).toBe(expected);
  });

  it("with(null) and with(no rules) keep the same stack", () => {
    expect(stack.with(null)).toBe(stack);
    expect(stack.with({ base: "x", rules: [] })).toBe(stack);
  });
});

describe("compileRule", () => {
  it("reads a glob as ripgrep reads --glob: braces allowed, ! negates", () => {
    const rule = compileRule("!*.{ts,tsx}", { braces: true });
    expect(rule?.negate).toBe(true);
    expect(rule?.regex.test("src/a.tsx")).toBe(true);
    expect(compileRule("", { braces: true })).toBeNull();
  });
});

describe("loadIgnoreChain", () => {
  it("loads the .gitignore files from the top down to a directory", async () => {
    const root = await makeTree({
      ".gitignore": "*.log\n",
      "a/.gitignore": "!keep.log\n",
      "a/b/.gitignore": "secret\n",
      "c/.gitignore": "*\n",
    });
    const stack = await loadIgnoreChain(root, `${root}/a/b`);
    expect(stack.files.map((file) => file.base)).toEqual(["", "a", "a/b"]);
    expect(stack.ignored("a/b/x.log", false)).toBe(true);
    expect(stack.ignored("a/b/keep.log", false)).toBe(false);
    expect(stack.ignored("a/b/secret", false)).toBe(true);
  });
});
