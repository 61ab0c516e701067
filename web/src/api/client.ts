/**
 * The one way the UI talks to the API: same-origin requests with the session cookie, typed by the
 * server's schemas (./types.ts). A failed request throws `ApiError` carrying the §4 error body, so
 * every screen can show the server's own words.
 */
import type {
  ApiErrorBody,
  Chat,
  ChatDetail,
  ChatList,
  CreateChatRequest,
  CreatedWorkspace,
  CreateMcpServerRequest,
  CreateModelRequest,
  CreateProviderRequest,
  CreateUserRequest,
  CreateWorkspaceRequest,
  FirstUserRequest,
  FirstUserResponse,
  Instructions,
  LoginRequest,
  LoginResponse,
  McpServer,
  McpServerList,
  McpServerTools,
  MeResponse,
  Model,
  ModelList,
  Provider,
  ProviderList,
  ProviderModelList,
  ProviderTestResult,
  Settings,
  SetupStatus,
  TextPart,
  UpdateChatRequest,
  UpdateMcpServerRequest,
  UpdateMeRequest,
  UpdateModelRequest,
  UpdateProviderRequest,
  UpdateSettingsRequest,
  UpdateUserRequest,
  UserList,
  UserResponse,
  Workspace,
  WorkspaceList,
} from "./types.ts";

export const API_BASE = "/api/v1";

const marker = Symbol.for("keel.web.ApiError");

export class ApiError extends Error {
  readonly [marker] = true;
  readonly status: number;
  readonly detail: string | undefined;
  readonly validations: ApiErrorBody["validations"];

  constructor(status: number, body: ApiErrorBody) {
    super(body.message);
    this.name = "ApiError";
    this.status = status;
    this.detail = body.detail;
    this.validations = body.validations;
  }

  static isInstance(error: unknown): error is ApiError {
    return typeof error === "object" && error !== null && marker in error;
  }
}

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

async function failure(response: Response): Promise<ApiError> {
  let body: ApiErrorBody = { message: `The server answered ${response.status}.` };
  try {
    const parsed = (await response.json()) as Partial<ApiErrorBody>;
    if (typeof parsed.message === "string") body = parsed as ApiErrorBody;
  } catch {
    // Not JSON (a proxy's page): keep the status line.
  }
  return new ApiError(response.status, body);
}

type Method = "GET" | "POST" | "PATCH" | "DELETE";

export async function request<T>(method: Method, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    init.headers = { "content-type": "application/json" };
    init.body = JSON.stringify(body);
  }
  const response = await fetch(`${API_BASE}${path}`, init);
  if (!response.ok) throw await failure(response);
  if (response.status === 204 || response.status === 202) return undefined as T;
  return (await response.json()) as T;
}

const id = (value: string) => encodeURIComponent(value);

