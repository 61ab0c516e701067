import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unique } from "../store/test-support.ts";
import { clientNetwork, LoginRateLimiter } from "./rate-limit.ts";
import { makeDeps, type TestDeps, until } from "./testing.ts";

describe("LoginRateLimiter", () => {
  let deps: TestDeps;
  beforeAll(async () => {
    deps = await makeDeps();
  });
  afterAll(async () => {
    await deps?.close();
  });

  const limiter = (account: number, address: number, windowMs = 60_000) =>
    new LoginRateLimiter(deps.store.signInLimits, {
      account: { maxFailures: account, windowMs },
      address: { maxFailures: address, windowMs },
    });

  it("blocks an email from an address after maxFailures, until the window ends", async () => {
    const limits = limiter(3, 100, 400);
    const [email, ip] = [unique("a"), unique("ip")];
    for (let i = 0; i < 3; i++) {
      expect(await limits.blockedFor(email, ip)).toBe(0);
      await limits.fail(email, ip);
    }
    const wait = await limits.blockedFor(email, ip);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(400);
    // The email in another letter case is the same account; another email is not limited.
    expect(await limits.blockedFor(` ${email.toUpperCase()} `, ip)).toBeGreaterThan(0);
    expect(await limits.blockedFor(unique("b"), ip)).toBe(0);
    expect(await limits.blockedFor(email, unique("ip"))).toBe(0);
    await until(async () => (await limits.blockedFor(email, ip)) === 0, 5_000, "the window's end");
    // A new window starts with the next failure.
    await limits.fail(email, ip);
    expect(await limits.blockedFor(email, ip)).toBe(0);
  });

  it("blocks an address after its own maxFailures, across emails", async () => {
    const limits = limiter(100, 4);
    const ip = unique("ip");
    for (let i = 0; i < 4; i++) await limits.fail(unique("e"), ip);
    expect(await limits.blockedFor(unique("fresh"), ip)).toBeGreaterThan(0);
    expect(await limits.blockedFor(unique("fresh"), unique("ip"))).toBe(0);
  });

  it("a success clears the account's failures, not the address's", async () => {
    const limits = limiter(2, 3);
    const [email, ip] = [unique("a"), unique("ip")];
    await limits.fail(email, ip);
    await limits.succeed(email, ip);
    await limits.fail(email, ip);
    expect(await limits.blockedFor(email, ip)).toBe(0);
    await limits.succeed(email, ip);
    await limits.fail(email, ip); // the address's third failure
    expect(await limits.blockedFor(email, ip)).toBeGreaterThan(0);
    expect(await limits.blockedFor(unique("other"), ip)).toBeGreaterThan(0);
  });

  it("is shared by every replica: the counts live in the database", async () => {
    const [one, two] = [limiter(2, 100), limiter(2, 100)];
    const [email, ip] = [unique("a"), unique("ip")];
    await one.fail(email, ip);
    await two.fail(email, ip);
    expect(await one.blockedFor(email, ip)).toBeGreaterThan(0);
    expect(await two.blockedFor(email, ip)).toBeGreaterThan(0);
  });

  it("sweeps the windows that have ended", async () => {
    const limits = limiter(1, 1, 1);
    await limits.fail(unique("a"), unique("ip"));
    await until(async () => (await deps.store.signInLimits.sweep()) > 0, 5_000, "a sweep");
  });
});

describe("clientNetwork", () => {
  it.each([
    ["203.0.113.7", "203.0.113.7"],
    ["::ffff:203.0.113.7", "203.0.113.7"],
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"],
    ["2001:DB8:1:2::9", "2001:db8:1:2::/64"],
    ["2001:db8::1", "2001:db8:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
    ["unknown", "unknown"],
  ])("counts %s as %s", (address, network) => {
    expect(clientNetwork(address)).toBe(network);
  });
});
