/**
 * The standalone workspace agent, `keel-agent.mjs`: `keel agent` in one file that `keel server`
 * serves at `/agent/keel-agent.mjs` (scripts/build-agent.js bundles this entry and what it
 * imports for Node.js 20 and later). It loads none of the rest of the CLI, the server or the
 * providers: the options (agent-options.ts), then `keel agent`'s own checks and run
 * (src/cli/agent-run.ts), so both behave alike.
 *
 * Without a token in `KEEL_AGENT_TOKEN` or `--token`, it asks for one in a terminal (input
 * hidden): the command people copy holds no secret. Exit codes as the CLI's: 0 stopped, 1
 * refused or failed, 2 a usage error.
 */
import packageJson from "../../package.json" with { type: "json" };
import { agent, agentSettings } from "../cli/agent-run.ts";
import { type CliIO, EXIT_ERROR, EXIT_OK, EXIT_USAGE } from "../cli/io.ts";
import { AGENT_USAGE, parseAgentCommand, unsupportedNode } from "./agent-options.ts";
import { askHidden } from "./token-prompt.ts";

const io: CliIO = {
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

async function main(args: readonly string[]): Promise<number> {
  const unsupported = unsupportedNode();
  if (unsupported) {
    io.stderr(`error: ${unsupported}\n`);
    return EXIT_ERROR;
  }
  const command = parseAgentCommand(args);
  switch (command.kind) {
    case "help":
      io.stdout(AGENT_USAGE);
      return EXIT_OK;
    case "version":
      io.stdout(`${packageJson.version}\n`);
      return EXIT_OK;
    case "usage-error":
      io.stderr(`error: ${command.message}\nRun with --help for the options.\n`);
      return EXIT_USAGE;
  }
  const flags = command.flags;
  if (!flags.token) {
    // The other flags first: a mistyped --url is not reported only after the token was pasted.
    const checked = agentSettings({ ...flags, token: "not asked yet" });
    if (!checked.ok) {
      io.stderr(`error: ${checked.message}\n`);
      return EXIT_USAGE;
    }
    const prompt = "Workspace agent token (input hidden): ";
    flags.token = (await askHidden(prompt, process.stdin, process.stderr)) || undefined;
  }
  return agent(flags, io);
}

process.exitCode = await main(process.argv.slice(2));
