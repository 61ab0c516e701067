/**
 * The API's shapes, as the server's own zod schemas define them: the UI never restates a type the
 * server owns. These are type-only imports (erased from the bundle); a change to a schema on the
 * server is a type error here.
 */
import type { z } from "zod";
import type * as M from "../../../src/api/mcp-schemas.ts";
import type * as S from "../../../src/api/schemas.ts";
import type { ChatEventPayloads } from "../../../src/chatloop/events.ts";

type Out<T extends z.ZodType> = z.output<T>;
type In<T extends z.ZodType> = z.input<T>;

export type ApiErrorBody = Out<typeof S.ErrorSchema>;
export type SetupStatus = Out<typeof S.SetupStatus>;
export type User = Out<typeof S.UserSchema>;
export type Role = User["role"];
export type Provider = Out<typeof S.ProviderSchema>;
export type ProviderType = Provider["type"];
export type Model = Out<typeof S.ModelSchema>;
export type Pricing = NonNullable<Model["pricing"]>;
export type Chat = Out<typeof S.ChatSchema>;
export type ChatStatus = Chat["status"];
export type ChatDetail = Out<typeof S.ChatDetail>;
export type QueuedMessage = ChatDetail["queued"][number];
export type Message = Out<typeof S.MessageSchema>;
export type MessagePart = Message["parts"][number];
export type Usage = Out<typeof S.UsageSchema>;
export type Workspace = Out<typeof S.WorkspaceSchema>;
export type WorkspaceList = Out<typeof S.WorkspaceList>;
export type CreatedWorkspace = Out<typeof S.CreatedWorkspace>;
export type CreateWorkspaceRequest = In<typeof S.CreateWorkspaceBody>;

export type FirstUserResponse = Out<typeof S.FirstUserResponse>;
export type LoginResponse = Out<typeof S.LoginResponse>;
export type UserResponse = Out<typeof S.UserResponse>;
export type UserList = Out<typeof S.UserList>;
export type ProviderList = Out<typeof S.ProviderList>;
export type ProviderTestResult = Out<typeof S.ProviderTestResult>;
export type ProviderModelList = Out<typeof S.ProviderModelList>;
export type ModelList = Out<typeof S.ModelList>;
export type ChatList = Out<typeof S.ChatList>;
/** A chat of a list; a search result carries a `snippet`. */
export type ChatListItem = Out<typeof S.ChatListItem>;
export type UpdateChatRequest = In<typeof S.UpdateChatBody>;

export type FirstUserRequest = In<typeof S.FirstUserBody>;
export type LoginRequest = In<typeof S.LoginBody>;
export type CreateUserRequest = In<typeof S.CreateUserBody>;
export type UpdateUserRequest = In<typeof S.UpdateUserBody>;
export type CreateProviderRequest = In<typeof S.CreateProviderBody>;
export type UpdateProviderRequest = In<typeof S.UpdateProviderBody>;
export type CreateModelRequest = In<typeof S.CreateModelBody>;
export type UpdateModelRequest = In<typeof S.UpdateModelBody>;
export type CreateChatRequest = In<typeof S.CreateChatBody>;
export type Settings = Out<typeof S.SettingsSchema>;
export type UpdateSettingsRequest = In<typeof S.UpdateSettingsBody>;
export type TextPart = In<typeof S.TextPartInput>;
export type MeResponse = Out<typeof S.MeResponse>;
export type UpdateMeRequest = In<typeof S.UpdateMeBody>;
export type Instructions = Out<typeof S.InstructionsResponse>;
export type InstructionLayer = Instructions["layers"][number];
export type McpServer = Out<typeof M.McpServerSchema>;
export type McpServerList = Out<typeof M.McpServerList>;
export type McpServerTools = Out<typeof M.McpServerTools>;
export type CreateMcpServerRequest = In<typeof M.CreateMcpServerBody>;
export type UpdateMcpServerRequest = In<typeof M.UpdateMcpServerBody>;

/** The chat event stream (DESIGN.md §4): `type` is the SSE `event:`, `seq` its `id:`. */
export type ChatEventType = keyof ChatEventPayloads;
export type ChatEvent = {
  [K in ChatEventType]: { type: K; seq: number; data: ChatEventPayloads[K] };
}[ChatEventType];
export type { ChatEventPayloads };
/** A compaction starting: why, and the prompt's size then (`compaction` event). */
export type CompactionNotice = ChatEventPayloads["compaction"];
export type CompactionReason = CompactionNotice["reason"];
