/**
 * The embedded default end to end: `keel server` without `--postgres-url`, as real processes, on a
 * real data directory — first start, restart, a `kill -9` of Keel then a restart (the orphaned
 * PostgreSQL is stopped, never a second one on the same files), a second server on the same
 * directory, a missing or damaged cluster (a clear error, nothing deleted), `--print-database-url`,
 * and the one-time move of a PGlite data dir made by the previous release
 * (`test/fixtures/pglite-data-dir.tar.xz`, see its README).
 */
import { execFile } from "node:child_process";
import { chmod, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { isAlive } from "../../src/store/embedded/processes.ts";
import { startFakeProvider, textReply } from "../fakeprovider/index.ts";
import { freePort, type KeelProcess, runKeel, startKeel } from "./support/keel-process.ts";

const FIXTURE = join(import.meta.dirname, "../fixtures/pglite-data-dir.tar.xz");
const ROOT = process.getuid?.() === 0;

/** Runs a `keel` command to its end. */
async function keel(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = runKeel(args);
  const code = await run.exit;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

/** `keel server` on `dataDir`, for a start expected to fail: it runs to its end. */
async function serveOnce(dataDir: string) {
  return keel(["server", "--data-dir", dataDir, "--address", `127.0.0.1:${await freePort()}`]);
}

async function postmaster(dataDir: string): Promise<number | undefined> {
  try {
    const text = await readFile(join(dataDir, "postgres", "postmaster.pid"), "utf8");
    return Number.parseInt(text.split("\n")[0] ?? "", 10);
  } catch {
    return undefined;
  }
}

/** The pids of PostgreSQL processes whose command line names this cluster. */
async function postgresProcessesOn(dataDir: string): Promise<number[]> {
  const { stdout } = await promisify(execFile)("ps", ["-eo", "pid=,args="]);
  const cluster = join(dataDir, "postgres");
  return stdout
    .split("\n")
    .filter((line) => line.includes("bin/postgres") && line.includes(`-D ${cluster} `))
    .map((line) => Number.parseInt(line.trim(), 10));
}

async function mode(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

async function call(
  url: string,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: {
      "content-type": "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : {} };
}

const dirs: string[] = [];
const servers: KeelProcess[] = [];

/** A new data directory (Keel makes it private: a 0700 parent would shut out the cluster's user). */
async function newDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "keel-embedded-"));
  dirs.push(dir);
  return dir;
}

async function serve(dataDir: string): Promise<KeelProcess> {
  const server = await startKeel({ dataDir, port: await freePort() });
  servers.push(server);
  return server;
}

afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop("SIGKILL");
});
afterAll(async () => {
  // Anything a test left running on its cluster (a killed server's PostgreSQL) is stopped here.
  for (const dir of dirs) {
    const pid = await postmaster(dir);
    if (pid && isAlive(pid)) process.kill(pid, "SIGQUIT");
    await rm(dir, { recursive: true, force: true });
  }
});

