export { type EmbeddedOptions, EmbeddedPostgres } from "./cluster.ts";
export { EmbeddedPostgresError, PgliteDataDirError } from "./errors.ts";
export { DEFAULT_OS_USER } from "./os-user.ts";
export { EMBEDDED_DATABASE, EMBEDDED_USER, embeddedPaths, embeddedUrl } from "./paths.ts";
