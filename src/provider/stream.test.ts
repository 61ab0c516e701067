import type { LanguageModelV4, LanguageModelV4CallOptions } from "@ai-sdk/provider";
import { describe, expect, it } from "vitest";
import type { CallSettings } from "./settings.ts";
import { streamLanguageModel } from "./stream.ts";
import type { StreamRequest } from "./types.ts";

/** A model that records its call options and streams one finished text reply. */
function recordingModel(calls: LanguageModelV4CallOptions[]): LanguageModelV4 {
  return {
    specificationVersion: "v4",
    provider: "test.chat",
    modelId: "m",
    supportedUrls: {},
    doGenerate: () => Promise.reject(new Error("not used")),
    doStream: async (options: LanguageModelV4CallOptions) => {
      calls.push(options);
      const usage = {
        inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 },
        outputTokens: { total: 1, text: 1, reasoning: 0 },
      };
      return {
        stream: new ReadableStream({
          start(controller) {
            controller.enqueue({ type: "text-delta", id: "t", delta: "ok" });
            controller.enqueue({
              type: "finish",
              finishReason: { unified: "stop", raw: "stop" },
              usage,
            });
            controller.close();
          },
        }),
      };
    },
  } as unknown as LanguageModelV4;
}

async function callOptions(request: Partial<StreamRequest>, call: CallSettings) {
  const calls: LanguageModelV4CallOptions[] = [];
  const parts = streamLanguageModel(
    recordingModel(calls),
    { messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }], ...request },
    new AbortController().signal,
    call,
  );
  for await (const _ of parts) {
    // drain
  }
  return calls[0];
}

describe("streamLanguageModel with a model's settings", () => {
  it.each([
    ["the model's limit alone", undefined, 4000, 4000],
    ["the request's limit alone", 200, undefined, 200],
    ["the request's lower limit (a title)", 200, 4000, 200],
    ["the model's lower limit", 8000, 4000, 4000],
  ])("takes %s as the output limit", async (_, requested, model, expected) => {
    const options = await callOptions(
      requested === undefined ? {} : { maxOutputTokens: requested },
      model === undefined ? {} : { maxOutputTokens: model },
    );
    expect(options?.maxOutputTokens).toBe(expected);
  });

  it("sends the model's temperature and provider options", async () => {
    const providerOptions = { anthropic: { thinking: { type: "disabled" } } };
    const options = await callOptions({ temperature: 1 }, { temperature: 0.2, providerOptions });
    expect(options?.temperature).toBe(0.2);
    expect(options?.providerOptions).toEqual(providerOptions);
  });

  it("sends no provider options when the model has none", async () => {
    const options = await callOptions({}, {});
    expect(options).not.toHaveProperty("providerOptions");
    expect(options?.temperature).toBeUndefined();
  });
});
