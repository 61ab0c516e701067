import type {
  JSONValue,
  LanguageModelV4FunctionTool,
  LanguageModelV4Message,
  LanguageModelV4Prompt,
  LanguageModelV4ToolResultOutput,
  SharedV4ProviderOptions,
} from "@ai-sdk/provider";
import type {
  PromptMessage,
  ProviderMetadata,
  ReasoningPart,
  TextPart,
  ToolCallPart,
  ToolDefinition,
  ToolResultPart,
} from "./types.ts";

type AssistantPart = Extract<LanguageModelV4Message, { role: "assistant" }>["content"][number];
type ProviderOptions = { providerOptions?: SharedV4ProviderOptions };

/** Metadata the provider attached to a streamed part goes back as that part's options. */
function providerOptions(metadata: ProviderMetadata | undefined): ProviderOptions {
  return metadata ? { providerOptions: metadata as SharedV4ProviderOptions } : {};
}

function toolOutput(part: ToolResultPart): LanguageModelV4ToolResultOutput {
  if (typeof part.output === "string") {
    return { type: part.is_error ? "error-text" : "text", value: part.output };
  }
  const value = (part.output ?? null) as JSONValue;
  return { type: part.is_error ? "error-json" : "json", value };
}

function toAssistantPart(part: TextPart | ReasoningPart | ToolCallPart): AssistantPart {
  if (part.type === "text") return { type: "text", text: part.text };
  if (part.type === "reasoning") {
    return { type: "reasoning", text: part.text, ...providerOptions(part.provider_metadata) };
  }
  return {
    type: "tool-call",
    toolCallId: part.tool_call_id,
    toolName: part.name,
    input: part.input,
    ...providerOptions(part.provider_metadata),
  };
}

function toMessage(message: PromptMessage): LanguageModelV4Message {
  switch (message.role) {
    case "system":
      return { role: "system", content: message.content };
    case "user":
      return {
        role: "user",
        content: message.content.map((p) => ({ type: "text", text: p.text })),
      };
    case "assistant":
      return {
        role: "assistant",
        content: message.content.map(toAssistantPart),
      };
    case "tool":
      return {
        role: "tool",
        content: message.content.map((part) => ({
          type: "tool-result",
          toolCallId: part.tool_call_id,
          toolName: part.name,
          output: toolOutput(part),
        })),
      };
  }
}

/** Keel's prompt → the AI SDK's provider-neutral prompt. */
export function toLanguageModelPrompt(messages: PromptMessage[]): LanguageModelV4Prompt {
  return messages.map(toMessage);
}

export function toLanguageModelTools(tools: ToolDefinition[]): LanguageModelV4FunctionTool[] {
  return tools.map((tool) => ({
    type: "function",
    name: tool.name,
    description: tool.description,
    inputSchema: tool.inputSchema,
  }));
}
