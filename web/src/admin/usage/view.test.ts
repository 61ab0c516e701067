import { describe, expect, it } from "vitest";
import { searchFromView, viewFromSearch } from "./view.ts";

const NOW = Date.parse("2026-12-06T15:00:00Z");

describe("the usage page's address", () => {
  it("defaults to the last 30 days, per user, in dollars", () => {
    expect(viewFromSearch("", NOW)).toEqual({
      preset: 30,
      period: { since: "2026-11-07", until: "2026-12-06" },
      split: "user",
      metric: "cost",
    });
    expect(searchFromView(viewFromSearch("", NOW))).toBe("");
  });

  it("round-trips a preset, a custom range, the split and the measure", () => {
    for (const search of ["days=7&split=model", "since=2026-11-01&until=2026-11-30&show=tokens"]) {
      expect(searchFromView(viewFromSearch(search, NOW))).toBe(search);
    }
  });

  it("ignores what it cannot read", () => {
    const view = viewFromSearch("days=12&since=2026-11-30&until=2026-11-01&split=x&show=y", NOW);
    expect(view).toMatchObject({ preset: 30, split: "user", metric: "cost" });
  });
});
