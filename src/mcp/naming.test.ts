import { describe, expect, it } from "vitest";
import type { McpTool } from "./connection.ts";
import { MAX_TOOLS_PER_SERVER, offeredTools } from "./naming.ts";

const tool = (name: string): McpTool => ({ name, inputSchema: { type: "object" } });
const server = { name: "docs", tools_allow: null, tools_deny: null };

describe("offeredTools", () => {
  it.each([
    ["a plain name", "search", "docs__search", null],
    ["a name with a dot (the provider refuses it)", "search.v2", null, "invalid name"],
    ["a name too long with its prefix", "x".repeat(59), null, "invalid name"],
    ["a name exactly long enough", "x".repeat(58), `docs__${"x".repeat(58)}`, null],
  ])("%s", (_name, name, chatName, leftOut) => {
    expect(offeredTools(server, [tool(name)])[0]).toMatchObject({ chatName, leftOut });
  });

  it(`offers at most ${MAX_TOOLS_PER_SERVER} tools, in the server's order`, () => {
    const tools = Array.from({ length: MAX_TOOLS_PER_SERVER + 2 }, (_, i) => tool(`t${i}`));
    const offered = offeredTools(server, tools);
    expect(offered.filter((o) => o.leftOut === null)).toHaveLength(MAX_TOOLS_PER_SERVER);
    expect(offered.at(-1)).toMatchObject({ chatName: null, leftOut: "too many" });
    expect(offered[0]).toMatchObject({ chatName: "docs__t0", leftOut: null });
  });

  it("the limit counts only the tools that pass the lists", () => {
    const tools = Array.from({ length: MAX_TOOLS_PER_SERVER + 2 }, (_, i) => tool(`t${i}`));
    const offered = offeredTools({ ...server, tools_deny: ["t0", "t1"] }, tools);
    expect(offered.filter((o) => o.leftOut === null)).toHaveLength(MAX_TOOLS_PER_SERVER);
    expect(offered.filter((o) => o.leftOut === "too many")).toHaveLength(0);
  });
});
