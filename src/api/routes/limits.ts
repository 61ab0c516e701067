/**
 * Spend limits (docs/governance.md, "Spend limits"): an admin sets a user's own limit
 * (`PUT/DELETE /users/{id}/limit`) and a group's (`PUT/DELETE /groups/{id}/limit`) over the
 * deployment's default (`PATCH /settings {default_limit}`), and reads them all (`GET /limits`);
 * every user reads their own spend this
 * period against the limit that applies (`GET /users/me/spend`), which the UI shows before they
 * type. The refusals themselves (409 `spend_limit_reached`) come from chatd (`spend-check.ts`).
 */
import { createRoute } from "@hono/zod-openapi";
import { spendLimitMessage } from "../../chatd/spend-check.ts";
import type { SpendStatus } from "../../store/spend-limits.ts";
import { currentUser } from "../auth.ts";
import type { ApiApp, RouteContext } from "../context.ts";
import { notFound } from "../errors.ts";
import {
  GroupLimitResponse,
  LimitList,
  SpendLimitBody,
  SpendResponse,
  UserLimitResponse,
} from "../limit-schemas.ts";
import { IdParams } from "../schemas.ts";
import { errors, json, jsonBody, newRouter, SECURED } from "./common.ts";

/** What `GET /users/me/spend` answers. */
export function spendView(status: SpendStatus) {
  return {
    spent_usd: status.spent_usd,
    period: status.period,
    period_start: status.period_start.toISOString(),
    resets_at: status.resets_at.toISOString(),
    limit: status.limit,
    over: status.over,
    message: status.over ? spendLimitMessage(status) : null,
  };
}

