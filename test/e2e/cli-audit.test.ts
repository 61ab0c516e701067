/**
 * `keel audit` against a real `keel server`: what an admin did with `keel` is in the table, the
 * filters narrow it, `--all` pages to the end, `json` is the API's events, `csv`/`jsonl` stream
 * the export (no secret in any of it), and a member reads the server's refusal.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, type KeelProcess, startKeel } from "./support/keel-process.ts";

const KEEL = join(import.meta.dirname, "../../bin/keel.js");
const KEY = "sk-cli-audit-secret-777";

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe("keel audit", () => {
  let keel: KeelProcess;
  let adminDir: string;

  function run(args: string[], options: { stdin?: string; configDir?: string } = {}) {
    const dir = options.configDir ?? adminDir;
    const child = spawn(process.execPath, [KEEL, ...args], {
      env: { PATH: process.env.PATH ?? "", HOME: dir, KEEL_CONFIG_DIR: dir },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdin.end(options.stdin ?? "");
    return new Promise<Ran>((resolve) =>
      child.on("close", (code) => resolve({ code, stdout, stderr })),
    );
  }

  beforeAll(async () => {
    adminDir = mkdtempSync(join(tmpdir(), "keel-cli-audit-"));
    keel = await startKeel({
      dataDir: mkdtempSync(join(tmpdir(), "keel-cli-audit-data-")),
      port: await freePort(),
    });
    const login = await run(
      [
        "login",
        keel.url,
        "--first-user",
        "--username",
        "ann",
        "--email",
        "ann@example.com",
        "--password-stdin",
      ],
      { stdin: "a long enough password\n" },
    );
    expect(login.code).toBe(0);
    for (const name of ["One", "Two", "Three"]) {
      const added = await run([
        "providers",
        "add",
        "--type",
        "openai",
        "--name",
        name,
        "--api-key",
        KEY,
      ]);
      expect(added.code, added.stderr).toBe(0);
    }
  }, 90_000);
  afterAll(async () => {
    await keel?.stop();
  });

  it("prints a table of what was done, newest first, narrowed by the filters", async () => {
    const all = await run(["audit"]);
    expect(all.code, all.stderr).toBe(0);
    const lines = all.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^TIME +ACTOR +ACTION +TARGET +SOURCE +OUTCOME$/);
    expect(all.stdout).toMatch(/ann +user\.create/);

    const providers = await run(["audit", "--action", "provider.", "--since", "1h"]);
    expect(providers.code, providers.stderr).toBe(0);
    const rows = providers.stdout.trimEnd().split("\n").slice(1);
    expect(rows.map((row) => row.split(/ {2,}/)[2])).toEqual([
      "provider.create",
      "provider.create",
      "provider.create",
    ]);
    expect(rows[0]).toMatch(/provider Three +127\.0\.0\.1 +ok$/);
    expect(providers.stdout).not.toContain(KEY);
  });

  it("--limit pages, --all follows the pages; json is the events", async () => {
    const first = await run(["audit", "--action", "provider.", "--limit", "2", "--format", "json"]);
    expect(first.code, first.stderr).toBe(0);
    expect((JSON.parse(first.stdout) as unknown[]).length).toBe(2);
    expect(first.stderr).toContain("more match");

    const all = await run([
      "audit",
      "--action",
      "provider.",
      "--limit",
      "2",
      "--all",
      "--format",
      "json",
    ]);
    expect(all.code, all.stderr).toBe(0);
    const events = JSON.parse(all.stdout) as Array<{
      action: string;
      target: { name: string };
      changes: Record<string, unknown>;
      source: { user_agent: string | null };
    }>;
    expect(events.map((e) => e.target.name)).toEqual(["Three", "Two", "One"]);
    expect(events[0]?.changes.api_key).toBe("[changed]");
    // The log names the CLI as the source of what was done with it.
    expect(events[0]?.source.user_agent).toBe("keel-cli/0.1.0");
    expect(all.stderr).toBe("");
  });

  it.each([
    ["csv", /^time,actor_type,/],
    ["jsonl", /^\{.*"action":"provider\.create"/],
  ])("%s streams the export with the filters", async (format, start) => {
    const result = await run(["audit", "--action", "provider.", "--format", format]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(start);
    expect(result.stdout.match(/provider\.create/g)).toHaveLength(3);
    expect(result.stdout).not.toContain("user.create");
    expect(result.stdout).not.toContain(KEY);
  });

  it("a bad time is a usage error before any request; a member reads the server's refusal", async () => {
    const bad = await run(["audit", "--since", "last tuesday"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("ISO 8601");

    // A member, made through the API with the admin's saved token (the CLI has no user commands).
    const { token } = JSON.parse(readFileSync(join(adminDir, "credentials.json"), "utf8")) as {
      token: string;
    };
    const created = await fetch(`${keel.url}/api/v1/users`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({
        username: "max",
        email: "max@example.com",
        password: "max's long password",
        role: "member",
      }),
    });
    expect(created.status).toBe(201);
    const memberDir = mkdtempSync(join(tmpdir(), "keel-cli-audit-member-"));
    const login = await run(["login", keel.url, "--email", "max@example.com", "--password-stdin"], {
      stdin: "max's long password\n",
      configDir: memberDir,
    });
    expect(login.code, login.stderr).toBe(0);
    for (const format of ["table", "csv"]) {
      const refused = await run(["audit", "--format", format], { configDir: memberDir });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^error: \S.*\n$/);
      expect(refused.stdout).toBe("");
    }
  });
});
