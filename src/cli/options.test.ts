import { describe, expect, it } from "vitest";
import { parseWhen } from "./options.ts";

const now = Date.parse("2026-12-06T12:00:00.000Z");

describe("parseWhen (--since / --until)", () => {
  it.each([
    ["30s", "2026-12-06T11:59:30.000Z"],
    ["90m", "2026-12-06T10:30:00.000Z"],
    ["24h", "2026-12-05T12:00:00.000Z"],
    ["7d", "2026-11-29T12:00:00.000Z"],
    ["2w", "2026-11-22T12:00:00.000Z"],
    ["2026-12-01", "2026-12-01T00:00:00.000Z"],
    ["2026-12-01T09:30:00Z", "2026-12-01T09:30:00.000Z"],
    ["2026-12-01T09:30:00+02:00", "2026-12-01T07:30:00.000Z"],
  ])("reads %s as an instant", (text, sent) => {
    expect(parseWhen(text, { now })).toBe(sent);
  });

  it("keeps a date as it is with keepDates (an API that reads it as a whole UTC day)", () => {
    expect(parseWhen("2026-12-01", { now, keepDates: true })).toBe("2026-12-01");
    expect(parseWhen("24h", { now, keepDates: true })).toBe("2026-12-05T12:00:00.000Z");
  });

  it.each(["yesterday", "7", "June 5", "7y", "2026-13-45", "2026-12-01T09:30", ""])(
    "refuses %j, saying what it takes",
    (text) => {
      expect(() => parseWhen(text, { now })).toThrow(/a date .*ISO 8601 time with its zone.* 24h/);
    },
  );
});
