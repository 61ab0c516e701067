import { describe, expect, it } from "vitest";
import {
  databaseUrlText,
  defaultDataDir,
  describeStartError,
  mcpLimitsFrom,
  parseAddress,
  parseTakeoverSeconds,
} from "./server.ts";

describe("parseAddress", () => {
  it.each([
    ["127.0.0.1:3000", { host: "127.0.0.1", port: 3000 }],
    [":8080", { host: "0.0.0.0", port: 8080 }],
    ["[::1]:3000", { host: "::1", port: 3000 }],
    ["keel.internal:443", { host: "keel.internal", port: 443 }],
  ])("reads %s", (text, expected) => {
    expect(parseAddress(text)).toEqual(expected);
  });

  it.each(["3000", "host:", "host:70000", "a:b:c"])("refuses %s with an example", (text) => {
    expect(() => parseAddress(text)).toThrow(/HOST:PORT \(e\.g\. 127\.0\.0\.1:3000\)/);
  });
});

describe("parseTakeoverSeconds", () => {
  it.each([
    ["30", 30],
    ["3", 3],
    ["600", 600],
  ])("reads %s", (text, seconds) => {
    expect(parseTakeoverSeconds(text)).toBe(seconds);
  });

  it.each([
    ["2", /at least 3/],
    ["0", /greater than 0/],
    ["soon", /./],
  ])("refuses %s", (text, message) => {
    expect(() => parseTakeoverSeconds(text)).toThrow(message);
  });
});

describe("describeStartError", () => {
  const address = { host: "127.0.0.1", port: 3000 };
  const withCode = (code: string, message: string) => Object.assign(new Error(message), { code });

  it.each([
    [
      withCode("EADDRINUSE", "listen EADDRINUSE"),
      {},
      /127\.0\.0\.1:3000 is already in use.*--address/,
    ],
    [
      withCode("ECONNREFUSED", "connect ECONNREFUSED 10.0.0.5:5432"),
      { postgresUrl: "postgres://u:pw@db/keel" },
      /--postgres-url.*ECONNREFUSED/,
    ],
    [new Error("something else"), {}, /^something else$/],
  ])("words %s for a person", (error, extra, expected) => {
    const text = describeStartError(error, { address, ...extra });
    expect(text).toMatch(expected);
    expect(text).not.toContain("pw@");
  });
});

describe("defaultDataDir", () => {
  it.each([
    [{ XDG_DATA_HOME: "/x" }, 1000, "/x/keel"],
    [{ XDG_DATA_HOME: "/x" }, 0, "/var/lib/keel"],
  ])("with %o as uid %i is %s", (env, uid, expected) => {
    expect(defaultDataDir(env, uid)).toBe(expected);
  });
});

describe("databaseUrlText", () => {
  it("puts the socket URL alone on stdout and how to use it on stderr", () => {
    const { url, help } = databaseUrlText("/srv/keel data");
    expect(url).toBe("postgresql://keel@/keel?host=%2Fsrv%2Fkeel%20data%2Frun");
    expect(help).toContain(`psql '${url}'`);
    expect(help).toContain("/srv/keel data/postgres.log");
  });
});

describe("mcpLimitsFrom", () => {
  it.each([
    [{}, {}],
    [{ KEEL_MCP_CALL_TIMEOUT_MS: "" }, {}],
    [{ KEEL_MCP_CALL_TIMEOUT_MS: "1500" }, { callTimeoutMs: 1500 }],
    [
      { KEEL_MCP_CALL_TIMEOUT_MS: "soon" },
      "KEEL_MCP_CALL_TIMEOUT_MS must be a number of milliseconds.",
    ],
    [
      { KEEL_MCP_CALL_TIMEOUT_MS: "-5" },
      "KEEL_MCP_CALL_TIMEOUT_MS must be a number of milliseconds.",
    ],
  ])("%j → %j", (env, expected) => {
    expect(mcpLimitsFrom(env)).toEqual(expected);
  });
});
