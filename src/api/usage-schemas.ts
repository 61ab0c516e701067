/**
 * The schemas of `GET /usage` (beside `schemas.ts`, whose conventions they follow). The period is
 * checked as a whole in the route (since before until, not longer than `MAX_USAGE_DAYS`), so each
 * 400 names the field at fault.
 */
import { z } from "@hono/zod-openapi";
import { USAGE_GROUPS, USAGE_SPLITS } from "../store/usage-report.ts";
import { Id } from "./schemas.ts";

/** The longest period one request may cover (a day's rows for five years is ~1,800 rows). */
export const MAX_USAGE_DAYS = 1830;
export const DEFAULT_USAGE_DAYS = 30;
export const MAX_USAGE_ROWS = 1000;

const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** ISO 8601 with a time zone (Z or ±hh:mm), seconds and fractions optional. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

/**
 * A bound of the period: a date (UTC midnight; as `until`, the end of that day) or a date-time
 * with its time zone. Returns null for anything else, or a date that does not exist.
 */
export function parseBound(value: string, end: boolean): Date | null {
  if (DATE.test(value)) {
    const day = new Date(`${value}T00:00:00Z`);
    if (Number.isNaN(day.getTime()) || day.toISOString().slice(0, 10) !== value) return null;
    return end ? new Date(day.getTime() + 86_400_000) : day;
  }
  if (!DATE_TIME.test(value)) return null;
  const time = new Date(value);
  return Number.isNaN(time.getTime()) ? null : time;
}

const bound = (end: boolean) =>
  z
    .string()
    .max(40)
    .refine(
      (v) => parseBound(v, end) !== null,
      "A date (2026-12-01) or an ISO 8601 date-time with its time zone.",
    );

export const UsageQuerySchema = z.strictObject({
  group_by: z
    .enum(USAGE_GROUPS)
    .default("user")
    .openapi({
      param: { name: "group_by", in: "query" },
      description:
        "Rows per user, model, provider, chat (the top chats) or UTC day (oldest first). Default user.",
    }),
  split_by: z
    .enum(USAGE_SPLITS)
    .optional()
    .openapi({
      param: { name: "split_by", in: "query" },
      description: "With group_by=day only: a row per day and user, model or provider.",
    }),
  since: bound(false)
    .optional()
    .openapi({
      param: { name: "since", in: "query" },
      description: `Start of the period, inclusive. Default: ${DEFAULT_USAGE_DAYS} days before until.`,
      example: "2026-11-01",
    }),
  until: bound(true)
    .optional()
    .openapi({
      param: { name: "until", in: "query" },
      description:
        "End of the period, exclusive; a date includes that whole day (UTC). Default: now.",
      example: "2026-11-30",
    }),
  user_id: Id.optional().openapi({
    param: { name: "user_id", in: "query" },
    description: "Admins: only this user's usage. A member always sees only their own.",
  }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_USAGE_ROWS)
    .optional()
    .openapi({
      param: { name: "limit", in: "query" },
      description:
        "At most this many rows, the costliest first (not with group_by=day). Default: all; for " +
        "group_by=chat, 20.",
    }),
  format: z
    .enum(["json", "csv"])
    .default("json")
    .openapi({
      param: { name: "format", in: "query" },
      description: "csv: the rows as a CSV file (text/csv, an attachment), without the totals.",
    }),
});

const Totals = {
  cost_usd: z.number().openapi({
    description: "The known costs, each at the pricing in force when its step ran.",
  }),
  input_tokens: z.number().openapi({ description: "Every input token, cached ones included." }),
  output_tokens: z.number(),
  cached_input_tokens: z
    .number()
    .openapi({ description: "Input tokens read from the provider's cache (in input_tokens)." }),
  cache_write_tokens: z
    .number()
    .openapi({ description: "Input tokens written to the provider's cache (in input_tokens)." }),
  reasoning_tokens: z
    .number()
    .openapi({ description: "Output tokens spent reasoning (in output_tokens)." }),
  messages: z.number().openapi({ description: "Model steps." }),
  unpriced_messages: z.number().openapi({
    description: "Steps of a model without pricing: their tokens count, their cost is unknown.",
  }),
  chats: z.number().openapi({ description: "Distinct chats." }),
};

export const UsageTotalsSchema = z.object(Totals).openapi("UsageTotals");

export const UsageRowSchema = z
  .object({
    key: z
      .string()
      .nullable()
      .openapi({
        description:
          "The user's, model's, provider's or chat's id, or the day (YYYY-MM-DD); null for a " +
          "model since deleted.",
      }),
    name: z.string().openapi({ description: "Username, model or provider name, chat title, day." }),
    split_key: z.string().nullable().optional(),
    split_name: z.string().optional(),
    owner_id: z.string().optional().openapi({ description: "group_by=chat: the chat's owner." }),
    owner_name: z.string().optional(),
    ...Totals,
  })
  .openapi("UsageRow");

export const UsageReportSchema = z
  .object({
    group_by: z.enum(USAGE_GROUPS),
    split_by: z.enum(USAGE_SPLITS).nullable(),
    since: z.string().openapi({ format: "date-time" }),
    until: z.string().openapi({ format: "date-time" }),
    user_id: z
      .string()
      .nullable()
      .openapi({ description: "Whose usage this is; null: everyone's (admins)." }),
    rows: z.array(UsageRowSchema),
    totals: UsageTotalsSchema,
  })
  .openapi("UsageReport");
