// What a process, or the embedded PostgreSQL's tree of processes, costs: CPU seconds and memory
// from /proc (Linux only), for the benches.

import { execFileSync } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** The fields of /proc/<pid>/stat after the command name (state is [0], ppid [1], utime [11]). */
async function statFields(pid: number): Promise<string[] | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a process used so far; with `reaped`, its exited children's too. */
export async function cpuSeconds(pid: number, reaped = false): Promise<number> {
  const fields = await statFields(pid);
  if (!fields) return Number.NaN;
  const own = Number(fields[11]) + Number(fields[12]);
  const children = reaped ? Number(fields[13]) + Number(fields[14]) : 0;
  return (own + children) / CLK_TCK;
}

/** Proportional set size in MiB: shared pages split between the processes sharing them. */
export async function pssMiB(pid: number): Promise<number> {
  try {
    const text = await readFile(`/proc/${pid}/smaps_rollup`, "utf8");
    return Number(/^Pss:\s+(\d+) kB/m.exec(text)?.[1]) / 1024;
  } catch {
    return Number.NaN;
  }
}

/** The embedded PostgreSQL of `dataDir`: its postmaster first, then the postmaster's children. */
export async function clusterPids(dataDir: string): Promise<number[]> {
  let postmaster: number;
  try {
    postmaster = Number.parseInt(
      await readFile(join(dataDir, "postgres", "postmaster.pid"), "utf8"),
      10,
    );
  } catch {
    return [];
  }
  const children: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = await statFields(Number(entry));
    if (fields && Number(fields[1]) === postmaster) children.push(Number(entry));
  }
  return [postmaster, ...children];
}

/** CPU seconds the embedded PostgreSQL used so far (its backends that exited included). */
export async function clusterCpuSeconds(dataDir: string): Promise<number> {
  const [postmaster, ...children] = await clusterPids(dataDir);
  if (postmaster === undefined) return Number.NaN;
  const times = await Promise.all([
    cpuSeconds(postmaster, true),
    ...children.map((pid) => cpuSeconds(pid)),
  ]);
  return times.filter(Number.isFinite).reduce((a, b) => a + b, 0);
}

/** The embedded PostgreSQL's memory: PSS summed over its processes, MiB, and how many. */
export async function clusterPssMiB(dataDir: string): Promise<{ mib: number; processes: number }> {
  const values = (await Promise.all((await clusterPids(dataDir)).map(pssMiB))).filter(
    Number.isFinite,
  );
  return { mib: values.reduce((a, b) => a + b, 0), processes: values.length };
}

/** CPU seconds the whole machine has been busy (all CPUs): user, nice, system and steal (time the
 *  hypervisor gave to others); not idle, iowait, nor irq/softirq (loopback traffic's, charged to no
 *  process). */
export async function machineBusySeconds(): Promise<number> {
  try {
    const line = (await readFile("/proc/stat", "utf8")).split("\n")[0] ?? "";
    // cpu user nice system idle iowait irq softirq steal guest guest_nice
    const [user, nice, system, , , , , steal] = line.trim().split(/\s+/).slice(1).map(Number);
    return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (steal ?? 0)) / CLK_TCK;
  } catch {
    return Number.NaN;
  }
}

/** A thread's scheduler times, seconds: on a CPU, and runnable but waiting for one (the run
 *  queue: CPU starvation). `/proc/<pid>/schedstat` is the process's main thread. */
export async function schedSeconds(pid: number): Promise<{ run: number; wait: number }> {
  try {
    const [run, wait] = (await readFile(`/proc/${pid}/schedstat`, "utf8")).trim().split(" ");
    return { run: Number(run) / 1e9, wait: Number(wait) / 1e9 };
  } catch {
    return { run: Number.NaN, wait: Number.NaN };
  }
}
