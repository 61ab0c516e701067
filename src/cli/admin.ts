/** `keel providers`, `keel models`, `keel mcp-servers`: what admins configure, via the HTTP API. */
import { Command, InvalidArgumentError, Option } from "commander";
import { REASONING_EFFORTS } from "../provider/settings.ts";
import { PROVIDER_TYPES } from "../provider/types.ts";
import type { CliIO } from "./io.ts";
import { collectOption } from "./options.ts";
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
    .option(
      "--compact-at <share>",
      "compact a chat once its prompt fills this share of the context window, 0.1–0.95 (default 0.8)",
      number,
    )
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
        compactAt?: number;
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
            ...(options.compactAt !== undefined ? { compact_at: options.compactAt } : {}),
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

interface McpServerSummary {
  id: string;
  name: string;
  url: string;
  header_names: string[];
  enabled: boolean;
  tools_allow: string[] | null;
  tools_deny: string[] | null;
}

/**
 * `--header "Name: value"` and `--header-env Name=VAR` (the value read from `$VAR`, so a secret
 * need not be typed where the shell's history keeps it).
 */
function mcpHeaders(
  headers: string[],
  fromEnv: string[],
  env: NodeJS.ProcessEnv,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const header of headers) {
    const at = header.indexOf(":");
    if (at <= 0) throw new UserError(`--header wants "Name: value", got "${header.slice(0, 40)}".`);
    out[header.slice(0, at).trim()] = header.slice(at + 1).trim();
  }
  for (const pair of fromEnv) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new UserError(`--header-env wants Name=VARIABLE, got "${pair}".`);
    const variable = pair.slice(at + 1);
    const value = env[variable];
    if (value === undefined || value === "") {
      throw new UserError(`--header-env ${pair}: the environment variable ${variable} is not set.`);
    }
    out[pair.slice(0, at).trim()] = value;
  }
  return out;
}

export function mcpServersCommand(io: CliIO): Command {
  const servers = new Command("mcp-servers").description(
    "Manage the MCP servers whose tools every chat gets (admin).",
  );
  servers
    .command("add")
    .description("Add an MCP server (Streamable HTTP). Header values are never shown again.")
    .requiredOption("--name <name>", "prefixes its tools: docs → docs__search")
    .requiredOption("--url <url>", "its Streamable HTTP endpoint")
    .option("--header <header>", '"Name: value" sent with every request (repeatable)', collect, [])
    .option("--header-env <name=VAR>", "a header whose value is $VAR (repeatable)", collect, [])
    .option("--allow <tool>", "offer only this tool (repeatable)", collect, [])
    .option("--deny <tool>", "never offer this tool (repeatable)", collect, [])
    .option("--disabled", "add it disabled")
    .action(
      (options: {
        name: string;
        url: string;
        header: string[];
        headerEnv: string[];
        allow: string[];
        deny: string[];
        disabled?: boolean;
      }) =>
        runCommand(io, async () => {
          const headers = mcpHeaders(options.header, options.headerEnv, process.env);
          const client = await loggedInClient();
          const created = await client.post<McpServerSummary>("/mcp-servers", {
            name: options.name,
            url: options.url,
            headers,
            enabled: !options.disabled,
            ...(options.allow.length ? { tools_allow: options.allow } : {}),
            ...(options.deny.length ? { tools_deny: options.deny } : {}),
          });
          io.stdout(`${created.id}\n`);
          return 0;
        }),
    );
  servers
    .command("list")
    .description("List MCP servers (header names only).")
    .action(() =>
      runCommand(io, async () => {
        const client = await loggedInClient();
        const list = listOf<McpServerSummary>(await client.get("/mcp-servers"), "mcp_servers");
        for (const s of list) {
          const headers = s.header_names.length ? `headers: ${s.header_names.join(", ")}` : "";
          const allow = s.tools_allow ? `only: ${s.tools_allow.join(", ")}` : "";
          const deny = s.tools_deny?.length ? `not: ${s.tools_deny.join(", ")}` : "";
          const fields = [headers, allow, deny].filter(Boolean).join("  ");
          io.stdout(
            `${s.id}  ${s.name}  ${s.url}${fields ? `  ${fields}` : ""}${s.enabled ? "" : "  [disabled]"}\n`,
          );
        }
        return 0;
      }),
    );
  servers
    .command("remove")
    .description("Delete an MCP server; its tools leave every chat at its next turn.")
    .argument("<id-or-name>", "the server's id or name")
    .action((which: string) =>
      runCommand(io, async () => {
        const client = await loggedInClient();
        const list = listOf<McpServerSummary>(await client.get("/mcp-servers"), "mcp_servers");
        const server = list.find((s) => s.id === which || s.name === which);
        if (!server) {
          throw new UserError(`No MCP server "${which}". See \`keel mcp-servers list\`.`);
        }
        await client.delete(`/mcp-servers/${encodeURIComponent(server.id)}`);
        io.stderr(`Removed ${server.name}.\n`);
        return 0;
      }),
    );
  return servers;
}
