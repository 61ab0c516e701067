import { describe, expect, it } from "vitest";
import { relativeTime } from "./time.ts";

describe("relativeTime", () => {
  const now = new Date(2025, 5, 10, 15, 0, 0);
  const at = (...args: [number, number, number, number, number, number?]) =>
    new Date(...args).toISOString();
  it.each([
    ["seconds ago", at(2025, 5, 10, 14, 59, 30), "just now"],
    ["in the future (a clock ahead)", at(2025, 5, 10, 15, 0, 20), "just now"],
    ["minutes ago", at(2025, 5, 10, 14, 55), "5 min ago"],
    ["earlier today", at(2025, 5, 10, 9, 30), "5 h ago"],
    ["yesterday late", at(2025, 5, 9, 23, 59), "yesterday"],
    ["two days ago", at(2025, 5, 8, 12, 0), "Jun 8"],
    ["last year", at(2024, 11, 31, 12, 0), "Dec 31, 2024"],
  ])("%s: %s", (_what, iso, expected) => {
    expect(relativeTime(iso, now)).toBe(expected);
  });
  it("an unreadable time is blank", () => {
    expect(relativeTime("not a date", now)).toBe("");
  });
});
