/** chatd: which process runs which chat, and the service the api calls. */

export {
  type ChatEventPayloads,
  type ChatEventType,
  type MessageDelta,
  type PublicMessage,
  publicMessage,
} from "../chatloop/events.ts";
export { ChatRequestError, type ChatService } from "./contract.ts";
export {
  ChatDaemon,
  type ChatDaemonOptions,
  type DaemonLogger,
  type DaemonStore,
  defaultWorkerId,
} from "./daemon.ts";
export {
  DEFAULT_WORKSPACE_READ_TIMEOUT_MS,
  type GatheredInstructions,
  gatherInstructions,
  WORKSPACE_INSTRUCTION_FILES,
  type WorkspaceContextSource,
} from "./instructions.ts";
export { type ModelFactory, ModelResolver, type ResolvedModel } from "./models.ts";
export { type ChatServiceOptions, createChatService, type ServiceStore } from "./service.ts";
export { deriveTitle } from "./title.ts";
