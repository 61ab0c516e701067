import { describe, expect, it } from "vitest";
import { deriveTitle, UNTITLED } from "./title.ts";

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
