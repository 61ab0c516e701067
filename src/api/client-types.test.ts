/**
 * The web client's types (web/src/api/openapi.gen.ts) are the server's routes as they are now:
 * a route, parameter or schema changed without regenerating them is a failure here, so
 * `tsc -p web` never checks the client against an old contract.
 */
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { GENERATED_FILE, generateApiTypes } from "../../scripts/api-types.ts";

describe("web/src/api/openapi.gen.ts", () => {
  it("is generated from the live OpenAPI document", { timeout: 60_000 }, async () => {
    const checkedIn = await readFile(GENERATED_FILE, "utf8");
    const live = await generateApiTypes();
    expect(
      checkedIn === live,
      "web/src/api/openapi.gen.ts is stale: run `npm run api:types` and commit it",
    ).toBe(true);
  });
});
