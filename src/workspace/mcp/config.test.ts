// biome-ignore-all lint/suspicious/noTemplateCurlyInString: .mcp.json's own ${VAR} syntax, not JavaScript
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type McpConfig, parseMcpConfig, readMcpConfig } from "./config.ts";

const ROOT = "/work/space";
const ENV = { TOKEN: "t0k3n", HOME: "/home/dev" };

const parse = (json: unknown): McpConfig =>
  parseMcpConfig(typeof json === "string" ? json : JSON.stringify(json), ROOT, ENV);

describe(".mcp.json", () => {
  it("gives a stdio server its command, arguments, variables and the workspace as directory", () => {
    expect(parse({ mcpServers: { files: { command: "npx", args: ["-y", "srv"] } } })).toEqual({
      servers: [{ name: "files", command: "npx", args: ["-y", "srv"], env: {}, cwd: ROOT }],
      notices: [],
    });
  });

  it("takes an explicit stdio type, a relative cwd and ${VAR} / ${VAR:-default} values", () => {
    const { servers, notices } = parse({
      mcpServers: {
        gh: {
          type: "stdio",
          command: "${HOME}/bin/gh-mcp",
          args: ["--token", "${TOKEN}", "--mode=${MODE:-read}"],
          env: { GITHUB_TOKEN: "${TOKEN}" },
          cwd: "tools",
        },
      },
    });
    expect(notices).toEqual([]);
    expect(servers).toEqual([
      {
        name: "gh",
        command: "/home/dev/bin/gh-mcp",
        args: ["--token", "t0k3n", "--mode=read"],
        env: { GITHUB_TOKEN: "t0k3n" },
        cwd: "/work/space/tools",
      },
    ]);
  });

  it.each([
    ["bad JSON", "{ nope", /not valid JSON.*no MCP servers started/],
    ["no mcpServers", { servers: {} }, /must be \{"mcpServers"/],
    ["mcpServers not an object", { mcpServers: [] }, /must be \{"mcpServers"/],
  ])("a file that is not usable (%s) starts nothing and says why", (_what, file, notice) => {
    const { servers, notices } = parse(file);
    expect(servers).toEqual([]);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(notice);
  });

  it.each([
    ["an HTTP server (url)", "web", { url: "https://mcp.example.com/mcp" }, /HTTP server/],
    ["an HTTP server (type)", "web", { type: "http", url: "x" }, /HTTP server/],
    ["an SSE server", "web", { type: "sse", url: "x" }, /HTTP server/],
    ["no command", "nothing", { args: ["x"] }, /not a stdio server entry/],
    ["arguments that are not strings", "nums", { command: "x", args: [1] }, /not a stdio/],
    ["a name with a dot", "my.server", { command: "x" }, /its name must be/],
    ["a name of 41 characters", "a".repeat(41), { command: "x" }, /its name must be/],
    ["an unset variable", "secret", { command: "x", args: ["${NOPE}"] }, /needs \$NOPE/],
  ])(
    "an entry that is %s is skipped with a notice; the others start",
    (_what, name, entry, why) => {
      const { servers, notices } = parse({ mcpServers: { [name]: entry, ok: { command: "srv" } } });
      expect(servers.map((s) => s.name)).toEqual(["ok"]);
      expect(notices).toHaveLength(1);
      expect(notices[0]).toContain(`MCP server "${name}" skipped`);
      expect(notices[0]).toMatch(why);
    },
  );

  it("a workspace without the file has no servers and nothing to say", async () => {
    const dir = mkdtempSync(join(tmpdir(), "keel-mcp-config-"));
    try {
      expect(await readMcpConfig(dir, {})).toEqual({ servers: [], notices: [] });
      writeFileSync(
        join(dir, ".mcp.json"),
        JSON.stringify({ mcpServers: { a: { command: "a" } } }),
      );
      expect((await readMcpConfig(dir, {})).servers.map((s) => s.cwd)).toEqual([dir]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
