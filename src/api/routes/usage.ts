/**
 * Usage and cost (issue 14): `GET /usage`, totals of the metered messages over a period, grouped
 * by user, model, provider, chat or UTC day, as JSON or CSV. Admins see everyone's (or one user's
 * with `user_id`); a member sees only their own, whatever they ask. Read-only: no audit row.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { UsageReport, UsageRow } from "../../store/usage-report.ts";
import { currentUser } from "../auth.ts";
import type { ApiApp, RouteContext } from "../context.ts";
import { csvField } from "../csv.ts";
import { ApiError } from "../errors.ts";
import {
  DEFAULT_USAGE_DAYS,
  MAX_USAGE_DAYS,
  parseBound,
  UsageQuerySchema,
  UsageReportSchema,
} from "../usage-schemas.ts";
import { errors, newRouter, SECURED } from "./common.ts";

const DAY_MS = 86_400_000;
const DEFAULT_CHAT_ROWS = 20;

export function usageRoutes(ctx: RouteContext): ApiApp {
  const { store } = ctx;
  const app = newRouter();

  const report = createRoute({
    method: "get",
    path: "/usage",
    tags: ["usage"],
    summary: "Usage and cost over a period, grouped (admins: everyone's; members: their own)",
    description:
      "Totals of the model steps (tokens, the cost recorded with each step, steps, chats) over " +
      `[since, until) — by default the last ${DEFAULT_USAGE_DAYS} days — per user, model, ` +
      "provider, chat (the top chats: the costliest first) or UTC day (`split_by` a user, model " +
      "or provider per day). `format=csv` answers the rows as a CSV file.",
    security: SECURED,
    middleware: [ctx.requireUser],
    request: { query: UsageQuerySchema },
    responses: {
      200: {
        description: "The rows and the period's totals",
        content: {
          "application/json": { schema: UsageReportSchema },
          "text/csv": { schema: z.string() },
        },
      },
      ...errors(400, 401),
    },
  });
  app.openapi(report, async (c) => {
    const q = c.req.valid("query");
    const user = currentUser(c);
    const { since, until } = period(q.since, q.until);
    if (q.split_by !== undefined && q.group_by !== "day") {
      throw invalid("split_by", "Only with group_by=day.");
    }
    if (q.limit !== undefined && q.group_by === "day") {
      throw invalid("limit", "Every day of the period is returned: no limit with group_by=day.");
    }
    // A member's usage is their own, whatever they ask for.
    const userId = user.role === "admin" ? q.user_id : user.id;
    const limit = q.limit ?? (q.group_by === "chat" ? DEFAULT_CHAT_ROWS : undefined);
    const result = await store.usage.report({
      group_by: q.group_by,
      ...(q.split_by ? { split_by: q.split_by } : {}),
      since,
      until,
      ...(userId !== undefined ? { user_id: userId } : {}),
      ...(limit !== undefined ? { limit } : {}),
    });
    if (q.format === "csv") {
      const name = `keel-usage-${q.group_by}-${day(since)}-${day(until)}.csv`;
      return c.body(usageCsv(result), 200, {
        "content-type": "text/csv; charset=utf-8",
        "content-disposition": `attachment; filename="${name}"`,
      });
    }
    return c.json(
      {
        group_by: q.group_by,
        split_by: q.split_by ?? null,
        since: since.toISOString(),
        until: until.toISOString(),
        user_id: userId ?? null,
        rows: result.rows,
        totals: result.totals,
      },
      200,
    );
  });

  return app;
}

function invalid(field: string, detail: string): ApiError {
  return new ApiError(400, "Invalid query parameters.", { validations: [{ field, detail }] });
}

/** The period asked for, defaults applied; the schema has already checked each bound parses. */
function period(sinceText?: string, untilText?: string): { since: Date; until: Date } {
  const until = (untilText !== undefined && parseBound(untilText, true)) || new Date();
  const since =
    (sinceText !== undefined && parseBound(sinceText, false)) ||
    new Date(until.getTime() - DEFAULT_USAGE_DAYS * DAY_MS);
  if (since >= until) throw invalid("since", "The period must start before it ends (until).");
  if (until.getTime() - since.getTime() > MAX_USAGE_DAYS * DAY_MS) {
    throw invalid("since", `At most ${MAX_USAGE_DAYS} days in one request.`);
  }
  return { since, until };
}

function day(d: Date): string {
  return d.toISOString().slice(0, 10);
}

const CSV_TOTALS = [
  "cost_usd",
  "input_tokens",
  "output_tokens",
  "cached_input_tokens",
  "cache_write_tokens",
  "reasoning_tokens",
  "messages",
  "unpriced_messages",
  "chats",
] as const;

/** The rows as CSV (RFC 4180, CRLF), with the columns the grouping has. */
export function usageCsv(report: UsageReport): string {
  const first = report.rows[0];
  const columns: Array<keyof UsageRow> = ["key", "name"];
  if (first && "split_name" in first) columns.push("split_key", "split_name");
  if (first && "owner_name" in first) columns.push("owner_id", "owner_name");
  columns.push(...CSV_TOTALS);
  const lines = [columns.join(",")];
  for (const row of report.rows) lines.push(columns.map((col) => csvField(row[col])).join(","));
  return `${lines.join("\r\n")}\r\n`;
}
