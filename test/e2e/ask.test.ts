/** `keel ask` as a person runs it: a real process, real signals, against the fake provider. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  errorReply,
  type FakeProvider,
  hangAfter,
  resetAfter,
  startFakeProvider,
  textReply,
} from "../fakeprovider/index.ts";
import { runKeel as keel } from "./support/keel-process.ts";

describe("keel ask", () => {
  let fake: FakeProvider;
  let caFile: string;
  const base = () => [
    "ask",
    "--provider",
    "anthropic",
    "--base-url",
    `${fake.url}/v1`,
    "--api-key",
    "sk-test",
    "--model",
    "claude-test",
    "--ca-file",
    caFile,
    "--retry-base-delay-ms",
    "10",
  ];

  beforeAll(async () => {
    fake = await startFakeProvider({ http2: true });
    caFile = join(mkdtempSync(join(tmpdir(), "keel-ask-")), "ca.pem");
    writeFileSync(caFile, fake.ca);
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  it("streams the reply to stdout and exits 0", async () => {
    fake.enqueue(textReply("Hello from the fake."));
    const run = keel([...base(), "hi"]);
    expect(await run.exit).toBe(0);
    expect(run.stdout()).toBe("Hello from the fake.\n");
    expect(fake.requests[0]?.httpVersion).toBe("2.0");
  });

  it("prints one line per retry to stderr and the reply once to stdout", async () => {
    fake.enqueue(resetAfter("Hello wor", 2), textReply("Hello world"));
    const run = keel([...base(), "hi"]);
    expect(await run.exit).toBe(0);
    expect(run.stdout()).toBe("Hello world\n");
    const retryLines = run
      .stderr()
      .split("\n")
      .filter((line) => line.startsWith("retry:"));
    expect(retryLines).toHaveLength(1);
    expect(retryLines[0]).toMatch(/\[timeout\] attempt 2 in \d+\.\d s/);
  });

  it("takes its settings from the environment too", async () => {
    fake.enqueue(textReply("env works"));
    const run = keel(["ask", "--ca-file", caFile, "hi"], {
      KEEL_PROVIDER: "anthropic",
      KEEL_BASE_URL: `${fake.url}/v1`,
      KEEL_API_KEY: "sk-env",
      KEEL_MODEL: "claude-test",
    });
    expect(await run.exit).toBe(0);
    expect(run.stdout()).toBe("env works\n");
    expect(fake.requests[0]?.headers["x-api-key"]).toBe("sk-env");
  });

  it("prints a terminal error's message and exits 1", async () => {
    fake.enqueue(errorReply("auth"));
    const run = keel([...base(), "hi"]);
    expect(await run.exit).toBe(1);
    expect(run.stderr()).toMatch(/^error: .*API key/m);
    // The person typed the key: the advice names the flag, not an administrator.
    expect(run.stderr()).toContain("Check the key given with --api-key (or KEEL_API_KEY).");
    expect(run.stderr()).not.toMatch(/administrator/i);
    expect(run.stderr()).not.toContain("sk-test");
    expect(run.stdout()).toBe("");
  });

  it.each([
    [[], "/v1/responses"],
    [["--option", "api=chat"], "/v1/chat/completions"],
  ])("with %j talks to OpenAI's %s API", async (extra, path) => {
    fake.enqueue(textReply("Hi from OpenAI."));
    const run = keel([
      ...base().map((arg) => (arg === "anthropic" ? "openai" : arg)),
      ...extra,
      "hi",
    ]);
    expect(await run.exit).toBe(0);
    expect(run.stdout()).toBe("Hi from OpenAI.\n");
    expect(fake.requests[0]?.path).toBe(path);
  });

  it("stops on Ctrl-C, keeps the partial reply on stdout and exits 130", async () => {
    fake.enqueue(hangAfter("Hello wor", 2));
    const run = keel([...base(), "hi"]);
    await expect.poll(() => run.stdout(), { timeout: 10_000 }).toBe("Hello wor");
    run.child.kill("SIGINT");
    expect(await run.exit).toBe(130);
    expect(run.stdout()).toBe("Hello wor\n");
    expect(fake.requests).toHaveLength(1);
  });

  it.each([
    ["a malformed number", ["--retry-max-delay-ms", "soon"], /soon/],
    ["an unknown provider", ["--provider", "skynet"], /skynet/],
    ["a missing prompt", [], /prompt/],
    ["an unknown flag", ["--colour"], /colour/],
    ["an --option without a value", ["--option", "api"], /--option.*KEY=VALUE/],
  ])("exits 2 with a clear message on %s", async (_, extra, pattern) => {
    const run = keel([...base(), ...extra, ...(extra.length ? ["hi"] : [])]);
    expect(await run.exit).toBe(2);
    expect(run.stderr()).toMatch(pattern);
    expect(fake.requests).toHaveLength(0);
  });

  it("exits 2 and names the option when the model is missing", async () => {
    const withoutModel = base().filter(
      (arg, i, all) => arg !== "--model" && all[i - 1] !== "--model",
    );
    const run = keel([...withoutModel, "hi"]);
    expect(await run.exit).toBe(2);
    expect(run.stderr()).toMatch(/--model/);
  });

  it("exits 1 with the reason when the provider configuration cannot work", async () => {
    const run = keel(["ask", "--provider", "openai-compatible", "--model", "m", "hi"]);
    expect(await run.exit).toBe(1);
    expect(run.stderr()).toBe("error: An OpenAI-compatible provider needs a base_url.\n");
    expect(fake.requests).toHaveLength(0);
  });

  it("has --help for the program and for ask", async () => {
    const top = keel(["--help"]);
    expect(await top.exit).toBe(0);
    expect(top.stdout()).toContain("ask");
    const ask = keel(["ask", "--help"]);
    expect(await ask.exit).toBe(0);
    expect(ask.stdout()).toContain("--stream-silence-timeout-ms");
  });
});
