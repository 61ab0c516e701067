import { describe, expect, it } from "vitest";
import { cleanTitle, deriveTitle, GENERATED_TITLE_LENGTH, UNTITLED } from "./title.ts";

const text = (t: string) => [{ type: "text" as const, text: t }];

describe("deriveTitle", () => {
  it("takes the first non-blank line, whitespace collapsed", () => {
    expect(deriveTitle(text("\n\n  Fix   the build \nplease"))).toBe("Fix the build");
  });
  it("cuts long lines at a word boundary", () => {
    const title = deriveTitle(text(`${"word ".repeat(40)}end`));
    expect([...title].length).toBeLessThanOrEqual(80);
    expect(title.endsWith("word…")).toBe(true);
  });
  it("falls back for blank content", () => {
    expect(deriveTitle(text("   "))).toBe(UNTITLED);
  });
});

describe("cleanTitle", () => {
  it.each([
    ['"Fixing the flaky CI build."', "Fixing the flaky CI build"],
    ["Title: Greeting the agent", "Greeting the agent"],
    ["\n  **Rust lifetimes**  \nexplanation", "Rust lifetimes"],
    ["“Don't panic” about errors", "Don't panic about errors"],
    ["  \n ", null],
    ['""', null],
  ])("%j → %j", (answer, title) => {
    expect(cleanTitle(answer)).toBe(title);
  });
  it("cuts to at most 60 characters, one line", () => {
    const title = cleanTitle(`${"longword ".repeat(20)}\nsecond line`) ?? "";
    expect([...title].length).toBeLessThanOrEqual(GENERATED_TITLE_LENGTH);
    expect(title).not.toContain("\n");
  });
});
