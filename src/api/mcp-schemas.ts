/**
 * The MCP servers' schemas (beside `schemas.ts`, whose conventions they follow: strict request
 * objects, every string storable). A server's name prefixes its tools' names (`<name>__<tool>`,
 * at most 64 characters in all), so it is short and cannot contain the separator. Header values go
 * in and never come out: responses carry `header_names` only.
 */
import { z } from "@hono/zod-openapi";
import { Id, isStorableText, text } from "./schemas.ts";

export const MCP_SERVER_NAME = /^[a-zA-Z0-9_-]{1,30}$/;
export const MAX_MCP_HEADERS = 32;

const Name = text()
  .regex(MCP_SERVER_NAME, "1–30 letters, digits, '_' or '-' (it prefixes the tools' names).")
  .refine((name) => !name.includes("__"), "Must not contain '__' (it separates server and tool).")
  .openapi({ description: "Prefixes its tools' names: `<name>__<tool>`.", example: "docs" });

const Url = z
  .url({ protocol: /^https?$/, error: "An http:// or https:// URL." })
  .max(2048)
  .refine(isStorableText, "Text without U+0000 or unpaired UTF-16 surrogates.")
  .refine((url) => {
    const parsed = URL.parse(url);
    return parsed !== null && parsed.username === "" && parsed.password === "";
  }, "No credentials in the URL (it is shown to admins): send them as a header instead.")
  .openapi({
    description: "The server's Streamable HTTP endpoint.",
    example: "https://mcp.example.com/mcp",
  });

/** Headers the MCP transport sets itself: an admin's value would break the protocol. */
const RESERVED_HEADERS = new Set([
  "accept",
  "connection",
  "content-length",
  "content-type",
  "host",
  "last-event-id",
  "mcp-protocol-version",
  "mcp-session-id",
  "transfer-encoding",
]);

const HeaderName = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/, "An HTTP header name (letters, digits, '-', …).")
  .refine((name) => !RESERVED_HEADERS.has(name.toLowerCase()), "Set by Keel's MCP client.");
const HeaderValue = z
  .string()
  .max(8192)
  .regex(/^[\t\x20-\x7e]*$/, "Printable ASCII on one line.");

const Headers = z
  .record(HeaderName, HeaderValue)
  .refine((h) => Object.keys(h).length <= MAX_MCP_HEADERS, `At most ${MAX_MCP_HEADERS} headers.`)
  .openapi({ description: "Sent with every request; stored encrypted; never returned." });

const HeadersPatch = z
  .record(HeaderName, HeaderValue.nullable())
  .refine((h) => Object.keys(h).length <= MAX_MCP_HEADERS, `At most ${MAX_MCP_HEADERS} headers.`)
  .nullable()
  .openapi({
    description:
      "Merged by name: a value sets the header, null removes it, a header left out is kept. " +
      "`headers: null` removes them all.",
  });

const ToolNames = z
  .array(text().min(1).max(128))
  .max(500)
  .nullable()
  .openapi({ description: "The server's own tool names (without the `<name>__` prefix)." });

export const CreateMcpServerBody = z
  .strictObject({
    name: Name,
    url: Url,
    headers: Headers.optional(),
    enabled: z.boolean().optional().openapi({ description: "Default true." }),
    tools_allow: ToolNames.optional().openapi({ description: "Only these tools; null: all." }),
    tools_deny: ToolNames.optional().openapi({ description: "These tools are left out." }),
  })
  .openapi("CreateMcpServerRequest");

export const UpdateMcpServerBody = z
  .strictObject({
    name: Name.optional(),
    url: Url.optional(),
    headers: HeadersPatch.optional(),
    enabled: z.boolean().optional(),
    tools_allow: ToolNames.optional(),
    tools_deny: ToolNames.optional(),
  })
  .openapi("UpdateMcpServerRequest");

const Timestamp = z.string().openapi({ description: "ISO-8601 time.", format: "date-time" });

export const McpServerSchema = z
  .object({
    id: Id,
    name: z.string(),
    url: z.string(),
    header_names: z
      .array(z.string())
      .openapi({ description: "The headers sent; their values are never returned." }),
    enabled: z.boolean(),
    tools_allow: z.array(z.string()).nullable(),
    tools_deny: z.array(z.string()).nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi("McpServer");

export const McpServerList = z
  .object({ mcp_servers: z.array(McpServerSchema) })
  .openapi("McpServerList");

export const McpServerTools = z
  .object({
    tools: z.array(
      z.object({
        name: z.string().openapi({ description: "The server's own name of the tool." }),
        chat_name: z
          .string()
          .nullable()
          .openapi({ description: "What models call it (`<server>__<tool>`); null: not offered." }),
        description: z.string(),
        offered: z.boolean().openapi({
          description: "Whether chats get it (enabled server, allow/deny lists, a valid name).",
        }),
      }),
    ),
  })
  .openapi("McpServerTools");
