import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AgentSupervisor, agentEnvironment } from "./supervisor.ts";

/**
 * A stand-in for bin/keel.js: records its argv, env and pid in `<dir>/started-<pid>.json`, writes a
 * line to stdout and one to stderr, then behaves as `<dir>/mode` says: `crash-once` exits 3 the
 * first time, `exit0` exits 0, `stubborn` ignores SIGTERM; otherwise it waits until SIGTERM (or
 * until its parent goes away, as `keel agent` does).
 */
const FAKE_KEEL = `
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
const dir = process.argv[process.argv.indexOf("--dir") + 1];
const read = (name) => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), "utf8").trim() : "");
const mode = read("mode");
process.channel?.unref();
process.on("disconnect", () => process.exit(0));
process.on("SIGTERM", () => {
  if (mode !== "stubborn") process.exit(0);
});
const report = JSON.stringify({ argv: process.argv.slice(2), env: process.env, pid: process.pid });
writeFileSync(join(dir, ".report-" + process.pid), report);
renameSync(join(dir, ".report-" + process.pid), join(dir, "started-" + process.pid + ".json"));
process.stdout.write("hello from the fake agent\\n");
process.stderr.write("a warning line\\n");
if (mode === "crash-once" && !existsSync(join(dir, "crashed"))) {
  writeFileSync(join(dir, "crashed"), "");
  process.exit(3);
}
if (mode === "exit0") process.exit(0);
setInterval(() => {}, 1000);
`;

interface Started {
  argv: string[];
  env: Record<string, string>;
  pid: number;
}

