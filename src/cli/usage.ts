/**
 * `keel usage`: tokens and cost over a period, per user, model, provider, chat or UTC day (the
 * API's `GET /usage`). Admins see everyone's (or one user's with --user); a member sees their
 * own. `table` is for people (with a total line); `json` is the API's answer; `csv` is the
 * server's CSV of the rows.
 */
import { Command, Option } from "commander";
import type { CliIO } from "./io.ts";
import { parsePositiveNumber, parseWhen } from "./options.ts";
import { loggedInClient, runCommand } from "./session.ts";

const GROUPS = ["user", "model", "provider", "day", "chat"] as const;
const FORMATS = ["table", "json", "csv"] as const;
type Format = (typeof FORMATS)[number];

interface Totals {
  cost_usd: number;
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens: number;
  reasoning_tokens: number;
  messages: number;
  unpriced_messages: number;
  chats: number;
}

export interface UsageRow extends Totals {
  key: string | null;
  name: string;
  owner_name?: string;
}

export interface UsageReport {
  group_by: (typeof GROUPS)[number];
  since: string;
  until: string;
  rows: UsageRow[];
  totals: Totals;
}

export interface UsageFlags {
  by: (typeof GROUPS)[number];
  since?: string;
  until?: string;
  user?: string;
  limit?: number;
  format: Format;
}

export function usageQuery(flags: UsageFlags): string {
  const query = new URLSearchParams({ group_by: flags.by });
  if (flags.since) query.set("since", flags.since);
  if (flags.until) query.set("until", flags.until);
  if (flags.user) query.set("user_id", flags.user);
  if (flags.limit !== undefined) query.set("limit", String(flags.limit));
  if (flags.format === "csv") query.set("format", "csv");
  return query.toString();
}

const HEADINGS: Record<UsageReport["group_by"], string> = {
  user: "USER",
  model: "MODEL",
  provider: "PROVIDER",
  day: "DAY (UTC)",
  chat: "CHAT",
};

/** `2026-12-06T15:04:05.123Z` → `2026-12-06 15:04Z`; a midnight as its date alone. */
function when(iso: string): string {
  return iso.endsWith("T00:00:00.000Z")
    ? iso.slice(0, 10)
    : `${iso.slice(0, 10)} ${iso.slice(11, 16)}Z`;
}

const usd = (n: number) => `$${n.toFixed(n !== 0 && Math.abs(n) < 0.01 ? 4 : 2)}`;
const count = (n: number) => n.toLocaleString("en-US");

/** The rows and a total line, columns aligned, figures right-aligned, each row on one line. */
export function renderUsage(report: UsageReport): string {
  const chats = report.group_by === "chat";
  const header = [
    HEADINGS[report.group_by],
    ...(chats ? ["OWNER"] : []),
    "COST",
    "INPUT",
    "CACHED",
    "OUTPUT",
    "REASONING",
    "STEPS",
    "CHATS",
  ];
  const figures = (t: Totals) => [
    usd(t.cost_usd) + (t.unpriced_messages > 0 ? "*" : ""),
    count(t.input_tokens),
    count(t.cached_input_tokens),
    count(t.output_tokens),
    count(t.reasoning_tokens),
    count(t.messages),
    count(t.chats),
  ];
  const oneLine = (text: string) => text.replace(/\s+/g, " ");
  const rows = report.rows.map((r) => [
    oneLine(r.name),
    ...(chats ? [oneLine(r.owner_name ?? "")] : []),
    ...figures(r),
  ]);
  const total = ["TOTAL", ...(chats ? [""] : []), ...figures(report.totals)];
  const table = [header, ...rows, total];
  const texts = chats ? 2 : 1;
  const widths = header.map((_, i) => Math.max(...table.map((r) => r[i]?.length ?? 0)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i < texts ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  let out = `${table.map(line).join("\n")}\n`;
  if (report.totals.unpriced_messages > 0) {
    out += `* ${count(report.totals.unpriced_messages)} steps of models without pricing: their tokens count, their cost is unknown.\n`;
  }
  return out;
}

export function usageCommand(io: CliIO): Command {
  return new Command("usage")
    .description(
      "Show tokens and cost over a period (default the last 30 days): everyone's for an admin, " +
        "your own for a member. Costs are those recorded with each model step.",
    )
    .addOption(
      new Option("--by <group>", "one row per user, model, provider, chat or UTC day")
        .choices(GROUPS)
        .default("user"),
    )
    .option("--since <when>", "from: a date, an ISO 8601 time, or a time ago (7d)", (v) =>
      parseWhen(v, { keepDates: true }),
    )
    .option("--until <when>", "to (a date: that day included); default now", (v) =>
      parseWhen(v, { keepDates: true }),
    )
    .option("--user <id>", "only this user's usage (admins)")
    .addOption(
      new Option("--limit <n>", "at most this many rows, the costliest first").argParser(
        parsePositiveNumber,
      ),
    )
    .addOption(new Option("--format <format>", "how to print it").choices(FORMATS).default("table"))
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  keel usage\n" +
        "  keel usage --by model --since 7d\n" +
        "  keel usage --by day --since 2026-11-01 --until 2026-11-30 --format csv > november.csv\n" +
        "  keel usage --by chat --limit 10\n",
    )
    .action((flags: UsageFlags) =>
      runCommand(io, async () => {
        const client = await loggedInClient();
        if (flags.format === "csv") {
          const body = await client.download(`/usage?${usageQuery(flags)}`);
          const decoder = new TextDecoder();
          for await (const chunk of body) io.stdout(decoder.decode(chunk, { stream: true }));
          const rest = decoder.decode();
          if (rest) io.stdout(rest);
          return 0;
        }
        const report: UsageReport = await client.get(`/usage?${usageQuery(flags)}`);
        if (flags.format === "json") {
          io.stdout(`${JSON.stringify(report, null, 2)}\n`);
          return 0;
        }
        io.stderr(`From ${when(report.since)} to ${when(report.until)}\n`);
        if (report.rows.length === 0) io.stderr("No usage in this period.\n");
        else io.stdout(renderUsage(report));
        return 0;
      }),
    );
}
