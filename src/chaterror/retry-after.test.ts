import { describe, expect, it } from "vitest";
import { parseRetryAfter, shouldRetryHeader } from "./retry-after.ts";

// How classify() uses these headers is tested in classify.test.ts ("classify: Retry-After").

describe("parseRetryAfter", () => {
  it("ignores an HTTP date in the past", () => {
    const now = Date.parse("2025-06-01T12:00:00Z");
    expect(
      parseRetryAfter({ "retry-after": "Sun, 01 Jun 2025 11:59:00 GMT" }, now),
    ).toBeUndefined();
  });

  it("ignores a negative retry-after-ms", () => {
    expect(parseRetryAfter({ "retry-after-ms": "-100" })).toBeUndefined();
  });

  it("matches header names in any case, and reads a Headers object", () => {
    expect(parseRetryAfter({ "Retry-After": "4" })).toBe(4000);
    expect(parseRetryAfter(new Headers({ "Retry-After-Ms": "250" }))).toBe(250);
  });
});

describe("shouldRetryHeader", () => {
  it.each([
    [{ "x-should-retry": "true" }, true],
    [{ "X-Should-Retry": " FALSE " }, false],
    [new Headers({ "x-should-retry": "false" }), false],
    [{ "x-should-retry": "maybe" }, undefined],
    [{}, undefined],
    [undefined, undefined],
  ])("reads %j as %s", (headers, expected) => {
    expect(shouldRetryHeader(headers)).toBe(expected);
  });
});
