/** `keel workspaces`: create one (its agent token is printed once), list them, delete one. */
import { Command } from "commander";
import type { CliIO } from "./io.ts";
import { listOf, loggedInClient, runCommand } from "./session.ts";

interface WorkspaceSummary {
  id: string;
  name: string;
  directory: string | null;
  agent: { connected: boolean; version: string | null; last_seen_at: string | null };
}

export function workspacesCommand(io: CliIO): Command {
  const workspaces = new Command("workspaces").description(
    "Manage workspaces: where a chat's tools read, edit and run code.",
  );
  workspaces
    .command("create")
    .description(
      "Create a workspace. Prints its id, then its agent token (shown once) and the command " +
        "that runs its agent.",
    )
    .requiredOption("--name <name>", "a name for people")
    .option(
      "--directory <dir>",
      "admins: a directory on the server's machine; the server runs the agent itself",
    )
    .action((options: { name: string; directory?: string }) =>
      runCommand(io, async () => {
        const client = await loggedInClient();
        const created = await client.post<WorkspaceSummary & { agent_token: string }>(
          "/workspaces",
          { name: options.name, ...(options.directory ? { directory: options.directory } : {}) },
        );
        io.stdout(`${created.id}\n`);
        if (created.directory === null) {
          // The same line the Workspaces page shows: it holds no secret, the agent asks for the
          // token (hidden), so the token stays out of shell history.
          const url = client.baseUrl;
          io.stderr(
            `Agent token (shown once): ${created.agent_token}\n` +
              "Start the agent in the workspace's directory (it asks for the token; or set KEEL_AGENT_TOKEN):\n" +
              `  curl -fsSL --create-dirs -o ~/.cache/keel/keel-agent.mjs ${url}/agent/keel-agent.mjs && node ~/.cache/keel/keel-agent.mjs --url ${url}\n` +
              `or, with Keel installed there: keel agent --url ${url} --dir .\n`,
          );
        } else {
          io.stderr(`The server runs this workspace's agent in ${created.directory}.\n`);
        }
        return 0;
      }),
    );
  workspaces
    .command("list")
    .description("List your workspaces and whether their agent is connected.")
    .action(() =>
      runCommand(io, async () => {
        const client = await loggedInClient();
        const list = listOf<WorkspaceSummary>(await client.get("/workspaces"), "workspaces");
        for (const w of list) {
          const agent = w.agent.connected ? `agent ${w.agent.version ?? "?"}` : "agent offline";
          io.stdout(`${w.id}  ${w.name}  (${agent})${w.directory ? `  ${w.directory}` : ""}\n`);
        }
        return 0;
      }),
    );
  workspaces
    .command("delete")
    .description("Delete a workspace: its agent token stops working; its chats lose their tools.")
    .argument("<id>", "workspace id")
    .action((id: string) =>
      runCommand(io, async () => {
        await (await loggedInClient()).delete(`/workspaces/${encodeURIComponent(id)}`);
        return 0;
      }),
    );
  return workspaces;
}
