/** What `keel agent` does: check its flags, then run the workspace agent until stopped. */
import { statSync } from "node:fs";
import { resolve } from "node:path";
import packageJson from "../../package.json" with { type: "json" };
import { agentEndpoint, runAgent } from "../workspace/agent.ts";
import { WorkspaceMcp } from "../workspace/mcp/servers.ts";
import type { AgentFlags, AgentSettings } from "./agent.ts";
import { type CliIO, EXIT_ERROR, EXIT_OK, EXIT_USAGE } from "./io.ts";

/** The flags checked and completed (an absolute directory), or what is wrong with them. */
export function agentSettings(
  flags: AgentFlags,
  cwd: string = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): { ok: true; settings: AgentSettings } | { ok: false; message: string } {
  if (!flags.url) return { ok: false, message: "no server URL: give --url (or set KEEL_URL)." };
  try {
    agentEndpoint(flags.url);
  } catch (error) {
    return { ok: false, message: `--url: ${(error as Error).message}` };
  }
  if (!flags.token) {
    return { ok: false, message: "no agent token: set KEEL_AGENT_TOKEN (or give --token)." };
  }
  const dir = resolve(cwd, flags.dir ?? ".");
  const stat = statSync(dir, { throwIfNoEntry: false });
  if (!stat?.isDirectory()) {
    const what = stat ? "is not a directory" : "does not exist";
    return { ok: false, message: `--dir: ${dir} ${what}.` };
  }
  // A bound shorter than the default 60 s, for tests; not a flag: a user has no reason to.
  const timeout = env.KEEL_MCP_CALL_TIMEOUT_MS;
  const callTimeoutMs = timeout === undefined || timeout === "" ? undefined : Number(timeout);
  if (callTimeoutMs !== undefined && !(Number.isInteger(callTimeoutMs) && callTimeoutMs > 0)) {
    return { ok: false, message: "KEEL_MCP_CALL_TIMEOUT_MS must be a number of milliseconds." };
  }
  const mcp = flags.mcp === false ? null : { callTimeoutMs };
  return { ok: true, settings: { url: flags.url, token: flags.token, dir, mcp } };
}

export async function agent(flags: AgentFlags, io: CliIO): Promise<number> {
  const checked = agentSettings(flags);
  if (!checked.ok) {
    io.stderr(`error: ${checked.message}\n`);
    return EXIT_USAGE;
  }
  const controller = new AbortController();
  const stop = () => controller.abort();
  const removeInterrupt = io.onInterrupt(stop);
  process.once("SIGTERM", stop);
  // Run by `keel server` (supervisor.ts): stop when the server that started us goes away.
  process.channel?.unref();
  if (process.channel) process.once("disconnect", stop);
  const { mcp: mcpSettings, ...settings } = checked.settings;
  const log = (line: string) => io.stderr(`${line}\n`);
  const mcp =
    mcpSettings &&
    new WorkspaceMcp({ root: settings.dir, log, version: packageJson.version, ...mcpSettings });
  try {
    await runAgent({
      ...settings,
      signal: controller.signal,
      version: packageJson.version,
      log,
      mcp: mcp || undefined,
    });
    return EXIT_OK;
  } catch (error) {
    io.stderr(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT_ERROR;
  } finally {
    removeInterrupt();
    process.off("SIGTERM", stop);
    process.off("disconnect", stop);
  }
}