function starts(dir: string): Started[] {
  return readdirSync(dir)
    .filter((name) => name.startsWith("started-"))
    .map((name) => JSON.parse(readFileSync(join(dir, name), "utf8")) as Started);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("AgentSupervisor", () => {
  let root: string;
  let keelBin: string;
  let supervisor: AgentSupervisor;
  let logs: string[];
  let count = 0;
  const SERVER_URL = "http://127.0.0.1:39999";

  function workspaceDir(mode = ""): string {
    const dir = join(root, `ws-${++count}`);
    mkdirSync(dir);
    if (mode) writeFileSync(join(dir, "mode"), mode);
    return dir;
  }

  function newSupervisor(): AgentSupervisor {
    logs = [];
    supervisor = new AgentSupervisor({
      serverUrl: SERVER_URL,
      keelBin,
      log: (line) => logs.push(line),
      restartBackoff: { minMs: 50, maxMs: 200 },
    });
    return supervisor;
  }

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "keel-supervisor-"));
    keelBin = join(root, "fake-keel.mjs");
    writeFileSync(keelBin, FAKE_KEEL);
  });
  afterEach(async () => {
    await supervisor.close();
  });
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it("runs `keel agent --url --dir --no-mcp` with the token in an allow-listed environment", async () => {
    const secrets = {
      KEEL_SECRET_KEY: "server-secret-key-value",
      KEEL_POSTGRES_URL: "postgres://keel:db-password@db/keel",
      ANTHROPIC_API_KEY: "sk-ant-provider-key",
      OPENAI_API_KEY: "sk-openai-provider-key",
      NODE_OPTIONS: "--require /tmp/evil.js",
      SOMETHING_ELSE: "not for the agent",
    };
    const saved = { ...process.env };
    Object.assign(process.env, secrets, { LC_ALL: "C.UTF-8", TZ: "UTC" });
    try {
      newSupervisor();
      const dir = workspaceDir();
      supervisor.ensure("ws_env", dir, "kat_token-1");
      await until(() => starts(dir).length === 1);
      const [started] = starts(dir);
      expect(started?.argv).toEqual(["agent", "--url", SERVER_URL, "--dir", dir, "--no-mcp"]);
      const env = started?.env ?? {};
      expect(env.KEEL_AGENT_TOKEN).toBe("kat_token-1");
      expect(env.LC_ALL).toBe("C.UTF-8");
      expect(env.TZ).toBe("UTC");
      expect(env.PATH).toBe(process.env.PATH);
      const allowed = ["PATH", "HOME", "USER", "LANG", "TERM", "TMPDIR", "SHELL", "TZ"];
      for (const name of Object.keys(env)) {
        expect(
          allowed.includes(name) || name.startsWith("LC_") || name === "KEEL_AGENT_TOKEN",
          name,
        ).toBe(true);
      }
      const everything = JSON.stringify(started);
      for (const value of Object.values(secrets)) expect(everything).not.toContain(value);
      await until(() => logs.length >= 2);
      expect(logs).toContain("[agent ws_env] hello from the fake agent");
      expect(logs).toContain("[agent ws_env] a warning line");
      expect(logs.join("\n")).not.toContain("kat_token-1");
    } finally {
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
      Object.assign(process.env, saved);
    }
  });

  it("agentEnvironment keeps only the allow-list", () => {
    expect(
      agentEnvironment(
        {
          PATH: "/bin",
          LC_CTYPE: "C",
          KEEL_SECRET_KEY: "k",
          AWS_SECRET_ACCESS_KEY: "a",
          HOME: "/h",
        },
        "t",
      ),
    ).toEqual({ PATH: "/bin", LC_CTYPE: "C", HOME: "/h", KEEL_AGENT_TOKEN: "t" });
  });

  it("restarts an agent that crashes", async () => {
    newSupervisor();
    const dir = workspaceDir("crash-once");
    supervisor.ensure("ws_crash", dir, "tok");
    await until(() => starts(dir).length === 2);
    expect(
      logs.some((l) => /^\[agent ws_crash\] exited \(code 3\); restarting in \d+\.\d s$/.test(l)),
    ).toBe(true);
    const second = starts(dir).find((s) => alive(s.pid));
    expect(second).toBeDefined();
  });

  it("leaves an agent that exited 0 (it chose to stop) alone", async () => {
    newSupervisor();
    const dir = workspaceDir("exit0");
    supervisor.ensure("ws_done", dir, "tok");
    await until(() => logs.some((l) => l.includes("not restarting")));
    await sleep(300);
    expect(starts(dir)).toHaveLength(1);
  });

  it("ensure is idempotent, and restarts the agent with a new token", async () => {
    newSupervisor();
    const dir = workspaceDir();
    supervisor.ensure("ws_tok", dir, "tok-a");
    supervisor.ensure("ws_tok", dir, "tok-a");
    await until(() => starts(dir).length === 1);
    await sleep(200);
    expect(starts(dir)).toHaveLength(1);
    const first = starts(dir)[0] as Started;
    supervisor.ensure("ws_tok", dir, "tok-b");
    await until(() => starts(dir).length === 2);
    const second = starts(dir).find((s) => s.pid !== first.pid) as Started;
    expect(second.env.KEEL_AGENT_TOKEN).toBe("tok-b");
    await until(() => !alive(first.pid));
    expect(alive(second.pid)).toBe(true);
  });

  it("stop() ends one agent for good", async () => {
    newSupervisor();
    const dir = workspaceDir();
    supervisor.ensure("ws_stop", dir, "tok");
    await until(() => starts(dir).length === 1);
    const { pid } = starts(dir)[0] as Started;
    await supervisor.stop("ws_stop");
    expect(alive(pid)).toBe(false);
    await sleep(200);
    expect(starts(dir)).toHaveLength(1);
    expect(logs.some((l) => l.includes("restarting"))).toBe(false);
  });

  it("close() stops every agent, killing one that ignores SIGTERM after 2 s", async () => {
    newSupervisor();
    const polite = workspaceDir();
    const stubborn = workspaceDir("stubborn");
    supervisor.ensure("ws_polite", polite, "tok");
    supervisor.ensure("ws_stubborn", stubborn, "tok");
    await until(() => starts(polite).length === 1 && starts(stubborn).length === 1);
    const pids = [...starts(polite), ...starts(stubborn)].map((s) => s.pid);
    const started = Date.now();
    await supervisor.close();
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(1_900);
    expect(took).toBeLessThan(20_000); // bounded: the stubborn agent was killed, not waited for
    for (const pid of pids) expect(alive(pid)).toBe(false);
    supervisor.ensure("ws_late", workspaceDir(), "tok"); // after close: nothing starts
    await sleep(200);
    expect(existsSync(join(root, `ws-${count}`, "mode"))).toBe(false);
    expect(starts(join(root, `ws-${count}`))).toHaveLength(0);
  });
});
