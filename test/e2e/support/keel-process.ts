/** Runs `keel server` as a real child process, as an operator would, for end-to-end tests. */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";

const KEEL = join(import.meta.dirname, "../../../bin/keel.js");

export interface KeelProcess {
  url: string;
  child: ChildProcess;
  /** Everything the server wrote to stderr and stdout so far. */
  output(): string;
  /** SIGTERM and wait for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** A `keel` command running to its end, its output collected. */
export interface KeelRun {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** The exit code once the process has ended and its output is all read. */
  exit: Promise<number | null>;
}

/** Runs `keel ARGS` with only PATH and HOME (and `env`) from this environment. */
export function runKeel(args: string[], env: Record<string, string> = {}): KeelRun {
  const child = spawn(process.execPath, [KEEL, ...args], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exit };
}

/** A port that was free a moment ago (so a restarted server can listen on the same one). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startKeel(options: {
  dataDir: string;
  port: number;
  env?: Record<string, string>;
}): Promise<KeelProcess> {
  const child = spawn(
    process.execPath,
    [KEEL, "server", "--address", `127.0.0.1:${options.port}`, "--data-dir", options.dataDir],
    {
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "/tmp",
        KEEL_RETRY_BASE_DELAY_MS: "20",
        KEEL_RETRY_MAX_DELAY_MS: "50",
        // A title request would take a scripted reply meant for a chat (enable it per test).
        KEEL_TITLE_GENERATION: "off",
        ...options.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const url = `http://127.0.0.1:${options.port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`keel server exited early:\n${output}`);
    try {
      const response = await fetch(`${url}/readyz`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`keel server did not become ready:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    child,
    output: () => output,
    stop: async (signal = "SIGTERM") => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}
