/**
 * The one way the UI talks to the API: each function is one operation of the server's OpenAPI
 * document, made through `request` (./request.ts), whose path, method, parameters and body are
 * checked against the generated routes by `tsc -p web`; the results are typed by the same
 * document. A failed request throws `ApiError`, so every screen can show the server's own words.
 */
import { API_BASE, ApiError, type Body, request } from "./request.ts";
import type { TextPart } from "./types.ts";

export { API_BASE, ApiError, request };

/** What a person reads when a request fails: the server's message, else what the network said. */
export function errorMessage(error: unknown): string {
  if (ApiError.isInstance(error)) {
    const fields = error.validations?.map((v) => `${v.field}: ${v.detail}`).join("; ");
    return fields ? `${error.message} (${fields})` : error.message;
  }
  if (error instanceof TypeError) {
    return "Cannot reach the Keel server. Check your connection; the page retries on its own.";
  }
  return error instanceof Error ? error.message : String(error);
}

export const api = {
  setup: () => request("GET", "/setup"),
  createFirstUser: (body: Body<"POST", "/users/first">) =>
    request("POST", "/users/first", { body }),
  login: (body: Body<"POST", "/users/login">) => request("POST", "/users/login", { body }),
  logout: () => request("POST", "/users/logout"),
  me: () => request("GET", "/users/me"),
  updateMe: (body: Body<"PATCH", "/users/me">) => request("PATCH", "/users/me", { body }),

  listUsers: () => request("GET", "/users"),
  createUser: (body: Body<"POST", "/users">) => request("POST", "/users", { body }),
  updateUser: (userId: string, body: Body<"PATCH", "/users/{id}">) =>
    request("PATCH", "/users/{id}", { params: { id: userId }, body }),

  listProviders: () => request("GET", "/providers"),
  createProvider: (body: Body<"POST", "/providers">) => request("POST", "/providers", { body }),
  updateProvider: (providerId: string, body: Body<"PATCH", "/providers/{id}">) =>
    request("PATCH", "/providers/{id}", { params: { id: providerId }, body }),
  deleteProvider: (providerId: string) =>
    request("DELETE", "/providers/{id}", { params: { id: providerId } }),
  /** The smallest real request to the provider; a failure is a 200 with `ok: false`. */
  testProvider: (providerId: string, model?: string) =>
    request("POST", "/providers/{id}/test", {
      params: { id: providerId },
      body: model ? { model } : {},
    }),
  listProviderModels: (providerId: string) =>
    request("GET", "/providers/{id}/models", { params: { id: providerId } }),

  listModels: () => request("GET", "/models"),
  createModel: (body: Body<"POST", "/models">) => request("POST", "/models", { body }),
  updateModel: (modelId: string, body: Body<"PATCH", "/models/{id}">) =>
    request("PATCH", "/models/{id}", { params: { id: modelId }, body }),
  deleteModel: (modelId: string) => request("DELETE", "/models/{id}", { params: { id: modelId } }),

  getInstructions: (chatId: string) =>
    request("GET", "/chats/{id}/instructions", { params: { id: chatId } }),

  listMcpServers: () => request("GET", "/mcp-servers"),
  createMcpServer: (body: Body<"POST", "/mcp-servers">) =>
    request("POST", "/mcp-servers", { body }),
  updateMcpServer: (serverId: string, body: Body<"PATCH", "/mcp-servers/{id}">) =>
    request("PATCH", "/mcp-servers/{id}", { params: { id: serverId }, body }),
  deleteMcpServer: (serverId: string) =>
    request("DELETE", "/mcp-servers/{id}", { params: { id: serverId } }),
  listMcpServerTools: (serverId: string) =>
    request("GET", "/mcp-servers/{id}/tools", { params: { id: serverId } }),

  getSettings: () => request("GET", "/settings"),
  updateSettings: (body: Body<"PATCH", "/settings">) => request("PATCH", "/settings", { body }),

  listWorkspaces: () => request("GET", "/workspaces"),
  /** One workspace with its agent's presence (`agent.connected`). */
  getWorkspace: (workspaceId: string) =>
    request("GET", "/workspaces/{id}", { params: { id: workspaceId } }),
  createWorkspace: (body: Body<"POST", "/workspaces">) => request("POST", "/workspaces", { body }),
  deleteWorkspace: (workspaceId: string) =>
    request("DELETE", "/workspaces/{id}", { params: { id: workspaceId } }),

  /** The chats (pinned first, then newest), or those matching `q`; archived ones with `archived`. */
  listChats: (options: { cursor?: string; q?: string; archived?: boolean } = {}) =>
    request("GET", "/chats", {
      query: {
        // Empty values are left out of the URL, as before: `?q=` is the plain list anyway.
        cursor: options.cursor || undefined,
        q: options.q || undefined,
        archived: options.archived ? "true" : undefined,
      },
    }),
  getChat: (chatId: string) => request("GET", "/chats/{id}", { params: { id: chatId } }),
  createChat: (body: Body<"POST", "/chats">) => request("POST", "/chats", { body }),
  sendMessage: (chatId: string, content: TextPart[]) =>
    request("POST", "/chats/{id}/messages", { params: { id: chatId }, body: { content } }),
  interrupt: (chatId: string) =>
    request("POST", "/chats/{id}/interrupt", { params: { id: chatId } }),
  /** 202: the message's new content; later messages leave the transcript and a turn reruns. */
  editMessage: (chatId: string, messageId: string, content: TextPart[]) =>
    request("PATCH", "/chats/{id}/messages/{message_id}", {
      params: { id: chatId, message_id: messageId },
      body: { content },
    }),
  /** 202: what followed the last user message leaves the transcript; a new turn answers it. */
  regenerate: (chatId: string) =>
    request("POST", "/chats/{id}/regenerate", { params: { id: chatId } }),
  /** 202: a waiting chat is compacted now; a running one when its turn ends. */
  compactChat: (chatId: string) =>
    request("POST", "/chats/{id}/compact", { params: { id: chatId } }),
  /** Rename, change the model, pin or archive (and undo either). */
  updateChat: (chatId: string, body: Body<"PATCH", "/chats/{id}">) =>
    request("PATCH", "/chats/{id}", { params: { id: chatId }, body }),
  archiveChat: (chatId: string) => request("DELETE", "/chats/{id}", { params: { id: chatId } }),
  /** For good: the chat, its messages and events. */
  deleteChat: (chatId: string) =>
    request("DELETE", "/chats/{id}", { params: { id: chatId }, query: { permanent: "true" } }),
  streamUrl: (chatId: string) => `${API_BASE}/chats/${encodeURIComponent(chatId)}/stream`,
};
