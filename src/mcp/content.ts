/**
 * An MCP tool's answer as a Keel tool result. The model reads text: text parts are joined, other
 * content (images, audio, binary resources) is named in a line rather than pasted as base64, and
 * the whole is capped — the MCP server decides how much it returns, Keel decides how much goes
 * into the model's context. `isError` becomes `is_error`.
 */
import type { CallToolResult, ContentBlock } from "@modelcontextprotocol/sdk/types.js";
import type { ToolResult } from "../chatloop/tools.ts";

/** The most text of one MCP tool result the model is given (64 Ki characters). */
export const MCP_OUTPUT_CHARS = 64 * 1024;

/** What `Client.callTool` resolves to: a result, or (servers of the 2024-10 protocol) `toolResult`. */
export type McpCallAnswer = CallToolResult | { toolResult: unknown };

export function mcpToolResult(answer: McpCallAnswer, maxChars = MCP_OUTPUT_CHARS): ToolResult {
  if (!("content" in answer)) {
    return { output: capText(jsonText(answer.toolResult), maxChars), is_error: false };
  }
  const parts = answer.content.map(contentText);
  // A tool with an output schema may answer with structured content only.
  if (parts.length === 0 && answer.structuredContent !== undefined) {
    parts.push(jsonText(answer.structuredContent));
  }
  const text = parts.join("\n");
  return {
    output: capText(text === "" ? "(the tool returned no content)" : text, maxChars),
    is_error: answer.isError === true,
  };
}

function contentText(block: ContentBlock): string {
  switch (block.type) {
    case "text":
      return block.text;
    case "image":
    case "audio":
      return `[${block.type} (${block.mimeType}, ${approximateSize(block.data)}): not shown]`;
    case "resource": {
      const { resource } = block;
      const kind = resource.mimeType ? ` (${resource.mimeType})` : "";
      if ("text" in resource) return `[resource ${resource.uri}${kind}]\n${resource.text}`;
      return `[binary resource ${resource.uri}${kind}, ${approximateSize(resource.blob)}: not shown]`;
    }
    case "resource_link":
      return `[resource link: ${block.name} ${block.uri}]`;
    default:
      return "[content of a kind Keel does not know: not shown]";
  }
}

/** The decoded size of base64 data, for people. */
function approximateSize(base64: string): string {
  const bytes = Math.floor((base64.length * 3) / 4);
  return bytes < 1024 ? `${bytes} bytes` : `${Math.round(bytes / 1024)} KB`;
}

function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return String(value);
  }
}

/** `text` cut to `maxChars` (never inside a surrogate pair), with a note saying so. */
export function capText(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  let cut = maxChars;
  const last = text.charCodeAt(cut - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut -= 1;
  return (
    `${text.slice(0, cut)}\n[… output cut: the MCP tool returned ${text.length} characters, ` +
    `only the first ${cut} are shown. Ask the tool for less (a narrower query, a page) if you need the rest.]`
  );
}
