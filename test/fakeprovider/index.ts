export { fetchWith } from "./client.ts";
export { errorResponse } from "./render.ts";
export {
  defaultUsage,
  destroyAfter,
  type ErrorReplyOptions,
  type ErrorScript,
  type ErrorType,
  errorReply,
  type FinishReason,
  hangAfter,
  midStreamError,
  type ProviderFormat,
  type ReplyOptions,
  resetAfter,
  type Script,
  type StreamEnd,
  type StreamEvent,
  type StreamScript,
  splitText,
  splitWords,
  type ToolCallReplyOptions,
  type ToolCallSpec,
  textReply,
  toolCallReply,
  truncateAfter,
  type Usage,
} from "./script.ts";
export {
  type FakeProvider,
  type FakeProviderOptions,
  type RecordedRequest,
  startFakeProvider,
} from "./server.ts";
