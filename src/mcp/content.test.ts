import { describe, expect, it } from "vitest";
import { capText, type McpCallAnswer, mcpToolResult } from "./content.ts";

describe("mcpToolResult", () => {
  it.each<[string, McpCallAnswer, string, boolean]>([
    [
      "text parts are joined",
      {
        content: [
          { type: "text", text: "a" },
          { type: "text", text: "b" },
        ],
      },
      "a\nb",
      false,
    ],
    [
      "isError becomes is_error",
      { content: [{ type: "text", text: "no" }], isError: true },
      "no",
      true,
    ],
    [
      "a text resource is shown with its uri",
      {
        content: [
          {
            type: "resource",
            resource: { uri: "file:///a.md", text: "# A", mimeType: "text/markdown" },
          },
        ],
      },
      "[resource file:///a.md (text/markdown)]\n# A",
      false,
    ],
    [
      "a binary resource is described",
      { content: [{ type: "resource", resource: { uri: "file:///a.bin", blob: "AAAA" } }] },
      "[binary resource file:///a.bin, 3 bytes: not shown]",
      false,
    ],
    [
      "a resource link is named",
      { content: [{ type: "resource_link", name: "spec", uri: "https://x.test/spec" }] },
      "[resource link: spec https://x.test/spec]",
      false,
    ],
    [
      "structured content only",
      { content: [], structuredContent: { n: 1 } },
      '{\n  "n": 1\n}',
      false,
    ],
    ["no content at all", { content: [] }, "(the tool returned no content)", false],
    ["a 2024-10 server's toolResult", { toolResult: "old" }, '"old"', false],
  ])("%s", (_name, answer, output, isError) => {
    expect(mcpToolResult(answer)).toEqual({ output, is_error: isError });
  });

  it("never cuts a surrogate pair in two", () => {
    const cut = capText(`ab${"😀".repeat(3)}`, 3);
    expect(cut.startsWith("ab\n")).toBe(true);
    expect(cut).toContain("only the first 2 are shown");
  });
});
