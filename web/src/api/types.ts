/**
 * The API's shapes, as the server's OpenAPI document names them (`components.schemas`, generated
 * into ./openapi.gen.ts by `npm run api:types`): the UI never restates a type the server owns,
 * and the same document types `request`'s paths and bodies. The chat event stream is not in the
 * document (SSE): its payloads are type-only imports of the server's own (erased from the bundle).
 */
import type { ChatEventPayloads } from "../../../src/chatloop/events.ts";
import type { components } from "./openapi.gen.ts";

type Schemas = components["schemas"];

export type ApiErrorBody = Schemas["Error"];
export type SetupStatus = Schemas["SetupStatus"];
export type User = Schemas["User"];
export type Role = User["role"];
export type Provider = Schemas["Provider"];
export type ProviderType = Provider["type"];
export type Model = Schemas["Model"];
export type Pricing = NonNullable<Model["pricing"]>;
export type Chat = Schemas["Chat"];
export type ChatStatus = Chat["status"];
export type ChatDetail = Schemas["ChatDetail"];
export type QueuedMessage = ChatDetail["queued"][number];
export type Message = Schemas["Message"];
export type MessagePart = Message["parts"][number];
export type Usage = Schemas["Usage"];
export type Workspace = Schemas["Workspace"];
export type WorkspaceList = Schemas["WorkspaceList"];
export type CreatedWorkspace = Schemas["CreatedWorkspace"];
export type CreateWorkspaceRequest = Schemas["CreateWorkspaceRequest"];

export type FirstUserResponse = Schemas["FirstUserResponse"];
export type LoginResponse = Schemas["LoginResponse"];
export type UserResponse = Schemas["UserResponse"];
export type UserList = Schemas["UserList"];
export type ProviderList = Schemas["ProviderList"];
export type ProviderTestResult = Schemas["ProviderTestResult"];
export type ProviderModelList = Schemas["ProviderModelList"];
export type ModelList = Schemas["ModelList"];
export type ChatList = Schemas["ChatList"];
/** A chat of a list; a search result carries a `snippet`. */
export type ChatListItem = Schemas["ChatListItem"];
export type UpdateChatRequest = Schemas["UpdateChatRequest"];

export type FirstUserRequest = Schemas["FirstUserRequest"];
export type LoginRequest = Schemas["LoginRequest"];
export type CreateUserRequest = Schemas["CreateUserRequest"];
export type UpdateUserRequest = Schemas["UpdateUserRequest"];
export type CreateProviderRequest = Schemas["CreateProviderRequest"];
export type UpdateProviderRequest = Schemas["UpdateProviderRequest"];
export type CreateModelRequest = Schemas["CreateModelRequest"];
export type UpdateModelRequest = Schemas["UpdateModelRequest"];
export type CreateChatRequest = Schemas["CreateChatRequest"];
export type Settings = Schemas["Settings"];
export type UpdateSettingsRequest = Schemas["UpdateSettingsRequest"];
export type TextPart = Schemas["TextPartInput"];
export type MeResponse = Schemas["MeResponse"];
export type UpdateMeRequest = Schemas["UpdateMeRequest"];
export type Instructions = Schemas["Instructions"];
export type InstructionLayer = Instructions["layers"][number];
export type McpServer = Schemas["McpServer"];
export type McpServerList = Schemas["McpServerList"];
export type McpServerTools = Schemas["McpServerTools"];
export type CreateMcpServerRequest = Schemas["CreateMcpServerRequest"];
export type UpdateMcpServerRequest = Schemas["UpdateMcpServerRequest"];

/** The chat event stream (DESIGN.md §4): `type` is the SSE `event:`, `seq` its `id:`. */
export type ChatEventType = keyof ChatEventPayloads;
export type ChatEvent = {
  [K in ChatEventType]: { type: K; seq: number; data: ChatEventPayloads[K] };
}[ChatEventType];
export type { ChatEventPayloads };
/** A compaction starting: why, and the prompt's size then (`compaction` event). */
export type CompactionNotice = ChatEventPayloads["compaction"];
export type CompactionReason = CompactionNotice["reason"];
