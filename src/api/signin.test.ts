import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { PASSWORD_HASHING, passwordHashing } from "../store/credentials.ts";
import { Client, makeDeps, obj, serveApi, useServedApi } from "./testing.ts";

const BUSY = "The server is busy checking other passwords; try again in a moment.";

/** A promise and the function that settles it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/** Holds every password-hashing slot of this process (and its queue) until released. */
function saturateHashing(): () => Promise<void> {
  const release = gate();
  const held = Array.from({ length: PASSWORD_HASHING.concurrent + PASSWORD_HASHING.waiting }, () =>
    passwordHashing.run(() => release.opened),
  );
  return async () => {
    release.open();
    await Promise.all(held);
  };
}

const name = () => `u${randomBytes(4).toString("hex")}`;

describe("sign-in under load", () => {
  // Each request names its client address, so the per-address limit does not hide the bound.
  const t = useServedApi({ clientIp: (c) => c.req.header("x-test-client") ?? "unknown" });

  it.each([
    [
      "a sign-in",
      () => ({
        path: "/api/v1/users/login",
        json: { email: "owner@example.com", password: "owner-password" },
      }),
    ],
    [
      "creating a user",
      () => {
        const n = name();
        return {
          path: "/api/v1/users",
          json: { username: n, email: `${n}@example.com`, password: "long enough" },
        };
      },
    ],
  ])(
    "%s while every hashing slot is taken is a 503 with Retry-After, and works after",
    async (_, request) => {
      const { path, json } = request();
      const release = saturateHashing();
      let busy: Awaited<ReturnType<Client["post"]>>;
      try {
        busy = await t.client.post(path, { token: t.s.admin, json });
      } finally {
        await release();
      }
      expect(busy.status).toBe(503);
      expect(obj(busy).message).toBe(BUSY);
      expect(Number(busy.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      const after = await t.client.post(path, { token: t.s.admin, json });
      expect([200, 201]).toContain(after.status);
    },
  );

  it("a busy sign-in is not counted as a failed one", async () => {
    const bad = { email: "owner@example.com", password: "wrong-password" };
    const headers = { "x-test-client": "192.0.2.50" };
    const release = saturateHashing();
    try {
      for (let i = 0; i < 10; i++) {
        expect((await t.client.post("/api/v1/users/login", { json: bad, headers })).status).toBe(
          503,
        );
      }
    } finally {
      await release();
    }
    expect((await t.client.post("/api/v1/users/login", { json: bad, headers })).status).toBe(401);
  });

  it("a flood of failed sign-ins is refused at once beyond the bound while /healthz answers", async () => {
    const flood = 400;
    let peak = { running: 0, waiting: 0 };
    let replied = 0;
    const sampler = setInterval(() => {
      const load = passwordHashing.load;
      peak = {
        running: Math.max(peak.running, load.running),
        waiting: Math.max(peak.waiting, load.waiting),
      };
    }, 1);
    const signIns = Array.from({ length: flood }, (_, i) =>
      t.client
        .post("/api/v1/users/login", {
          json: { email: `flood-${i}@example.com`, password: "wrong-password" },
          headers: { "x-test-client": `10.0.${i >> 8}.${i & 255}` },
        })
        .finally(() => replied++),
    );
    // /healthz, asked while the sign-ins are in flight, answers before they are all done.
    const health = await t.client.get("/healthz");
    const repliedWhenHealthy = replied;
    const replies = await Promise.all(signIns);
    clearInterval(sampler);

    expect(health.status).toBe(200);
    expect(repliedWhenHealthy).toBeLessThan(flood);
    const statuses = new Map<number, number>();
    for (const r of replies) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    expect([...statuses.keys()].sort()).toEqual([401, 503]);
    for (const r of replies.filter((r) => r.status === 503)) {
      expect(obj(r).message).toBe(BUSY);
      expect(r.headers.get("retry-after")).toBe("1");
    }
    // Most were refused rather than queued; never more hashes ran or waited than allowed.
    expect(statuses.get(503)).toBeGreaterThan(flood / 2);
    expect(peak.running).toBeLessThanOrEqual(PASSWORD_HASHING.concurrent);
    expect(peak.waiting).toBeLessThanOrEqual(PASSWORD_HASHING.waiting);
  });
});

describe("the first user while hashing is saturated", () => {
  it("is a 503 with Retry-After, and is created after", async () => {
    const deps = await makeDeps();
    const served = await serveApi(deps);
    try {
      const client = new Client(served.url);
      const json = { username: "owner", email: "owner@example.com", password: "owner-password" };
      const release = saturateHashing();
      const busy = await client.post("/api/v1/users/first", { json }).finally(release);
      expect(busy.status).toBe(503);
      expect(busy.headers.get("retry-after")).toBe("1");
      expect((await client.post("/api/v1/users/first", { json })).status).toBe(201);
    } finally {
      await served.close();
      await deps.close();
    }
  });
});

describe("the per-address sign-in limit", () => {
  const t = useServedApi({
    addressRateLimit: { maxFailures: 3, windowMs: 60_000 },
    clientIp: (c) => c.req.header("x-test-client") ?? "unknown",
  });

  it("refuses an address after its failures across emails, whatever the email, with Retry-After", async () => {
    const from = { "x-test-client": "192.0.2.7" };
    for (let i = 0; i < 3; i++) {
      const res = await t.client.post("/api/v1/users/login", {
        json: { email: `guess-${i}@example.com`, password: "wrong-password" },
        headers: from,
      });
      expect(res.status).toBe(401);
    }
    // Even the owner's right password waits, from that address…
    const owner = { email: "owner@example.com", password: "owner-password" };
    const limited = await t.client.post("/api/v1/users/login", { json: owner, headers: from });
    expect(limited.status).toBe(429);
    expect(obj(limited).message).toMatch(/Too many failed sign-in attempts/);
    const retryAfter = Number(limited.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // …and not from another.
    const elsewhere = await t.client.post("/api/v1/users/login", {
      json: owner,
      headers: { "x-test-client": "192.0.2.8" },
    });
    expect(elsewhere.status).toBe(200);
  });

  it("holds across api instances (replicas): it lives in the database", async () => {
    const from = { "x-test-client": "192.0.2.9" };
    for (let i = 0; i < 3; i++) {
      await t.client.post("/api/v1/users/login", {
        json: { email: `guess-${i}@example.com`, password: "wrong-password" },
        headers: from,
      });
    }
    const replica = await serveApi(t.deps, {
      addressRateLimit: { maxFailures: 3, windowMs: 60_000 },
      clientIp: (c) => c.req.header("x-test-client") ?? "unknown",
    });
    try {
      const res = await new Client(replica.url).post("/api/v1/users/login", {
        json: { email: "owner@example.com", password: "owner-password" },
        headers: from,
      });
      expect(res.status).toBe(429);
    } finally {
      await replica.close();
    }
  });
});
