import { describe, expect, it } from "vitest";
import { SERVER_DIRECTORY_ADMINS_ONLY } from "../chatd/contract.ts";
import type { Chat, User, Workspace } from "../store/types.ts";
import type { McpToolInfo } from "./protocol.ts";
import {
  serverDirectoryGate,
  type ToolHub,
  WorkspaceToolCache,
  workspaceTools,
} from "./remote-tools.ts";

/** A hub that records the calls it is given and offers the MCP tools it is told to. */
interface FakeHub extends ToolHub {
  sent: Array<{ name: string; input: unknown }>;
  mcp: readonly McpToolInfo[];
}

function fakeHub(mcp: readonly McpToolInfo[] = []): FakeHub {
  const hub: FakeHub = {
    sent: [],
    mcp,
    call: async (_w, name, input) => {
      hub.sent.push({ name, input });
      return { output: "ran", is_error: false };
    },
    mcpTools: () => hub.mcp,
    mcpToolsFor: async () => hub.mcp,
  };
  return hub;
}

const echo: McpToolInfo = {
  name: "fx__echo",
  description: "Answers its text.",
  input_schema: { type: "object", properties: { text: { type: "string" } }, required: ["text"] },
};
const context = () => ({ signal: new AbortController().signal, chatId: "c1" });

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

  it.each([
    ["a built-in tool", "execute", { command: "id" }],
    ["an MCP tool", "fx__echo", { text: "hi" }],
  ])(
    "a refused call to %s is the model's error result and never reaches the agent",
    async (_what, name, input) => {
      const hub = fakeHub([echo]);
      const tools = workspaceTools(hub, "w1", gateFor("/srv/repo", user("member")));
      const result = await tools.execute(name, input, context());
      expect(result).toEqual({ output: SERVER_DIRECTORY_ADMINS_ONLY, is_error: true });
      expect(hub.sent).toEqual([]);
    },
  );
});

describe("a workspace's MCP tools", () => {
  it("reach the provider with the server's own schema, beside the built-in tools", () => {
    const definitions = workspaceTools(fakeHub([echo]), "w1").definitions();
    expect(definitions.find((d) => d.name === "fx__echo")).toEqual({
      name: "fx__echo",
      description: "Answers its text.",
      inputSchema: echo.input_schema,
    });
    expect(definitions.some((d) => d.name === "read_file")).toBe(true);
  });

  it("a call is sent over the agent connection under its own name, its input as given", async () => {
    const hub = fakeHub([echo]);
    const result = await workspaceTools(hub, "w1").execute("fx__echo", { text: "hi" }, context());
    expect(result).toEqual({ output: "ran", is_error: false });
    expect(hub.sent).toEqual([{ name: "fx__echo", input: { text: "hi" } }]);
  });

  it("input that is not an object never reaches the agent", async () => {
    const hub = fakeHub([echo]);
    const result = await workspaceTools(hub, "w1").execute("fx__echo", ["hi"], context());
    expect(result.is_error).toBe(true);
    expect(hub.sent).toEqual([]);
  });

  it("the cached registry follows the agent's current tool set", async () => {
    const hub = fakeHub([echo]);
    const cache = new WorkspaceToolCache(hub);
    const first = await cache.for("w1");
    expect(await cache.for("w1")).toBe(first); // unchanged: the same registry
    expect(first.has("fx__echo")).toBe(true);
    hub.mcp = [{ ...echo, name: "other__echo" }]; // the agent came back with another .mcp.json
    const second = await cache.for("w1");
    expect(second.has("fx__echo")).toBe(false);
    expect(second.has("other__echo")).toBe(true);
    hub.mcp = [];
    expect((await cache.for("w1")).has("other__echo")).toBe(false);
  });
});
