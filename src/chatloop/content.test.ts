import { describe, expect, it } from "vitest";
import type { StreamPart } from "../provider/types.ts";
import { ContentBuilder } from "./content.ts";

function build(parts: StreamPart[]): ContentBuilder {
  const builder = new ContentBuilder();
  for (const part of parts) builder.add(part);
  return builder;
}

describe("ContentBuilder", () => {
  it("joins consecutive deltas of one kind and keeps the order of kinds", () => {
    const builder = build([
      { type: "reasoning-delta", delta: "Think " },
      { type: "reasoning-delta", delta: "hard." },
      { type: "text-delta", delta: "Hel" },
      { type: "text-delta", delta: "lo." },
      { type: "tool-call", toolCallId: "c1", toolName: "read_file", input: { path: "a" } },
      { type: "text-delta", delta: "Done." },
    ]);
    expect(builder.parts()).toEqual([
      { type: "reasoning", text: "Think hard." },
      { type: "text", text: "Hello." },
      { type: "tool_call", tool_call_id: "c1", name: "read_file", input: { path: "a" } },
      { type: "text", text: "Done." },
    ]);
    expect(builder.text()).toBe("Hello.Done.");
  });

  it("counts a part complete once another kind or a tool call follows; a tool call at once", () => {
    const builder = new ContentBuilder();
    const completed: number[] = [];
    const stream: StreamPart[] = [
      { type: "reasoning-delta", delta: "Think " },
      { type: "reasoning-delta", delta: "hard." },
      { type: "text-delta", delta: "Hel" },
      { type: "text-delta", delta: "lo." },
      { type: "tool-call", toolCallId: "c1", toolName: "read_file", input: { path: "a" } },
      { type: "tool-call", toolCallId: "c2", toolName: "read_file", input: { path: "b" } },
      { type: "text-delta", delta: "Done." },
    ];
    for (const part of stream) {
      builder.add(part);
      completed.push(builder.completed);
    }
    expect(completed).toEqual([0, 0, 1, 1, 3, 4, 4]);
    expect(builder.parts(2)).toEqual([
      { type: "reasoning", text: "Think hard." },
      { type: "text", text: "Hello." },
    ]);
  });

  it("merges provider metadata that arrives on reasoning deltas", () => {
    const builder = build([
      { type: "reasoning-delta", delta: "Hmm." },
      { type: "reasoning-delta", delta: "", providerMetadata: { anthropic: { signature: "sig" } } },
    ]);
    expect(builder.parts()).toEqual([
      { type: "reasoning", text: "Hmm.", provider_metadata: { anthropic: { signature: "sig" } } },
    ]);
  });

  it("keeps no tool call in the partial content of a stopped or failed attempt", () => {
    const builder = build([
      { type: "text-delta", delta: "Let me look." },
      { type: "tool-call", toolCallId: "c1", toolName: "execute", input: { command: "ls" } },
    ]);
    expect(builder.partialParts()).toEqual([{ type: "text", text: "Let me look." }]);
  });

  it("ignores tool-input deltas and finish parts: only whole calls are content", () => {
    const builder = build([
      { type: "tool-input-start", toolCallId: "c1", toolName: "execute" },
      { type: "tool-input-delta", toolCallId: "c1", delta: '{"command"' },
    ]);
    expect(builder.parts()).toEqual([]);
  });
});
