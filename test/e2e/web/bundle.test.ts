/**
 * The production bundle's initial load — `index.html` and every script and stylesheet it names —
 * stays under 300 KB gzipped (issue 4's budget). Prints the figure.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { ensureWebBuilt, ROOT } from "./support.ts";

const BUDGET_BYTES = 300 * 1024;

describe("web: bundle", () => {
  it("the initial load is under 300 KB gzipped", { timeout: 120_000 }, async () => {
    await ensureWebBuilt();
    const dist = join(ROOT, "web", "dist");
    const html = readFileSync(join(dist, "index.html"), "utf8");
    const assets = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.(?:js|css))"/g)].map(
      (m) => m[1] ?? "",
    );
    expect(assets.some((a) => a.endsWith(".js"))).toBe(true);
    const sizes = Object.fromEntries(
      ["index.html", ...assets].map((file) => {
        const bytes = readFileSync(join(dist, file));
        return [file, { raw: bytes.byteLength, gzip: gzipSync(bytes, { level: 9 }).byteLength }];
      }),
    );
    const total = Object.values(sizes).reduce((sum, s) => sum + s.gzip, 0);
    console.log(
      `web bundle: initial load ${(total / 1024).toFixed(1)} KB gzipped ${JSON.stringify(sizes)}`,
    );
    expect(total).toBeLessThan(BUDGET_BYTES);
    // A production build: not React's development runtime (a build run with NODE_ENV=test).
    for (const file of assets.filter((a) => a.endsWith(".js"))) {
      expect(readFileSync(join(dist, file), "utf8"), file).not.toContain("jsxDEV");
    }
  });
});
