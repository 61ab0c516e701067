/**
 * Workspaces: where a chat's tools run. A workspace belongs to its creator; only they (or an
 * admin) see it, delete it or bind a chat to it — others get 404, so ids cannot be probed. The
 * agent token is in the creation response only. A `directory` makes the server run an agent on
 * its own machine, as its own OS user: that is an administrator's decision.
 */
import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { Workspace } from "../../store/types.ts";
import { changesOf } from "../audit.ts";
import { currentUser } from "../auth.ts";
import type { ApiApp, AppEnv, RouteContext } from "../context.ts";
import { ApiError, notFound } from "../errors.ts";
import {
  CreatedWorkspace,
  CreateWorkspaceBody,
  IdParams,
  WorkspaceList,
  WorkspaceSchema,
} from "../schemas.ts";
import { workspaceView } from "../views.ts";
import { errors, json, jsonBody, newRouter, noContent, SECURED } from "./common.ts";

export function workspaceRoutes(ctx: RouteContext): ApiApp {
  const { store, logger } = ctx;
  const app = newRouter();
  const user = [ctx.requireUser];
  const tags = ["workspaces"];

  async function loadWorkspace(c: Context<AppEnv>): Promise<Workspace> {
    const caller = currentUser(c);
    const workspace = await store.workspaces.get(c.req.param("id") ?? "");
    if (workspace === null) throw notFound("Workspace");
    if (workspace.owner_id !== caller.id && caller.role !== "admin") throw notFound("Workspace");
    return workspace;
  }

  const create = createRoute({
    method: "post",
    path: "/workspaces",
    tags,
    summary: "Create a workspace and its agent token (shown once)",
    security: SECURED,
    middleware: user,
    request: { body: jsonBody(CreateWorkspaceBody) },
    responses: {
      201: json(CreatedWorkspace, "The workspace and its agent token"),
      ...errors(400, 401, 403, 413, 415),
    },
  });
  app.openapi(create, async (c) => {
    const caller = currentUser(c);
    const input = c.req.valid("json");
    if (input.directory !== undefined && caller.role !== "admin") {
      throw new ApiError(
        403,
        "Only an administrator can create a workspace in a directory of the server's machine.",
        { detail: "Leave out `directory` and run `keel agent` in your workspace instead." },
      );
    }
    const { workspace, agent_token } = await ctx.audit.run(c, "workspace.create", async (note) => {
      const created = await store.workspaces.create({
        owner_id: caller.id,
        name: input.name,
        directory: input.directory ?? null,
      });
      const { workspace } = created;
      note.target = { type: "workspace", id: workspace.id, name: workspace.name };
      // The agent token is a secret: recorded as made, never its value.
      note.changes = changesOf(null, workspaceView(workspace), ["agent_token"]);
      return created;
    });
    logger.info("workspace created", { id: workspace.id, by: caller.id });
    return c.json({ ...workspaceView(workspace), agent_token }, 201);
  });

  const list = createRoute({
    method: "get",
    path: "/workspaces",
    tags,
    summary: "The caller's workspaces, oldest first",
    security: SECURED,
    middleware: user,
    responses: { 200: json(WorkspaceList, "The workspaces"), ...errors(401) },
  });
  app.openapi(list, async (c) => {
    const workspaces = await store.workspaces.list(currentUser(c).id);
    return c.json({ workspaces: workspaces.map(workspaceView) }, 200);
  });

  const get = createRoute({
    method: "get",
    path: "/workspaces/{id}",
    tags,
    summary: "A workspace and whether its agent is connected",
    security: SECURED,
    middleware: user,
    request: { params: IdParams },
    responses: { 200: json(WorkspaceSchema, "The workspace"), ...errors(401, 404) },
  });
  app.openapi(get, async (c) => c.json(workspaceView(await loadWorkspace(c)), 200));

  const remove = createRoute({
    method: "delete",
    path: "/workspaces/{id}",
    tags,
    summary: "Delete a workspace; its agent token stops working, its chats lose their tools",
    security: SECURED,
    middleware: user,
    request: { params: IdParams },
    responses: { 204: noContent("Deleted"), ...errors(401, 404) },
  });
  app.openapi(remove, async (c) => {
    const workspace = await loadWorkspace(c);
    const target = { type: "workspace", id: workspace.id, name: workspace.name };
    await ctx.audit.run(
      c,
      "workspace.delete",
      async (note) => {
        await store.workspaces.delete(workspace.id);
        note.changes = changesOf(workspaceView(workspace), null);
      },
      { target },
    );
    logger.info("workspace deleted", { id: workspace.id, by: currentUser(c).id });
    return c.body(null, 204);
  });

  return app;
}
