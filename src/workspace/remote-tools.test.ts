import { describe, expect, it } from "vitest";
import { SERVER_DIRECTORY_ADMINS_ONLY } from "../chatd/contract.ts";
import type { Chat, User, Workspace } from "../store/types.ts";
import type { AgentHub } from "./hub.ts";
import { serverDirectoryGate, workspaceTools } from "./remote-tools.ts";

const user = (role: User["role"], active = true): User => ({
  id: "u1",
  username: "u",
  email: "u@example.com",
  role,
  active,
  created_at: "2026-01-01T00:00:00.000Z",
});

function gateFor(directory: string | null, owner: User | null) {
  return serverDirectoryGate({
    workspaces: { get: async () => ({ id: "w1", directory }) as Workspace },
    getChat: async () => ({ id: "c1", owner_id: "u1" }) as Chat,
    getUser: async () => owner,
  });
}

describe("the server-side directory gate", () => {
  it.each([
    ["an active admin, server-side directory", "/srv/repo", user("admin"), null],
    ["a member (a demoted admin), server-side directory", "/srv/repo", user("member"), "refused"],
    ["a deactivated admin, server-side directory", "/srv/repo", user("admin", false), "refused"],
    ["an owner who is gone, server-side directory", "/srv/repo", null, "refused"],
    ["a member, a workspace with its own agent", null, user("member"), null],
  ])("%s: %s", async (_, directory, owner, expected) => {
    const verdict = await gateFor(directory, owner)("w1", "c1");
    expect(verdict).toBe(expected === null ? null : SERVER_DIRECTORY_ADMINS_ONLY);
  });

  it("a refused call is the model's error result and never reaches the agent", async () => {
    const sent: string[] = [];
    const hub = {
      call: async (_w: string, name: string) => {
        sent.push(name);
        return { output: "ran", is_error: false };
      },
    } as unknown as AgentHub;
    const tools = workspaceTools(hub, "w1", gateFor("/srv/repo", user("member")));
    const result = await tools.execute(
      "execute",
      { command: "id" },
      { signal: new AbortController().signal, chatId: "c1" },
    );
    expect(result).toEqual({ output: SERVER_DIRECTORY_ADMINS_ONLY, is_error: true });
    expect(sent).toEqual([]);
  });
});
