/**
 * The agent's MCP client against a real stdio MCP server written with the same SDK
 * (test/fixtures/mcp-stdio-server.ts), started from a real `.mcp.json`.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MCP_OUTPUT_CHARS } from "../../mcp/content.ts";
import { STOPPED } from "../tools/types.ts";
import { WorkspaceMcp, type WorkspaceMcpOptions } from "./servers.ts";

const FIXTURE = join(import.meta.dirname, "../../../test/fixtures/mcp-stdio-server.ts");
const fixture = { command: process.execPath, args: [FIXTURE] };

describe("a workspace's stdio MCP servers", () => {
  let dir: string;
  let logs: string[];
  let running: WorkspaceMcp[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "keel-mcp-"));
    logs = [];
    running = [];
  });
  afterEach(async () => {
    await Promise.all(running.map((mcp) => mcp.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(
    servers: Record<string, unknown>,
    options: Partial<WorkspaceMcpOptions> = {},
  ): Promise<WorkspaceMcp> {
    writeFileSync(join(dir, ".mcp.json"), JSON.stringify({ mcpServers: servers }));
    const mcp = new WorkspaceMcp({
      root: dir,
      log: (line) => logs.push(line),
      env: { ...process.env, KEEL_AGENT_TOKEN: "agent-secret", FIXTURE_VAR: "from the agent" },
      ...options,
    });
    running.push(mcp);
    await mcp.start();
    return mcp;
  }

  const call = (mcp: WorkspaceMcp, name: string, input: unknown = {}) =>
    mcp.call(name, input, new AbortController().signal);

  it("offers each tool as <server>__<tool> with its own description and input schema", async () => {
    const mcp = await start({ fx: fixture });
    const names = mcp.tools().map((t) => t.name);
    expect(names).toEqual(
      expect.arrayContaining(["fx__echo", "fx__fail", "fx__hang", "fx__big", "fx__where"]),
    );
    const echo = mcp.tools().find((t) => t.name === "fx__echo");
    expect(echo?.description).toBe("Answers its text.");
    expect(echo?.input_schema).toMatchObject({
      type: "object",
      properties: { text: { type: "string" } },
      required: ["text"],
    });
    expect(echo?.input_schema).not.toHaveProperty("$schema");
    expect(logs.join("\n")).toContain('MCP server "fx" started');
    expect(logs.join("\n")).toContain("[mcp fx] fixture MCP server ready"); // its stderr
  });

  it("runs a call on its server and answers with its text", async () => {
    const mcp = await start({ fx: fixture });
    expect(await call(mcp, "fx__echo", { text: "hi" })).toEqual({
      output: "echo: hi",
      is_error: false,
    });
  });

  it("a tool's isError is an is_error result", async () => {
    const mcp = await start({ fx: fixture });
    expect(await call(mcp, "fx__fail")).toEqual({
      output: "the fixture tool failed on purpose",
      is_error: true,
    });
  });

  it("runs the server in the workspace, with the agent's environment but not its token", async () => {
    const mcp = await start({ fx: { ...fixture, env: { EXTRA: "from .mcp.json" } } });
    const where = async (variable: string) => (await call(mcp, "fx__where", { variable })).output;
    expect(await where("FIXTURE_VAR")).toContain("FIXTURE_VAR=from the agent");
    expect(await where("EXTRA")).toContain("EXTRA=from .mcp.json");
    expect(await where("KEEL_AGENT_TOKEN")).toContain("KEEL_AGENT_TOKEN=(unset)");
    expect(await where("X")).toContain(`cwd=${dir}`);
  });

  it("names an image instead of pasting it", async () => {
    const mcp = await start({ fx: fixture });
    expect((await call(mcp, "fx__picture")).output).toBe(
      "a picture:\n[image (image/png, 3 KB): not shown]",
    );
  });

  it("cuts an oversized answer and says so", async () => {
    const mcp = await start({ fx: fixture });
    const result = await call(mcp, "fx__big", { chars: MCP_OUTPUT_CHARS + 5_000 });
    expect(result.is_error).toBe(false);
    expect(result.output.startsWith("x".repeat(MCP_OUTPUT_CHARS))).toBe(true);
    expect(result.output).toContain(`returned ${MCP_OUTPUT_CHARS + 5_000} characters`);
    expect(result.output.length).toBeLessThan(MCP_OUTPUT_CHARS + 400);
  });

  it("a call that does not answer within the bound is cancelled and says what to do", async () => {
    const mcp = await start({ fx: fixture }, { callTimeoutMs: 300 });
    const result = await call(mcp, "fx__hang");
    expect(result.is_error).toBe(true);
    expect(result.output).toContain('"fx__hang" did not answer within 0.3 s');
    expect(result.output).toContain("try a smaller request");
    await until(() => logs.includes("[mcp fx] hang cancelled")); // the server was told
  });

  it("Stop cancels a running call on its server", async () => {
    const mcp = await start({ fx: fixture });
    const controller = new AbortController();
    const pending = mcp.call("fx__hang", {}, controller.signal);
    await until(() => logs.includes("[mcp fx] hang started"));
    controller.abort();
    expect(await pending).toEqual({ output: STOPPED, is_error: true });
    await until(() => logs.includes("[mcp fx] hang cancelled"));
  });

  it("a server whose tools change is listed again, and listeners are told", async () => {
    const mcp = await start({ fx: fixture });
    let told = 0;
    mcp.onToolsChanged(() => told++);
    expect(mcp.tools().some((t) => t.name === "fx__grown")).toBe(false);
    expect((await call(mcp, "fx__grow")).output).toBe("grew");
    await until(() => told > 0);
    expect(mcp.tools().some((t) => t.name === "fx__grown")).toBe(true);
    expect(await call(mcp, "fx__grown")).toEqual({ output: "grown up", is_error: false });
  });

  it("a server that dies answers its calls with an error that says so", async () => {
    const mcp = await start({ fx: fixture });
    const dying = await call(mcp, "fx__exit");
    expect(dying.is_error).toBe(true);
    await until(() => logs.some((l) => l.startsWith('MCP server "fx" exited')));
    const after = await call(mcp, "fx__echo", { text: "anyone?" });
    expect(after.is_error).toBe(true);
    expect(after.output).toContain('The MCP server "fx" is not running (it exited)');
    expect(after.output).toContain("restart keel agent");
    expect(after.output).toContain("exiting on purpose"); // its last output
  });

  it("a server whose command does not exist is skipped with its reason; the others start", async () => {
    const mcp = await start({ ghost: { command: join(dir, "no-such-server") }, fx: fixture });
    expect(mcp.tools().some((t) => t.name.startsWith("ghost__"))).toBe(false);
    expect(mcp.tools().some((t) => t.name === "fx__echo")).toBe(true);
    const notice = logs.find((l) => l.startsWith('MCP server "ghost" did not start'));
    expect(notice).toContain("ENOENT");
    expect(notice).toContain("Check its command in .mcp.json");
  });

  it("an unknown tool, or input that is not an object, is an error result", async () => {
    const mcp = await start({ fx: fixture });
    const unknown = await call(mcp, "fx__nope");
    expect(unknown).toMatchObject({ is_error: true });
    expect(unknown.output).toContain("fx__echo"); // what there is
    expect(await call(mcp, "fx__echo", ["hi"])).toEqual({
      output: 'The arguments of "fx__echo" must be a JSON object.',
      is_error: true,
    });
  });

  it("a server name that cannot prefix a tool name is skipped", async () => {
    mkdirSync(join(dir, "sub"));
    const mcp = await start({ "bad.name": fixture, ok: { ...fixture, cwd: "sub" } });
    expect(mcp.tools().every((t) => t.name.startsWith("ok__"))).toBe(true);
    expect(logs.join("\n")).toContain('MCP server "bad.name" skipped');
    expect((await call(mcp, "ok__where", { variable: "X" })).output).toContain(
      `cwd=${join(dir, "sub")}`,
    );
  });

  it("stopped while starting, it leaves no server running", async () => {
    const pidfile = join(dir, "pid");
    writeFileSync(
      join(dir, ".mcp.json"),
      JSON.stringify({ mcpServers: { fx: { ...fixture, env: { MCP_FIXTURE_PIDFILE: pidfile } } } }),
    );
    for (const delay of [0, 1, 5]) {
      rmSync(pidfile, { force: true });
      const mcp = new WorkspaceMcp({ root: dir, log: (line) => logs.push(line) });
      const starting = mcp.start();
      for (let tick = 0; tick < delay; tick++) await new Promise((r) => setImmediate(r));
      await mcp.stop();
      await starting;
      const pid = existsSync(pidfile) ? Number(readFileSync(pidfile, "utf8")) : null;
      if (pid !== null) await until(() => !alive(pid));
    }
  });

  it("a workspace without .mcp.json has no tools and starts nothing", async () => {
    const mcp = new WorkspaceMcp({ root: dir, log: (line) => logs.push(line) });
    running.push(mcp);
    await mcp.start();
    expect(mcp.tools()).toEqual([]);
    expect(logs).toEqual([]);
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(check: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
