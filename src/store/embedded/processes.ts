/**
 * What Keel needs to know about other processes to own a data directory safely: whether a pid is
 * alive, which program it runs, and when it started (so a pid the kernel handed to another program
 * after a reboot is not taken for the one that wrote a pid file).
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * Whether a process with this pid runs (EPERM: it does, under another user). A zombie — dead, not
 * yet reaped by its parent — does not count.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as { code?: unknown }).code !== "EPERM") return false;
  }
  return !isZombie(pid);
}

function isZombie(pid: number): boolean {
  if (process.platform !== "linux") return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false;
  }
}

/** The program name of `pid` ("postgres"), or undefined when it is gone or cannot be read. */
export async function programName(pid: number): Promise<string | undefined> {
  if (process.platform === "linux") {
    try {
      return (await readFile(`/proc/${pid}/comm`, "utf8")).trim();
    } catch {
      return undefined;
    }
  }
  const out = await ps(pid, "comm=");
  return out?.split("/").pop();
}

/**
 * An opaque token that names one process's life: the same pid with another token is another
 * process. Linux: the start time in clock ticks since boot; elsewhere `ps`'s start time.
 */
export async function startToken(pid: number): Promise<string | undefined> {
  if (process.platform === "linux") {
    try {
      const stat = await readFile(`/proc/${pid}/stat`, "utf8");
      // Fields after the command name (which may hold spaces and parentheses): field 22 is starttime.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return fields[19];
    } catch {
      return undefined;
    }
  }
  return ps(pid, "lstart=");
}

async function ps(pid: number, format: string): Promise<string | undefined> {
  try {
    const { stdout } = await run("ps", ["-o", format, "-p", String(pid)]);
    return stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Polls until `pid` is gone; false if it still runs after `timeoutMs`. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}
