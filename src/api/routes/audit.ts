/**
 * The audit log, read (admins only): `GET /audit` a page of events, newest first, by filters and
 * a cursor; `GET /audit/export` every event the filters match as CSV or JSON Lines, streamed a
 * page at a time (never the whole result in memory). An export is itself audited.
 */
import { createRoute, type z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { AuditCursorError, type AuditEvent, type AuditFilter } from "../../store/audit.ts";
import {
  AuditExportQuery,
  type AuditFilterQuery,
  AuditListQuery,
  AuditPageSchema,
} from "../audit-schemas.ts";
import type { ApiApp, AppEnv, RouteContext } from "../context.ts";
import { csvLine } from "../csv.ts";
import { ApiError } from "../errors.ts";
import { errors, json, newRouter, SECURED } from "./common.ts";

const DEFAULT_LIMIT = 100;
/** Rows per read while exporting. */
const EXPORT_PAGE = 500;

export const CSV_COLUMNS = [
  "time",
  "actor_type",
  "actor_id",
  "actor_name",
  "action",
  "target_type",
  "target_id",
  "target_name",
  "outcome",
  "error",
  "source_address",
  "user_agent",
  "changes",
] as const;

function badField(field: string, detail: string): ApiError {
  return new ApiError(400, "Invalid query parameters.", { validations: [{ field, detail }] });
}

/** The store's filter from the query (the cursor and limit aside). */
function filterOf(query: z.infer<typeof AuditFilterQuery>): Omit<AuditFilter, "limit"> {
  const filter: Omit<AuditFilter, "limit"> = {};
  if (query.actor !== undefined) filter.actor = query.actor;
  if (query.action !== undefined) filter.action = query.action;
  if (query.target !== undefined) {
    const colon = query.target.indexOf(":");
    const type = colon < 0 ? query.target : query.target.slice(0, colon);
    const id = colon < 0 ? undefined : query.target.slice(colon + 1);
    if (type === "" || id === "") throw badField("target", "A type, or type:id.");
    filter.target = id === undefined ? { type } : { type, id };
  }
  if (query.since !== undefined) filter.since = new Date(query.since);
  if (query.until !== undefined) filter.until = new Date(query.until);
  if (filter.since && filter.until && filter.since > filter.until) {
    throw badField("since", "`since` is after `until`.");
  }
  return filter;
}

export function csvRow(event: AuditEvent): string {
  return csvLine([
    event.time,
    event.actor.type,
    event.actor.id,
    event.actor.name,
    event.action,
    event.target?.type ?? null,
    event.target?.id ?? null,
    event.target?.name ?? null,
    event.outcome,
    event.error,
    event.source.address,
    event.source.user_agent,
    event.changes === null ? null : JSON.stringify(event.changes),
  ]);
}

export function auditRoutes(ctx: RouteContext): ApiApp {
  const { store } = ctx;
  const app = newRouter();
  const admin = [ctx.requireAdmin];
  const tags = ["audit"];

  async function page(filter: AuditFilter) {
    return store.audit.list(filter).catch((error: unknown) => {
      if (error instanceof AuditCursorError) throw badField("cursor", "Not a cursor of this list.");
      throw error;
    });
  }

  const list = createRoute({
    method: "get",
    path: "/audit",
    tags,
    summary: "The audit log, newest first (admin)",
    description:
      "Every mutating action: who, what, on what, from where, whether it worked and what " +
      "changed (secrets as `[changed]`). Filters combine; `next_cursor` pages on.",
    security: SECURED,
    middleware: admin,
    request: { query: AuditListQuery },
    responses: { 200: json(AuditPageSchema, "A page of events"), ...errors(400, 401, 403) },
  });
  app.openapi(list, async (c) => {
    const query = c.req.valid("query");
    const filter: AuditFilter = { ...filterOf(query), limit: query.limit ?? DEFAULT_LIMIT };
    if (query.cursor !== undefined) filter.cursor = query.cursor;
    return c.json(await page(filter), 200);
  });

  const exportRoute = createRoute({
    method: "get",
    path: "/audit/export",
    tags,
    summary: "Export the audit log as CSV or JSON Lines (admin; streamed, any size)",
    description:
      `Same filters as GET /audit, newest first. CSV columns: ${CSV_COLUMNS.join(", ")} ` +
      "(changes as JSON). The export itself is recorded (`audit.export`).",
    security: SECURED,
    middleware: admin,
    request: { query: AuditExportQuery },
    responses: {
      200: {
        description: "The events, as an attachment",
        content: {
          "text/csv": { schema: { type: "string" as const } },
          "application/x-ndjson": { schema: { type: "string" as const } },
        },
      },
      ...errors(400, 401, 403),
    },
  });
  app.openapi(exportRoute, async (c) => {
    const query = c.req.valid("query");
    const filter = filterOf(query);
    const format = query.format;
    const { format: _format, ...filters } = query;
    await ctx.audit.record(c, {
      action: "audit.export",
      outcome: "success",
      target: { type: "audit_log", id: null, name: null },
      changes: { export: { to: { format, ...filters } } },
    });
    return streamed(c, format, filter);
  });

  function streamed(
    c: Context<AppEnv>,
    format: "csv" | "jsonl",
    filter: Omit<AuditFilter, "limit">,
  ): Response {
    const encoder = new TextEncoder();
    let cursor: string | undefined;
    let started = false;
    let done = false;
    const body = new ReadableStream<Uint8Array>({
      // One page per pull: the client's pace sets the reads (backpressure), never all at once.
      async pull(controller) {
        if (!started && format === "csv")
          controller.enqueue(encoder.encode(`${CSV_COLUMNS.join(",")}\r\n`));
        started = true;
        if (done) {
          controller.close();
          return;
        }
        try {
          const next = await store.audit.list({
            ...filter,
            limit: EXPORT_PAGE,
            ...(cursor === undefined ? {} : { cursor }),
          });
          const lines = next.events.map((event) =>
            format === "csv" ? csvRow(event) : `${JSON.stringify(event)}\n`,
          );
          if (lines.length > 0) controller.enqueue(encoder.encode(lines.join("")));
          if (next.next_cursor === null) done = true;
          else cursor = next.next_cursor;
        } catch (error) {
          ctx.logger.error("audit export failed", {
            error: error instanceof Error ? error.message : String(error),
          });
          controller.error(error);
        }
      },
    });
    const date = new Date().toISOString().slice(0, 10);
    return c.body(body, 200, {
      "content-type": format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson",
      "content-disposition": `attachment; filename="keel-audit-${date}.${format}"`,
    });
  }

  return app;
}
