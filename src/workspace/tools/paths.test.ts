import { describe, expect, it } from "vitest";
import { displayPath, errorCode, fsErrorText, isInside, resolvePath } from "./paths.ts";

const root = "/work/repo";

describe("resolvePath", () => {
  it.each([
    ["a.txt", "/work/repo/a.txt"],
    ["./src/../lib/x.ts", "/work/repo/lib/x.ts"],
    ["src//deep///file", "/work/repo/src/deep/file"],
    [".", "/work/repo"],
    ["..", "/work"],
    ["../other/y", "/work/other/y"],
    ["/etc/hosts", "/etc/hosts"],
    ["/work/repo/src/../a", "/work/repo/a"],
  ])("%s → %s", (input, expected) => {
    expect(resolvePath(root, input)).toBe(expected);
  });
});

describe("displayPath", () => {
  it.each([
    ["/work/repo/a.txt", "a.txt"],
    ["/work/repo/src/x/y.ts", "src/x/y.ts"],
    ["/work/repo", "."],
    ["/work/repo/", "."],
    ["/work/repository/a", "/work/repository/a"], // a sibling sharing a prefix is outside
    ["/work", "/work"],
    ["/etc/hosts", "/etc/hosts"],
    ["/work/repo/..foo", "..foo"], // a name starting with ".." is still inside
  ])("%s → %s", (target, expected) => {
    expect(displayPath(root, target)).toBe(expected);
  });
});

describe("isInside", () => {
  it.each([
    ["/work/repo", true],
    ["/work/repo/a/b", true],
    ["/work/repo2", false],
    ["/work", false],
    ["/", false],
  ])("%s → %s", (target, expected) => {
    expect(isInside(root, target)).toBe(expected);
  });
});

describe("fsErrorText", () => {
  const error = (code: string) => Object.assign(new Error(`${code}: boom`), { code });

  it.each([
    ["ENOENT", /No such file or directory: x\/y\. .*list_files/],
    ["EACCES", /Permission denied: x\/y/],
    ["EPERM", /Permission denied: x\/y/],
    ["EISDIR", /x\/y is a directory.*list_files/],
    ["ENOTDIR", /component of x\/y is a file/],
    ["ENOSPC", /No space left/],
    ["EWHATEVER", /Could not access x\/y: EWHATEVER: boom/],
  ])("%s", (code, expected) => {
    expect(fsErrorText(error(code), "x/y")).toMatch(expected);
  });

  it("says a cancelled call was stopped", () => {
    const aborted = new DOMException("This operation was aborted", "AbortError");
    expect(fsErrorText(aborted, "x")).toBe("Stopped: the tool was cancelled before it finished.");
  });

  it("reads codes only from objects that have a string code", () => {
    expect(errorCode(error("ENOENT"))).toBe("ENOENT");
    expect(errorCode(new Error("plain"))).toBeUndefined();
    expect(errorCode("ENOENT")).toBeUndefined();
    expect(errorCode({ code: 2 })).toBeUndefined();
  });
});
