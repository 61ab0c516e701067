import { describe, expect, it } from "vitest";
import { groupChats, groupLabel } from "./chatGroups.ts";

/** Local times, as the browser reads them. */
const at = (y: number, m: number, d: number, h = 12) => new Date(y, m - 1, d, h);
const NOW = at(2026, 3, 15, 9);

describe("the sidebar's sections", () => {
  it.each([
    ["earlier today", at(2026, 3, 15, 0), "Today"],
    ["yesterday late", at(2026, 3, 14, 23), "Yesterday"],
    ["two days ago", at(2026, 3, 13), "Previous 7 days"],
    ["seven days ago", at(2026, 3, 8), "Previous 7 days"],
    ["eight days ago", at(2026, 3, 7), "Previous 30 days"],
    ["thirty days ago", at(2026, 2, 13), "Previous 30 days"],
    ["a clock ahead of ours", at(2026, 3, 15, 23), "Today"],
  ])("%s: %s", (_what, date, label) => {
    expect(groupLabel(date, NOW)).toBe(label);
  });

  it("older chats go by month", () => {
    expect(groupLabel(at(2025, 11, 2), NOW)).toBe(
      at(2025, 11, 2).toLocaleDateString(undefined, { month: "long", year: "numeric" }),
    );
  });

  it("puts pinned chats first and keeps the order within each section", () => {
    const chat = (id: string, pinned: boolean, date: Date) => ({
      id,
      pinned,
      updated_at: date.toISOString(),
    });
    const groups = groupChats(
      [
        chat("p", true, at(2025, 1, 1)),
        chat("a", false, at(2026, 3, 15, 8)),
        chat("b", false, at(2026, 3, 15, 7)),
        chat("c", false, at(2026, 3, 14)),
        chat("d", false, at(2026, 3, 1)),
      ],
      NOW,
    );
    expect(groups.map((g) => [g.label, g.chats.map((c) => c.id)])).toEqual([
      ["Pinned", ["p"]],
      ["Today", ["a", "b"]],
      ["Yesterday", ["c"]],
      ["Previous 30 days", ["d"]],
    ]);
  });
});
