import { readFileSync } from "node:fs";
import { Command, Option } from "commander";
import { ChatInterrupted } from "../chaterror/causes.ts";
import type { ChatError } from "../chaterror/chat-error.ts";
import { runStep } from "../chatloop/step.ts";
import type { RetryEvent } from "../chatretry/retry.ts";
import {
  createChatModel,
  PROVIDER_TYPES,
  type ProviderType,
  Transport,
} from "../provider/index.ts";
import { type CliIO, EXIT_ERROR, EXIT_INTERRUPTED } from "./io.ts";
import { addRetryFlags, parsePositiveNumber, type RetryFlags, retryPolicyFrom } from "./options.ts";
import { ReplyPrinter } from "./printer.ts";

interface AskOptions extends RetryFlags {
  provider: ProviderType;
  baseUrl?: string;
  apiKey?: string;
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
    io.setExitCode(await ask(prompt, options, io));
  });
}

function describeRetry(event: RetryEvent): string {
  const seconds = (event.delayMs / 1000).toFixed(1);
  return `retry: ${event.error.message} [${event.error.kind}] attempt ${event.attempt + 1} in ${seconds} s\n`;
}

function describeFailure(error: ChatError): string {
  return `error: ${error.message}\n`;
}

async function ask(prompt: string, options: AskOptions, io: CliIO): Promise<number> {
  const transport = new Transport({
    http2: options.http2,
    connectTimeoutMs: options.connectTimeoutMs,
    headersTimeoutMs: options.headersTimeoutMs,
    extraCaCerts: options.caFile ? [readFileSync(options.caFile, "utf8")] : undefined,
  });
  const controller = new AbortController();
  const removeInterrupt = io.onInterrupt(() => controller.abort(new ChatInterrupted()));
  const printer = new ReplyPrinter(io.stdout, io.stderr);
  try {
    const model = createChatModel(
      { type: options.provider, base_url: options.baseUrl, api_key: options.apiKey },
      options.model,
      transport,
    );
    const outcome = await runStep(
      model,
      {
        messages: [
          ...(options.system ? [{ role: "system" as const, content: options.system }] : []),
          { role: "user", content: [{ type: "text", text: prompt }] },
        ],
      },
      {
        signal: controller.signal,
        silenceMs: options.streamSilenceTimeoutMs,
        policy: retryPolicyFrom(options),
        onAttempt: () => printer.newAttempt(),
        onPart: (part) => {
          if (part.type === "text-delta") printer.write(part.delta);
        },
        onRetry: (event) => io.stderr(describeRetry(event)),
      },
    );
    switch (outcome.status) {
      case "finished":
        io.stdout("\n");
        return 0;
      case "stopped":
        io.stdout("\n");
        io.stderr("stopped\n");
        return EXIT_INTERRUPTED;
      case "failed":
        io.stderr(describeFailure(outcome.error));
        return EXIT_ERROR;
    }
  } catch (error) {
    // Configuration problems (unknown provider option, missing base URL) land here.
    io.stderr(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT_ERROR;
  } finally {
    removeInterrupt();
    await transport.close();
  }
}
