/**
 * What `keel ask` does once its flags are read: one model step through Keel's provider → retry →
 * silence-guard path, the reply streamed to stdout. Loaded by the command's action only, so other
 * commands do not load the AI SDK.
 */
import { readFileSync } from "node:fs";
import { ChatInterrupted } from "../chaterror/causes.ts";
import type { ChatError } from "../chaterror/chat-error.ts";
import { runStep } from "../chatloop/step.ts";
import type { RetryEvent } from "../chatretry/retry.ts";
import { createChatModel, Transport } from "../provider/index.ts";
import type { AskOptions } from "./ask.ts";
import { askFailureMessage } from "./ask-errors.ts";
import { type CliIO, EXIT_ERROR, EXIT_INTERRUPTED } from "./io.ts";
import { retryPolicyFrom } from "./options.ts";
import { ReplyPrinter } from "./printer.ts";

function describeRetry(event: RetryEvent): string {
  const seconds = (event.delayMs / 1000).toFixed(1);
  return `retry: ${event.error.message} [${event.error.kind}] attempt ${event.attempt + 1} in ${seconds} s\n`;
}

function describeFailure(error: ChatError, options: AskOptions): string {
  const message = askFailureMessage(
    { kind: error.kind, message: error.message },
    { apiKey: options.apiKey },
  );
  return `error: ${message}\n`;
}

export async function ask(prompt: string, options: AskOptions, io: CliIO): Promise<number> {
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
      {
        type: options.provider,
        base_url: options.baseUrl,
        api_key: options.apiKey,
        ...(Object.keys(options.option).length ? { options: options.option } : {}),
      },
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
        io.stderr(describeFailure(outcome.error, options));
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
