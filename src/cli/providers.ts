/** `keel providers`: the LLM providers admins configure, via the HTTP API. */
import { Command, Option } from "commander";
import { PROVIDER_TYPES } from "../provider/types.ts";
import type { CliIO } from "./io.ts";
import { collectOption } from "./options.ts";
import { listOf, loggedInClient, runCommand } from "./session.ts";

interface ProviderSummary {
  id: string;
  type: string;
  name: string;
  base_url: string | null;
  has_api_key: boolean;
}

/** `POST /providers/{id}/test`'s answer. */
interface ConnectionTest {
  ok: boolean;
  kind?: string;
  message?: string;
  latency_ms: number;
}

const path = (id: string) => `/providers/${encodeURIComponent(id)}`;

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
      "provider option (repeatable), e.g. api=chat for OpenAI's Chat Completions API, region=us-east-1",
      collectOption,
      {},
    )
    .action(
      (options: {
        type: string;
        name: string;
        baseUrl?: string;
        apiKey?: string;
        option: Record<string, string>;
      }) =>
        runCommand(io, async () => {
          const client = await loggedInClient();
          const created = await client.post<ProviderSummary>("/providers", {
            type: options.type,
            name: options.name,
            ...(options.baseUrl ? { base_url: options.baseUrl } : {}),
            ...(options.apiKey ? { api_key: options.apiKey } : {}),
            ...(Object.keys(options.option).length ? { options: options.option } : {}),
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
  providers
    .command("update")
    .description("Change a provider; what you leave out is kept. The API key is write-only.")
    .argument("<id>", "provider id (see `keel providers list`)")
    .option("--name <name>", "a name for people")
    .option("--base-url <url>", "API base URL")
    .addOption(new Option("--api-key <key>", "a new API key").env("KEEL_PROVIDER_API_KEY"))
    .option("--clear-api-key", "remove the stored API key")
    .option(
      "--option <key=value>",
      "provider option (repeatable); the options given replace the stored ones",
      collectOption,
    )
    .action(
      (
        id: string,
        options: {
          name?: string;
          baseUrl?: string;
          apiKey?: string;
          clearApiKey?: boolean;
          option?: Record<string, string>;
        },
      ) =>
        runCommand(io, async () => {
          const client = await loggedInClient();
          const updated = await client.patch<ProviderSummary>(path(id), {
            ...(options.name !== undefined ? { name: options.name } : {}),
            ...(options.baseUrl !== undefined ? { base_url: options.baseUrl } : {}),
            ...(options.apiKey ? { api_key: options.apiKey } : {}),
            ...(options.clearApiKey ? { api_key: null } : {}),
            ...(options.option ? { options: options.option } : {}),
          });
          io.stderr(`Updated ${updated.name}.\n`);
          return 0;
        }),
    );
  providers
    .command("delete")
    .description("Delete a provider (its models first: the server says which).")
    .argument("<id>", "provider id")
    .action((id: string) =>
      runCommand(io, async () => {
        const client = await loggedInClient();
        await client.delete(path(id));
        io.stderr("Deleted.\n");
        return 0;
      }),
    );
  providers
    .command("test")
    .description("Send the provider the smallest real request and say whether it works.")
    .argument("<id>", "provider id")
    .action((id: string) =>
      runCommand(io, async () => {
        const client = await loggedInClient();
        const result = await client.post<ConnectionTest>(`${path(id)}/test`);
        if (result.ok) {
          io.stdout(`ok (${result.latency_ms} ms)\n`);
          return 0;
        }
        io.stdout(
          `failed: ${result.message ?? "the provider did not answer"} [${result.kind ?? "unknown"}]\n`,
        );
        return 1;
      }),
    );
  providers
    .command("models")
    .description("List the models the provider offers (where it can list them).")
    .argument("<id>", "provider id")
    .action((id: string) =>
      runCommand(io, async () => {
        const client = await loggedInClient();
        const body = await client.get<{
          models: Array<{ id: string; display_name?: string }>;
          listable?: boolean;
        }>(`${path(id)}/models`);
        if (body.listable === false) {
          io.stderr("This provider cannot list its models: give the model id by hand.\n");
          return 0;
        }
        for (const m of body.models) {
          io.stdout(
            `${m.id}${m.display_name && m.display_name !== m.id ? `  ${m.display_name}` : ""}\n`,
          );
        }
        return 0;
      }),
    );
  return providers;
}
