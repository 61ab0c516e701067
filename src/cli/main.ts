/**
 * The `keel` program: every command's flags and help, built on each start. Keep what this file
 * imports cheap — commander and small leaves, never the provider SDKs, the database, Hono or the
 * MCP SDK: a command loads what it does with `import()` in its action (`ask-run.ts`,
 * `server-run.ts`, `agent-run.ts`), so `keel --help` and the client commands start in a fraction
 * of the CPU (startup.test.ts guards the module list; `npm run bench:cli` measures it).
 */
import { Command, CommanderError } from "commander";
import { agentCommand } from "./agent.ts";
import { askCommand } from "./ask.ts";
import { auditCommand } from "./audit.ts";
import { chatCommand } from "./chat.ts";
import { dataCommand } from "./data.ts";
import { groupsCommand } from "./groups.ts";
import { type CliIO, EXIT_USAGE } from "./io.ts";
import { loginCommand } from "./login.ts";
import { mcpServersCommand } from "./mcp-servers.ts";
import { modelsCommand } from "./models.ts";
import { providersCommand } from "./providers.ts";
import { serverCommand } from "./server.ts";
import { usageCommand } from "./usage.ts";
import { workspacesCommand } from "./workspaces.ts";

/** Every command reports through `io` and throws instead of exiting, so `main` sets the code. */
function configure(command: Command, io: CliIO): Command {
  command.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  for (const sub of command.commands) configure(sub, io);
  return command;
}

/** The `keel` program. Each command brings its own `--help`. */
export function buildProgram(io: CliIO): Command {
  const program = new Command("keel")
    .description("Keel: a self-hosted control plane for AI coding agents.")
    .version("0.1.0")
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride();
  program.addCommand(serverCommand(io));
  program.addCommand(askCommand(io));
  program.addCommand(loginCommand(io));
  program.addCommand(chatCommand(io));
  program.addCommand(providersCommand(io));
  program.addCommand(modelsCommand(io));
  program.addCommand(mcpServersCommand(io));
  program.addCommand(groupsCommand(io));
  program.addCommand(workspacesCommand(io));
  program.addCommand(agentCommand(io));
  program.addCommand(dataCommand(io));
  program.addCommand(auditCommand(io));
  program.addCommand(usageCommand(io));
  return configure(program, io);
}

export function processIO(): CliIO {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    onInterrupt: (handler) => {
      let interrupts = 0;
      const onSigint = () => {
        interrupts += 1;
        if (interrupts > 1) process.exit(130); // a second Ctrl-C does not wait
        handler();
      };
      process.on("SIGINT", onSigint);
      return () => process.off("SIGINT", onSigint);
    },
    setExitCode: (code) => {
      process.exitCode = code;
    },
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString("utf8");
    },
  };
}

/** Runs the CLI and returns its exit code. Usage errors exit 2 with commander's message. */
export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  let exitCode = 0;
  const program = buildProgram({ ...io, setExitCode: (code) => (exitCode = code) });
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      const helpOrVersion = ["commander.helpDisplayed", "commander.version", "commander.help"];
      return helpOrVersion.includes(error.code) ? 0 : EXIT_USAGE;
    }
    throw error;
  }
}
