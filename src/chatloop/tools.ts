/**
 * The tool registry: the tools a model may call in a turn, their JSON Schemas for the provider,
 * and their execution. Whatever goes wrong with a tool call — an unknown name, input that is not
 * JSON or does not match the schema, a tool that throws — becomes an `is_error` result the model
 * reads and can act on. A tool call never ends the turn.
 */
import { z } from "zod";
import type { ToolDefinition } from "../provider/types.ts";

/** What a tool gets besides its input. */
export interface ToolContext {
  /** Aborted when the turn stops (Stop, shutdown, lost ownership): stop working promptly. */
  signal: AbortSignal;
  chatId: string;
  /** Streams output as it is produced (published as `tool_result` deltas, coalesced). */
  onOutput?: (delta: string) => void;
}

/** A tool's answer: a string or any JSON value, and whether it reports a failure. */
export interface ToolResult {
  output: unknown;
  is_error: boolean;
}

export interface Tool<Input = unknown> {
  name: string;
  description: string;
  /** Validates (and may transform) the model's input; its input side becomes the JSON Schema. */
  inputSchema: z.ZodType<Input>;
  /**
   * The JSON Schema the provider is given, when the tool's own schema is JSON Schema already (an
   * MCP server's tool, which validates its input itself): `inputSchema` then only checks the
   * input's shape (e.g. an object). Default: `inputSchema`'s input side.
   */
  jsonSchema?: Record<string, unknown>;
  execute(input: Input, context: ToolContext): Promise<ToolResult> | ToolResult;
}

/** Types `execute`'s input from the schema. */
export function defineTool<Input>(tool: Tool<Input>): Tool<Input> {
  return tool;
}

/** The message a person would want to see for an error a tool threw. */
export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === "string") return error;
  return "The tool failed.";
}

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

export class ToolRegistry {
  readonly #tools = new Map<string, Tool>();
  #definitions: ToolDefinition[] | undefined;

  constructor(tools: Iterable<Tool> = []) {
    for (const tool of tools) this.register(tool);
  }

  register(tool: Tool): this {
    if (!TOOL_NAME.test(tool.name)) {
      throw new Error(`Tool name "${tool.name}" must be 1–64 letters, digits, "_" or "-".`);
    }
    if (this.#tools.has(tool.name)) throw new Error(`Tool "${tool.name}" is already registered.`);
    this.#tools.set(tool.name, tool);
    this.#definitions = undefined;
    return this;
  }

  get size(): number {
    return this.#tools.size;
  }

  has(name: string): boolean {
    return this.#tools.has(name);
  }

  /** The tools, in registration order (to compose a turn's registry from several). */
  tools(): Tool[] {
    return [...this.#tools.values()];
  }

  /** The tools as the provider sees them (computed once per registration change). */
  definitions(): ToolDefinition[] {
    this.#definitions ??= [...this.#tools.values()].map((tool) => ({
      name: tool.name,
      description: tool.description,
      inputSchema: tool.jsonSchema ?? jsonSchema(tool.inputSchema),
    }));
    return this.#definitions;
  }

  /** Runs one tool call. Never throws: every failure is an `is_error` result. */
  async execute(name: string, input: unknown, context: ToolContext): Promise<ToolResult> {
    const tool = this.#tools.get(name);
    if (!tool) {
      const known = [...this.#tools.keys()].join(", ") || "none";
      return { output: `Unknown tool "${name}". Available tools: ${known}.`, is_error: true };
    }
    // The provider layer hands over arguments that were not valid JSON as the raw string.
    if (typeof input === "string") {
      return {
        output: `The arguments for "${name}" are not valid JSON: ${truncate(input, 200)}`,
        is_error: true,
      };
    }
    const parsed = tool.inputSchema.safeParse(input);
    if (!parsed.success) {
      return {
        output: `Invalid arguments for "${name}":\n${z.prettifyError(parsed.error)}`,
        is_error: true,
      };
    }
    try {
      const result = await tool.execute(parsed.data, context);
      return { output: result.output ?? null, is_error: result.is_error === true };
    } catch (error) {
      return { output: errorText(error), is_error: true };
    }
  }
}

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });
  return rest;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}
