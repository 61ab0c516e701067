/**
 * The embedded cluster's own lifecycle, below `keel server` (whose end-to-end suite,
 * `test/e2e/embedded.test.ts`, covers restarts, `kill -9` and damaged clusters): a start refused
 * before anything is written, a version it cannot run, an interrupted first start, and PostgreSQL
 * stopping when the process exits without `stop`.
 */
import { execFile, execFileSync, spawn, spawnSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { EmbeddedPostgres } from "./cluster.ts";
import { EmbeddedPostgresError, PgliteDataDirError } from "./errors.ts";
import { clusterUser, runningAsRoot } from "./os-user.ts";
import { embeddedUrl } from "./paths.ts";
import { isAlive, waitForExit } from "./processes.ts";

/**
 * As root, the path every other user takes can be tried as `nobody` — where `runuser` exists and
 * `nobody` can read this checkout.
 */
const nobodyCanRunKeel =
  runningAsRoot() &&
  spawnSync("runuser", ["-u", "nobody", "--", "test", "-r", import.meta.filename]).status === 0;

const dirs: string[] = [];
async function newDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "keel-cluster-"));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function query(url: string, sql: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

describe("the embedded cluster", () => {
  it("serves Keel's database as its superuser over the socket, and stops", async () => {
    const dataDir = await newDir();
    const cluster = await EmbeddedPostgres.start({ dataDir });
    expect(cluster.url()).toBe(embeddedUrl(dataDir));
    expect(await query(cluster.url(), "SELECT current_user AS u, current_database() AS d")).toEqual(
      [{ u: "keel", d: "keel" }],
    );
    expect(await query(cluster.url(), "SHOW server_encoding")).toEqual([
      { server_encoding: "UTF8" },
    ]);
    await cluster.stop();
    await cluster.stop(); // twice is fine
    expect(isAlive(cluster.pid)).toBe(false);
    await expect(stat(join(dataDir, "keel.pid"))).rejects.toThrow();
  });

  it("refuses a data dir whose socket path would be too long, before writing anything", async () => {
    const parent = await newDir();
    const dataDir = join(parent, "d".repeat(120));
    const start = EmbeddedPostgres.start({ dataDir });
    await expect(start).rejects.toSatisfy(EmbeddedPostgresError.isInstance);
    await expect(start).rejects.toThrow(/too long for the embedded PostgreSQL's Unix socket/);
    await expect(stat(dataDir)).rejects.toThrow();
  });

  it("refuses a PGlite data dir with the command that migrates it", async () => {
    const dataDir = await newDir();
    await mkdir(join(dataDir, "pgdata"));
    await writeFile(join(dataDir, "pgdata", "PG_VERSION"), "17\n");
    const start = EmbeddedPostgres.start({ dataDir });
    await expect(start).rejects.toBeInstanceOf(PgliteDataDirError);
    await expect(start).rejects.toThrow("keel data migrate --from-pglite");
    await expect(stat(join(dataDir, "postgres"))).rejects.toThrow();
  });

  it("refuses a cluster of another PostgreSQL major version, naming both", async () => {
    const dataDir = await newDir();
    await (await EmbeddedPostgres.start({ dataDir })).stop();
    const versionFile = join(dataDir, "postgres", "PG_VERSION");
    const real = await readFile(versionFile, "utf8");
    await writeFile(versionFile, "17\n");
    await expect(EmbeddedPostgres.start({ dataDir })).rejects.toThrow(
      new RegExp(`made by PostgreSQL 17, and this Keel runs PostgreSQL ${real.trim()}`),
    );
    await writeFile(versionFile, real);
    await (await EmbeddedPostgres.start({ dataDir })).stop();
  });

  it("replaces what an interrupted first start left, and creates the cluster", async () => {
    const dataDir = await newDir();
    await mkdir(join(dataDir, "postgres.initdb"));
    await writeFile(join(dataDir, "postgres.initdb", "half-written"), "");
    const cluster = await EmbeddedPostgres.start({ dataDir });
    await cluster.stop();
    await expect(stat(join(dataDir, "postgres.initdb"))).rejects.toThrow();
    expect((await stat(join(dataDir, "postgres", "PG_VERSION"))).isFile()).toBe(true);
  });

  it.runIf(runningAsRoot())(
    "gives a cluster copied by root back to its OS user, and starts",
    async () => {
      const dataDir = await newDir();
      await (await EmbeddedPostgres.start({ dataDir })).stop();
      const cluster = join(dataDir, "postgres");
      await promisify(execFile)("chown", ["-R", "0:0", cluster]);
      const restarted = await EmbeddedPostgres.start({ dataDir });
      await restarted.stop();
      const user = await clusterUser();
      expect((await stat(join(cluster, "global", "pg_control"))).uid).toBe(user?.uid);
    },
  );

  it.runIf(nobodyCanRunKeel)(
    "runs as the user that starts it when that user is not root, its files private to it",
    async () => {
      const dataDir = join(await newDir(), "nobody");
      await chmod(dirname(dataDir), 0o1777); // like /tmp: nobody may create its data dir here
      const script = `
        import { EmbeddedPostgres } from ${JSON.stringify(join(import.meta.dirname, "cluster.ts"))};
        const cluster = await EmbeddedPostgres.start({ dataDir: ${JSON.stringify(dataDir)} });
        await cluster.stop();
      `;
      const run = spawnSync(
        "runuser",
        ["-u", "nobody", "--", process.execPath, "--input-type=module", "-e", script],
        { encoding: "utf8", cwd: "/" },
      );
      expect(run.stderr).toBe("");
      expect(run.status).toBe(0);
      const nobody = Number(execFileSync("id", ["-u", "nobody"], { encoding: "utf8" }));
      for (const path of [dataDir, join(dataDir, "postgres"), join(dataDir, "run")]) {
        const info = await stat(path);
        expect([info.uid, info.mode & 0o777]).toEqual([nobody, 0o700]);
      }
      expect((await stat(join(dataDir, "postgres.log"))).mode & 0o777).toBe(0o600);
    },
  );

  it("shuts PostgreSQL down when the process exits without stopping it", async () => {
    const dataDir = await newDir();
    const script = `
      import { EmbeddedPostgres } from ${JSON.stringify(join(import.meta.dirname, "cluster.ts"))};
      const cluster = await EmbeddedPostgres.start({ dataDir: ${JSON.stringify(dataDir)} });
      process.stdout.write(String(cluster.pid));
      process.exit(0);
    `;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    expect(await new Promise((resolve) => child.on("exit", resolve))).toBe(0);
    const pid = Number(out);
    expect(pid).toBeGreaterThan(0);
    expect(await waitForExit(pid, 20_000)).toBe(true);
    await expect(stat(join(dataDir, "keel.pid"))).rejects.toThrow();
  });
});
