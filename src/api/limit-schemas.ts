/**
 * The spend limits' schemas (beside `schemas.ts`, whose conventions they follow): a limit is
 * `{usd, period}`, USD per calendar period in UTC (a week starts on Monday).
 */
import { z } from "@hono/zod-openapi";
import { LIMIT_PERIODS } from "../store/spend-limits.ts";

/** Far above any real budget: a typo of many zeros is refused rather than stored. */
export const MAX_LIMIT_USD = 1_000_000;

const Usd = z
  .number()
  .positive("More than 0.")
  .max(MAX_LIMIT_USD)
  .openapi({ description: "USD per period, more than 0.", example: 25 });

const Period = z.enum(LIMIT_PERIODS).openapi({
  description: "A calendar day, week (from Monday) or month, in UTC.",
  example: "month",
});

const Timestamp = z.string().openapi({ format: "date-time" });

export const SpendLimitBody = z
  .strictObject({ usd: Usd, period: Period })
  .openapi("SpendLimitRequest");

/** `default_limit` of `PATCH /settings`: a limit, or null for none. */
export const DefaultLimitField = SpendLimitBody.nullable()
  .optional()
  .openapi({ description: "Every user's spend limit unless they have their own; null: none." });

export const SpendLimitSchema = z.object({ usd: z.number(), period: Period }).openapi("SpendLimit");

export const EffectiveLimitSchema = z
  .object({
    usd: z.number(),
    period: Period,
    source: z.enum(["user", "group", "default"]).openapi({
      description: "user: the user's own; group: one of their groups'; default: the deployment's.",
    }),
  })
  .openapi("EffectiveLimit");

export const UserLimitResponse = z
  .object({
    user_id: z.string(),
    own: z
      .object({ usd: z.number(), period: Period, updated_at: Timestamp })
      .nullable()
      .openapi({ description: "The user's own limit (an override); null: none." }),
    effective: EffectiveLimitSchema.nullable().openapi({
      description: "The limit that applies to the user; null: no limit.",
    }),
  })
  .openapi("UserLimit");

export const LimitList = z
  .object({
    default_limit: SpendLimitSchema.nullable(),
    users: z.array(
      z.object({ user_id: z.string(), usd: z.number(), period: Period, updated_at: Timestamp }),
    ),
    groups: z.array(
      z.object({ group_id: z.string(), usd: z.number(), period: Period, updated_at: Timestamp }),
    ),
    effective: z
      .array(
        z.object({
          user_id: z.string(),
          usd: z.number(),
          period: Period,
          source: z.enum(["user", "group", "default"]),
        }),
      )
      .openapi({ description: "The limit in force for each user who has one." }),
  })
  .openapi("LimitList");

export const GroupLimitResponse = z
  .object({
    group_id: z.string(),
    limit: z
      .object({ usd: z.number(), period: Period, updated_at: Timestamp })
      .nullable()
      .openapi({ description: "The group's limit; null: none." }),
  })
  .openapi("GroupLimit");

export const SpendResponse = z
  .object({
    spent_usd: z.number().openapi({ description: "The cost of the user's steps this period." }),
    period: Period.openapi({ description: "The limit's period; month when there is no limit." }),
    period_start: Timestamp,
    resets_at: Timestamp.openapi({ description: "When the period ends and the spend restarts." }),
    limit: EffectiveLimitSchema.nullable(),
    over: z.boolean().openapi({
      description: "The spend reached the limit: new chats and messages are refused (409).",
    }),
    message: z.string().nullable().openapi({
      description: "When over: what the 409 says (spent, limit, reset, whom to ask); else null.",
    }),
  })
  .openapi("Spend");