export function limitRoutes(ctx: RouteContext): ApiApp {
  const { store, logger } = ctx;
  const limits = store.spendLimits;
  const app = newRouter();
  const tags = ["limits"];

  /** A user's own limit and the one in effect; 404 for an unknown user. */
  async function userLimitView(userId: string) {
    if (!(await store.getUser(userId))) throw notFound("User");
    const [own, effective] = await Promise.all([
      limits.userLimit(userId),
      limits.effectiveLimit(userId),
    ]);
    return {
      user_id: userId,
      own: own ? { usd: own.usd, period: own.period, updated_at: own.updated_at } : null,
      effective,
    };
  }

  const mySpend = createRoute({
    method: "get",
    path: "/users/me/spend",
    tags,
    summary: "The caller's spend this period, against the limit that applies to them",
    security: SECURED,
    middleware: [ctx.requireUser],
    responses: { 200: json(SpendResponse, "The spend"), ...errors(401) },
  });
  app.openapi(mySpend, async (c) => c.json(spendView(await limits.status(currentUser(c).id)), 200));

  const list = createRoute({
    method: "get",
    path: "/limits",
    tags,
    summary: "The default limit, every user's own and every group's (admin)",
    security: SECURED,
    middleware: [ctx.requireAdmin],
    responses: { 200: json(LimitList, "The limits"), ...errors(401, 403) },
  });
  app.openapi(list, async (c) => {
    const [settings, users, groups, everyone] = await Promise.all([
      store.deploymentSettings.get(),
      limits.listUserLimits(),
      limits.listGroupLimits(),
      store.listUsers(),
    ]);
    const effective = [];
    for (const user of everyone) {
      const limit = await limits.effectiveLimit(user.id);
      if (limit) effective.push({ user_id: user.id, ...limit });
    }
    return c.json({ default_limit: settings.default_limit, users, groups, effective }, 200);
  });

  const get = createRoute({
    method: "get",
    path: "/users/{id}/limit",
    tags,
    summary: "A user's own spend limit and the one in effect (admin)",
    security: SECURED,
    middleware: [ctx.requireAdmin],
    request: { params: IdParams },
    responses: { 200: json(UserLimitResponse, "The limit"), ...errors(401, 403, 404) },
  });
  app.openapi(get, async (c) => c.json(await userLimitView(c.req.valid("param").id), 200));

  const put = createRoute({
    method: "put",
    path: "/users/{id}/limit",
    tags,
    summary: "Set a user's own spend limit, over the default (admin)",
    description:
      "USD per calendar period (UTC; a week starts on Monday). Applies at once, on every " +
      "replica: a user over it can start no turn, and a running turn stops before its next step.",
    security: SECURED,
    middleware: [ctx.requireAdmin],
    request: { params: IdParams, body: jsonBody(SpendLimitBody) },
    responses: {
      200: json(UserLimitResponse, "The limit"),
      ...errors(400, 401, 403, 404, 413, 415),
    },
  });
  app.openapi(put, async (c) => {
    const { id } = c.req.valid("param");
    const limit = c.req.valid("json");
    const view = await ctx.audit.run(c, "limit.update", async (note) => {
      const before = await limits.userLimit(id);
      if (!(await limits.setUserLimit(id, limit))) throw notFound("User");
      note.target = { type: "user", id, name: (await store.getUser(id))?.username ?? null };
      note.changes = {
        limit: { from: before ? { usd: before.usd, period: before.period } : null, to: limit },
      };
      return userLimitView(id);
    });
    logger.info("spend limit set", { user_id: id, ...limit, by: currentUser(c).id });
    return c.json(view, 200);
  });

  const remove = createRoute({
    method: "delete",
    path: "/users/{id}/limit",
    tags,
    summary: "Remove a user's own spend limit: the default applies again (admin)",
    security: SECURED,
    middleware: [ctx.requireAdmin],
    request: { params: IdParams },
    responses: { 200: json(UserLimitResponse, "The limit now"), ...errors(401, 403, 404) },
  });
  app.openapi(remove, async (c) => {
    const { id } = c.req.valid("param");
    const view = await ctx.audit.run(c, "limit.update", async (note) => {
      const user = await store.getUser(id);
      if (!user) throw notFound("User");
      note.target = { type: "user", id, name: user.username };
      const before = await limits.userLimit(id);
      await limits.deleteUserLimit(id);
      if (before) {
        note.changes = { limit: { from: { usd: before.usd, period: before.period }, to: null } };
      }
      return userLimitView(id);
    });
    logger.info("spend limit removed", { user_id: id, by: currentUser(c).id });
    return c.json(view, 200);
  });

  /** A group's limit; 404 for an unknown group. */
  async function groupLimitView(groupId: string) {
    if (!(await store.getGroup(groupId))) throw notFound("Group");
    const limit = await limits.groupLimit(groupId);
    return {
      group_id: groupId,
      limit: limit ? { usd: limit.usd, period: limit.period, updated_at: limit.updated_at } : null,
    };
  }

  const getGroup = createRoute({
    method: "get",
    path: "/groups/{id}/limit",
    tags,
    summary: "A group's spend limit (admin)",
    security: SECURED,
    middleware: [ctx.requireAdmin],
    request: { params: IdParams },
    responses: { 200: json(GroupLimitResponse, "The limit"), ...errors(401, 403, 404) },
  });
  app.openapi(getGroup, async (c) => c.json(await groupLimitView(c.req.valid("param").id), 200));

  const putGroup = createRoute({
    method: "put",
    path: "/groups/{id}/limit",
    tags,
    summary: "Set a group's spend limit: its members' unless they have their own (admin)",
    description:
      "A member of several groups with limits gets the most generous (compared per day). " +
      "Applies within seconds on every replica.",
    security: SECURED,
    middleware: [ctx.requireAdmin],
    request: { params: IdParams, body: jsonBody(SpendLimitBody) },
    responses: {
      200: json(GroupLimitResponse, "The limit"),
      ...errors(400, 401, 403, 404, 413, 415),
    },
  });
  app.openapi(putGroup, async (c) => {
    const { id } = c.req.valid("param");
    const limit = c.req.valid("json");
    const view = await ctx.audit.run(c, "limit.update", async (note) => {
      const group = await store.getGroup(id);
      if (!group) throw notFound("Group");
      note.target = { type: "group", id, name: group.name };
      const before = await limits.groupLimit(id);
      await limits.setGroupLimit(id, limit);
      note.changes = {
        limit: { from: before ? { usd: before.usd, period: before.period } : null, to: limit },
      };
      return groupLimitView(id);
    });
    logger.info("group spend limit set", { group_id: id, ...limit, by: currentUser(c).id });
    return c.json(view, 200);
  });

  const removeGroup = createRoute({
    method: "delete",
    path: "/groups/{id}/limit",
    tags,
    summary: "Remove a group's spend limit (admin)",
    security: SECURED,
    middleware: [ctx.requireAdmin],
    request: { params: IdParams },
    responses: { 200: json(GroupLimitResponse, "The limit now"), ...errors(401, 403, 404) },
  });
  app.openapi(removeGroup, async (c) => {
    const { id } = c.req.valid("param");
    const view = await ctx.audit.run(c, "limit.update", async (note) => {
      const group = await store.getGroup(id);
      if (!group) throw notFound("Group");
      note.target = { type: "group", id, name: group.name };
      const before = await limits.groupLimit(id);
      await limits.deleteGroupLimit(id);
      if (before) {
        note.changes = { limit: { from: { usd: before.usd, period: before.period }, to: null } };
      }
      return groupLimitView(id);
    });
    logger.info("group spend limit removed", { group_id: id, by: currentUser(c).id });
    return c.json(view, 200);
  });

  return app;
}
