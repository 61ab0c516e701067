import { describe, expect, it } from "vitest";
import { LoginRateLimiter } from "./rate-limit.ts";

describe("LoginRateLimiter", () => {
  it("blocks after maxFailures within the window and frees the key when it ends", () => {
    let now = 1_000;
    const limiter = new LoginRateLimiter({ maxFailures: 3, windowMs: 60_000, now: () => now });
    for (let i = 0; i < 3; i++) {
      expect(limiter.blockedFor("k")).toBe(0);
      limiter.fail("k");
    }
    expect(limiter.blockedFor("k")).toBe(60_000);
    now += 59_000;
    expect(limiter.blockedFor("k")).toBe(1_000);
    expect(limiter.blockedFor("other")).toBe(0);
    now += 1_000;
    expect(limiter.blockedFor("k")).toBe(0);
    limiter.fail("k");
    expect(limiter.blockedFor("k")).toBe(0);
  });

  it("a success clears the key", () => {
    const limiter = new LoginRateLimiter({ maxFailures: 2, windowMs: 60_000 });
    limiter.fail("k");
    limiter.succeed("k");
    limiter.fail("k");
    expect(limiter.blockedFor("k")).toBe(0);
  });

  it("keeps memory bounded", () => {
    let now = 0;
    const limiter = new LoginRateLimiter({
      maxFailures: 1,
      windowMs: 10,
      maxKeys: 100,
      now: () => now,
    });
    for (let i = 0; i < 1000; i++) {
      limiter.fail(`k${i}`);
      now++;
    }
    expect(limiter.size).toBeLessThanOrEqual(100);
  });
});
