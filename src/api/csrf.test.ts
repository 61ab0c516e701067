import { describe, expect, it } from "vitest";
import { type Client, obj, useServedApi } from "./testing.ts";

/** Origin and Sec-Fetch-Site as a browser would send them, for `own` (this server's origin). */
type Headers = (own: string) => Record<string, string>;

const REFUSED = "Cross-site request refused: the session cookie only works from Keel's own pages.";

describe("cookie-authenticated unsafe requests from other origins", () => {
  const t = useServedApi();

  /** A fresh session of the member's, presented as the UI presents it: the cookie. */
  async function cookie(): Promise<string> {
    const token = await t.deps.store.createToken(t.s.memberId, "session");
    return `keel_session=${token}`;
  }

  /** The bodyless POSTs a forged form or fetch could send, and what each answers when allowed. */
  const endpoints: Array<[string, (client: Client) => Promise<string>, number]> = [
    [
      "interrupt a chat",
      async (client) => {
        const chat = await client.post("/api/v1/chats", {
          token: t.s.member,
          json: { model_id: t.s.modelId, content: [{ type: "text", text: "hello" }] },
        });
        return `/api/v1/chats/${obj(chat).id as string}/interrupt`;
      },
      202,
    ],
    ["mint an API token", async () => "/api/v1/users/me/tokens", 201],
    ["sign out", async () => "/api/v1/users/logout", 204],
  ];

  const refused: Array<[string, Headers]> = [
    ["another site's Origin", () => ({ origin: "https://evil.example" })],
    ["another port of this host", (own) => ({ origin: own.replace(/:\d+$/, ":1") })],
    ["another scheme", (own) => ({ origin: own.replace("http:", "https:") })],
    ["Origin null (a sandboxed page)", () => ({ origin: "null" })],
    ["Sec-Fetch-Site cross-site", () => ({ "sec-fetch-site": "cross-site" })],
    ["Sec-Fetch-Site same-site", () => ({ "sec-fetch-site": "same-site" })],
    [
      "this Origin but Sec-Fetch-Site cross-site",
      (own) => ({ origin: own, "sec-fetch-site": "cross-site" }),
    ],
    ["neither Origin nor Sec-Fetch-Site", () => ({})],
  ];

  const allowed: Array<[string, Headers]> = [
    ["this server's Origin", (own) => ({ origin: own })],
    [
      "this server's Origin and Sec-Fetch-Site same-origin",
      (own) => ({ origin: own, "sec-fetch-site": "same-origin" }),
    ],
    ["no Origin, Sec-Fetch-Site same-origin", () => ({ "sec-fetch-site": "same-origin" })],
    ["no Origin, Sec-Fetch-Site none (typed by the user)", () => ({ "sec-fetch-site": "none" })],
  ];

  describe.each(endpoints)("%s", (_, pathFor, okStatus) => {
    it.each(refused)("is refused with 403 when it carries %s", async (_, headers) => {
      const path = await pathFor(t.client);
      const session = await cookie();
      const res = await t.client.post(path, {
        headers: { cookie: session, ...headers(t.served.url) },
      });
      expect(res.status).toBe(403);
      expect(obj(res).message).toBe(REFUSED);
      expect(obj(res).detail).toMatch(/Authorization: Bearer/);
      // Nothing happened: the session still works.
      const me = await t.client.get("/api/v1/users/me", { headers: { cookie: session } });
      expect(me.status).toBe(200);
    });

    it.each(allowed)("is accepted with %s", async (_, headers) => {
      const path = await pathFor(t.client);
      const res = await t.client.post(path, {
        headers: { cookie: await cookie(), ...headers(t.served.url) },
      });
      expect(res.status).toBe(okStatus);
    });

    it("is accepted from any origin with a bearer token", async () => {
      const path = await pathFor(t.client);
      const token = (await cookie()).slice("keel_session=".length);
      const res = await t.client.post(path, {
        token,
        headers: { origin: "https://evil.example", "sec-fetch-site": "cross-site" },
      });
      expect(res.status).toBe(okStatus);
    });
  });

  it("leaves safe methods alone: a cross-site GET with the cookie is answered", async () => {
    const res = await t.client.get("/api/v1/users/me", {
      headers: {
        cookie: await cookie(),
        origin: "https://evil.example",
        "sec-fetch-site": "cross-site",
      },
    });
    expect(res.status).toBe(200);
  });

  it("refuses a cross-site PATCH and DELETE with the cookie too", async () => {
    const admin = `keel_session=${await t.deps.store.createToken(t.s.adminId, "session")}`;
    const evil = { origin: "https://evil.example" };
    const patch = await t.client.patch(`/api/v1/users/${t.s.memberId}`, {
      headers: { cookie: admin, ...evil },
      json: { role: "admin" },
    });
    expect(patch.status).toBe(403);
    const chat = await t.client.post("/api/v1/chats", {
      token: t.s.member,
      json: { model_id: t.s.modelId, content: [{ type: "text", text: "hello" }] },
    });
    const del = await t.client.delete(`/api/v1/chats/${obj(chat).id as string}`, {
      headers: { cookie: await cookie(), ...evil },
    });
    expect(del.status).toBe(403);
    const users = await t.client.get("/api/v1/users", { token: t.s.admin });
    const member = (obj(users).users as Array<{ id: string; role: string }>).find(
      (u) => u.id === t.s.memberId,
    );
    expect(member?.role).toBe("member");
  });
});
