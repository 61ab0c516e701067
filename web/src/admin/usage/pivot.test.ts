import { describe, expect, it } from "vitest";
import type { UsageRow } from "./api.ts";
import { MAX_SERIES, OTHERS, pivot } from "./pivot.ts";

function row(day: string, who: string, cost: number, tokens = 0): UsageRow {
  return {
    key: day,
    name: day,
    split_key: who,
    split_name: who.toUpperCase(),
    cost_usd: cost,
    input_tokens: tokens,
    output_tokens: 0,
    cached_input_tokens: 0,
    cache_write_tokens: 0,
    reasoning_tokens: 0,
    messages: 1,
    unpriced_messages: 0,
    chats: 1,
  };
}

describe("pivot", () => {
  it("gives every day a point, zero where nothing was used, series costliest first", () => {
    const data = pivot(
      [row("2026-11-01", "a", 1, 10), row("2026-11-03", "b", 5, 1), row("2026-11-03", "a", 1)],
      ["2026-11-01", "2026-11-02", "2026-11-03"],
      "cost",
    );
    expect(data.series).toEqual([
      { key: "s0", name: "B" },
      { key: "s1", name: "A" },
    ]);
    expect(data.points).toEqual([
      { day: "2026-11-01", s0: 0, s1: 1 },
      { day: "2026-11-02", s0: 0, s1: 0 },
      { day: "2026-11-03", s0: 5, s1: 1 },
    ]);
    expect(pivot([row("2026-11-01", "a", 1, 10)], ["2026-11-01"], "tokens").points).toEqual([
      { day: "2026-11-01", s0: 10 },
    ]);
  });

  it("sums the cheapest as Others past the series limit", () => {
    const rows = Array.from({ length: MAX_SERIES + 2 }, (_, i) =>
      row("2026-11-01", `u${i}`, i + 1),
    );
    const data = pivot(rows, ["2026-11-01"], "cost");
    expect(data.series).toHaveLength(MAX_SERIES);
    expect(data.series.at(-1)).toEqual({ key: `s${MAX_SERIES - 1}`, name: OTHERS });
    // The three cheapest (1 + 2 + 3) are Others.
    expect(data.points[0]?.[`s${MAX_SERIES - 1}`]).toBe(6);
  });
});
