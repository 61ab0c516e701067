/**
 * A workspace as the chat's instructions see it (`WorkspaceContextSource`, src/chatd/instructions.ts),
 * over the agent hub: the connected agent's OS and directory from its hello, and a file read with
 * the agent's own `read_file` tool — never waiting for an absent agent.
 */
import type { WorkspaceContextSource } from "../chatd/instructions.ts";
import type { AgentHub } from "./hub.ts";
import type { CallGate } from "./remote-tools.ts";

/** A `read_file` line: its number right-aligned, a tab, the line (src/workspace/tools/read.ts). */
const NUMBERED_LINE = /^ *\d+\t/;

/**
 * The file's text from `read_file`'s output (numbered lines, then maybe a note that there is
 * more): the lines without their numbers, and whether the file goes on past them.
 */
export function textOfReadFile(output: string): { text: string; more: boolean } {
  const lines = output.split("\n");
  const kept: string[] = [];
  let i = 0;
  for (; i < lines.length; i++) {
    const line = lines[i] ?? "";
    const number = NUMBERED_LINE.exec(line);
    if (!number) break;
    kept.push(line.slice(number[0].length));
  }
  const more = lines.slice(i).some((line) => line.startsWith("[Showing lines"));
  return { text: kept.join("\n"), more };
}

/**
 * The source over `hub`; `gate` (the workspace tools' own, e.g. `serverDirectoryGate`) decides
 * whether the chat may read through the agent at all.
 */
export function hubWorkspaceSource(
  hub: Pick<AgentHub, "agentEnvironment" | "call">,
  gate?: CallGate,
): WorkspaceContextSource {
  return {
    environment: (workspaceId) => hub.agentEnvironment(workspaceId),
    async readFile(workspaceId, path, { chatId, signal }) {
      // A call to an absent agent would wait for one: without an agent, there is no file.
      if (hub.agentEnvironment(workspaceId) === null) return null;
      if ((await gate?.(workspaceId, chatId)) != null) return null;
      const result = await hub.call(workspaceId, "read_file", { path }, { signal });
      if (result.is_error || signal.aborted) return null;
      return textOfReadFile(result.output);
    },
  };
}
