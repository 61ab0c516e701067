import { describe, expect, it } from "vitest";
import { formatUsd, spendLimitMessage } from "./spend-check.ts";

describe("the spend limit's message", () => {
  it("says what was spent of which limit, when it resets and whom to ask", () => {
    expect(
      spendLimitMessage({
        spent_usd: 10.018,
        resets_at: new Date("2026-12-07T00:00:00Z"),
        limit: { usd: 10, period: "week", source: "default" },
      }),
    ).toBe(
      "You have spent $10.02 of your $10.00 weekly limit. It resets on Monday 7 December 2026 " +
        "at 00:00 UTC. Ask an administrator to raise your limit.",
    );
  });

  it.each([
    [0, "$0.00"],
    [0.004, "$0.0040"],
    [1.5, "$1.50"],
    [1234.567, "$1234.57"],
  ])("writes %d dollars as %s", (usd, text) => {
    expect(formatUsd(usd)).toBe(text);
  });
});