describe("the embedded PostgreSQL", () => {
  it("first start: a private cluster on a Unix socket only; restart keeps the data", async () => {
    const dataDir = await newDataDir();
    const first = await serve(dataDir);
    const setup = await call(first.url, "POST", "/users/first", {
      username: "ada",
      email: "ada@example.com",
      password: "correct horse battery",
    });
    expect(setup.status).toBe(201);

    expect(await mode(dataDir)).toBe(ROOT ? 0o710 : 0o700);
    expect(await mode(join(dataDir, "postgres"))).toBe(0o700);
    expect(await mode(join(dataDir, "run"))).toBe(0o700);
    expect(await mode(join(dataDir, "postgres.log"))).toBe(0o600);
    expect(await mode(join(dataDir, "secret.key"))).toBe(0o600);
    const pid = await postmaster(dataDir);
    expect(pid && isAlive(pid)).toBe(true);
    if (ROOT) {
      // PostgreSQL refuses root: the cluster runs as its own unprivileged user.
      const status = await readFile(`/proc/${pid}/status`, "utf8");
      expect(status).toMatch(/^Uid:\s+[1-9]\d*\s/m);
      expect(first.output()).toContain("unprivileged OS user");
    }

    // Nothing in the data dir is readable or writable by anyone else.
    const open: string[] = [];
    for (const entry of await readdir(dataDir, { recursive: true, withFileTypes: true })) {
      const path = join(entry.parentPath, entry.name);
      if (!entry.isSymbolicLink() && ((await stat(path)).mode & 0o066) !== 0) open.push(path);
    }
    expect(open).toEqual([]);

    // No TCP: the only way in is the socket of --print-database-url.
    const printed = await keel(["server", "--print-database-url", "--data-dir", dataDir]);
    expect(printed.code).toBe(0);
    const url = printed.stdout.trim();
    expect(printed.stderr).toContain("psql");
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const listen = await client.query("SHOW listen_addresses");
      expect(listen.rows[0]?.listen_addresses).toBe("");
      const users = await client.query("SELECT username FROM users");
      expect(users.rows).toEqual([{ username: "ada" }]);
    } finally {
      await client.end();
    }

    // A clean stop stops PostgreSQL too, and frees the data dir.
    expect(await first.stop("SIGTERM")).toBe(0);
    expect(pid && isAlive(pid)).toBe(false);
    expect(await postmaster(dataDir)).toBeUndefined();
    await expect(stat(join(dataDir, "keel.pid"))).rejects.toThrow();

    const second = await serve(dataDir);
    expect((await call(second.url, "GET", "/setup")).json).toEqual({ needs_first_user: false });
    const login = await call(second.url, "POST", "/users/login", {
      email: "ada@example.com",
      password: "correct horse battery",
    });
    expect(login.status).toBe(200);
  });

  it("after a kill -9 of keel server, the next start stops the orphaned PostgreSQL and runs one", async () => {
    const dataDir = await newDataDir();
    const first = await serve(dataDir);
    expect(
      (
        await call(first.url, "POST", "/users/first", {
          username: "ada",
          email: "ada@example.com",
          password: "correct horse battery",
        })
      ).status,
    ).toBe(201);
    const orphan = await postmaster(dataDir);
    await first.stop("SIGKILL");
    expect(orphan && isAlive(orphan)).toBe(true);

    const second = await serve(dataDir);
    expect(second.output()).toContain("left running by a keel server that exited");
    expect(orphan && isAlive(orphan)).toBe(false);
    const running = await postgresProcessesOn(dataDir);
    expect(running).toHaveLength(1);
    expect(running[0]).toBe(await postmaster(dataDir));
    expect((await call(second.url, "GET", "/setup")).json).toEqual({ needs_first_user: false });
  });

  it("refuses a second server on the same data directory, and leaves the first one alone", async () => {
    const dataDir = await newDataDir();
    const first = await serve(dataDir);
    const pid = await postmaster(dataDir);
    const second = await serveOnce(dataDir);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/another keel server \(pid \d+\) is using/);
    expect(pid && isAlive(pid)).toBe(true);
    expect((await fetch(`${first.url}/readyz`)).status).toBe(200);
  });

  it.each([
    ["the data directory", (dataDir: string) => dataDir, 0o755, "chmod 7[01]0"],
    ["secret.key", (dataDir: string) => join(dataDir, "secret.key"), 0o644, "chmod 600"],
  ])(
    "refuses to start when %s is open to others, saying the chmod to run",
    async (_, path, open, fix) => {
      const dataDir = await newDataDir();
      const first = await serve(dataDir);
      expect(await first.stop("SIGTERM")).toBe(0);
      await chmod(path(dataDir), open);
      const result = await serveOnce(dataDir);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`${fix} ${path(dataDir)}`));
      expect(await mode(path(dataDir))).toBe(open);
    },
  );

  it.each([
    [
      "missing",
      async (dataDir: string) => rename(join(dataDir, "postgres"), join(dataDir, "moved-away")),
      /cluster is missing from .*postgres.*Keel deleted nothing/s,
    ],
    [
      "without PG_VERSION",
      async (dataDir: string) => rm(join(dataDir, "postgres", "PG_VERSION")),
      /is not a PostgreSQL cluster.*Keel deleted nothing/s,
    ],
    [
      "damaged (no pg_control)",
      async (dataDir: string) => rm(join(dataDir, "postgres", "global", "pg_control")),
      /could not start on .*pg_control.*Keel deleted nothing.*The last lines of .*postgres\.log/s,
    ],
  ])("a cluster %s is a clear error, and nothing is deleted", async (_, damage, message) => {
    const dataDir = await newDataDir();
    const first = await serve(dataDir);
    expect(await first.stop("SIGTERM")).toBe(0);
    await damage(dataDir);
    const key = await readFile(join(dataDir, "secret.key"), "utf8");

    const result = await serveOnce(dataDir);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(await readFile(join(dataDir, "secret.key"), "utf8")).toBe(key);
    expect(await postgresProcessesOn(dataDir)).toEqual([]);
    await expect(stat(join(dataDir, "keel.pid"))).rejects.toThrow();
  });
});

