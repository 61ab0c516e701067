/**
 * What a person sees on the consoles (issue 12): the server's on a first start and per request,
 * `keel login` without a terminal, and `keel chat show`'s labels. One real server, started twice
 * on the same data directory (the first start creates the database, the second does not).
 */
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WITHOUT_TERMINAL } from "../../src/cli/login.ts";
import { type FakeProvider, startFakeProvider, textReply } from "../fakeprovider/index.ts";
import { freePort, type KeelProcess, startKeel } from "./support/keel-process.ts";

const KEEL = join(import.meta.dirname, "../../bin/keel.js");

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe("the consoles of keel server and the CLI", () => {
  let fake: FakeProvider;
  let keel: KeelProcess;
  let configDir: string;
  let dataDir: string;
  let port: number;

  /** `keel ARGS` with its own config dir; stdin is a pipe (never a terminal). */
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
    return new Promise<Result>((resolve) =>
      child.on("close", (code) => resolve({ code, stdout, stderr })),
    );
  }
  const requestLines = (output: string) =>
    output.split("\n").filter((line) => line.includes('"msg":"request"'));

  beforeAll(async () => {
    fake = await startFakeProvider();
    configDir = mkdtempSync(join(tmpdir(), "keel-console-"));
    dataDir = mkdtempSync(join(tmpdir(), "keel-console-data-"));
    port = await freePort();
    keel = await startKeel({ dataDir, port });
  }, 60_000);
  afterAll(async () => {
    await keel?.stop();
    await fake?.close();
  });

  it("says on a first start that it creates the database, and when it is done", () => {
    const output = keel.output();
    const creating = output.indexOf(
      `Creating the embedded PostgreSQL database in ${join(dataDir, "postgres")} (first start only; this can take up to a minute)…`,
    );
    const created = output.search(/Created the embedded PostgreSQL database in \d+\.\d s\./);
    const running = output.indexOf("Keel is running at");
    expect(creating).toBeGreaterThanOrEqual(0);
    expect(created).toBeGreaterThan(creating);
    expect(running).toBeGreaterThan(created);
  });

  const ann = ["--email", "ann@example.com"];
  const owner = ["--first-user", "--username", "ann", ...ann];
  const password = "a long enough password";
  // In order: the two refusals ask nothing of the server; KEEL_PASSWORD creates the owner, whom
  // --password-stdin then logs in.
  it.each<[string, string[], { stdin?: string; env?: Record<string, string> }, number, string]>([
    ["no password and no terminal", owner, {}, 1, `error: ${WITHOUT_TERMINAL.password}\n`],
    ["no email and no terminal", [], {}, 1, `error: ${WITHOUT_TERMINAL.email}\n`],
    ["KEEL_PASSWORD", owner, { env: { KEEL_PASSWORD: password } }, 0, "Logged in"],
    ["--password-stdin", [...ann, "--password-stdin"], { stdin: `${password}\n` }, 0, "Logged in"],
  ])("keel login with %s", async (_, flags, options, code, stderr) => {
    const result = await run(["login", `http://127.0.0.1:${port}`, ...flags], options);
    expect(result.stderr).toContain(stderr);
    expect(result.code).toBe(code);
  });

  it("chat show labels both sides: you and the model", async () => {
    const provider = await run([
      "providers",
      "add",
      "--type",
      "anthropic",
      "--name",
      "Fake",
      "--base-url",
      `${fake.url}/v1`,
      "--api-key",
      "sk-console",
    ]);
    expect(provider.code).toBe(0);
    const model = await run([
      "models",
      "add",
      "--provider",
      provider.stdout.trim(),
      "--model",
      "claude-test",
      "--display-name",
      "Claude (fake)",
    ]);
    expect(model.code).toBe(0);
    fake.enqueue(textReply("Hello from the server."));
    const created = await run(["chat", "create", "--watch", "Say hello"]);
    expect(created.code).toBe(0);
    const shown = await run(["chat", "show", created.stdout.split("\n")[0] ?? ""]);
    expect(shown.stdout).toContain("you: Say hello\n");
    expect(shown.stdout).toContain("Claude (fake): Hello from the server.\n");
  });

  it("logs no request lines at the default level, one per request at --log-level debug", async () => {
    expect(requestLines(keel.output())).toEqual([]);
    await keel.stop();
    keel = await startKeel({ dataDir, port, env: { KEEL_LOG_LEVEL: "debug" } });
    expect(keel.output()).not.toContain("Creating the embedded PostgreSQL database");
    expect((await run(["chat", "list"])).code).toBe(0);
    await expect
      .poll(() => requestLines(keel.output()).filter((l) => l.includes('"path":"/api/v1/chats"')))
      .toHaveLength(1);
    expect(requestLines(keel.output())[0]).toContain('"level":"debug"');
  });
});
