/**
 * MCP servers (admin only): Streamable HTTP servers whose tools reach every chat as
 * `<name>__<tool>` (see `src/mcp/`). Header values go in and never come out — responses name the
 * headers (`header_names`) — and are never logged: the log lines name the fields changed, not
 * their values.
 */
import { createRoute } from "@hono/zod-openapi";
import { McpServerError, probeTools } from "../../mcp/index.ts";
import type { McpServerRecord } from "../../store/contract.ts";
import { changesOf, secretsSet } from "../audit.ts";
import { currentUser } from "../auth.ts";
import type { ApiApp, RouteContext } from "../context.ts";
import { ApiError, notFound } from "../errors.ts";
import {
  CreateMcpServerBody,
  McpServerList,
  McpServerSchema,
  McpServerTools,
  UpdateMcpServerBody,
} from "../mcp-schemas.ts";
import { IdParams } from "../schemas.ts";
import { errors, json, jsonBody, newRouter, noContent, SECURED } from "./common.ts";

/** The API's view of a server: every field of the record (it holds no secret). */
export function mcpServerView(server: McpServerRecord) {
  return {
    id: server.id,
    name: server.name,
    url: server.url,
    header_names: server.header_names,
    enabled: server.enabled,
    tools_allow: server.tools_allow,
    tools_deny: server.tools_deny,
    created_at: server.created_at,
    updated_at: server.updated_at,
  };
}

export function mcpServerRoutes(ctx: RouteContext): ApiApp {
  const { store, logger } = ctx;
  const app = newRouter();
  const admin = [ctx.requireAdmin];
  const tags = ["mcp-servers"];

  const create = createRoute({
    method: "post",
    path: "/mcp-servers",
    tags,
    summary: "Configure an MCP server (admin); its tools reach every chat",
    security: SECURED,
    middleware: admin,
    request: { body: jsonBody(CreateMcpServerBody) },
    responses: {
      201: json(McpServerSchema, "The server (header names only)"),
      ...errors(400, 401, 403, 409, 413, 415),
    },
  });
  app.openapi(create, async (c) => {
    const input = c.req.valid("json");
    const server = await ctx.audit.run(c, "mcp_server.create", async (note) => {
      const server = await store.mcpServers.create(input);
      note.target = { type: "mcp_server", id: server.id, name: server.name };
      note.changes = changesOf(null, mcpServerView(server), secretsSet(input, ["headers"]));
      return server;
    });
    logger.info("mcp server created", {
      mcp_server_id: server.id,
      name: server.name,
      by: currentUser(c).id,
    });
    return c.json(mcpServerView(server), 201);
  });

  const list = createRoute({
    method: "get",
    path: "/mcp-servers",
    tags,
    summary: "List MCP servers (admin)",
    security: SECURED,
    middleware: admin,
    responses: { 200: json(McpServerList, "Every MCP server"), ...errors(401, 403) },
  });
  app.openapi(list, async (c) => {
    const servers = await store.mcpServers.list();
    return c.json({ mcp_servers: servers.map(mcpServerView) }, 200);
  });

  const get = createRoute({
    method: "get",
    path: "/mcp-servers/{id}",
    tags,
    summary: "One MCP server (admin)",
    security: SECURED,
    middleware: admin,
    request: { params: IdParams },
    responses: { 200: json(McpServerSchema, "The server"), ...errors(401, 403, 404) },
  });
  app.openapi(get, async (c) => {
    const server = await store.mcpServers.get(c.req.valid("param").id);
    if (server === null) throw notFound("MCP server");
    return c.json(mcpServerView(server), 200);
  });

  const update = createRoute({
    method: "patch",
    path: "/mcp-servers/{id}",
    tags,
    summary: "Change an MCP server (admin); headers are merged by name",
    security: SECURED,
    middleware: admin,
    request: { params: IdParams, body: jsonBody(UpdateMcpServerBody) },
    responses: {
      200: json(McpServerSchema, "The server"),
      ...errors(400, 401, 403, 404, 409, 413, 415),
    },
  });
  app.openapi(update, async (c) => {
    const { id } = c.req.valid("param");
    const patch = c.req.valid("json");
    const before = await store.mcpServers.get(id);
    const target = { type: "mcp_server", id, name: before?.name ?? null };
    const server = await ctx.audit.run(
      c,
      "mcp_server.update",
      async (note) => {
        const server = await store.mcpServers.update(id, patch);
        if (server === null || before === null) throw notFound("MCP server");
        // Header values are secrets: a change of them is "[changed]", never a value.
        const views = [mcpServerView(before), mcpServerView(server)] as const;
        note.changes = changesOf(...views, secretsSet(patch, ["headers"]));
        return server;
      },
      { target },
    );
    logger.info("mcp server updated", {
      mcp_server_id: id,
      fields: Object.keys(patch),
      by: currentUser(c).id,
    });
    return c.json(mcpServerView(server), 200);
  });

  const remove = createRoute({
    method: "delete",
    path: "/mcp-servers/{id}",
    tags,
    summary: "Delete an MCP server (admin)",
    security: SECURED,
    middleware: admin,
    request: { params: IdParams },
    responses: { 204: noContent("Deleted"), ...errors(401, 403, 404) },
  });
  app.openapi(remove, async (c) => {
    const { id } = c.req.valid("param");
    const before = await store.mcpServers.get(id);
    const target = { type: "mcp_server", id, name: before?.name ?? null };
    await ctx.audit.run(
      c,
      "mcp_server.delete",
      async (note) => {
        if (before === null || !(await store.mcpServers.delete(id))) throw notFound("MCP server");
        note.changes = changesOf(mcpServerView(before), null);
      },
      { target },
    );
    logger.info("mcp server deleted", { mcp_server_id: id, by: currentUser(c).id });
    return c.body(null, 204);
  });

  const tools = createRoute({
    method: "get",
    path: "/mcp-servers/{id}/tools",
    tags,
    summary: "Connect to an MCP server now and list its tools (admin)",
    description:
      "A fresh connection, bounded to 10 s. 502 when the server cannot be reached, refuses the " +
      "connection or does not answer in time; the message says which.",
    security: SECURED,
    middleware: admin,
    request: { params: IdParams },
    responses: {
      200: json(McpServerTools, "Its tools, and which of them chats get"),
      ...errors(401, 403, 404, 502),
    },
  });
  // "Test" on the admin page: audited (mcp_server.test) after it, as it connects out.
  app.openapi(tools, (c) =>
    ctx.audit.after(c, "mcp_server.test", async (note) => {
      const id = c.req.valid("param").id;
      note.target = { type: "mcp_server", id, name: null };
      const config = await store.mcpServers.config(id);
      if (config === null) throw notFound("MCP server");
      note.target.name = config.name;
      try {
        const offered = await probeTools(config);
        return c.json(
          {
            tools: offered.map(({ tool, chatName }) => ({
              name: tool.name,
              chat_name: chatName,
              description: tool.description ?? tool.title ?? "",
              offered: chatName !== null && config.enabled,
            })),
          },
          200,
        );
      } catch (error) {
        if (!McpServerError.isInstance(error)) throw error;
        throw new ApiError(502, error.message, {
          detail: "Check the server's URL and headers, and that it is running.",
        });
      }
    }),
  );

  return app;
}
