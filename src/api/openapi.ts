/**
 * The OpenAPI document as client generators take it (DESIGN.md §4): every operation has a stable
 * `operationId`, declares its security (the few public ones explicitly none), the document names
 * its server and license. Routes describe themselves (`createRoute`); what is true of all of them
 * is finished here, once, so a route cannot forget it.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "./context.ts";

/** Operations anyone may call: every other one needs a session or an API token. */
export const PUBLIC_OPERATIONS: ReadonlySet<string> = new Set([
  "get /healthz",
  "get /readyz",
  "get /api/v1/setup",
  "post /api/v1/users/first",
  "post /api/v1/users/login",
]);

/**
 * The names client generators give the operations (`keel.listChats()`). A route without an entry
 * gets a mechanical one (`postApiV1ChatsIdFoo` → see `fallbackOperationId`); give it a real name
 * here.
 */
export const OPERATION_IDS: Readonly<Record<string, string>> = {
  "get /healthz": "getHealth",
  "get /readyz": "getReadiness",
  "get /api/v1/setup": "getSetup",
  "post /api/v1/users/first": "createFirstUser",
  "post /api/v1/users/login": "login",
  "post /api/v1/users/logout": "logout",
  "get /api/v1/users": "listUsers",
  "post /api/v1/users": "createUser",
  "get /api/v1/users/me": "getCurrentUser",
  "patch /api/v1/users/me": "updateCurrentUser",
  "patch /api/v1/users/{id}": "updateUser",
  "post /api/v1/users/me/tokens": "createApiToken",
  "get /api/v1/providers": "listProviders",
  "post /api/v1/providers": "createProvider",
  "get /api/v1/providers/{id}": "getProvider",
  "patch /api/v1/providers/{id}": "updateProvider",
  "delete /api/v1/providers/{id}": "deleteProvider",
  "post /api/v1/providers/{id}/test": "testProvider",
  "get /api/v1/providers/{id}/models": "listProviderModels",
  "get /api/v1/models": "listModels",
  "post /api/v1/models": "createModel",
  "get /api/v1/models/{id}": "getModel",
  "patch /api/v1/models/{id}": "updateModel",
  "delete /api/v1/models/{id}": "deleteModel",
  "get /api/v1/groups": "listGroups",
  "post /api/v1/groups": "createGroup",
  "get /api/v1/groups/{id}": "getGroup",
  "patch /api/v1/groups/{id}": "updateGroup",
  "delete /api/v1/groups/{id}": "deleteGroup",
  "get /api/v1/audit": "listAuditEvents",
  "get /api/v1/audit/export": "exportAuditEvents",
  "get /api/v1/usage": "getUsage",
  "get /api/v1/users/me/spend": "getMySpend",
  "get /api/v1/limits": "listLimits",
  "get /api/v1/users/{id}/limit": "getUserLimit",
  "put /api/v1/users/{id}/limit": "setUserLimit",
  "delete /api/v1/users/{id}/limit": "deleteUserLimit",
  "get /api/v1/groups/{id}/limit": "getGroupLimit",
  "put /api/v1/groups/{id}/limit": "setGroupLimit",
  "delete /api/v1/groups/{id}/limit": "deleteGroupLimit",
  "get /api/v1/settings": "getSettings",
  "patch /api/v1/settings": "updateSettings",
  "get /api/v1/mcp-servers": "listMcpServers",
  "post /api/v1/mcp-servers": "createMcpServer",
  "get /api/v1/mcp-servers/{id}": "getMcpServer",
  "patch /api/v1/mcp-servers/{id}": "updateMcpServer",
  "delete /api/v1/mcp-servers/{id}": "deleteMcpServer",
  "get /api/v1/mcp-servers/{id}/tools": "listMcpServerTools",
  "get /api/v1/chats": "listChats",
  "post /api/v1/chats": "createChat",
  "get /api/v1/chats/{id}": "getChat",
  "patch /api/v1/chats/{id}": "updateChat",
  "delete /api/v1/chats/{id}": "deleteChat",
  "post /api/v1/chats/{id}/messages": "sendMessage",
  "patch /api/v1/chats/{id}/messages/{message_id}": "editMessage",
  "post /api/v1/chats/{id}/regenerate": "regenerateReply",
  "post /api/v1/chats/{id}/interrupt": "interruptChat",
  "post /api/v1/chats/{id}/compact": "compactChat",
  "get /api/v1/chats/{id}/instructions": "getChatInstructions",
  "get /api/v1/chats/{id}/stream": "streamChat",
  "get /api/v1/workspaces": "listWorkspaces",
  "post /api/v1/workspaces": "createWorkspace",
  "get /api/v1/workspaces/{id}": "getWorkspace",
  "delete /api/v1/workspaces/{id}": "deleteWorkspace",
};

/** `post /api/v1/chats/{id}/foo` → `postChatsIdFoo`: unique, if not pretty. */
export function fallbackOperationId(key: string): string {
  const [method = "", path = ""] = key.split(" ");
  const words = path
    .replace(/^\/api\/v1/, "")
    .split(/[/{}_-]+/)
    .filter((word) => word !== "");
  return method + words.map((word) => word[0]?.toUpperCase() + word.slice(1)).join("");
}

interface Operation {
  operationId?: string;
  security?: Array<Record<string, string[]>>;
}

/** The finishing touches of DESIGN.md §4's document, in place; returns it. */
export function finishDocument<T extends { paths?: unknown; servers?: unknown }>(doc: T): T {
  doc.servers = [{ url: "/", description: "This Keel server (the document's own origin)." }];
  const paths = (doc.paths ?? {}) as Record<string, Record<string, Operation>>;
  for (const [path, operations] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const key = `${method} ${path}`;
      operation.operationId ??= OPERATION_IDS[key] ?? fallbackOperationId(key);
      // A public operation says so; any other without security would be a route that forgot it.
      if (PUBLIC_OPERATIONS.has(key)) operation.security = [];
    }
  }
  return doc;
}

/** Serves the finished document at `path` (built once: the routes do not change after start). */
export function serveOpenApi(
  app: OpenAPIHono<AppEnv>,
  path: string,
  info: { title: string; version: string; description: string },
): void {
  let document: unknown;
  app.get(path, (c) => {
    document ??= finishDocument(
      app.getOpenAPI31Document({
        openapi: "3.1.0",
        info: { ...info, license: { name: "MIT", url: "https://opensource.org/license/mit" } },
      }),
    );
    return c.json(document);
  });
}
