/** `keel mcp-servers add/list/remove` against a real server: header values go in, never come out. */
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, type KeelProcess, startKeel } from "./support/keel-process.ts";

const KEEL = join(import.meta.dirname, "../../bin/keel.js");

describe("keel mcp-servers", () => {
  let keel: KeelProcess;
  let configDir: string;

  function run(args: string[], options: { stdin?: string; env?: Record<string, string> } = {}) {
    const child = spawn(process.execPath, [KEEL, ...args], {
      env: {
        PATH: process.env.PATH ?? "",
        HOME: configDir,
        KEEL_CONFIG_DIR: configDir,
        ...options.env,
      },
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
    return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
      child.on("close", (code) => resolve({ code, stdout, stderr })),
    );
  }

  beforeAll(async () => {
    configDir = mkdtempSync(join(tmpdir(), "keel-cli-mcp-"));
    keel = await startKeel({
      dataDir: mkdtempSync(join(tmpdir(), "keel-cli-mcp-data-")),
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
  }, 60_000);
  afterAll(async () => {
    await keel?.stop();
  });

  it("adds with headers from the command line and the environment, lists names only, removes by name", async () => {
    const added = await run(
      [
        "mcp-servers",
        "add",
        "--name",
        "docs",
        "--url",
        "https://mcp.example.com/mcp",
        "--header",
        "X-Team: keel-team-value",
        "--header-env",
        "Authorization=DOCS_TOKEN",
        "--deny",
        "delete_page",
      ],
      { env: { DOCS_TOKEN: "Bearer cli-mcp-secret" } },
    );
    expect(added.stderr).toBe("");
    expect(added.code).toBe(0);
    expect(added.stdout.trim()).toMatch(/^[0-9a-f-]{36}$/);

    const listed = await run(["mcp-servers", "list"]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(
      "docs  https://mcp.example.com/mcp  headers: X-Team, Authorization  not: delete_page",
    );
    expect(listed.stdout).not.toContain("cli-mcp-secret");
    expect(listed.stdout).not.toContain("keel-team-value");

    const removed = await run(["mcp-servers", "remove", "docs"]);
    expect(removed.code).toBe(0);
    expect(removed.stderr).toBe("Removed docs.\n");
    expect((await run(["mcp-servers", "list"])).stdout).toBe("");
    expect(keel.output()).not.toContain("cli-mcp-secret");
  });

  it.each([
    [
      "a name the server refuses",
      ["--name", "my__docs", "--url", "https://x.test/mcp"],
      {},
      "name: Must not contain '__'",
    ],
    [
      "a header without a colon",
      ["--name", "docs", "--url", "https://x.test/mcp", "--header", "Authorization"],
      {},
      '--header wants "Name: value"',
    ],
    [
      "a header from an unset variable",
      ["--name", "docs", "--url", "https://x.test/mcp", "--header-env", "Authorization=NOPE"],
      {},
      "the environment variable NOPE is not set",
    ],
  ])("%s: an error saying why", async (_name, args, env, message) => {
    const result = await run(["mcp-servers", "add", ...args], { env });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(message);
  });

  it("removing an unknown server says what to do", async () => {
    const result = await run(["mcp-servers", "remove", "nope"]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('No MCP server "nope". See `keel mcp-servers list`.');
  });
});
