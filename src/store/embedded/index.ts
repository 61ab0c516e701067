export {
  EMBEDDED_DATABASE,
  EMBEDDED_USER,
  type EmbeddedOptions,
  EmbeddedPostgres,
  embeddedPaths,
  embeddedUrl,
} from "./cluster.ts";
export { EmbeddedPostgresError, PgliteDataDirError } from "./errors.ts";
export { DEFAULT_OS_USER } from "./os-user.ts";
