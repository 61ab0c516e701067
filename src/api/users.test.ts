import { randomBytes } from "node:crypto";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ApiOptions } from "./context.ts";
import { Client, makeDeps, obj, type Served, serveApi, type TestDeps } from "./testing.ts";

describe("users", () => {
  /** One store for the file; the first user is made once, by the first test. */
  let deps: TestDeps;
  let served: Served | undefined;
  let client: Client;
  let clients = 0;

  beforeAll(async () => {
    deps = await makeDeps();
  });

  afterAll(async () => {
    await deps?.close();
  });

  /**
   * A fresh api on `on`, seen from a client address of its own: the sign-in limits live in the
   * database, so each test's failures must not count against the next one's.
   */
  async function start(options: Partial<ApiOptions> = {}, on: TestDeps = deps) {
    const address = `198.51.100.${++clients}`;
    served = await serveApi(on, { clientIp: () => address, ...options });
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
        ["active", "created_at", "email", "id", "role", "username"].sort(),
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
      empty = await makeDeps();
    });
    afterAll(async () => {
      await empty?.close();
    });
    beforeEach(() => start({ secureCookies: true }, empty));

    it("marks the session cookie Secure when configured, also when clearing it", async () => {
      const res = await client.post("/api/v1/users/first", { json: owner });
      expect(res.status).toBe(201);
      expect(res.headers.get("set-cookie")).toMatch(/;\s*Secure/i);
      const out = await client.post("/api/v1/users/logout", {
        token: obj(res).session_token as string,
      });
      expect(out.status).toBe(204);
      expect(out.headers.get("set-cookie")).toMatch(/Max-Age=0.*;\s*Secure/i);
    });
  });

  describe("setup", () => {
    let empty: TestDeps;
    beforeAll(async () => {
      empty = await makeDeps();
    });
    afterAll(async () => {
      await empty?.close();
    });
    beforeEach(() => start({}, empty));

    it("needs a first user until there is one; no authentication either way", async () => {
      const before = await client.get("/api/v1/setup");
      expect(before.status).toBe(200);
      expect(obj(before)).toEqual({ needs_first_user: true });
      expect(before.headers.get("cache-control")).toBe("no-store");
      expect((await client.post("/api/v1/users/first", { json: owner })).status).toBe(201);
      const after = await client.get("/api/v1/setup", {
        headers: { authorization: "Bearer not-a-token" },
      });
      expect(after.status).toBe(200);
      expect(obj(after)).toEqual({ needs_first_user: false });
    });
  });

  describe("logout", () => {
    beforeEach(() => start());

    async function signIn(): Promise<string> {
      await ownerSession();
      const login = await client.post("/api/v1/users/login", {
        json: { email: owner.email, password: owner.password },
      });
      return obj(login).session_token as string;
    }

    it.each([
      ["a bearer token", (t: string) => ({ token: t })],
      [
        "the session cookie (from the UI's own origin)",
        (t: string) => ({
          headers: { cookie: `keel_session=${t}`, origin: served?.url ?? "" },
        }),
      ],
    ])("revokes the token presented as %s and clears the cookie", async (_, present) => {
      const token = await signIn();
      const other = await signIn();
      expect((await client.get("/api/v1/users/me", present(token))).status).toBe(200);
      const out = await client.post("/api/v1/users/logout", present(token));
      expect(out.status).toBe(204);
      expect(out.text).toBe("");
      const cookie = out.headers.get("set-cookie") ?? "";
      expect(cookie).toMatch(/^keel_session=;/);
      expect(cookie).toMatch(/Max-Age=0/);
      expect(cookie).toMatch(/HttpOnly/i);
      expect(cookie).toMatch(/SameSite=Lax/i);
      expect(cookie).toMatch(/Path=\//);
      expect(cookie).not.toMatch(/Secure/i);

      const after = await client.get("/api/v1/users/me", present(token));
      expect(after.status).toBe(401);
      expect(obj(after).message).toMatch(/^Authentication required/);
      expect((await client.post("/api/v1/users/logout", present(token))).status).toBe(401);
      // Only that token: the user's other session still works.
      expect((await client.get("/api/v1/users/me", { token: other })).status).toBe(200);
    });

    it("needs authentication", async () => {
      const res = await client.post("/api/v1/users/logout");
      expect(res.status).toBe(401);
      expect(Object.keys(obj(res))).toEqual(["message"]);
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

    it("lists users for admins only, each with role and active", async () => {
      const { admin, member, mia } = await setup();
      const res = await client.get("/api/v1/users", { token: admin });
      expect(res.status).toBe(200);
      const users = obj(res).users as Array<Record<string, unknown>>;
      expect(users[0]).toMatchObject({ username: "owner", role: "admin", active: true });
      expect(users.find((u) => u.username === mia)).toMatchObject({ role: "member", active: true });
      for (const user of users) {
        expect(Object.keys(user).sort()).toEqual(
          ["active", "created_at", "email", "id", "role", "username"].sort(),
        );
      }
      expect((await client.get("/api/v1/users", { token: member })).status).toBe(403);
      expect((await client.get("/api/v1/users")).status).toBe(401);
    });

    it("refuses invalid changes to a user with 400, 403 or 404", async () => {
      const { admin, member } = await setup();
      const me = obj(await client.get("/api/v1/users/me", { token: member })).user as {
        id: string;
      };
      const cases: Array<[string, string, unknown, number, string[] | null]> = [
        ["nothing to change", me.id, {}, 400, ["role"]],
        ["an unknown role", me.id, { role: "owner" }, 400, ["role"]],
        ["active not a boolean", me.id, { active: "no" }, 400, ["active"]],
        ["an unknown field", me.id, { role: "admin", email: "x@example.com" }, 400, ["email"]],
        ["an unknown user", "00000000-0000-4000-8000-000000000000", { active: false }, 404, null],
        ["not an id", "nobody", { active: false }, 404, null],
        // `/users/me` is the caller's own (instructions, compact_at): not a change of a user.
        ["me", "me", { active: false }, 400, ["active", "instructions"]],
      ];
      for (const [what, id, json, status, fields] of cases) {
        const res = await client.patch(`/api/v1/users/${id}`, { token: admin, json });
        expect(res.status, what).toBe(status);
        const body = obj(res);
        expect(typeof body.message, what).toBe("string");
        const validations = body.validations as Array<{ field: string; detail: string }>;
        if (fields === null) expect(validations, what).toBeUndefined();
        else
          expect(
            validations.map((v) => v.field),
            what,
          ).toEqual(fields);
      }
      const forbidden = await client.patch(`/api/v1/users/${me.id}`, {
        token: member,
        json: { role: "admin" },
      });
      expect(forbidden.status).toBe(403);
      expect((await client.get("/api/v1/users/me", { token: member })).body).toMatchObject({
        user: { role: "member" },
      });
    });

    it("promotes and demotes; the change is logged with who made it", async () => {
      const { admin, member } = await setup();
      const me = obj(await client.get("/api/v1/users/me", { token: member })).user as {
        id: string;
      };
      const ownerId = (
        obj(await client.get("/api/v1/users/me", { token: admin })).user as {
          id: string;
        }
      ).id;
      const up = await client.patch(`/api/v1/users/${me.id}`, {
        token: admin,
        json: { role: "admin" },
      });
      expect(up.status).toBe(200);
      expect(obj(up).user).toMatchObject({ id: me.id, role: "admin", active: true });
      // The member's own session is an admin's now.
      expect((await client.get("/api/v1/users", { token: member })).status).toBe(200);
      const down = await client.patch(`/api/v1/users/${me.id}`, {
        token: admin,
        json: { role: "member" },
      });
      expect(obj(down).user).toMatchObject({ role: "member" });
      expect((await client.get("/api/v1/users", { token: member })).status).toBe(403);
      const logged = served?.logs.map((l) => JSON.parse(l)) ?? [];
      expect(logged).toContainEqual(
        expect.objectContaining({
          msg: "user role set",
          user_id: me.id,
          by: ownerId,
          role: "admin",
        }),
      );
      expect(logged).toContainEqual(
        expect.objectContaining({ msg: "user role set", user_id: me.id, role: "member" }),
      );
    });

    it("a deactivated user cannot sign in and none of their tokens work", async () => {
      const { admin, member, mia } = await setup();
      const me = obj(await client.get("/api/v1/users/me", { token: member })).user as {
        id: string;
      };
      const apiToken = obj(await client.post("/api/v1/users/me/tokens", { token: member }))
        .token as string;
      const off = await client.patch(`/api/v1/users/${me.id}`, {
        token: admin,
        json: { active: false },
      });
      expect(off.status).toBe(200);
      expect(obj(off).user).toMatchObject({ id: me.id, active: false });
      expect(served?.logs.some((l) => JSON.parse(l).msg === "user deactivated")).toBe(true);
      for (const token of [member, apiToken]) {
        const res = await client.get("/api/v1/users/me", { token });
        expect(res.status).toBe(401);
        expect(obj(res).message).toMatch(/^Authentication required/);
      }
      const listed = obj(await client.get("/api/v1/users", { token: admin })).users as Array<{
        id: string;
        active: boolean;
      }>;
      expect(listed.find((u) => u.id === me.id)?.active).toBe(false);

      // The right password learns the account is deactivated; a wrong one learns nothing.
      const email = `${mia}@example.com`;
      const right = await client.post("/api/v1/users/login", {
        json: { email, password: "mia-password" },
      });
      expect(right.status).toBe(403);
      expect(obj(right)).toEqual({ message: "This account is deactivated. Ask an administrator." });
      expect(right.headers.get("set-cookie")).toBeNull();
      const wrong = await client.post("/api/v1/users/login", {
        json: { email, password: "not-mia-password" },
      });
      expect(wrong.status).toBe(401);
      expect(obj(wrong)).toEqual({ message: "Invalid email or password." });

      // Reactivated: signing in works again; the old tokens stay revoked.
      const on = await client.patch(`/api/v1/users/${me.id}`, {
        token: admin,
        json: { active: true },
      });
      expect(obj(on).user).toMatchObject({ active: true });
      const again = await client.post("/api/v1/users/login", {
        json: { email, password: "mia-password" },
      });
      expect(again.status).toBe(200);
      const fresh = obj(again).session_token as string;
      expect((await client.get("/api/v1/users/me", { token: fresh })).status).toBe(200);
      for (const token of [member, apiToken]) {
        expect((await client.get("/api/v1/users/me", { token })).status).toBe(401);
      }
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

  describe("the owner", () => {
    // A store of its own: the owner (the first user) and an admin the owner made.
    let own: TestDeps;
    let ownerToken: string;
    let ownerId: string;
    let admin: { id: string; token: string };
    const ONLY =
      "Only the owner (the first user) can change the owner's role or deactivate the owner.";
    beforeAll(async () => {
      own = await makeDeps();
      await start({}, own);
      const first = await client.post("/api/v1/users/first", { json: owner });
      ownerToken = obj(first).session_token as string;
      ownerId = (obj(first).user as { id: string }).id;
      admin = await newAdmin();
      await served?.close();
    });
    afterAll(async () => {
      await own?.close();
    });
    beforeEach(() => start({}, own));

    async function newAdmin(): Promise<{ id: string; token: string }> {
      const name = unique("admin");
      const created = await client.post("/api/v1/users", {
        token: ownerToken,
        json: {
          username: name,
          email: `${name}@example.com`,
          password: "admin-password",
          role: "admin",
        },
      });
      const login = await client.post("/api/v1/users/login", {
        json: { email: `${name}@example.com`, password: "admin-password" },
      });
      return {
        id: (obj(created).user as { id: string }).id,
        token: obj(login).session_token as string,
      };
    }

    it.each([
      ["demote", { role: "member" }],
      ["deactivate", { active: false }],
      ["demote and deactivate", { role: "member", active: false }],
    ])("cannot be made to %s by another admin: 403, nothing changed", async (_, json) => {
      const res = await client.patch(`/api/v1/users/${ownerId}`, { token: admin.token, json });
      expect(res.status).toBe(403);
      expect(obj(res)).toEqual({ message: ONLY });
      const me = await client.get("/api/v1/users/me", { token: ownerToken });
      expect(obj(me).user).toMatchObject({ role: "admin", active: true });
    });

    it("other admins still change each other; the owner changes anyone, itself included", async () => {
      const other = await newAdmin();
      const byAdmin = await client.patch(`/api/v1/users/${other.id}`, {
        token: admin.token,
        json: { role: "member" },
      });
      expect(byAdmin.status).toBe(200);
      expect(obj(byAdmin).user).toMatchObject({ role: "member" });
      const byOwner = await client.patch(`/api/v1/users/${admin.id}`, {
        token: ownerToken,
        json: { role: "admin" },
      });
      expect(byOwner.status).toBe(200);
      const self = await client.patch(`/api/v1/users/${ownerId}`, {
        token: ownerToken,
        json: { role: "member" },
      });
      expect(self.status).toBe(200);
      expect(obj(self).user).toMatchObject({ role: "member" });
      // Back as it was, by an admin: promoting the owner takes nothing from the owner.
      const back = await client.patch(`/api/v1/users/${ownerId}`, {
        token: admin.token,
        json: { role: "admin" },
      });
      expect(back.status).toBe(200);
      expect(obj(back).user).toMatchObject({ role: "admin" });
    });
  });

  describe("the last active admin", () => {
    // A store of its own, where the owner is the only admin.
    let solo: TestDeps;
    let admin: string;
    let ownerId: string;
    beforeAll(async () => {
      solo = await makeDeps();
      await start({}, solo);
      const first = await client.post("/api/v1/users/first", { json: owner });
      admin = obj(first).session_token as string;
      ownerId = (obj(first).user as { id: string }).id;
      await served?.close();
    });
    afterAll(async () => {
      await solo?.close();
    });
    beforeEach(() => start({}, solo));

    const LAST = "This would leave no active administrator. Make another user an admin first.";

    it.each([
      ["demoted", { role: "member" }],
      ["deactivated", { active: false }],
    ])("cannot be %s: 409, nothing changed", async (_, json) => {
      const res = await client.patch(`/api/v1/users/${ownerId}`, { token: admin, json });
      expect(res.status).toBe(409);
      expect(obj(res)).toEqual({ message: LAST });
      const me = await client.get("/api/v1/users/me", { token: admin });
      expect(obj(me).user).toMatchObject({ role: "admin", active: true });
    });

    it("two admins deactivating themselves at once: exactly one succeeds", async () => {
      const name = unique("second");
      const second = await client.post("/api/v1/users", {
        token: admin,
        json: {
          username: name,
          email: `${name}@example.com`,
          password: "second-password",
          role: "admin",
        },
      });
      const secondId = (obj(second).user as { id: string }).id;
      const secondToken = obj(
        await client.post("/api/v1/users/login", {
          json: { email: `${name}@example.com`, password: "second-password" },
        }),
      ).session_token as string;
      const replies = await Promise.all([
        client.patch(`/api/v1/users/${ownerId}`, { token: admin, json: { active: false } }),
        client.patch(`/api/v1/users/${secondId}`, { token: secondToken, json: { active: false } }),
      ]);
      expect(replies.map((r) => r.status).sort()).toEqual([200, 409]);
      expect(replies.filter((r) => r.status === 409).map(obj)).toEqual([{ message: LAST }]);
      const users = await solo.store.listUsers();
      expect(users.filter((u) => u.role === "admin" && u.active)).toHaveLength(1);
    });
  });
});
