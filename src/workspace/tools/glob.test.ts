import { describe, expect, it } from "vitest";
import { expandBraces, globToRegExp } from "./glob.ts";

describe("globToRegExp", () => {
  it.each<[string, string, boolean]>([
    ["*.ts", "a.ts", true],
    ["*.ts", "src/a.ts", false], // "*" stays within one directory
    ["*", ".env", true], // dotfiles are not special
    ["**/*.ts", "a.ts", true], // "**/" is zero or more directories
    ["**/*.ts", "src/deep/a.ts", true],
    ["**/*.ts", "src/deep/a.tsx", false],
    ["**/*", ".github/workflows/ci.yml", true],
    ["**", "a/b/c", true],
    ["src/**", "src/a/b.ts", true],
    ["src/**", "src", false],
    ["src/**", "lib/a.ts", false],
    ["a/**/b", "a/b", true],
    ["a/**/b", "a/x/y/b", true],
    ["a/**/b", "a/xb", false],
    ["a**b", "aXXb", true], // "**" inside a segment is a plain "*"
    ["a**b", "a/b", false],
    ["?.md", "a.md", true],
    ["?.md", "ab.md", false],
    ["?", "/", false],
    ["[abc].txt", "b.txt", true],
    ["[abc].txt", "d.txt", false],
    ["[!abc].txt", "d.txt", true],
    ["[^abc].txt", "a.txt", false],
    ["[a-c]x", "bx", true],
    ["[a-c]x", "dx", false],
    ["[!a]", "/", false], // a negated class never matches "/"
    ["[]]", "]", true],
    ["[", "[", true], // an unclosed class is literal
    ["a.b", "aXb", false], // "." is literal
    ["(x)+", "(x)+", true], // regex characters are literal
    ["\\*", "*", true],
    ["\\*", "a", false],
    ["*.{ts,tsx}", "a.tsx", true],
    ["*.{ts,tsx}", "a.js", false],
    ["{src,test}/**/*.ts", "test/unit/a.ts", true],
    ["{a}", "{a}", true], // no comma: literal braces
    ["{a,b", "{a,b", true], // unclosed: literal
    ["\\{a,b}", "{a,b}", true],
  ])("%s matches %s: %s", (pattern, candidate, expected) => {
    expect(globToRegExp(pattern).test(candidate)).toBe(expected);
  });

  it("leaves braces literal when asked (as .gitignore does)", () => {
    expect(globToRegExp("{a,b}", { braces: false }).test("{a,b}")).toBe(true);
    expect(globToRegExp("{a,b}", { braces: false }).test("a")).toBe(false);
  });
});

describe("expandBraces", () => {
  it.each<[string, string[]]>([
    ["a", ["a"]],
    ["a{b,c}d", ["abd", "acd"]],
    ["{a,b}{1,2}", ["a1", "a2", "b1", "b2"]],
    ["x{a,{b,c}}", ["xa", "xb", "xc"]],
    ["{,a}", ["", "a"]],
  ])("%s", (pattern, expected) => {
    expect(expandBraces(pattern)).toEqual(expected);
  });

  it("stops at a bounded number of alternatives", () => {
    const many = "{0,1,2,3,4,5,6,7,8,9}".repeat(4);
    expect(expandBraces(many).length).toBe(256);
  });
});
