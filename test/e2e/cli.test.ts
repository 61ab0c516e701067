/** The `keel` CLI against a real server, as a person uses it after `npm start`. */
import { spawn } from "node:child_process";
import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type FakeProvider,
  hangAfter,
  startFakeProvider,
  textReply,
} from "../fakeprovider/index.ts";
import { freePort, type KeelProcess, startKeel } from "./support/keel-process.ts";

const KEEL = join(import.meta.dirname, "../../bin/keel.js");

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe("keel CLI against a server", () => {
  let fake: FakeProvider;
  let keel: KeelProcess;
  let configDir: string;

  /** Runs `keel …` with its own config dir; `onStdout` sees output as it arrives. */
  function cli(args: string[], options: { stdin?: string; onStdout?: (all: string) => void } = {}) {
    const child = spawn(process.execPath, [KEEL, ...args], {
      env: { PATH: process.env.PATH ?? "", HOME: configDir, KEEL_CONFIG_DIR: configDir },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      options.onStdout?.(stdout);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdin.end(options.stdin ?? "");
    const done = new Promise<Result>((resolve) =>
      child.on("close", (code) => resolve({ code, stdout, stderr })),
    );
    return { child, done };
  }
  const run = (args: string[], stdin?: string) => cli(args, { stdin }).done;

  beforeAll(async () => {
    fake = await startFakeProvider();
    configDir = mkdtempSync(join(tmpdir(), "keel-cli-"));
    keel = await startKeel({
      dataDir: mkdtempSync(join(tmpdir(), "keel-cli-data-")),
      port: await freePort(),
    });
  }, 60_000);
  afterAll(async () => {
    await keel?.stop();
    await fake?.close();
  });

  let modelId = "";

  it("sets up a new server: first user, provider, model", async () => {
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
      "a long enough password\n",
    );
    expect(login.stderr).toContain("Logged in");
    expect(login.code).toBe(0);
    expect(statSync(join(configDir, "credentials.json")).mode & 0o777).toBe(0o600);

    const provider = await run([
      "providers",
      "add",
      "--type",
      "anthropic",
      "--name",
      "Fake Anthropic",
      "--base-url",
      `${fake.url}/v1`,
      "--api-key",
      "sk-cli-secret",
    ]);
    expect(provider.code).toBe(0);
    const providerId = provider.stdout.trim();
    const listed = await run(["providers", "list"]);
    expect(listed.stdout).toContain("Fake Anthropic");
    expect(listed.stdout).toContain("key set");
    expect(listed.stdout).not.toContain("sk-cli-secret");

    const model = await run([
      "models",
      "add",
      "--provider",
      providerId,
      "--model",
      "claude-test",
      "--display-name",
      "Claude (fake)",
    ]);
    expect(model.code).toBe(0);
    modelId = model.stdout.trim();
    expect((await run(["models", "list"])).stdout).toContain("Claude (fake)");
  });

  it("creates a chat and follows the reply until the turn is over", async () => {
    fake.enqueue(textReply("Hello from the server."));
    const created = await run(["chat", "create", "--watch", "Say hello"]);
    expect(created.code).toBe(0);
    const [id, ...rest] = created.stdout.split("\n");
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(rest.join("\n")).toContain("Hello from the server.");
    expect(rest.join("\n").split("Hello from the server.")).toHaveLength(2); // printed once

    const list = await run(["chat", "list"]);
    expect(list.stdout).toContain("Say hello");
    const show = await run(["chat", "show", id ?? ""]);
    expect(show.stdout).toContain("you: Say hello");
    expect(show.stdout).toContain("Hello from the server.");

    fake.enqueue(textReply("Second reply."));
    const sent = await run(["chat", "send", "--watch", id ?? "", "And again"]);
    expect(sent.code).toBe(0);
    expect(sent.stdout).toContain("Second reply.");
  });

  it("creates a workspace, lists it, starts a chat in it, and deletes it", async () => {
    const created = await run(["workspaces", "create", "--name", "cli repo"]);
    expect(created.code).toBe(0);
    const workspaceId = created.stdout.trim();
    const token = /Agent token \(shown once\): (\S+)/.exec(created.stderr)?.[1] ?? "";
    expect(token).toMatch(/^keelws_/);
    expect(created.stderr).toContain(`keel agent --url ${keel.url}`);
    // The one line that fetches the agent from the server, with no token in it.
    const oneLiner = created.stderr.split("\n").find((line) => line.includes("keel-agent.mjs"));
    expect(oneLiner).toContain(`${keel.url}/agent/keel-agent.mjs`);
    expect(oneLiner).not.toContain(token);
    const listed = await run(["workspaces", "list"]);
    expect(listed.stdout).toContain(`${workspaceId}  cli repo  (agent offline)`);
    expect(listed.stdout).not.toContain(token);

    fake.enqueue(textReply("No tools needed."));
    const chat = await run(["chat", "create", "--workspace", workspaceId, "--watch", "Hi"]);
    expect(chat.code).toBe(0);
    const missing = "00000000-0000-4000-8000-000000000000";
    const unknown = await run(["chat", "create", "--workspace", missing, "Hi"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(`Workspace "${missing}" was not found`);

    expect((await run(["workspaces", "delete", workspaceId])).code).toBe(0);
    expect((await run(["workspaces", "list"])).stdout).not.toContain(workspaceId);
  });

  it("stops a running turn from another terminal", async () => {
    fake.enqueue(hangAfter("Thinking about", 1));
    const created = await run(["chat", "create", "Take your time"]);
    const id = created.stdout.trim();
    const watching = cli(["chat", "watch", "--until-idle", id]);
    await expect.poll(() => fake.inFlight, { timeout: 10_000 }).toBe(1);
    const stop = await run(["chat", "stop", id]);
    expect(stop.code).toBe(0);
    const watched = await watching.done;
    expect(watched.code).toBe(0);
    expect(watched.stdout).toContain("Thinking about");
    expect((await run(["chat", "show", id])).stdout).toContain("(waiting)");
  });

  it("compacts a chat and prints the summary; show marks it", async () => {
    fake.enqueue(textReply("Hello."));
    const created = await run(["chat", "create", "--watch", "Say hello"]);
    const id = created.stdout.split("\n")[0]?.trim() ?? "";
    fake.enqueue(textReply("## Goal\nGreet the user."));
    const compacted = await run(["chat", "compact", "--watch", id]);
    expect(compacted.code).toBe(0);
    expect(compacted.stderr).toContain("compaction asked for");
    expect(compacted.stderr).toContain("compacting: summarising the conversation");
    expect(compacted.stdout).toContain(
      "── earlier conversation summarised ──\n## Goal\nGreet the user.",
    );
    const shown = await run(["chat", "show", id]);
    expect(shown.stdout).toContain("earlier conversation summarised");
    expect(shown.stdout).toContain("(waiting)");
  });

  it("explains what went wrong instead of failing obscurely", async () => {
    const unknown = await run(["chat", "show", "00000000-0000-0000-0000-000000000000"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error: /);
    const noModel = await run([
      "chat",
      "create",
      "--model",
      "00000000-0000-0000-0000-000000000000",
      "hi",
    ]);
    expect(noModel.code).toBe(1);
    expect(noModel.stderr).toMatch(/model/i);
    expect(modelId).not.toBe("");
    const elsewhere = spawn(process.execPath, [KEEL, "chat", "list"], {
      env: {
        PATH: process.env.PATH ?? "",
        KEEL_CONFIG_DIR: mkdtempSync(join(tmpdir(), "keel-nologin-")),
      },
    });
    let stderr = "";
    elsewhere.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise((resolve) => elsewhere.on("close", resolve));
    expect(code).toBe(1);
    expect(stderr).toContain("Not logged in. Run `keel login URL` first");
  });

  // Last: a second model makes `chat create` ask for --model.
  it("adds a model with settings; a setting the provider cannot take prints the server's reason", async () => {
    const providerId = (await run(["providers", "list"])).stdout.split(" ")[0] ?? "";
    const args = ["models", "add", "--provider", providerId, "--model", "claude-settings"];
    const added = await run([
      ...args,
      "--temperature",
      "0.4",
      "--max-output-tokens",
      "4096",
      "--reasoning",
      "off",
    ]);
    expect(added.stderr).toBe("");
    expect(added.code).toBe(0);
    const refused = await run([...args, "--temperature", "0.4", "--reasoning", "high"]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/temperature while thinking/);
    const notANumber = await run([...args, "--temperature", "warm"]);
    expect(notANumber.code).not.toBe(0);
    expect(notANumber.stderr).toMatch(/--temperature/);
  });

  it("admins update, disable, enable and delete models, update and test providers", async () => {
    const providerId = (await run(["providers", "list"])).stdout.split(" ")[0] ?? "";
    const added = await run(["models", "add", "--provider", providerId, "--model", "claude-spare"]);
    const id = added.stdout.trim();
    const updated = await run([
      "models",
      "update",
      id,
      "--display-name",
      "Spare",
      "--compact-at",
      "0.6",
    ]);
    expect(updated.stderr).toContain("Updated Spare");
    expect(updated.code).toBe(0);
    expect((await run(["models", "disable", id])).stderr).toContain("Spare is disabled");
    expect((await run(["models", "list"])).stdout).toMatch(
      /Spare {2}\(claude-spare\) {2}\[disabled\]/,
    );
    expect((await run(["models", "enable", id])).code).toBe(0);
    expect((await run(["models", "delete", id])).code).toBe(0);
    expect((await run(["models", "list"])).stdout).not.toContain("claude-spare");

    expect((await run(["providers", "update", providerId, "--name", "Fake (renamed)"])).code).toBe(
      0,
    );
    expect((await run(["providers", "list"])).stdout).toContain("Fake (renamed)");
    fake.enqueue(textReply("ok"));
    const tested = await run(["providers", "test", providerId]);
    expect(tested.stdout).toMatch(/^ok \(\d+ ms\)/);
    expect(tested.code).toBe(0);
    // A provider with models cannot go: the server's reason is printed.
    const refused = await run(["providers", "delete", providerId]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/model/i);
  });

  it("renames, pins, archives, unarchives, searches and deletes chats for good", async () => {
    fake.enqueue(textReply("The capital of Peru is Lima."));
    const created = await run([
      "chat",
      "create",
      "--model",
      modelId,
      "--watch",
      "What is the capital of Peru?",
    ]);
    const id = created.stdout.split("\n")[0]?.trim() ?? "";
    expect((await run(["chat", "rename", id, "Peru trivia"])).stderr).toContain("Renamed");
    expect((await run(["chat", "model", id, modelId])).code).toBe(0);
    // Without --model, a new chat takes the model last used (several are enabled by now).
    fake.enqueue(textReply("Again."));
    const again = await run(["chat", "create", "Another question"]);
    expect(again.code).toBe(0);
    expect((await run(["chat", "pin", id])).code).toBe(0);
    expect((await run(["chat", "list"])).stdout.split("\n")[0]).toContain("Peru trivia");
    const found = await run(["chat", "search", "Lima"]);
    expect(found.stdout).toContain(id);
    expect((await run(["chat", "search", "zanzibar"])).stdout).toContain("No chat matches");
    expect((await run(["chat", "archive", id])).code).toBe(0);
    expect((await run(["chat", "list"])).stdout).not.toContain(id);
    expect((await run(["chat", "list", "--archived"])).stdout).toContain(id);
    expect((await run(["chat", "unarchive", id])).code).toBe(0);
    expect((await run(["chat", "list"])).stdout).toContain(id);
    expect((await run(["chat", "delete", "--permanent", id])).stderr).toContain("Deleted for good");
    expect((await run(["chat", "show", id])).code).toBe(1);
    // Seventeen CLI processes, one after another: a loaded machine needs more than 30 s.
  }, 90_000);

  it("edits the last message and regenerates the reply", async () => {
    fake.enqueue(textReply("Answer A."));
    const created = await run(["chat", "create", "--model", modelId, "--watch", "Question A?"]);
    const id = created.stdout.split("\n")[0]?.trim() ?? "";
    fake.enqueue(textReply("Answer B."));
    expect((await run(["chat", "edit", id, "Question B?"])).code).toBe(0);
    await run(["chat", "watch", "--until-idle", id]);
    let shown = (await run(["chat", "show", id])).stdout;
    expect(shown).toContain("you: Question B?");
    expect(shown).toContain("Answer B.");
    expect(shown).not.toContain("you: Question A?");
    fake.enqueue(textReply("Answer C."));
    expect((await run(["chat", "regenerate", id])).code).toBe(0);
    await run(["chat", "watch", "--until-idle", id]);
    shown = (await run(["chat", "show", id])).stdout;
    expect(shown).toContain("Answer C.");
    expect(shown).not.toContain("Answer B.");
  });
});
