/**
 * The one line that downloads the standalone agent from this server and starts it in the current
 * directory. It holds no secret: the agent asks for its token (input hidden), so the token ends up
 * in no shell history and in no `ps` listing. The file goes to the user's cache directory, not
 * into the workspace (it would show up in `git status` there). The tests run this exact line.
 */

/** Where the line saves the agent (the shell expands `~`; curl creates the directories). */
export const AGENT_FILE = "~/.cache/keel/keel-agent.mjs";

/** The address `keel server` serves the agent at (src/server/agent-bundle.ts). */
export const AGENT_ROUTE = "/agent/keel-agent.mjs";

/** `origin`: the server as the browser reaches it, e.g. `https://keel.example.com`. */
export function agentOneLiner(origin: string): string {
  return (
    `curl -fsSL --create-dirs -o ${AGENT_FILE} ${origin}${AGENT_ROUTE} && ` +
    `node ${AGENT_FILE} --url ${origin}`
  );
}
