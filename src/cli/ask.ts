/** `keel ask`: its flags; what it does is in `ask-run.ts`, loaded when it runs. */
import { Command, Option } from "commander";
import { PROVIDER_TYPES, type ProviderType } from "../provider/types.ts";
import type { CliIO } from "./io.ts";
import { addRetryFlags, collectOption, parsePositiveNumber, type RetryFlags } from "./options.ts";

export interface AskOptions extends RetryFlags {
  provider: ProviderType;
  baseUrl?: string;
  apiKey?: string;
  /** `--option KEY=VALUE` pairs: the provider's options, as an admin sets them on a provider. */
  option: Record<string, string>;
  model: string;
  system?: string;
  caFile?: string;
  http2: boolean;
  connectTimeoutMs?: number;
  headersTimeoutMs?: number;
}

export function askCommand(io: CliIO): Command {
  return addRetryFlags(
    new Command("ask")
      .description(
        "Ask a model one question and stream the reply to stdout, through Keel's full " +
          "provider → retry → silence-guard path. Ctrl-C stops and keeps the partial reply.",
      )
      .argument("<prompt>", "what to ask")
      .addOption(
        new Option("--provider <type>", "provider type")
          .choices(PROVIDER_TYPES)
          .env("KEEL_PROVIDER")
          .makeOptionMandatory(),
      )
      .addOption(new Option("--base-url <url>", "provider API base URL").env("KEEL_BASE_URL"))
      .addOption(new Option("--api-key <key>", "provider API key").env("KEEL_API_KEY"))
      .option(
        "--option <key=value>",
        "provider option (repeatable), as `keel providers add` takes them: e.g. api=chat for " +
          "OpenAI's Chat Completions API, region=us-east-1 for Bedrock",
        collectOption,
        {},
      )
      .addOption(new Option("--model <id>", "model id").env("KEEL_MODEL").makeOptionMandatory())
      .option("--system <text>", "system prompt")
      .addOption(
        new Option("--ca-file <path>", "extra CA certificate (PEM) to trust").env("KEEL_CA_FILE"),
      )
      .option("--no-http2", "use HTTP/1.1 only")
      .addOption(
        new Option("--connect-timeout-ms <n>", "TCP+TLS connect deadline (default 10000)")
          .env("KEEL_CONNECT_TIMEOUT_MS")
          .argParser(parsePositiveNumber),
      )
      .addOption(
        new Option("--headers-timeout-ms <n>", "deadline for the response headers (default 120000)")
          .env("KEEL_HEADERS_TIMEOUT_MS")
          .argParser(parsePositiveNumber),
      ),
  ).action(async (prompt: string, options: AskOptions) => {
    const { ask } = await import("./ask-run.ts");
    io.setExitCode(await ask(prompt, options, io));
  });
}
