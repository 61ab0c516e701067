/** `keel mcp-servers`: the MCP servers whose tools every chat gets (admin), via the HTTP API. */
import { Command } from "commander";
import type { CliIO } from "./io.ts";
import { collect } from "./options.ts";
import { listOf, loggedInClient, runCommand, UserError } from "./session.ts";

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
