/**
 * What `keel` loads before it does anything: the guard behind `npm run bench:cli`'s figures. A
 * command's definition must stay cheap (commander and small leaves); what it does is imported by
 * its action. Module lists, not timings: a test with a clock would fail on a busy machine.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const KEEL = join(import.meta.dirname, "../../bin/keel.js");

/** A preload that prints, at exit, the packages under node_modules the process loaded. */
function tracer(): string {
  const file = join(mkdtempSync(join(tmpdir(), "keel-startup-")), "trace.mjs");
  writeFileSync(
    file,
    `import { registerHooks } from "node:module";
const packages = new Set();
registerHooks({
  resolve(specifier, context, next) {
    const result = next(specifier, context);
    const match = /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(result.url);
    if (match) packages.add(match[1]);
    return result;
  },
});
process.on("exit", () => process.stderr.write("PACKAGES " + JSON.stringify([...packages].sort()) + "\\n"));
`,
  );
  return file;
}

describe("keel's start-up", () => {
  const trace = tracer();
  const config = mkdtempSync(join(tmpdir(), "keel-startup-config-"));

  it.each([
    [["--help"]],
    [["--version"]],
    [["chat", "list"]], // not logged in: the command runs, then stops before any request
    [["server", "--help"]],
    [["ask", "--help"]],
  ])("keel %j loads no package but commander", (args) => {
    const run = spawnSync(process.execPath, ["--import", trace, KEEL, ...args], {
      env: { PATH: process.env.PATH ?? "", KEEL_CONFIG_DIR: config, HOME: config },
      encoding: "utf8",
    });
    const line = run.stderr.split("\n").find((l) => l.startsWith("PACKAGES "));
    expect(line, run.stderr).toBeDefined();
    expect(JSON.parse(line?.slice("PACKAGES ".length) ?? "[]")).toEqual(["commander"]);
  });
});