describe("a PGlite data dir from the previous release", () => {
  const fixture = { email: "owner@example.com", password: "correct horse battery" };
  let expected: {
    chat: { id: string };
    provider: string;
    model: string;
    ws: string;
    apiToken: string;
  };

  beforeAll(async () => {
    expected = JSON.parse(
      await readFile(join(import.meta.dirname, "../fixtures/pglite-data-dir.json"), "utf8"),
    );
  });

  it("is refused at start with the command to run; the command moves everything over", async () => {
    const dataDir = await newDataDir();
    await promisify(execFile)("mkdir", ["-p", dataDir]);
    await promisify(execFile)("tar", ["-xJf", FIXTURE, "-C", dataDir]);

    const refused = await serveOnce(dataDir);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`keel data migrate --from-pglite --data-dir ${dataDir}`);
    await expect(stat(join(dataDir, "postgres"))).rejects.toThrow();

    const migrated = await keel(["data", "migrate", "--from-pglite", "--data-dir", dataDir]);
    expect(migrated.stderr).not.toMatch(/error/);
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toMatch(/chat_events\s+16 rows/);
    expect(migrated.stdout).toMatch(/messages\s+4 rows/);
    // The PGlite files are kept, private, beside the new cluster.
    expect((await stat(join(dataDir, "pgdata.pglite-backup", "PG_VERSION"))).isFile()).toBe(true);
    expect((await mode(join(dataDir, "pgdata.pglite-backup"))) & 0o077).toBe(0);

    const unnamed = await keel(["data", "migrate", "--data-dir", dataDir]);
    expect(unnamed.code).toBe(2);
    expect(unnamed.stderr).toContain("keel data migrate --from-pglite");

    const again = await keel(["data", "migrate", "--from-pglite", "--data-dir", dataDir]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/no PGlite database/);

    const fake = await startFakeProvider();
    try {
      const server = await serve(dataDir);
      // Password hashes, API tokens, chats, messages and events survived.
      const login = await call(server.url, "POST", "/users/login", fixture);
      expect(login.status).toBe(200);
      const token = String(login.json.session_token);
      expect(
        (await call(server.url, "GET", "/users/me", undefined, expected.apiToken)).status,
      ).toBe(200);
      const chat = await call(server.url, "GET", `/chats/${expected.chat.id}`, undefined, token);
      expect(chat.status).toBe(200);
      const messages = chat.json.messages as { role: string; parts: { text?: string }[] }[];
      expect(messages.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);
      expect(messages[3]?.parts[0]?.text).toBe(
        'Second reply, with ünïcödé and "quotes".\nAnd a newline.',
      );
      const stream = await fetch(`${server.url}/api/v1/chats/${expected.chat.id}/stream`, {
        headers: { authorization: `Bearer ${token}`, "last-event-id": "0" },
      });
      const reader = stream.body?.getReader();
      let text = "";
      while (reader && (text.match(/^id: /gm) ?? []).length < 16) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      await reader?.cancel();
      expect((text.match(/^id: (\d+)$/gm) ?? []).map((line) => Number(line.slice(4)))).toEqual(
        Array.from({ length: 16 }, (_, i) => i + 1),
      );
      const workspaces = await call(server.url, "GET", "/workspaces", undefined, token);
      expect((workspaces.json.workspaces as { id: string }[]).map((w) => w.id)).toEqual([
        expected.ws,
      ]);

      // The provider's key and header still decrypt with the same secret.key: the next turn
      // reaches the provider with them.
      const patched = await call(
        server.url,
        "PATCH",
        `/providers/${expected.provider}`,
        { base_url: `${fake.url}/v1` },
        token,
      );
      expect(patched.status).toBe(200);
      fake.enqueue(textReply("Still here after the move."));
      const sent = await call(
        server.url,
        "POST",
        `/chats/${expected.chat.id}/messages`,
        { content: [{ type: "text", text: "Are you there?" }] },
        token,
      );
      expect(sent.status).toBe(202);
      const deadline = Date.now() + 20_000;
      let last: Record<string, unknown> = {};
      while (Date.now() < deadline) {
        last = (await call(server.url, "GET", `/chats/${expected.chat.id}`, undefined, token)).json;
        const done = (last.chat as { status: string }).status === "waiting";
        if (done && (last.messages as unknown[]).length === 6) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect((last.chat as { status: string }).status).toBe("waiting");
      expect(fake.requests.at(-1)?.headers.authorization).toBe("Bearer sk-fixture-key-0123456789");
      expect(fake.requests.at(-1)?.headers["x-fixture"]).toBe("secret-header-value");
    } finally {
      await fake.close();
    }
  });

  it("fails without touching the PGlite files when a cluster exists already", async () => {
    const dataDir = await newDataDir();
    await promisify(execFile)("mkdir", ["-p", join(dataDir, "postgres")]);
    await promisify(execFile)("tar", ["-xJf", FIXTURE, "-C", dataDir]);
    await writeFile(join(dataDir, "postgres", "PG_VERSION"), "18\n");
    const result = await keel(["data", "migrate", "--from-pglite", "--data-dir", dataDir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /already has an embedded PostgreSQL cluster.*Nothing was changed/s,
    );
    expect((await stat(join(dataDir, "pgdata", "PG_VERSION"))).isFile()).toBe(true);
  });
});
