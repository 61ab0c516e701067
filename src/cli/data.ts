/**
 * `keel data`: operations on a server's data directory that run while no server uses it. Today
 * one: `migrate --from-pglite`, which moves a data directory from before the embedded PostgreSQL
 * (PGlite in `pgdata/`) onto it, once.
 */
import { Command, Option } from "commander";
import { DEFAULT_OS_USER } from "../store/embedded/os-user.ts";
import { type CliIO, EXIT_ERROR, EXIT_USAGE } from "./io.ts";
import { defaultDataDir } from "./server.ts";

interface MigrateOptions {
  fromPglite?: boolean;
  dataDir: string;
  postgresOsUser: string;
}

export function dataCommand(io: CliIO): Command {
  const data = new Command("data").description(
    "Operations on a keel server's data directory (run them while the server is stopped).",
  );
  data
    .command("migrate")
    .description(
      "Move a data directory made by a Keel before the embedded PostgreSQL (a PGlite database in " +
        "DIR/pgdata) to the embedded PostgreSQL: users, providers (their keys still decrypt with " +
        "the same secret.key), models, chats, messages and events. The PGlite files are kept, " +
        "moved to DIR/pgdata.pglite-backup.",
    )
    .option("--from-pglite", "migrate from PGlite (the only source there is)")
    .addOption(
      new Option("--data-dir <dir>", "the server's data directory")
        .env("KEEL_DATA_DIR")
        .default(defaultDataDir(), "as keel server's"),
    )
    .addOption(
      new Option(
        "--postgres-os-user <name>",
        "when keel runs as root: the OS user the embedded PostgreSQL runs as",
      )
        .env("KEEL_POSTGRES_OS_USER")
        .default(DEFAULT_OS_USER),
    )
    .action(async (options: MigrateOptions) => {
      if (!options.fromPglite) {
        io.stderr("error: say what to migrate from: keel data migrate --from-pglite\n");
        io.setExitCode(EXIT_USAGE);
        return;
      }
      // Loaded here only: PGlite is needed by this command alone.
      const [{ migrateFromPglite }, { EmbeddedPostgresError }] = await Promise.all([
        import("../store/embedded/pglite-migration.ts"),
        import("../store/embedded/errors.ts"),
      ]);
      try {
        const report = await migrateFromPglite({
          dataDir: options.dataDir,
          osUser: options.postgresOsUser,
          log: (message) => io.stderr(`${message}\n`),
        });
        const width = Math.max(...report.tables.map((t) => t.name.length));
        io.stdout(`Moved ${options.dataDir} to the embedded PostgreSQL:\n`);
        for (const table of report.tables) {
          io.stdout(`  ${table.name.padEnd(width)}  ${table.rows} rows\n`);
        }
        io.stdout(
          `Every table's row count matches. The PGlite files are kept in ${report.backup}: ` +
            "remove them once the server runs well. Start it with: keel server" +
            ` --data-dir ${options.dataDir}\n`,
        );
      } catch (error) {
        const message = EmbeddedPostgresError.isInstance(error)
          ? error.message
          : `the migration failed: ${String(error)}`;
        io.stderr(`error: ${message}\n`);
        io.setExitCode(EXIT_ERROR);
      }
    });
  return data;
}
