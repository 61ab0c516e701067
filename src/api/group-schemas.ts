/**
 * The groups' schemas (beside `schemas.ts`, whose conventions they follow: strict request
 * objects, every string storable). A model's `group_ids` is in `schemas.ts` itself, with the
 * model's other fields.
 */
import { z } from "@hono/zod-openapi";
import { Id, text } from "./schemas.ts";

/** More members than this in one request is not a team but a mistake (or a flood). */
export const MAX_GROUP_MEMBERS = 10_000;

const Name = text()
  .trim()
  .min(1, "A name, at least one character.")
  .max(100)
  .openapi({ description: "Unique, case aside.", example: "Research" });

const UserIds = z.array(Id).max(MAX_GROUP_MEMBERS).openapi({
  description: "The members: every id names a user (deactivated ones too). Replaces the members.",
});

export const CreateGroupBody = z
  .strictObject({ name: Name, user_ids: UserIds.optional() })
  .openapi("CreateGroupRequest");

export const UpdateGroupBody = z
  .strictObject({ name: Name.optional(), user_ids: UserIds.optional() })
  .openapi("UpdateGroupRequest");

export const GroupSchema = z
  .object({
    id: Id,
    name: z.string(),
    user_ids: z.array(z.string()).openapi({ description: "The members, by username." }),
    member_count: z.number(),
    model_ids: z
      .array(z.string())
      .openapi({ description: "The models restricted to this group (and maybe others)." }),
    created_at: z.string().openapi({ format: "date-time" }),
    updated_at: z.string().openapi({ format: "date-time" }),
  })
  .openapi("Group");

export const GroupList = z.object({ groups: z.array(GroupSchema) }).openapi("GroupList");
