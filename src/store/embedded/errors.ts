/**
 * Why the embedded PostgreSQL could not be used, in words an operator can act on: each message says
 * what happened and what to do. Recognised by a symbol marker (`isInstance`), like the AI SDK's
 * errors, so a second copy of this module still agrees.
 */

const MARKER = Symbol.for("keel.embedded-postgres-error");

export class EmbeddedPostgresError extends Error {
  override readonly name = "EmbeddedPostgresError";
  readonly [MARKER] = true;

  static isInstance(error: unknown): error is EmbeddedPostgresError {
    return typeof error === "object" && error !== null && MARKER in error;
  }
}

/** The data directory holds a PGlite database from a Keel before the embedded PostgreSQL. */
export class PgliteDataDirError extends EmbeddedPostgresError {
  constructor(dataDir: string) {
    super(
      `${dataDir} holds a database from an earlier Keel (PGlite, in ${dataDir}/pgdata). ` +
        `Move it to the embedded PostgreSQL once with \`keel data migrate --from-pglite --data-dir ${dataDir}\` ` +
        "(it keeps the PGlite files), then start the server again.",
    );
  }
}
