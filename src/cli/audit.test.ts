/**
 * `keel audit`'s parts that need no Keel (times, the table), and the command in process against
 * a small HTTP server that answers as the API's contract says: it shows what is asked for, follows
 * cursors with --all, streams an export through as it comes, and prints the server's message
 * when refused.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type AuditEvent, auditQuery, renderTable } from "./audit.ts";
import type { CliIO } from "./io.ts";
import { main } from "./main.ts";

const NOW = Date.parse("2026-12-06T12:00:00.000Z");

function event(n: number, overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    id: `ae_${n}`,
    time: new Date(NOW - n * 60_000).toISOString(),
    actor: { type: "user", id: "u_1", name: "ann" },
    action: "provider.update",
    target: { type: "provider", id: "p_1", name: "Anthropic" },
    source: { address: "10.0.0.7", user_agent: "curl/8.5.0" },
    outcome: "success",
    error: null,
    changes: { name: { from: "a", to: "b" }, api_key: "[changed]" },
    ...overrides,
  };
}

describe("auditQuery", () => {
  it("sends the filters given, in the API's names", () => {
    expect(
      auditQuery(
        { actor: "ann", action: "provider.", format: "table", target: "" },
        { limit: "50" },
      ),
    ).toBe("actor=ann&action=provider.&limit=50");
  });
});

describe("renderTable", () => {
  it("aligns the columns and puts a failure's reason last", () => {
    const text = renderTable([
      event(1),
      event(2, {
        actor: { type: "system", id: null, name: null },
        action: "user.login_failed",
        target: null,
        source: { address: null, user_agent: null },
        outcome: "failure",
        error: "Wrong email or password.",
      }),
    ]);
    expect(text).toBe(
      [
        "TIME                  ACTOR   ACTION             TARGET              SOURCE    OUTCOME",
        "2026-12-06 11:59:00Z  ann     provider.update    provider Anthropic  10.0.0.7  ok",
        "2026-12-06 11:58:00Z  system  user.login_failed  -                   -         FAILED: Wrong email or password.",
        "",
      ].join("\n"),
    );
  });

  it("keeps a row on one line whatever a name holds", () => {
    const text = renderTable([
      event(1, { target: { type: "chat", id: "c_1", name: "two\nlines" } }),
    ]);
    expect(text.trimEnd().split("\n")).toHaveLength(2);
  });
});

describe("keel audit, against the API's contract", () => {
  let server: Server;
  let url: string;
  let requests: string[];
  let handler: (req: IncomingMessage, res: ServerResponse) => void;
  const saved = { url: process.env.KEEL_URL, token: process.env.KEEL_TOKEN };

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(req.url ?? "");
      handler(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    process.env.KEEL_URL = url;
    process.env.KEEL_TOKEN = "kst_test";
  });
  afterAll(async () => {
    process.env.KEEL_URL = saved.url;
    process.env.KEEL_TOKEN = saved.token;
    if (saved.url === undefined) delete process.env.KEEL_URL;
    if (saved.token === undefined) delete process.env.KEEL_TOKEN;
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    requests = [];
  });

  async function run(...args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIO = {
      stdout: (text) => out.push(text),
      stderr: (text) => err.push(text),
      onInterrupt: () => () => {},
      setExitCode: () => {},
    };
    const code = await main(["node", "keel", "audit", ...args], io);
    return { code, stdout: out.join(""), stderr: err.join("") };
  }

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };

  /** Three pages of one event each, chained by cursor. */
  function paged(req: IncomingMessage, res: ServerResponse) {
    const query = new URL(req.url ?? "", url).searchParams;
    const page = Number(query.get("cursor") ?? "0");
    json(res, 200, { events: [event(page + 1)], next_cursor: page < 2 ? String(page + 1) : null });
  }

  it("asks with the filters and prints a table, saying more match", async () => {
    handler = paged;
    const result = await run("--action", "provider.", "--actor", "ann", "--since", "24h");
    expect(result.code).toBe(0);
    expect(requests).toHaveLength(1);
    const query = new URL(requests[0] ?? "", url).searchParams;
    expect(query.get("action")).toBe("provider.");
    expect(query.get("actor")).toBe("ann");
    expect(query.get("limit")).toBe("50");
    expect(Math.abs(Date.parse(query.get("since") ?? "") - (Date.now() - 86_400_000))).toBeLessThan(
      60_000,
    );
    expect(result.stdout).toMatch(/^TIME +ACTOR +ACTION/);
    expect(result.stdout).toContain("provider.update");
    expect(result.stderr).toContain("more match: --all");
  });

  it("--all follows the cursors to the end; json prints the events", async () => {
    handler = paged;
    const result = await run("--all", "--format", "json", "--limit", "1");
    expect(result.code).toBe(0);
    expect(requests.map((r) => new URL(r, url).searchParams.get("cursor"))).toEqual([
      null,
      "1",
      "2",
    ]);
    const events = JSON.parse(result.stdout) as AuditEvent[];
    expect(events.map((e) => e.id)).toEqual(["ae_1", "ae_2", "ae_3"]);
    expect(result.stderr).toBe("");
  });

  it("--all without --limit asks for the biggest pages", async () => {
    handler = paged;
    const result = await run("--all");
    expect(result.code).toBe(0);
    expect(requests.map((r) => new URL(r, url).searchParams.get("limit"))).toEqual([
      "500",
      "500",
      "500",
    ]);
    expect(result.stdout.trimEnd().split("\n")).toHaveLength(4);
  });

  it("csv streams the export with the filters, as it comes", async () => {
    handler = (_req, res) => {
      res.writeHead(200, { "content-type": "text/csv" });
      res.write("id,time,action\n");
      setTimeout(() => res.end("ae_1,2026-12-06T11:59:00Z,provider.update\n"), 20);
    };
    const result = await run("--format", "csv", "--target", "provider:p_1");
    expect(result.code).toBe(0);
    const asked = new URL(requests[0] ?? "", url);
    expect(asked.pathname).toBe("/api/v1/audit/export");
    expect(asked.searchParams.get("format")).toBe("csv");
    expect(asked.searchParams.get("target")).toBe("provider:p_1");
    expect(asked.searchParams.has("limit")).toBe(false);
    expect(result.stdout).toBe("id,time,action\nae_1,2026-12-06T11:59:00Z,provider.update\n");
  });

  it("prints the server's message when refused", async () => {
    handler = (_req, res) => json(res, 403, { message: "Only administrators can do this." });
    for (const format of ["table", "jsonl"]) {
      const result = await run("--format", format);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe("error: Only administrators can do this.\n");
      expect(result.stdout).toBe("");
    }
  });

  it("says so when nothing matches", async () => {
    handler = (_req, res) => json(res, 200, { events: [], next_cursor: null });
    const result = await run("--action", "nothing.");
    expect(result).toEqual({ code: 0, stdout: "", stderr: "No event matches.\n" });
  });

  it("refuses a time it cannot read before asking", async () => {
    const result = await run("--since", "yesterday");
    expect(result.code).toBe(2);
    expect(requests).toEqual([]);
  });
});
