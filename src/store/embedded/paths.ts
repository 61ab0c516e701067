/** Where the embedded PostgreSQL's files are in a data directory, and how to reach it. */
import { join } from "node:path";

/** The cluster's superuser and Keel's database in it. */
export const EMBEDDED_USER = "keel";

export const EMBEDDED_DATABASE = "keel";

/** Names the socket file (`.s.PGSQL.5432`); nothing listens on TCP. */
export const PORT = 5432;

export interface EmbeddedPaths {
  readonly dataDir: string;
  readonly cluster: string;
  readonly socketDir: string;
  readonly log: string;
  readonly lock: string;
  /** Where a Keel before the embedded PostgreSQL kept its PGlite database. */
  readonly pglite: string;
}

export function embeddedPaths(dataDir: string): EmbeddedPaths {
  return {
    dataDir,
    cluster: join(dataDir, "postgres"),
    socketDir: join(dataDir, "run"),
    log: join(dataDir, "postgres.log"),
    lock: join(dataDir, "keel.pid"),
    pglite: join(dataDir, "pgdata"),
  };
}

/** A connection URL for `database` on the embedded cluster of `dataDir` (pg and psql read it). */
export function embeddedUrl(dataDir: string, database = EMBEDDED_DATABASE): string {
  const host = encodeURIComponent(embeddedPaths(dataDir).socketDir);
  return `postgresql://${EMBEDDED_USER}@/${database}?host=${host}`;
}
