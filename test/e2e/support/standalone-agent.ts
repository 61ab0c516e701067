/**
 * The standalone agent (`keel-agent.mjs`) for end-to-end tests: built from the current sources,
 * and started by the very line the Workspaces page shows, in bash, with the machine's Node.js 20
 * as `node` — the oldest Node.js the agent supports, not the Node.js 24 the tests run on.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "../../..");
export const AGENT_BUNDLE = join(ROOT, "dist", "agent", "keel-agent.mjs");

/** The Node.js the agent runs on: `KEEL_TEST_AGENT_NODE`, else the machine's `/usr/bin/node`. */
export const AGENT_NODE = process.env.KEEL_TEST_AGENT_NODE ?? "/usr/bin/node";

/** Builds dist/agent/keel-agent.mjs (a second or so; the script replaces the file atomically). */
export function buildAgentBundle(): void {
  execFileSync(process.execPath, [join(ROOT, "scripts", "build-agent.js")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
}

/** AGENT_NODE's version (`v20.20.2`); throws, saying what to do, when it is not Node.js 20. */
export function agentNodeVersion(): string {
  let version: string;
  try {
    version = execFileSync(AGENT_NODE, ["--version"], { encoding: "utf8" }).trim();
  } catch (error) {
    throw new Error(
      `no Node.js at ${AGENT_NODE} to run the agent on (${String(error)}); install Node.js 20 ` +
        "there or set KEEL_TEST_AGENT_NODE to one",
    );
  }
  if (!version.startsWith("v20.") && !process.env.KEEL_TEST_AGENT_NODE) {
    throw new Error(
      `${AGENT_NODE} is Node.js ${version}; these tests run the agent on Node.js 20, the oldest ` +
        "it supports. Set KEEL_TEST_AGENT_NODE to a Node.js 20 binary.",
    );
  }
  return version;
}

export interface RunningLine {
  child: ChildProcess;
  output(): string;
  /** SIGTERM to the line's process group (bash, then the agent); resolves with bash's exit code. */
  stop(): Promise<number | null>;
}

/**
 * Runs `line` in bash in `cwd` as a person would after pasting it, with AGENT_NODE first on PATH
 * as `node`, `home` as HOME (the line saves the agent under ~/.cache) and the token in the
 * environment (the documented way without a terminal to paste it in). With `minimalPath`, PATH
 * holds only `node`, `bash` and `curl`: no `rg`, so `search_files` takes its JavaScript walk.
 */
export function runLine(
  line: string,
  options: { cwd: string; home: string; token: string; minimalPath?: boolean },
) {
  const bin = mkdtempSync(join(tmpdir(), "keel-node20-bin-"));
  symlinkSync(AGENT_NODE, join(bin, "node"));
  for (const tool of options.minimalPath ? ["bash", "curl"] : []) {
    symlinkSync(
      execFileSync("bash", ["-c", `command -v ${tool}`], { encoding: "utf8" }).trim(),
      join(bin, tool),
    );
  }
  const child = spawn("bash", ["-c", line], {
    cwd: options.cwd,
    env: {
      PATH: options.minimalPath ? bin : `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`,
      HOME: options.home,
      KEEL_AGENT_TOKEN: options.token,
    },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group: stopping it reaches the agent under bash.
    detached: true,
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.on("close", (code) => resolve(code)),
  );
  return {
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null && child.pid !== undefined) process.kill(-child.pid, "SIGTERM");
      return exited;
    },
  } satisfies RunningLine;
}
