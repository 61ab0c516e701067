import { describe, expect, it } from "vitest";
import { type Client, useServedApi } from "./testing.ts";

describe("the API's responses", () => {
  const t = useServedApi();

  it.each([
    ["a JSON answer", (c: Client) => c.get("/api/v1/setup"), 200],
    [
      "an authenticated JSON answer",
      (c: Client) => c.get("/api/v1/users/me", { token: t.s.member }),
      200,
    ],
    ["a validation error", (c: Client) => c.post("/api/v1/users/login", { json: {} }), 400],
    ["a refusal", (c: Client) => c.get("/api/v1/users/me"), 401],
    ["an unknown route", (c: Client) => c.get("/api/v1/nothing-here"), 404],
    ["the OpenAPI document", (c: Client) => c.get("/api/v1/openapi.json"), 200],
  ])("carry nosniff and no-referrer, like the UI's: %s", async (_, request, status) => {
    const res = await request(t.client);
    expect(res.status).toBe(status);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
  });
});
