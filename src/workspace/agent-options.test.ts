import { describe, expect, it } from "vitest";
import { parseAgentCommand, unsupportedNode } from "./agent-options.ts";

describe("the standalone agent's command line", () => {
  it("reads keel agent's flags", () => {
    const args = ["--url", "http://h:1", "--token", "t", "--dir", "src", "--no-mcp"];
    expect(parseAgentCommand(args, {})).toEqual({
      kind: "run",
      flags: { url: "http://h:1", token: "t", dir: "src", mcp: false },
    });
  });

  it("takes the URL and the token from the environment; a flag wins", () => {
    const env = { KEEL_URL: "http://env:1", KEEL_AGENT_TOKEN: "from-env" };
    expect(parseAgentCommand([], env)).toEqual({
      kind: "run",
      flags: { url: "http://env:1", token: "from-env", dir: undefined, mcp: true },
    });
    expect(parseAgentCommand(["--url", "http://flag:1"], env)).toMatchObject({
      flags: { url: "http://flag:1" },
    });
  });

  it("leaves the token out when neither gives one (the agent then asks in a terminal)", () => {
    expect(parseAgentCommand(["--url", "http://h:1"], { KEEL_AGENT_TOKEN: "" })).toMatchObject({
      flags: { token: undefined },
    });
  });

  it.each([
    [["--help"], { kind: "help" }],
    [["-h"], { kind: "help" }],
    [["--version"], { kind: "version" }],
    [["-V"], { kind: "version" }],
  ])("%j", (args, expected) => {
    expect(parseAgentCommand(args, {})).toEqual(expected);
  });

  it.each([
    [["--bogus"], /--bogus/],
    [["positional"], /positional/],
    [["--url"], /--url/],
  ])("%j is a usage error naming what is wrong", (args, message) => {
    const parsed = parseAgentCommand(args, {});
    expect(parsed.kind).toBe("usage-error");
    expect(parsed.kind === "usage-error" && parsed.message).toMatch(message);
  });

  it.each([
    ["18.20.4", "keel-agent needs Node.js 20 or later; this is Node.js 18.20.4."],
    ["20.0.0", null],
    ["24.21.0", null],
  ])("Node.js %s", (version, expected) => {
    expect(unsupportedNode(version)).toBe(expected);
  });
});