export const api = {
  setup: () => request<SetupStatus>("GET", "/setup"),
  createFirstUser: (body: FirstUserRequest) =>
    request<FirstUserResponse>("POST", "/users/first", body),
  login: (body: LoginRequest) => request<LoginResponse>("POST", "/users/login", body),
  logout: () => request<void>("POST", "/users/logout"),
  me: () => request<MeResponse>("GET", "/users/me"),
  updateMe: (body: UpdateMeRequest) => request<MeResponse>("PATCH", "/users/me", body),

  listUsers: () => request<UserList>("GET", "/users"),
  createUser: (body: CreateUserRequest) => request<UserResponse>("POST", "/users", body),
  updateUser: (userId: string, body: UpdateUserRequest) =>
    request<UserResponse>("PATCH", `/users/${id(userId)}`, body),

  listProviders: () => request<ProviderList>("GET", "/providers"),
  createProvider: (body: CreateProviderRequest) => request<Provider>("POST", "/providers", body),
  updateProvider: (providerId: string, body: UpdateProviderRequest) =>
    request<Provider>("PATCH", `/providers/${id(providerId)}`, body),
  deleteProvider: (providerId: string) => request<void>("DELETE", `/providers/${id(providerId)}`),
  /** The smallest real request to the provider; a failure is a 200 with `ok: false`. */
  testProvider: (providerId: string, model?: string) =>
    request<ProviderTestResult>(
      "POST",
      `/providers/${id(providerId)}/test`,
      model ? { model } : {},
    ),
  listProviderModels: (providerId: string) =>
    request<ProviderModelList>("GET", `/providers/${id(providerId)}/models`),

  listModels: () => request<ModelList>("GET", "/models"),
  createModel: (body: CreateModelRequest) => request<Model>("POST", "/models", body),
  updateModel: (modelId: string, body: UpdateModelRequest) =>
    request<Model>("PATCH", `/models/${id(modelId)}`, body),
  deleteModel: (modelId: string) => request<void>("DELETE", `/models/${id(modelId)}`),

  getInstructions: (chatId: string) =>
    request<Instructions>("GET", `/chats/${encodeURIComponent(chatId)}/instructions`),

  listMcpServers: () => request<McpServerList>("GET", "/mcp-servers"),
  createMcpServer: (body: CreateMcpServerRequest) =>
    request<McpServer>("POST", "/mcp-servers", body),
  updateMcpServer: (serverId: string, body: UpdateMcpServerRequest) =>
    request<McpServer>("PATCH", `/mcp-servers/${id(serverId)}`, body),
  deleteMcpServer: (serverId: string) => request<void>("DELETE", `/mcp-servers/${id(serverId)}`),
  listMcpServerTools: (serverId: string) =>
    request<McpServerTools>("GET", `/mcp-servers/${id(serverId)}/tools`),

  getSettings: () => request<Settings>("GET", "/settings"),
  updateSettings: (body: UpdateSettingsRequest) => request<Settings>("PATCH", "/settings", body),

  listWorkspaces: () => request<WorkspaceList>("GET", "/workspaces"),
  /** One workspace with its agent's presence (`agent.connected`). */
  getWorkspace: (workspaceId: string) =>
    request<Workspace>("GET", `/workspaces/${id(workspaceId)}`),
  createWorkspace: (body: CreateWorkspaceRequest) =>
    request<CreatedWorkspace>("POST", "/workspaces", body),
  deleteWorkspace: (workspaceId: string) =>
    request<void>("DELETE", `/workspaces/${id(workspaceId)}`),

  /** The chats (pinned first, then newest), or those matching `q`; archived ones with `archived`. */
  listChats: (options: { cursor?: string; q?: string; archived?: boolean } = {}) => {
    const query = new URLSearchParams();
    if (options.cursor) query.set("cursor", options.cursor);
    if (options.q) query.set("q", options.q);
    if (options.archived) query.set("archived", "true");
    const search = query.toString();
    return request<ChatList>("GET", search ? `/chats?${search}` : "/chats");
  },
  getChat: (chatId: string) => request<ChatDetail>("GET", `/chats/${id(chatId)}`),
  createChat: (body: CreateChatRequest) => request<Chat>("POST", "/chats", body),
  sendMessage: (chatId: string, content: TextPart[]) =>
    request<void>("POST", `/chats/${id(chatId)}/messages`, { content }),
  interrupt: (chatId: string) => request<void>("POST", `/chats/${id(chatId)}/interrupt`),
  /** 202: the message's new content; later messages leave the transcript and a turn reruns. */
  editMessage: (chatId: string, messageId: string, content: TextPart[]) =>
    request<void>("PATCH", `/chats/${id(chatId)}/messages/${id(messageId)}`, { content }),
  /** 202: what followed the last user message leaves the transcript; a new turn answers it. */
  regenerate: (chatId: string) => request<void>("POST", `/chats/${id(chatId)}/regenerate`),
  /** 202: a waiting chat is compacted now; a running one when its turn ends. */
  compactChat: (chatId: string) => request<void>("POST", `/chats/${id(chatId)}/compact`),
  /** Rename, change the model, pin or archive (and undo either). */
  updateChat: (chatId: string, body: UpdateChatRequest) =>
    request<Chat>("PATCH", `/chats/${id(chatId)}`, body),
  archiveChat: (chatId: string) => request<void>("DELETE", `/chats/${id(chatId)}`),
  /** For good: the chat, its messages and events. */
  deleteChat: (chatId: string) => request<void>("DELETE", `/chats/${id(chatId)}?permanent=true`),
  streamUrl: (chatId: string) => `${API_BASE}/chats/${id(chatId)}/stream`,
};
