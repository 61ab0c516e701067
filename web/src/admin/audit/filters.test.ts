import { describe, expect, it } from "vitest";
import {
  apiQuery,
  filtersFromSearch,
  fromLocalInput,
  hasFilters,
  NO_FILTERS,
  searchFromFilters,
  toLocalInput,
} from "./filters.ts";
import { formatValue, isDestructive, relativeTime, shortUserAgent } from "./format.ts";

const NOW = Date.parse("2026-12-06T12:00:00.000Z");

describe("audit filters in the address", () => {
  it("no filter is an empty query, and an empty query is no filter", () => {
    expect(searchFromFilters(NO_FILTERS)).toBe("");
    expect(filtersFromSearch("")).toEqual(NO_FILTERS);
    expect(hasFilters(NO_FILTERS)).toBe(false);
  });

  it("round-trips every filter", () => {
    const filters = {
      actor: "ann",
      action: "provider.",
      target: "provider:p_1",
      range: "custom" as const,
      since: "2026-12-01T00:00:00.000Z",
      until: "2026-12-02T00:00:00.000Z",
    };
    expect(filtersFromSearch(`?${searchFromFilters(filters)}`)).toEqual(filters);
  });

  it("a preset keeps no since/until in the address", () => {
    const search = searchFromFilters({ ...NO_FILTERS, range: "7d", since: "2026-01-01T00:00:00Z" });
    expect(search).toBe("range=7d");
  });

  it.each([
    ["?range=yesterday", "any"],
    ["?since=2026-12-01T00:00:00Z", "custom"],
    ["?since=not-a-date", "any"],
  ])("reads %s as range %s", (search, range) => {
    expect(filtersFromSearch(search).range).toBe(range);
  });

  it("trims what was typed", () => {
    expect(filtersFromSearch("?actor=%20ann%20&action=user.").actor).toBe("ann");
  });
});

describe("the server's query", () => {
  it("turns a preset into since, at the time given", () => {
    expect(apiQuery({ ...NO_FILTERS, range: "24h" }, NOW)).toEqual({
      since: "2026-12-05T12:00:00.000Z",
    });
    expect(apiQuery({ ...NO_FILTERS, range: "30d", action: "user." }, NOW)).toEqual({
      action: "user.",
      since: "2026-11-06T12:00:00.000Z",
    });
  });

  it("passes a custom range and the text filters as they are", () => {
    expect(
      apiQuery(
        {
          actor: "ann",
          action: "",
          target: "model",
          range: "custom",
          since: "",
          until: "2026-12-02T00:00:00.000Z",
        },
        NOW,
      ),
    ).toEqual({ actor: "ann", target: "model", until: "2026-12-02T00:00:00.000Z" });
  });

  it("a datetime-local value and an instant convert both ways", () => {
    const iso = "2026-12-06T15:04:00.000Z";
    expect(fromLocalInput(toLocalInput(iso))).toBe(iso);
    expect(toLocalInput("")).toBe("");
    expect(fromLocalInput("")).toBe("");
  });
});

describe("how an event reads", () => {
  it.each([
    ["2026-12-06T11:59:40.000Z", "just now"],
    ["2026-12-06T11:55:00.000Z", "5 min. ago"],
    ["2026-12-06T09:00:00.000Z", "3 hr. ago"],
    ["2026-12-04T12:00:00.000Z", "2 days ago"],
  ])("%s is %s", (time, words) => {
    expect(relativeTime(time, NOW).replace(/\s/g, " ")).toBe(words);
  });

  it.each([
    [
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
      "Chrome 131",
    ],
    [
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
      "Edge 131",
    ],
    ["Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox 133"],
    ["curl/8.5.0", "curl 8.5.0"],
    ["keel-cli/0.1.0", "keel CLI 0.1.0"],
    ["node", "node"],
    [null, null],
  ])("names the user agent %s as %s", (agent, name) => {
    expect(shortUserAgent(agent)).toBe(name);
  });

  it("writes a diff's values for people", () => {
    expect(formatValue(null)).toBe("none");
    expect(formatValue("x")).toBe("x");
    expect(formatValue(3)).toBe("3");
    expect(formatValue(["a"])).toBe('["a"]');
  });

  it("marks actions that take something away", () => {
    expect(isDestructive("chat.delete")).toBe(true);
    expect(isDestructive("token.revoke")).toBe(true);
    expect(isDestructive("chat.unarchive")).toBe(false);
    expect(isDestructive("model.update")).toBe(false);
  });
});
