import { Command, CommanderError } from "commander";
import { askCommand, type CliIO } from "./ask.ts";

export const EXIT_USAGE = 2;

/** The `keel` program. Each command brings its own `--help`. */
export function buildProgram(io: CliIO): Command {
  const program = new Command("keel")
    .description("Keel: a self-hosted control plane for AI coding agents.")
    .version("0.1.0")
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride();
  program.addCommand(
    askCommand(io).exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr }),
  );
  return program;
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
