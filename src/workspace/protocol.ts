/**
 * The workspace agent protocol: JSON text frames over one WebSocket that `keel agent` opens to
 * the server (`AGENT_PATH`, `Authorization: Bearer <agent token>`). The server only ever sends
 * tool calls and cancellations — never a provider credential, a server secret or another user's
 * data — and accepts from the agent only a hello, the tools of its MCP servers, output of calls
 * it made, and their results.
 *
 *   agent → server   hello {protocol, version, dir,          first frame, once
 *                          platform?, directory?}
 *   server → agent   welcome {workspace_id, protocol}
 *   agent → server   tools {tools: [{name, description,      after the welcome, once its MCP
 *                          input_schema}]}                  servers (.mcp.json) have started;
 *                                                           again whenever the set changes
 *   server → agent   call {call_id, tool, input}             a built-in tool, or `server__tool`
 *   agent → server   output {call_id, delta}                 zero or more, as the tool runs
 *   agent → server   result {call_id, output, is_error}      exactly one per call
 *   server → agent   cancel {call_id}                        Stop: kill it, then send its result
 *
 * A `tools` frame replaces the connection's MCP tool set (the latest one counts; a new
 * connection starts with none). Everything in it is bounded (MCP_TOOL_LIMITS): the agent is
 * untrusted input to the server, and a tool's description and schema go into every model request.
 * Liveness is WebSocket ping/pong, not frames.
 */
import type { RawData } from "ws";
import { z } from "zod";

export const PROTOCOL_VERSION = 1;
export const AGENT_PATH = "/api/v1/workspaces/agent/connect";
/** Largest frame either side accepts; tool output is capped well below it. */
export const MAX_FRAME_BYTES = 4 * 1024 * 1024;
/** Close codes of our own (4000–4999 are the application's). */
export const CLOSE = {
  /** Another connection of the same workspace's agent took over. */
  replaced: 4001,
  /** The first frame was not a valid hello, or the protocol version is not spoken here. */
  badHello: 4002,
  /** The workspace was deleted or its token no longer works. */
  revoked: 4003,
} as const;

const CallId = z.string().min(1).max(100);

/** What the server accepts of an agent's MCP tools (the agent leaves out what does not fit). */
export const MCP_TOOL_LIMITS = {
  count: 200,
  descriptionChars: 4096,
  /** An input schema's size as JSON. */
  schemaChars: 64 * 1024,
} as const;
/** A provider's tool name rule; an MCP tool's is `<server>__<tool>`, unlike any built-in's. */
export const MCP_TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** A JSON value's length as text, or Infinity when it cannot be one (a cycle, too deep). */
export function jsonLength(value: unknown): number {
  try {
    return JSON.stringify(value)?.length ?? Number.POSITIVE_INFINITY;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

export const McpToolInfo = z.strictObject({
  name: z
    .string()
    .regex(MCP_TOOL_NAME)
    .refine((name) => name.includes("__"), "an MCP tool's name is <server>__<tool>"),
  description: z.string().max(MCP_TOOL_LIMITS.descriptionChars),
  /** JSON Schema of the arguments, as the MCP server gave it: an object's. */
  input_schema: z
    .looseObject({ type: z.literal("object") })
    .refine(
      (schema) => jsonLength(schema) <= MCP_TOOL_LIMITS.schemaChars,
      `an input schema is at most ${MCP_TOOL_LIMITS.schemaChars} characters of JSON`,
    ),
});
export type McpToolInfo = z.infer<typeof McpToolInfo>;

export const AgentFrame = z.discriminatedUnion("type", [
  // The one frame that is not strict: a newer agent may say more about itself than this server
  // knows (within the same protocol version), and is still welcomed; what it adds is ignored.
  z.object({
    type: z.literal("hello"),
    protocol: z.int().positive(),
    version: z.string().max(100),
    dir: z.string().max(4096),
    /** The agent's OS, e.g. "linux x64" (told to the model; optional: older agents omit it). */
    platform: z.string().max(200).optional(),
    /** The workspace directory tools run in (told to the model; older agents send only `dir`). */
    directory: z.string().max(4096).optional(),
  }),
  z.strictObject({
    type: z.literal("tools"),
    tools: z
      .array(McpToolInfo)
      .max(MCP_TOOL_LIMITS.count)
      .refine((tools) => new Set(tools.map((t) => t.name)).size === tools.length, "names repeat"),
  }),
  z.strictObject({ type: z.literal("output"), call_id: CallId, delta: z.string() }),
  z.strictObject({
    type: z.literal("result"),
    call_id: CallId,
    output: z.string(),
    is_error: z.boolean(),
  }),
]);
export type AgentFrame = z.infer<typeof AgentFrame>;

export const ServerFrame = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("welcome"),
    workspace_id: z.string(),
    protocol: z.int().positive(),
  }),
  z.strictObject({
    type: z.literal("call"),
    call_id: CallId,
    tool: z.string().max(64),
    input: z.unknown(),
  }),
  z.strictObject({ type: z.literal("cancel"), call_id: CallId }),
]);
export type ServerFrame = z.infer<typeof ServerFrame>;

/** A frame's text as JSON of the given schema, or a reason it is not one. */
export function parseFrame<T>(
  schema: z.ZodType<T>,
  text: string,
): { ok: true; frame: T } | { ok: false; reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, reason: "not JSON" };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: z.prettifyError(parsed.error) };
  return { ok: true, frame: parsed.data };
}

/** A received WebSocket message's text (`ws` hands over a Buffer, an ArrayBuffer or fragments). */
export function frameText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return Buffer.from(data as ArrayBuffer).toString("utf8");
}
