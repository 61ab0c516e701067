import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineTool, type ToolContext, ToolRegistry } from "./tools.ts";

const add = defineTool({
  name: "add",
  description: "Adds two numbers.",
  inputSchema: z.object({ a: z.number(), b: z.number() }),
  execute: ({ a, b }) => ({ output: String(a + b), is_error: false }),
});

const boom = defineTool({
  name: "boom",
  description: "Always throws.",
  inputSchema: z.object({}),
  execute: () => {
    throw new Error("kaboom");
  },
});

const context: ToolContext = { signal: new AbortController().signal, chatId: "c1" };

describe("ToolRegistry", () => {
  const registry = new ToolRegistry([add, boom]);

  it("describes its tools with JSON Schemas", () => {
    const [definition] = registry.definitions();
    expect(definition).toMatchObject({
      name: "add",
      description: "Adds two numbers.",
      inputSchema: {
        type: "object",
        properties: { a: { type: "number" }, b: { type: "number" } },
        required: ["a", "b"],
      },
    });
    expect(definition?.inputSchema).not.toHaveProperty("$schema");
    expect(registry.definitions()).toBe(registry.definitions());
  });

  it("gives the provider a tool's own JSON Schema when it has one", () => {
    const schema = { type: "object", properties: { q: { type: "string" } }, required: ["q"] };
    const mcp = defineTool({
      name: "docs__search",
      description: "Searches the docs.",
      inputSchema: z.record(z.string(), z.unknown()),
      jsonSchema: schema,
      execute: () => ({ output: "", is_error: false }),
    });
    expect(new ToolRegistry([mcp]).definitions()[0]?.inputSchema).toBe(schema);
  });

  it("runs a tool with validated input", async () => {
    expect(await registry.execute("add", { a: 2, b: 3 }, context)).toEqual({
      output: "5",
      is_error: false,
    });
  });

  it("turns every failure into an error result", async () => {
    const unknown = await registry.execute("nope", {}, context);
    expect(unknown.is_error).toBe(true);
    expect(unknown.output).toMatch(/Unknown tool "nope".*add, boom/);

    const badJson = await registry.execute("add", '{"a": 1,', context);
    expect(badJson).toMatchObject({ is_error: true });
    expect(badJson.output).toMatch(/not valid JSON/);

    const invalid = await registry.execute("add", { a: "1" }, context);
    expect(invalid.is_error).toBe(true);
    expect(invalid.output).toMatch(/Invalid arguments for "add"/);

    expect(await registry.execute("boom", {}, context)).toEqual({
      output: "kaboom",
      is_error: true,
    });
  });

  it("rejects duplicate and malformed names", () => {
    expect(() => new ToolRegistry([add, add])).toThrow(/already registered/);
    expect(() => new ToolRegistry([{ ...add, name: "has space" }])).toThrow(/must be/);
  });
});
