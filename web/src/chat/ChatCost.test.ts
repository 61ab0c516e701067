import { describe, expect, it } from "vitest";
import { chatCost, formatUsd } from "./ChatCost.tsx";

const usage = {
  inputTokens: 1,
  outputTokens: 1,
  reasoningTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
};

describe("the chat's cost", () => {
  it("sums the recorded costs and counts the steps without one", () => {
    expect(chatCost({})).toEqual({ usd: 0, steps: 0, unpriced: 0 });
    expect(
      chatCost({ a: { usage, cost_usd: 0.25 }, b: { usage }, c: { usage, cost_usd: 0.5 } }),
    ).toEqual({ usd: 0.75, steps: 3, unpriced: 1 });
  });

  it("shows cents, and less than a cent as such", () => {
    expect(formatUsd(0)).toBe("$0.00");
    expect(formatUsd(0.004)).toBe("<$0.01");
    expect(formatUsd(0.005)).toBe("$0.01");
    expect(formatUsd(1234.5)).toBe("$1,234.50");
  });
});
