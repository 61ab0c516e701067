import { describe, expect, it } from "vitest";
import { type McpCallAnswer, mcpResultText } from "./content.ts";

describe("an MCP answer as the model reads it", () => {
  it.each<[string, McpCallAnswer, string]>([
    [
      "text parts, joined by lines",
      {
        content: [
          { type: "text", text: "one" },
          { type: "text", text: "two" },
        ],
      },
      "one\ntwo",
    ],
    [
      "audio, named",
      { content: [{ type: "audio", data: "AAAA", mimeType: "audio/wav" }] },
      "[audio (audio/wav, 3 bytes): not shown]",
    ],
    [
      "a text resource, with its text",
      { content: [{ type: "resource", resource: { uri: "file:///a.md", text: "# A" } }] },
      "[resource file:///a.md]\n# A",
    ],
    [
      "a binary resource, named",
      {
        content: [
          {
            type: "resource",
            resource: { uri: "file:///a.bin", mimeType: "application/zip", blob: "AAAA" },
          },
        ],
      },
      "[binary resource file:///a.bin (application/zip), 3 bytes: not shown]",
    ],
    [
      "a resource link",
      { content: [{ type: "resource_link", name: "spec", uri: "https://example.com/spec" }] },
      "[resource link: spec https://example.com/spec]",
    ],
    [
      "structured content only, as JSON",
      { content: [], structuredContent: { count: 2 } },
      '{\n  "count": 2\n}',
    ],
    ["nothing", { content: [] }, "(the tool returned no content)"],
    ["an old server's toolResult, as JSON", { toolResult: [1, 2] }, "[\n  1,\n  2\n]"],
  ])("%s", (_what, answer, output) => {
    expect(mcpResultText(answer)).toEqual({ output, is_error: false });
  });

  it("isError is an error result", () => {
    const answer: McpCallAnswer = { content: [{ type: "text", text: "no" }], isError: true };
    expect(mcpResultText(answer)).toEqual({ output: "no", is_error: true });
  });

  it("cuts at the limit without splitting a character, and says how much there was", () => {
    const { output } = mcpResultText(
      { content: [{ type: "text", text: `abc😀${"z".repeat(10)}` }] },
      4, // "abc" and the first half of the emoji (two UTF-16 units)
    );
    expect(output.startsWith("abc\n[… output cut")).toBe(true);
    expect(output).toContain("returned 15 characters, only the first 3 are shown");
  });
});
