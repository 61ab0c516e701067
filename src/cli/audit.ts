/**
 * `keel audit`: the audit log (admins), filtered as the API filters it (actor, action, target,
 * time), newest first. `table` (the default) is for people; `json` is the events as the API
 * gives them; `csv` and `jsonl` stream the server's export of everything that matches (any size:
 * the body goes to stdout as it comes, never held whole).
 */
import { Command, Option } from "commander";
import type { CliIO } from "./io.ts";
import { parsePositiveNumber, parseWhen } from "./options.ts";
import { loggedInClient, runCommand } from "./session.ts";

/** One event, as `GET /audit` returns it. */
export interface AuditEvent {
  id: string;
  time: string;
  actor: { type: "user" | "system" | "agent"; id: string | null; name: string | null };
  action: string;
  target: { type: string; id: string | null; name: string | null } | null;
  source: { address: string | null; user_agent: string | null };
  outcome: "success" | "failure";
  error: string | null;
  changes: Record<string, unknown> | null;
}

interface AuditPage {
  events: AuditEvent[];
  next_cursor: string | null;
}

const FORMATS = ["table", "json", "csv", "jsonl"] as const;
type Format = (typeof FORMATS)[number];

export interface AuditFlags {
  actor?: string;
  action?: string;
  target?: string;
  since?: string;
  until?: string;
  limit?: number;
  all?: boolean;
  format: Format;
}

/** The filters' query string (no `?`), in the API's names. */
export function auditQuery(flags: AuditFlags, extra: Record<string, string> = {}): string {
  const query = new URLSearchParams();
  for (const name of ["actor", "action", "target", "since", "until"] as const) {
    const value = flags[name];
    if (value !== undefined && value !== "") query.set(name, value);
  }
  for (const [name, value] of Object.entries(extra)) query.set(name, value);
  return query.toString();
}

/** `2026-12-06T15:04:05.123Z` → `2026-12-06 15:04:05Z`: exact, sortable, one column wide. */
function shortTime(iso: string): string {
  return iso.replace("T", " ").replace(/\.\d+Z$/, "Z");
}

function actorText(actor: AuditEvent["actor"]): string {
  const who = actor.name ?? actor.id ?? "";
  if (actor.type === "user") return who || "?";
  return who ? `${who} (${actor.type})` : actor.type;
}

function targetText(target: AuditEvent["target"]): string {
  if (target === null) return "-";
  const which = target.name ?? target.id;
  return which ? `${target.type} ${which}` : target.type;
}

function outcomeText(event: AuditEvent): string {
  if (event.outcome === "success") return "ok";
  return event.error ? `FAILED: ${event.error}` : "FAILED";
}

/**
 * The events as a table for people: columns as wide as their widest value, the outcome last
 * (a failure's reason can be long). Values are one line each: a newline in a name or a reason
 * would break the row.
 */
export function renderTable(events: AuditEvent[]): string {
  const oneLine = (text: string) => text.replace(/\s+/g, " ");
  const header = ["TIME", "ACTOR", "ACTION", "TARGET", "SOURCE", "OUTCOME"];
  const rows = events.map((e) =>
    [
      shortTime(e.time),
      actorText(e.actor),
      e.action,
      targetText(e.target),
      e.source.address ?? "-",
      outcomeText(e),
    ].map(oneLine),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  return [header, ...rows]
    .map((cells) =>
      cells
        .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join("  ")
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join("");
}

export function auditCommand(io: CliIO): Command {
  return new Command("audit")
    .description(
      "Show the audit log (admin): who did what, to what, from where, newest first. " +
        "csv and jsonl stream everything that matches (for archives and other tools).",
    )
    .option("--actor <user>", "a user's name or ID")
    .option("--action <action>", "an action (user.login) or a prefix ending in '.' (provider.)")
    .option("--target <target>", "a target type (provider) or type:ID")
    .option("--since <time>", "from this time: ISO 8601, or a time ago (24h, 7d)", (v) =>
      parseWhen(v),
    )
    .option("--until <time>", "up to this time: ISO 8601, or a time ago (1h)", (v) => parseWhen(v))
    .addOption(
      new Option(
        "--limit <n>",
        "events per request, 1–500 (default: 50; with --all, 500)",
      ).argParser(parsePositiveNumber),
    )
    .option("--all", "follow the pages to the last event (table and json)")
    .addOption(
      new Option("--format <format>", "how to print them").choices(FORMATS).default("table"),
    )
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  keel audit --since 24h\n" +
        "  keel audit --action provider. --all\n" +
        "  keel audit --action user.login_failed --since 7d --format json\n" +
        "  keel audit --since 2026-01-01 --format csv > audit-2026.csv\n",
    )
    .action((flags: AuditFlags) =>
      runCommand(io, async () => {
        const client = await loggedInClient();
        if (flags.format === "csv" || flags.format === "jsonl") {
          const body = await client.download(
            `/audit/export?${auditQuery(flags, { format: flags.format })}`,
          );
          const decoder = new TextDecoder();
          for await (const chunk of body) io.stdout(decoder.decode(chunk, { stream: true }));
          const rest = decoder.decode();
          if (rest) io.stdout(rest);
          return 0;
        }
        const events: AuditEvent[] = [];
        let cursor: string | null = null;
        do {
          // Following every page: the biggest pages, the fewest requests.
          const limit = flags.limit ?? (flags.all ? 500 : 50);
          const extra: Record<string, string> = { limit: String(limit) };
          if (cursor !== null) extra.cursor = cursor;
          const page: AuditPage = await client.get(`/audit?${auditQuery(flags, extra)}`);
          events.push(...page.events);
          cursor = page.next_cursor;
        } while (flags.all && cursor !== null);
        if (flags.format === "json") {
          io.stdout(`${JSON.stringify(events, null, 2)}\n`);
        } else if (events.length === 0) {
          io.stderr("No event matches.\n");
        } else {
          io.stdout(renderTable(events));
        }
        if (cursor !== null) {
          io.stderr(
            `(the newest ${events.length}; more match: --all for every page, --limit for ` +
              "bigger ones, or --since to narrow)\n",
          );
        }
        return 0;
      }),
    );
}
