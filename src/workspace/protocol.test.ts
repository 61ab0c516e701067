import { describe, expect, it } from "vitest";
import { AgentFrame, MCP_TOOL_LIMITS, parseFrame } from "./protocol.ts";

const tool = (overrides: Record<string, unknown> = {}) => ({
  name: "files__read",
  description: "Reads a file.",
  input_schema: { type: "object", properties: { path: { type: "string" } } },
  ...overrides,
});
const toolsFrame = (tools: unknown[]) => JSON.stringify({ type: "tools", tools });

describe("the tools frame (an agent's MCP tools)", () => {
  it("accepts tools within the bounds, their schemas as given", () => {
    const parsed = parseFrame(AgentFrame, toolsFrame([tool(), tool({ name: "gh__list-prs" })]));
    expect(parsed).toEqual({
      ok: true,
      frame: { type: "tools", tools: [tool(), tool({ name: "gh__list-prs" })] },
    });
    expect(parseFrame(AgentFrame, toolsFrame([])).ok).toBe(true);
    const most = Array.from({ length: MCP_TOOL_LIMITS.count }, (_, i) =>
      tool({ name: `s__t${i}` }),
    );
    expect(parseFrame(AgentFrame, toolsFrame(most)).ok).toBe(true);
  });

  it.each([
    ["a name without the server prefix", [tool({ name: "read_file" })]],
    ["a name with a dot", [tool({ name: "files__read.all" })]],
    ["a name of 65 characters", [tool({ name: `s__${"t".repeat(62)}` })]],
    ["a description over the limit", [tool({ description: "d".repeat(4097) })]],
    ["a schema that is not an object's", [tool({ input_schema: { type: "string" } })]],
    ["a schema that is not an object", [tool({ input_schema: "anything" })]],
    [
      "a schema over 64 KB of JSON",
      [tool({ input_schema: { type: "object", description: "x".repeat(64 * 1024) } })],
    ],
    ["a field the protocol does not have", [tool({ run: "rm -rf /" })]],
    ["the same name twice", [tool(), tool()]],
    [
      "more tools than the limit",
      Array.from({ length: MCP_TOOL_LIMITS.count + 1 }, (_, i) => tool({ name: `s__t${i}` })),
    ],
  ])("refuses %s", (_what, tools) => {
    expect(parseFrame(AgentFrame, toolsFrame(tools)).ok).toBe(false);
  });

  it("refuses extra fields on the frame itself", () => {
    const text = JSON.stringify({ type: "tools", tools: [], also: 1 });
    expect(parseFrame(AgentFrame, text).ok).toBe(false);
  });
});
