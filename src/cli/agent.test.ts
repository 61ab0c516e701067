import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { AGENT_PATH } from "../workspace/protocol.ts";
import { agentSettings } from "./agent-run.ts";
import type { CliIO } from "./io.ts";
import { main } from "./main.ts";

const KEEL_BIN = fileURLToPath(new URL("../../bin/keel.js", import.meta.url));
const TOKEN = "kat_cli-test-token";

function testIO(): CliIO & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    onInterrupt: () => () => {},
    setExitCode: () => {},
  };
}

describe("keel agent: usage", () => {
  let dir: string;
  const saved = { url: process.env.KEEL_URL, token: process.env.KEEL_AGENT_TOKEN };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "keel-cli-agent-"));
    delete process.env.KEEL_URL;
    delete process.env.KEEL_AGENT_TOKEN;
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    if (saved.url !== undefined) process.env.KEEL_URL = saved.url;
    if (saved.token !== undefined) process.env.KEEL_AGENT_TOKEN = saved.token;
  });

  it.each([
    [[], /no server URL: give --url \(or set KEEL_URL\)/],
    [["--url", "http://127.0.0.1:1"], /no agent token: set KEEL_AGENT_TOKEN \(or give --token\)/],
    [["--url", "localhost:3000", "--token", "t"], /--url: .*http\(s\) or ws\(s\)/],
    [
      ["--url", "http://127.0.0.1:1", "--token", "t", "--dir", "/no/such/dir"],
      /--dir: \/no\/such\/dir does not exist/,
    ],
  ])("keel agent %j exits 2 with a clear message", async (args, message) => {
    const io = testIO();
    expect(await main(["node", "keel", "agent", ...args], io)).toBe(2);
    expect(io.err.join("")).toMatch(message);
  });

  it("refuses a --dir that is a file", async () => {
    const file = join(dir, "file.txt");
    writeFileSync(file, "x");
    const io = testIO();
    expect(
      await main(["node", "keel", "agent", "--url", "http://h", "--token", "t", "--dir", file], io),
    ).toBe(2);
    expect(io.err.join("")).toContain(`--dir: ${file} is not a directory.`);
    expect(io.err.join("")).not.toContain("t\n");
  });

  it("takes the URL and the token from the environment, and resolves --dir", () => {
    const checked = agentSettings({ url: "http://h:1", token: "tok", dir: "." }, dir, {});
    expect(checked).toEqual({
      ok: true,
      settings: { url: "http://h:1", token: "tok", dir, mcp: { callTimeoutMs: undefined } },
    });
  });

  it.each([
    ["runs .mcp.json servers by default", {}, {}, { callTimeoutMs: undefined }],
    ["not with --no-mcp", { mcp: false }, {}, null],
    [
      "bounds their calls by KEEL_MCP_CALL_TIMEOUT_MS",
      {},
      { KEEL_MCP_CALL_TIMEOUT_MS: "500" },
      { callTimeoutMs: 500 },
    ],
  ])("%s", (_what, flags, env, mcp) => {
    const checked = agentSettings({ url: "http://h:1", token: "t", ...flags }, dir, env);
    expect(checked).toMatchObject({ ok: true, settings: { mcp } });
  });

  it("refuses a KEEL_MCP_CALL_TIMEOUT_MS that is not milliseconds", () => {
    const env = { KEEL_MCP_CALL_TIMEOUT_MS: "soon" };
    expect(agentSettings({ url: "http://h:1", token: "t" }, dir, env)).toEqual({
      ok: false,
      message: "KEEL_MCP_CALL_TIMEOUT_MS must be a number of milliseconds.",
    });
  });

  it("documents KEEL_AGENT_TOKEN in --help", async () => {
    const io = testIO();
    expect(await main(["node", "keel", "agent", "--help"], io)).toBe(0);
    const help = io.out.join("");
    expect(help).toContain("KEEL_AGENT_TOKEN");
    expect(help).toContain("KEEL_URL");
  });
});

describe("keel agent: the process", () => {
  let server: Server;
  let wss: WebSocketServer;
  let url: string;
  let dir: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "keel-cli-agent-"));
    wss = new WebSocketServer({ noServer: true });
    server = createServer((_req, res) => res.writeHead(404).end());
    server.on("upgrade", (request, socket, head) => {
      if (request.url !== AGENT_PATH || request.headers.authorization !== `Bearer ${TOKEN}`) {
        socket.end("HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n");
        return;
      }
      wss.handleUpgrade(request, socket, head, (ws) => wss.emit("connection", ws, request));
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(() => {
    for (const child of children.splice(0)) child.kill("SIGKILL");
  });
  afterAll(async () => {
    for (const client of wss.clients) client.terminate();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  function runKeelAgent(token: string, ipc = false) {
    const child = spawn(process.execPath, [KEEL_BIN, "agent", "--url", url, "--dir", dir], {
      env: { PATH: process.env.PATH, KEEL_AGENT_TOKEN: token },
      stdio: ["ignore", "pipe", "pipe", ...(ipc ? ["ipc" as const] : [])],
    });
    children.push(child);
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = once(child, "exit").then(([code]) => code as number | null);
    return { child, exited, stderr: () => stderr };
  }

  it("connects with the token from KEEL_AGENT_TOKEN and stops cleanly on SIGTERM", async () => {
    const connected = once(wss, "connection");
    const agent = runKeelAgent(TOKEN);
    const [socket] = (await connected) as [import("ws").WebSocket];
    const [hello] = await once(socket, "message");
    expect(JSON.parse(String(hello))).toMatchObject({ type: "hello", version: "0.1.0", dir });
    agent.child.kill("SIGTERM");
    expect(await agent.exited).toBe(0);
    expect(agent.stderr()).not.toContain(TOKEN);
  });

  it("exits 1 with the refusal message when the token is refused", async () => {
    const agent = runKeelAgent("kat_wrong-token");
    expect(await agent.exited).toBe(1);
    expect(agent.stderr()).toContain(
      "The agent token was refused: check --token / KEEL_AGENT_TOKEN, or create a new workspace token.",
    );
    expect(agent.stderr()).not.toContain("kat_wrong-token");
  });

  it("stops when the process that started it (keel server) goes away", async () => {
    const connected = once(wss, "connection");
    const agent = runKeelAgent(TOKEN, true);
    await connected;
    agent.child.disconnect();
    expect(await agent.exited).toBe(0);
  });
});
