/**
 * The soak's short version (issue 13; `npm run soak` is the long one, bench/README.md): two real
 * `keel server` replicas on one database of the test run's PostgreSQL, a real `keel agent`, four
 * chats with tool calls, a minute of SIGKILLs and restarts behind a round-robin proxy. The harness
 * (test/soak/harness.ts) runs once; each promise it checks is its own test, so a failure names the
 * promise that broke. No assertion depends on how fast the machine is: only the harness's bounds
 * on a turn (minutes) do.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDatabase, dropPostgresDatabase } from "../../src/store/test-support.ts";
import { CHECKS, type Check, formatReport, runSoak, type SoakReport } from "../soak/harness.ts";

describe("soak: replicas killed and restarted while chats run tools and stream", () => {
  let url: string;
  let report: SoakReport;

  beforeAll(async () => {
    url = await createPostgresDatabase();
    report = await runSoak({
      postgresUrl: url,
      replicas: 2,
      chats: 4,
      durationMs: 60_000,
      killEveryMs: [10_000, 20_000],
      // Seed 7: the first kill (about 10 s in) keeps replica 0 down for 44 s, past the 30 s stale
      // timeout, so replica 1 takes its chats over; later ones come back sooner.
      downMs: [2_000, 45_000],
      seed: 7,
      drainTimeoutMs: 180_000,
      replyDeltas: 30,
      deltaMs: 60,
    });
    process.stdout.write(`${formatReport(report)}\n`);
  }, 600_000);

  afterAll(async () => {
    if (url) await dropPostgresDatabase(url);
  }, 60_000);

  const failed = (check: Check) =>
    report.failures.filter((f) => f.check === check).map((f) => f.message);

  for (const check of Object.keys(CHECKS) as Check[]) {
    it(CHECKS[check], () => {
      expect(failed(check)).toEqual([]);
    });
  }
});
