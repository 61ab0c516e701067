/**
 * Groups (admins only): named sets of users. A model restricted to groups (`PATCH /models/{id}
 * {group_ids}`) is for admins and the members of any of them; the rest of the deployment does
 * not see it. Deleting a model's only group is refused (409): the model would be everyone's.
 */
import { createRoute } from "@hono/zod-openapi";
import { type Group, UnknownIdsError } from "../../store/groups.ts";
import { changesOf } from "../audit.ts";
import { currentUser } from "../auth.ts";
import type { ApiApp, RouteContext } from "../context.ts";
import { ApiError, notFound } from "../errors.ts";
import { CreateGroupBody, GroupList, GroupSchema, UpdateGroupBody } from "../group-schemas.ts";
import { IdParams } from "../schemas.ts";
import { errors, json, jsonBody, newRouter, noContent, SECURED } from "./common.ts";

export function groupView(group: Group) {
  return {
    id: group.id,
    name: group.name,
    user_ids: group.user_ids,
    member_count: group.user_ids.length,
    model_ids: group.model_ids,
    created_at: group.created_at,
    updated_at: group.updated_at,
  };
}

/** An id of a body's list that names nothing: a 400 on that field, not a 404 of the route. */
export function unknownIds(error: unknown): never {
  if (!(error instanceof UnknownIdsError)) throw error;
  const what = error.field === "user_ids" ? "user" : "group";
  throw new ApiError(400, "Invalid request body.", {
    validations: [{ field: error.field, detail: `No ${what} has the id ${error.ids.join(", ")}.` }],
  });
}

export function groupRoutes(ctx: RouteContext): ApiApp {
  const { store, logger } = ctx;
  const app = newRouter();
  const admin = [ctx.requireAdmin];
  const tags = ["groups"];

  const list = createRoute({
    method: "get",
    path: "/groups",
    tags,
    summary: "Every group, by name, with its members and the models restricted to it (admin)",
    security: SECURED,
    middleware: admin,
    responses: { 200: json(GroupList, "The groups"), ...errors(401, 403) },
  });
  app.openapi(list, async (c) => {
    const groups = await store.listGroups();
    return c.json({ groups: groups.map(groupView) }, 200);
  });

  const create = createRoute({
    method: "post",
    path: "/groups",
    tags,
    summary: "Create a group of users (admin)",
    security: SECURED,
    middleware: admin,
    request: { body: jsonBody(CreateGroupBody) },
    responses: { 201: json(GroupSchema, "The group"), ...errors(400, 401, 403, 409, 413, 415) },
  });
  app.openapi(create, async (c) => {
    const input = c.req.valid("json");
    const group = await ctx.audit.run(c, "group.create", async (note) => {
      const group = await store.createGroup(input).catch(unknownIds);
      note.target = { type: "group", id: group.id, name: group.name };
      note.changes = changesOf(null, groupView(group));
      return group;
    });
    logger.info("group created", {
      group_id: group.id,
      members: group.user_ids.length,
      by: currentUser(c).id,
    });
    return c.json(groupView(group), 201);
  });

  const get = createRoute({
    method: "get",
    path: "/groups/{id}",
    tags,
    summary: "One group (admin)",
    security: SECURED,
    middleware: admin,
    request: { params: IdParams },
    responses: { 200: json(GroupSchema, "The group"), ...errors(401, 403, 404) },
  });
  app.openapi(get, async (c) => {
    const group = await store.getGroup(c.req.valid("param").id);
    if (group === null) throw notFound("Group");
    return c.json(groupView(group), 200);
  });

  const update = createRoute({
    method: "patch",
    path: "/groups/{id}",
    tags,
    summary: "Rename a group or set its members (admin)",
    description:
      "`user_ids` replaces the members. A member removed loses the group's models from their " +
      "next request or turn on.",
    security: SECURED,
    middleware: admin,
    request: { params: IdParams, body: jsonBody(UpdateGroupBody) },
    responses: {
      200: json(GroupSchema, "The group"),
      ...errors(400, 401, 403, 404, 409, 413, 415),
    },
  });
  app.openapi(update, async (c) => {
    const { id } = c.req.valid("param");
    const patch = c.req.valid("json");
    const before = await store.getGroup(id);
    const target = { type: "group", id, name: before?.name ?? null };
    const group = await ctx.audit.run(
      c,
      "group.update",
      async (note) => {
        const group = await store.updateGroup(id, patch).catch(unknownIds);
        if (group === null || before === null) throw notFound("Group");
        note.changes = changesOf(groupView(before), groupView(group));
        return group;
      },
      { target },
    );
    logger.info("group updated", {
      group_id: id,
      fields: Object.keys(patch),
      by: currentUser(c).id,
    });
    return c.json(groupView(group), 200);
  });

  const remove = createRoute({
    method: "delete",
    path: "/groups/{id}",
    tags,
    summary: "Delete a group (admin)",
    description:
      "Refused (409) while the group is the only one some model is restricted to: the model " +
      "would be open to everyone. Give it another group, or make it everyone's, first.",
    security: SECURED,
    middleware: admin,
    request: { params: IdParams },
    responses: { 204: noContent("Deleted"), ...errors(401, 403, 404, 409) },
  });
  app.openapi(remove, async (c) => {
    const { id } = c.req.valid("param");
    const before = await store.getGroup(id);
    const target = { type: "group", id, name: before?.name ?? null };
    await ctx.audit.run(
      c,
      "group.delete",
      async (note) => {
        if (before === null || !(await store.deleteGroup(id))) throw notFound("Group");
        note.changes = changesOf(groupView(before), null);
      },
      { target },
    );
    logger.info("group deleted", { group_id: id, by: currentUser(c).id });
    return c.body(null, 204);
  });

  return app;
}
