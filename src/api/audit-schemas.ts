/**
 * The audit log's API shapes (docs/governance.md, "The audit log"): the events `GET /audit`
 * answers, its query, and the retention setting's field of `/settings`.
 */
import { z } from "@hono/zod-openapi";

/**
 * Query text the database can compare (no U+0000, no lone surrogate): else a 400, not a 500.
 * schemas.ts's `isStorableText`, not imported: schemas.ts imports this module.
 */
const queryText = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine(
      (value) => !value.includes("\0") && value.isWellFormed(),
      "Text without U+0000 or unpaired UTF-16 surrogates.",
    );

export const AuditRetentionField = z
  .number()
  .int()
  .min(1)
  .max(36_500)
  .nullable()
  .optional()
  .openapi({
    description:
      "Days an audit event is kept (default 365); null keeps them forever. Older ones are deleted hourly.",
  });

const Actor = z.object({
  type: z.enum(["user", "system", "agent"]),
  id: z.string().nullable(),
  name: z.string().nullable().openapi({
    description: "The username (for a failed sign-in: the email attempted).",
  }),
});

const Target = z.object({
  type: z.string().openapi({ example: "provider" }),
  id: z.string().nullable(),
  name: z.string().nullable(),
});

const Change = z.union([
  z.object({ from: z.unknown().optional(), to: z.unknown().optional() }),
  z.literal("[changed]").openapi({ description: "A secret: changed, its value never recorded." }),
]);

export const AuditEventSchema = z
  .object({
    id: z.string(),
    time: z.string().openapi({ description: "ISO 8601" }),
    actor: Actor,
    action: z.string().openapi({ example: "provider.update" }),
    target: Target.nullable(),
    source: z.object({ address: z.string().nullable(), user_agent: z.string().nullable() }),
    outcome: z.enum(["success", "failure"]),
    error: z
      .string()
      .nullable()
      .openapi({ description: "A failure's status and message, as the client got them." }),
    changes: z.record(z.string(), Change).nullable().openapi({
      description:
        "What changed, field by field: { from, to } (a create has only `to`, a delete only `from`).",
    }),
  })
  .openapi("AuditEvent");

export const AuditPageSchema = z
  .object({
    events: z.array(AuditEventSchema).openapi({ description: "Newest first." }),
    next_cursor: z
      .string()
      .nullable()
      .openapi({ description: "The next page's `cursor`; null: the last." }),
  })
  .openapi("AuditPage");

const IsoTime = z.iso.datetime({ offset: true, local: false }).optional();

export const AuditFilterQuery = z.object({
  actor: queryText(200).optional().openapi({
    description: "A user id or name (a failed sign-in's: the email attempted).",
  }),
  action: queryText(200).optional().openapi({
    description: "Exact (`provider.update`), or a prefix ending in `.` or `*` (`provider.`).",
  }),
  target: queryText(300).optional().openapi({
    description: "A target type (`provider`) or `type:id`.",
  }),
  since: IsoTime.openapi({ description: "ISO 8601: events at or after this time." }),
  until: IsoTime.openapi({ description: "ISO 8601: events at or before this time." }),
});

export const AuditListQuery = AuditFilterQuery.extend({
  cursor: queryText(500).optional().openapi({
    description: "The previous page's `next_cursor`.",
  }),
  limit: z.coerce.number().int().min(1).max(500).optional().openapi({
    description: "1–500, default 100.",
  }),
});

export const AuditExportQuery = AuditFilterQuery.extend({
  format: z
    .enum(["csv", "jsonl"])
    .openapi({ description: "CSV, or JSON Lines (one event a line)." }),
});
