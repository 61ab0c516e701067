import { Command, InvalidArgumentError, Option } from "commander";
import { REASONING_EFFORTS } from "../provider/settings.ts";
import { PROVIDER_TYPES } from "../provider/types.ts";
import type { CliIO } from "./io.ts";
import { listOf, loggedInClient, runCommand, UserError } from "./session.ts";

interface ProviderSummary {
  id: string;
  type: string;
  name: string;
  base_url: string | null;
  has_api_key: boolean;
}
interface ModelSummary {
  id: string;
  provider_id: string;
  model: string;
  display_name: string;
  enabled: boolean;
}

function parseOptions(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new UserError(`--option wants KEY=VALUE, got "${pair}".`);
    out[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return out;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** A number as typed; the server decides whether it is in range (and says which field is not). */
function number(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n)) throw new InvalidArgumentError("Not a number.");
  return n;
}

export function providersCommand(io: CliIO): Command {
  const providers = new Command("providers").description("Manage LLM providers (admin).");
  providers
    .command("add")
    .description("Add a provider. The API key is sent once and never shown again.")
    .addOption(
      new Option("--type <type>", "provider type").choices(PROVIDER_TYPES).makeOptionMandatory(),
    )
    .requiredOption("--name <name>", 'a name for people, e.g. "Anthropic (prod)"')
    .option("--base-url <url>", "API base URL")
    .addOption(new Option("--api-key <key>", "API key").env("KEEL_PROVIDER_API_KEY"))
    .option(
      "--option <key=value>",
      "provider option (repeatable), e.g. region=us-east-1",
      collect,
      [],
    )
    .action(
      (options: {
        type: string;
        name: string;
        baseUrl?: string;
        apiKey?: string;
        option: string[];
      }) =>
        runCommand(io, async () => {
          const client = await loggedInClient();
          const created = await client.post<ProviderSummary>("/providers", {
            type: options.type,
            name: options.name,
            ...(options.baseUrl ? { base_url: options.baseUrl } : {}),
            ...(options.apiKey ? { api_key: options.apiKey } : {}),
            ...(options.option.length ? { options: parseOptions(options.option) } : {}),
          });
          io.stdout(`${created.id}\n`);
          return 0;
        }),
    );
  providers
    .command("list")
    .description("List providers.")
    .action(() =>
      runCommand(io, async () => {
        const client = await loggedInClient();
        for (const p of listOf<ProviderSummary>(await client.get("/providers"), "providers")) {
          const key = p.has_api_key ? "key set" : "no key";
          io.stdout(`${p.id}  ${p.type.padEnd(17)} ${p.name}  ${p.base_url ?? ""}  (${key})\n`);
        }
        return 0;
      }),
    );
  return providers;
}

export function modelsCommand(io: CliIO): Command {
  const models = new Command("models").description("Manage the models users may chat with.");
  models
    .command("add")
    .description("Make a provider's model available (admin).")
    .requiredOption("--provider <id>", "provider id (see `keel providers list`)")
    .requiredOption("--model <model>", "the provider's model id, e.g. claude-sonnet-4-5")
    .option("--display-name <name>", "name shown to users")
    .option("--context-window <tokens>", "context window in tokens", (v) => Number.parseInt(v, 10))
    .option("--input-price <usd>", "USD per million input tokens", Number.parseFloat)
    .option("--output-price <usd>", "USD per million output tokens", Number.parseFloat)
    .option("--temperature <n>", "sampling temperature, 0–2 (Anthropic: 0–1)", number)
    .option("--max-output-tokens <n>", "most tokens one model step may write", number)
    .addOption(
      new Option("--reasoning <effort>", "reasoning effort (default: the provider's)").choices(
        REASONING_EFFORTS,
      ),
    )
    .action(
      (options: {
        provider: string;
        model: string;
        displayName?: string;
        contextWindow?: number;
        inputPrice?: number;
        outputPrice?: number;
        temperature?: number;
        maxOutputTokens?: number;
        reasoning?: string;
      }) =>
        runCommand(io, async () => {
          const client = await loggedInClient();
          const pricing =
            options.inputPrice !== undefined && options.outputPrice !== undefined
              ? { input_per_mtok: options.inputPrice, output_per_mtok: options.outputPrice }
              : undefined;
          const created = await client.post<ModelSummary>("/models", {
            provider_id: options.provider,
            model: options.model,
            ...(options.displayName ? { display_name: options.displayName } : {}),
            ...(options.contextWindow ? { context_window: options.contextWindow } : {}),
            ...(pricing ? { pricing } : {}),
            ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
            ...(options.maxOutputTokens !== undefined
              ? { max_output_tokens: options.maxOutputTokens }
              : {}),
            ...(options.reasoning ? { reasoning: options.reasoning } : {}),
          });
          io.stdout(`${created.id}\n`);
          return 0;
        }),
    );
  models
    .command("list")
    .description("List the models you may use.")
    .action(() =>
      runCommand(io, async () => {
        const client = await loggedInClient();
        for (const m of listOf<ModelSummary>(await client.get("/models"), "models")) {
          io.stdout(`${m.id}  ${m.display_name}  (${m.model})${m.enabled ? "" : "  [disabled]"}\n`);
        }
        return 0;
      }),
    );
  return models;
}
