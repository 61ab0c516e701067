import { randomBytes } from "node:crypto";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ApiOptions } from "./context.ts";
import {
  BACKENDS,
  Client,
  makeDeps,
  obj,
  type Served,
  serveApi,
  type TestDeps,
} from "./testing.ts";

describe.each(BACKENDS)("on %s", (backend) => {
  /** One store for the file; the first user is made once, by the first test. */
  let deps: TestDeps;
  let served: Served | undefined;
  let client: Client;

  beforeAll(async () => {
    deps = await makeDeps(backend);
  });

  afterAll(async () => {
    await deps?.close();
  });

  /** A fresh api (and so a fresh sign-in rate limiter) on `on`. */
  async function start(options: Partial<ApiOptions> = {}, on: TestDeps = deps) {
    served = await serveApi(on, options);
    client = new Client(served.url);
  }

  afterEach(async () => {
    await served?.close();
    served = undefined;
  });

  const owner = { username: "owner", email: "owner@example.com", password: "owner-password" };
  const unique = (name: string) => `${name}-${randomBytes(4).toString("hex")}`;

  /** The owner exists (whichever test came first made it); returns a session of theirs. */
  async function ownerSession(): Promise<string> {
    const first = await client.post("/api/v1/users/first", { json: owner });
    if (first.status === 201) return obj(first).session_token as string;
    expect(first.status).toBe(409);
    const login = await client.post("/api/v1/users/login", {
      json: { email: owner.email, password: owner.password },
    });
    return obj(login).session_token as string;
  }

  describe("first user", () => {
    beforeEach(() => start());

    it("creates the owner as admin with a session, then refuses a second one with 409", async () => {
      expect(await deps.store.countUsers()).toBe(0);
      const res = await client.post("/api/v1/users/first", { json: owner });
      expect(res.status).toBe(201);
      const body = obj(res);
      expect(body.user).toMatchObject({ username: "owner", email: owner.email, role: "admin" });
      expect(Object.keys(body.user as object).sort()).toEqual(
        ["created_at", "email", "id", "role", "username"].sort(),
      );
      const token = body.session_token as string;
      expect(res.headers.get("set-cookie")).toContain(`keel_session=${token}`);

      const me = await client.get("/api/v1/users/me", { token });
      expect(me.status).toBe(200);
      expect(obj(me).user).toMatchObject({ username: "owner", role: "admin" });

      const again = await client.post("/api/v1/users/first", {
        json: { username: "second", email: "second@example.com", password: "second-password" },
      });
      expect(again.status).toBe(409);
      expect(obj(again).message).toMatch(/already exists/);
    });

    it("validates the first user's fields", async () => {
      const res = await client.post("/api/v1/users/first", {
        json: { username: "", email: "not-an-email", password: "short" },
      });
      expect(res.status).toBe(400);
      const fields = (obj(res).validations as Array<{ field: string }>).map((v) => v.field);
      expect([...new Set(fields)].sort()).toEqual(["email", "password", "username"]);
    });
  });

  describe("login", () => {
    beforeEach(() => start());

    it("returns a session token and an HTTP-only SameSite=Lax cookie that authenticates", async () => {
      await ownerSession();
      const res = await client.post("/api/v1/users/login", {
        json: { email: owner.email, password: owner.password },
      });
      expect(res.status).toBe(200);
      const token = obj(res).session_token as string;
      expect(typeof token).toBe("string");
      const cookie = res.headers.get("set-cookie") ?? "";
      expect(cookie).toContain(`keel_session=${token}`);
      expect(cookie).toMatch(/HttpOnly/i);
      expect(cookie).toMatch(/SameSite=Lax/i);
      expect(cookie).toMatch(/Path=\//);
      expect(cookie).not.toMatch(/Secure/i);
      expect(res.headers.get("cache-control")).toBe("no-store");

      const me = await client.get("/api/v1/users/me", {
        headers: { cookie: `keel_session=${token}` },
      });
      expect(me.status).toBe(200);
      expect(obj(me).user).toMatchObject({ email: owner.email });
    });

    it("answers 401 to a wrong password or an unknown email", async () => {
      await ownerSession();
      for (const json of [
        { email: owner.email, password: "wrong-password" },
        { email: "nobody@example.com", password: owner.password },
      ]) {
        const res = await client.post("/api/v1/users/login", { json });
        expect(res.status).toBe(401);
        expect(obj(res)).toEqual({ message: "Invalid email or password." });
        expect(res.headers.get("set-cookie")).toBeNull();
      }
    });

    it("rate-limits failed attempts per email and client: 429 with Retry-After", async () => {
      await ownerSession();
      const bad = { email: owner.email, password: "wrong-password" };
      for (let i = 0; i < 5; i++) {
        expect((await client.post("/api/v1/users/login", { json: bad })).status).toBe(401);
      }
      const limited = await client.post("/api/v1/users/login", { json: bad });
      expect(limited.status).toBe(429);
      expect(obj(limited).message).toMatch(/Too many failed sign-in attempts/);
      const retryAfter = Number(limited.headers.get("retry-after"));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(15 * 60);
      // Even the right password waits out the window…
      const right = { email: owner.email, password: owner.password };
      expect((await client.post("/api/v1/users/login", { json: right })).status).toBe(429);
      // …and the email is what is limited, in any letter case.
      const upper = { email: owner.email.toUpperCase(), password: owner.password };
      expect((await client.post("/api/v1/users/login", { json: upper })).status).toBe(429);
      // Another account from the same client is not affected.
      const other = { email: "someone@example.com", password: "whatever-pass" };
      expect((await client.post("/api/v1/users/login", { json: other })).status).toBe(401);
    });

    it("a success clears the failures", async () => {
      await ownerSession();
      const bad = { email: owner.email, password: "wrong-password" };
      const good = { email: owner.email, password: owner.password };
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 4; i++) await client.post("/api/v1/users/login", { json: bad });
        expect((await client.post("/api/v1/users/login", { json: good })).status).toBe(200);
      }
    });
  });

  describe("secure cookies", () => {
    // The first user's session is the case: a store of its own, without users.
    let empty: TestDeps;
    beforeAll(async () => {
      empty = await makeDeps(backend);
    });
    afterAll(async () => {
      await empty?.close();
    });
    beforeEach(() => start({ secureCookies: true }, empty));

    it("marks the session cookie Secure when configured", async () => {
      const res = await client.post("/api/v1/users/first", { json: owner });
      expect(res.status).toBe(201);
      expect(res.headers.get("set-cookie")).toMatch(/;\s*Secure/i);
    });
  });

  describe("members, admins and tokens", () => {
    beforeEach(() => start());

    async function setup() {
      const admin = await ownerSession();
      const mia = unique("mia");
      const created = await client.post("/api/v1/users", {
        token: admin,
        json: { username: mia, email: `${mia}@example.com`, password: "mia-password" },
      });
      expect(created.status).toBe(201);
      expect(obj(created).user).toMatchObject({ username: mia, role: "member" });
      const member = obj(
        await client.post("/api/v1/users/login", {
          json: { email: `${mia}@example.com`, password: "mia-password" },
        }),
      ).session_token as string;
      return { admin, member, mia };
    }

    it("only admins create users; duplicates are 409", async () => {
      const { admin, member, mia } = await setup();
      const x = unique("x");
      const json = { username: x, email: `${x}@example.com`, password: "x-password-1" };
      const forbidden = await client.post("/api/v1/users", { token: member, json });
      expect(forbidden.status).toBe(403);
      expect(obj(forbidden).message).toMatch(/administrator/);
      const dup = await client.post("/api/v1/users", {
        token: admin,
        json: { username: `${mia}-2`, email: `${mia}@example.com`, password: "mia-password" },
      });
      expect(dup.status).toBe(409);
      const asAdmin = await client.post("/api/v1/users", {
        token: admin,
        json: { ...json, role: "admin" },
      });
      expect(asAdmin.status).toBe(201);
      expect(obj(asAdmin).user).toMatchObject({ role: "admin" });
    });

    it("answers 401 without credentials, with a bad token, or with a malformed header", async () => {
      const { member } = await setup();
      const cases: Array<Record<string, string>> = [
        {},
        { authorization: "Bearer not-a-token" },
        { authorization: "Basic abc" },
        { authorization: "Bearer" },
      ];
      for (const headers of cases) {
        const res = await client.get("/api/v1/users/me", { headers });
        expect(res.status).toBe(401);
        expect(obj(res).message).toMatch(/^Authentication required/);
      }
      // A bad Authorization header does not fall back to a valid cookie.
      const mixed = await client.get("/api/v1/users/me", {
        headers: { authorization: "Bearer nope", cookie: `keel_session=${member}` },
      });
      expect(mixed.status).toBe(401);
    });

    it("mints API tokens that authenticate as the caller", async () => {
      const { member, mia } = await setup();
      const none = await client.post("/api/v1/users/me/tokens", { token: member });
      expect(none.status).toBe(201);
      const named = await client.post("/api/v1/users/me/tokens", {
        token: member,
        json: { name: "laptop" },
      });
      expect(named.status).toBe(201);
      for (const reply of [none, named]) {
        const token = obj(reply).token as string;
        const me = await client.get("/api/v1/users/me", { token });
        expect(obj(me).user).toMatchObject({ username: mia });
      }
      const unknown = await client.post("/api/v1/users/me/tokens", {
        token: member,
        json: { name: "x", scopes: ["all"] },
      });
      expect(unknown.status).toBe(400);
      expect(obj(unknown).validations).toEqual([{ field: "scopes", detail: "Unknown field." }]);
    });
  });
});
