import { describe, expect, it } from "vitest";
import { jsonLogger, type LogLevel, redacting } from "./log.ts";

/** The levels a logger set to `level` writes, when each level logs one line. */
function written(level: LogLevel | undefined): string[] {
  const lines: string[] = [];
  const logger = redacting(jsonLogger((line) => lines.push(line), level));
  logger.debug?.("d", { api_key: "sk-secret" });
  logger.info("i");
  logger.warn("w");
  logger.error("e");
  return lines.map((line) => (JSON.parse(line) as { level: string }).level);
}

describe("jsonLogger's level", () => {
  it.each<[LogLevel | undefined, string[]]>([
    [undefined, ["info", "warn", "error"]],
    ["debug", ["debug", "info", "warn", "error"]],
    ["info", ["info", "warn", "error"]],
    ["warn", ["warn", "error"]],
    ["error", ["error"]],
  ])("at %s writes %j", (level, expected) => {
    expect(written(level)).toEqual(expected);
  });

  it("redacts a debug line's secrets like any other", () => {
    const lines: string[] = [];
    redacting(jsonLogger((line) => lines.push(line), "debug")).debug?.("d", { api_key: "sk-x" });
    expect(lines[0]).not.toContain("sk-x");
    expect(lines[0]).toContain("[redacted]");
  });
});
