/** `keel models`: the models users may chat with (admins add and change them), via the HTTP API. */
import { Command, Option } from "commander";
import { REASONING_EFFORTS } from "../provider/settings.ts";
import type { CliIO } from "./io.ts";
import { parseNumber as number } from "./options.ts";
import { listOf, loggedInClient, runCommand } from "./session.ts";

interface ModelSummary {
  id: string;
  provider_id: string;
  model: string;
  display_name: string;
  enabled: boolean;
}

const path = (id: string) => `/models/${encodeURIComponent(id)}`;

/** The settings flags `add` and `update` share. */
function settingsFlags(command: Command): Command {
  return command
    .option("--display-name <name>", "name shown to users")
    .option("--context-window <tokens>", "context window in tokens", number)
    .option("--input-price <usd>", "USD per million input tokens", number)
    .option("--output-price <usd>", "USD per million output tokens", number)
    .option("--temperature <n>", "sampling temperature, 0–2 (Anthropic: 0–1)", number)
    .option("--max-output-tokens <n>", "most tokens one model step may write", number)
    .option(
      "--compact-at <share>",
      "compact a chat once its prompt fills this share of the context window, 0.1–0.95 (default 0.8)",
      number,
    )
    .addOption(
      new Option("--reasoning <effort>", "reasoning effort (default: the provider's)").choices(
        REASONING_EFFORTS,
      ),
    );
}

interface SettingsFlags {
  displayName?: string;
  contextWindow?: number;
  inputPrice?: number;
  outputPrice?: number;
  temperature?: number;
  maxOutputTokens?: number;
  compactAt?: number;
  reasoning?: string;
}

/** The request body fields the flags give (only those given). */
function settingsBody(options: SettingsFlags): Record<string, unknown> {
  const pricing =
    options.inputPrice !== undefined && options.outputPrice !== undefined
      ? { input_per_mtok: options.inputPrice, output_per_mtok: options.outputPrice }
      : undefined;
  return {
    ...(options.displayName ? { display_name: options.displayName } : {}),
    ...(options.contextWindow !== undefined ? { context_window: options.contextWindow } : {}),
    ...(pricing ? { pricing } : {}),
    ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
    ...(options.maxOutputTokens !== undefined
      ? { max_output_tokens: options.maxOutputTokens }
      : {}),
    ...(options.reasoning ? { reasoning: options.reasoning } : {}),
    ...(options.compactAt !== undefined ? { compact_at: options.compactAt } : {}),
  };
}

export function modelsCommand(io: CliIO): Command {
  const models = new Command("models").description("Manage the models users may chat with.");
  settingsFlags(
    models
      .command("add")
      .description("Make a provider's model available (admin).")
      .requiredOption("--provider <id>", "provider id (see `keel providers list`)")
      .requiredOption("--model <model>", "the provider's model id, e.g. claude-sonnet-4-5"),
  ).action((options: SettingsFlags & { provider: string; model: string }) =>
    runCommand(io, async () => {
      const client = await loggedInClient();
      const created = await client.post<ModelSummary>("/models", {
        provider_id: options.provider,
        model: options.model,
        ...settingsBody(options),
      });
      io.stdout(`${created.id}\n`);
      return 0;
    }),
  );
  settingsFlags(
    models
      .command("update")
      .description("Change a model (admin); what you leave out is kept.")
      .argument("<id>", "model id (see `keel models list`)")
      .option("--provider <id>", "move it to another provider")
      .option("--model <model>", "the provider's model id"),
  ).action((id: string, options: SettingsFlags & { provider?: string; model?: string }) =>
    runCommand(io, async () => {
      const client = await loggedInClient();
      const updated = await client.patch<ModelSummary>(path(id), {
        ...(options.provider ? { provider_id: options.provider } : {}),
        ...(options.model ? { model: options.model } : {}),
        ...settingsBody(options),
      });
      io.stderr(`Updated ${updated.display_name}.\n`);
      return 0;
    }),
  );
  for (const [name, enabled, what] of [
    ["enable", true, "Let users choose the model again (admin)."],
    ["disable", false, "Stop offering the model; chats on it ask for another (admin)."],
  ] as const) {
    models
      .command(name)
      .description(what)
      .argument("<id>", "model id")
      .action((id: string) =>
        runCommand(io, async () => {
          const client = await loggedInClient();
          const updated = await client.patch<ModelSummary>(path(id), { enabled });
          io.stderr(`${updated.display_name} is ${enabled ? "enabled" : "disabled"}.\n`);
          return 0;
        }),
      );
  }
  models
    .command("delete")
    .description("Delete a model no chat uses (admin); disable it otherwise.")
    .argument("<id>", "model id")
    .action((id: string) =>
      runCommand(io, async () => {
        const client = await loggedInClient();
        await client.delete(path(id));
        io.stderr("Deleted.\n");
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
