/**
 * Every zod schema of the HTTP API: the same objects validate requests at the edge and generate
 * `/api/v1/openapi.json`, so the document cannot drift from what the server accepts. Request
 * objects are strict (an unknown field is a 400); response objects describe what the views send.
 */
import { z } from "@hono/zod-openapi";
import { ERROR_KINDS } from "../chaterror/kinds.ts";
import { COMPACT_AT_MAX, COMPACT_AT_MIN, DEFAULT_COMPACT_AT } from "../chatloop/context.ts";
import { REASONING_EFFORTS, TEMPERATURE_MAX } from "../provider/settings.ts";
import { PROVIDER_TYPES } from "../provider/types.ts";
import { AuditRetentionField } from "./audit-schemas.ts";
import { DefaultLimitField, SpendLimitSchema } from "./limit-schemas.ts";

/** Longest text part a client may send, in characters (UTF-16 code units): 256 Ki. */
export const MAX_TEXT_PART_CHARS = 256 * 1024;
/** Most parts in one message. */
export const MAX_CONTENT_PARTS = 64;
/** Largest page of `GET /chats`. */
export const MAX_PAGE = 100;
export const DEFAULT_PAGE = 50;

// ---- shared ---------------------------------------------------------------------------------

/**
 * Whether PostgreSQL can store `value` as it is: no U+0000 (text and jsonb refuse it) and no
 * unpaired UTF-16 surrogate (jsonb refuses its escape; text would silently store U+FFFD).
 */
export function isStorableText(value: string): boolean {
  return !value.includes("\0") && value.isWellFormed();
}

const STORABLE_TEXT = "Text without U+0000 or unpaired UTF-16 surrogates.";

/** A request's text: every string a client sends goes through this, so none can fail in the database. */
export const text = () => z.string().refine(isStorableText, STORABLE_TEXT);

export const Id = z
  .guid()
  .openapi({ description: "A UUID.", example: "0195c1a4-8f1e-7b7a-9c55-2f1d0e6a4b21" });
const Timestamp = z.string().openapi({ description: "ISO-8601 time.", format: "date-time" });

/** Path `{id}`. A value that is not a UUID names nothing: 404, like an unknown id. */
export const IdParams = z.object({
  id: z.guid().openapi({ param: { name: "id", in: "path" }, description: "A UUID." }),
});

export const ErrorSchema = z
  .object({
    message: z.string().openapi({ description: "What went wrong, for a person." }),
    code: z.string().optional().openapi({
      description: "A stable code for a refusal clients act on, e.g. `spend_limit_reached` (409).",
    }),
    detail: z.string().optional(),
    validations: z
      .array(z.object({ field: z.string(), detail: z.string() }))
      .optional()
      .openapi({ description: "One entry per invalid field (400)." }),
  })
  .openapi("Error");

// ---- users ----------------------------------------------------------------------------------

const Username = text()
  .min(1)
  .max(64)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]*$/,
    "Letters, digits, '_', '.' and '-'; starting with a letter or digit.",
  );
const Email = z.email().max(254).refine(isStorableText, STORABLE_TEXT);
const Password = text().min(8, "At least 8 characters.").max(256);
const Role = z.enum(["admin", "member"]);

export const FirstUserBody = z
  .strictObject({ username: Username, email: Email, password: Password })
  .openapi("FirstUserRequest");

export const LoginBody = z
  .strictObject({ email: text().min(1).max(254), password: text().min(1).max(256) })
  .openapi("LoginRequest");

export const CreateUserBody = z
  .strictObject({
    username: Username,
    email: Email,
    password: Password,
    role: Role.optional().openapi({ description: "Defaults to member." }),
  })
  .openapi("CreateUserRequest");

export const CreateTokenBody = z
  .strictObject({ name: text().min(1).max(100).optional() })
  .openapi("CreateTokenRequest");

export const UpdateUserBody = z
  .strictObject({
    role: Role.optional(),
    active: z
      .boolean()
      .optional()
      .openapi({ description: "false deactivates the user and revokes all of their tokens." }),
  })
  .refine((body) => body.role !== undefined || body.active !== undefined, {
    message: "Send role, active or both.",
    path: ["role"],
  })
  .openapi("UpdateUserRequest");

export const UserSchema = z
  .object({
    id: Id,
    username: z.string(),
    email: z.string(),
    role: Role,
    active: z.boolean().openapi({ description: "false: deactivated, cannot sign in." }),
    created_at: Timestamp,
  })
  .openapi("User");

export const UserList = z.object({ users: z.array(UserSchema) }).openapi("UserList");

export const SetupStatus = z
  .object({
    needs_first_user: z
      .boolean()
      .openapi({ description: "True while the server has no user: POST /users/first next." }),
  })
  .openapi("SetupStatus");

export const FirstUserResponse = z
  .object({ user: UserSchema, session_token: z.string() })
  .openapi("FirstUserResponse");
export const LoginResponse = z.object({ session_token: z.string() }).openapi("LoginResponse");
export const UserResponse = z.object({ user: UserSchema }).openapi("UserResponse");
/** A compaction threshold: the share of a model's context window a prompt may fill. */
const CompactAt = z.number().min(COMPACT_AT_MIN).max(COMPACT_AT_MAX);

/** Longest `instructions` a user may keep, in characters. */
export const MAX_USER_INSTRUCTIONS_CHARS = 10_000;

export const UpdateMeBody = z
  .strictObject({
    instructions: text()
      .max(MAX_USER_INSTRUCTIONS_CHARS)
      .nullable()
      .optional()
      .openapi({
        description:
          "Your own instructions, told to the model of every chat of yours after the deployment's " +
          "system prompt, from the next turn; null or blank removes them.",
      }),
    compact_at: CompactAt.nullable()
      .optional()
      .openapi({
        description:
          `Your own compaction threshold, a share of the model's context window (${COMPACT_AT_MIN}–${COMPACT_AT_MAX}): ` +
          "your chats are compacted once their prompt passes it, or the model's threshold if that is lower. null: the model's.",
      }),
  })
  .refine((body) => body.instructions !== undefined || body.compact_at !== undefined, {
    message: "Send instructions, compact_at or both.",
    path: ["instructions"],
  })
  .openapi("UpdateMeRequest");

export const MeResponse = z
  .object({
    user: UserSchema.extend({
      instructions: z
        .string()
        .nullable()
        .openapi({ description: "The caller's own instructions (null: none)." }),
      compact_at: z
        .number()
        .nullable()
        .openapi({ description: "The caller's own compaction threshold (null: the model's)." }),
      last_model_id: z.string().nullable().openapi({
        description:
          "The model of the caller's most recently active chat (null: none yet); new chats preselect it while it is enabled.",
      }),
      default_model_id: z.string().nullable().openapi({
        description:
          "The model an administrator set for new chats (null: none); preselected when the caller's last one is not usable.",
      }),
    }),
  })
  .openapi("MeResponse");

export const TokenResponse = z
  .object({ token: z.string().openapi({ description: "Shown once; send as Bearer." }) })
  .openapi("TokenResponse");

// ---- providers ------------------------------------------------------------------------------

const ProviderType = z.enum(PROVIDER_TYPES);
const BaseUrl = z
  .url({ protocol: /^https?$/ })
  .max(2048)
  .refine(isStorableText, STORABLE_TEXT);
const ApiKey = text().min(1).max(8192);
const OptionString = text().min(1).max(8192);

/** The provider options `src/provider/models.ts` reads; anything else is refused. */
export const ProviderOptions = z
  .strictObject({
    api: z.enum(["chat", "responses"]).optional().openapi({ description: "openai, azure." }),
    region: OptionString.optional().openapi({ description: "bedrock." }),
    access_key_id: OptionString.optional().openapi({ description: "bedrock." }),
    secret_access_key: OptionString.optional().openapi({ description: "bedrock; never returned." }),
    session_token: OptionString.optional().openapi({ description: "bedrock; never returned." }),
    resource_name: OptionString.optional().openapi({ description: "azure." }),
    api_version: OptionString.optional().openapi({ description: "azure." }),
    headers: z
      .record(text().min(1).max(256), text().max(8192))
      .optional()
      .openapi({ description: "Extra request headers; values are never returned." }),
  })
  .openapi("ProviderOptions");

/** `ProviderOptions` for a patch: each may be null (removed). */
const ProviderOptionsPatch = z
  .strictObject(
    Object.fromEntries(
      Object.entries(ProviderOptions.shape).map(([key, schema]) => [
        key,
        schema.unwrap().nullable().optional(),
      ]),
    ) as {
      [K in keyof typeof ProviderOptions.shape]: z.ZodOptional<
        z.ZodNullable<(typeof ProviderOptions.shape)[K]["_zod"]["def"]["innerType"]>
      >;
    },
  )
  .openapi("ProviderOptionsPatch");

export const CreateProviderBody = z
  .strictObject({
    type: ProviderType,
    name: text().min(1).max(100),
    base_url: BaseUrl.nullable().optional(),
    api_key: ApiKey.optional().openapi({ description: "Stored encrypted; never returned." }),
    options: ProviderOptions.optional(),
  })
  .openapi("CreateProviderRequest");

export const UpdateProviderBody = z
  .strictObject({
    type: ProviderType.optional(),
    name: text().min(1).max(100).optional(),
    base_url: BaseUrl.nullable().optional(),
    api_key: ApiKey.nullable()
      .optional()
      .openapi({ description: "null removes the key; leaving it out keeps it." }),
    options: ProviderOptionsPatch.optional().openapi({
      description:
        "Merged into the stored options: a key given replaces that option, null removes it, a key left out is kept (so a secret need not be sent again).",
    }),
  })
  .openapi("UpdateProviderRequest");

export const ProviderSchema = z
  .object({
    id: Id,
    type: ProviderType,
    name: z.string(),
    base_url: z.string().nullable(),
    options: z
      .record(z.string(), z.unknown())
      .openapi({ description: 'Secret values (credentials, header values) read "[redacted]".' }),
    has_api_key: z.boolean(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi("Provider");

export const ProviderList = z
  .object({ providers: z.array(ProviderSchema) })
  .openapi("ProviderList");

export const TestProviderBody = z
  .strictObject({
    model: text()
      .min(1)
      .max(200)
      .optional()
      .openapi({ description: "The provider's model id to try; default: its first model." }),
  })
  .openapi("TestProviderRequest");

export const ProviderTestResult = z
  .object({
    ok: z.boolean(),
    kind: z.enum(ERROR_KINDS).optional().openapi({ description: "Why it failed (as in chats)." }),
    message: z
      .string()
      .optional()
      .openapi({ description: "What failed and what to do, in the words a chat would show." }),
    detail: z.string().optional().openapi({
      description:
        "The provider's or the network's own words (credentials redacted), ~500 characters at most.",
    }),
    latency_ms: z.int().nonnegative(),
  })
  .openapi("ProviderTestResult");

export const ProviderModelList = z
  .object({
    models: z.array(
      z.object({ id: z.string(), display_name: z.string().optional() }).openapi("ProviderModel"),
    ),
    listable: z
      .boolean()
      .openapi({ description: "false: this provider type has no model list; type the id." }),
  })
  .openapi("ProviderModelList");

// ---- models ---------------------------------------------------------------------------------

const Price = z.number().nonnegative().max(1_000_000);
export const PricingSchema = z
  .strictObject({
    input_per_mtok: Price,
    output_per_mtok: Price,
    cache_read_per_mtok: Price.optional(),
    cache_write_per_mtok: Price.optional(),
  })
  .openapi("Pricing", { description: "US dollars per million tokens." });

const ModelFields = {
  provider_id: Id,
  model: text().min(1).max(200).openapi({ description: "The provider's model id." }),
  display_name: text().min(1).max(200).optional(),
  context_window: z.int().positive().max(100_000_000).nullable().optional(),
  pricing: PricingSchema.nullable().optional(),
  enabled: z.boolean().optional().openapi({ description: "Defaults to true." }),
  group_ids: z.array(Id).max(1000).optional().openapi({
    description: "The groups whose members may use it (and admins); empty or absent: everyone.",
  }),
  temperature: z.number().min(0).max(TEMPERATURE_MAX).nullable().optional().openapi({
    description:
      "0–2 (Anthropic: 0–1, and none while thinking); null or absent: the provider's default.",
  }),
  max_output_tokens: z.int().positive().max(10_000_000).nullable().optional().openapi({
    description:
      "The most tokens one model step may write (thinking excluded); null or absent: Keel's default.",
  }),
  reasoning: z.enum(REASONING_EFFORTS).nullable().optional().openapi({
    description:
      "Reasoning effort, mapped to the provider's own option; null or absent: the provider's default.",
  }),
  compact_at: CompactAt.nullable()
    .optional()
    .openapi({
      description: `The share of the context window a chat's prompt may fill before Keel compacts it (${COMPACT_AT_MIN}–${COMPACT_AT_MAX}); null or absent: ${DEFAULT_COMPACT_AT}.`,
    }),
};

export const CreateModelBody = z.strictObject(ModelFields).openapi("CreateModelRequest");
export const UpdateModelBody = z
  .strictObject({ ...ModelFields, provider_id: Id.optional(), model: ModelFields.model.optional() })
  .openapi("UpdateModelRequest");

export const ModelSchema = z
  .object({
    id: Id,
    provider_id: Id,
    model: z.string(),
    display_name: z.string(),
    context_window: z.number().nullable(),
    pricing: z
      .object({
        input_per_mtok: z.number(),
        output_per_mtok: z.number(),
        cache_read_per_mtok: z.number().optional(),
        cache_write_per_mtok: z.number().optional(),
      })
      .nullable(),
    enabled: z.boolean(),
    group_ids: z.array(z.string()).optional().openapi({
      description: "Admins only: the groups it is restricted to; empty: everyone may use it.",
    }),
    temperature: z.number().nullable(),
    max_output_tokens: z.number().nullable(),
    reasoning: z.enum(REASONING_EFFORTS).nullable(),
    compact_at: z.number().nullable(),
    effective_context_window: z.number().openapi({
      description:
        "The window Keel works with: context_window when set, else the known window of this model id, else 128000.",
    }),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi("Model");

export const ModelList = z.object({ models: z.array(ModelSchema) }).openapi("ModelList");

// ---- chats ----------------------------------------------------------------------------------

/** What a client may send as message content: text parts only, for now. */
export const TextPartInput = z
  .strictObject({ type: z.literal("text"), text: text().min(1).max(MAX_TEXT_PART_CHARS) })
  .openapi("TextPartInput");
const Content = z.array(TextPartInput).min(1).max(MAX_CONTENT_PARTS);

export const CreateChatBody = z
  .strictObject({ model_id: Id, content: Content, workspace_id: Id.nullable().optional() })
  .openapi("CreateChatRequest");

export const SendMessageBody = z.strictObject({ content: Content }).openapi("SendMessageRequest");

export const EditMessageBody = z.strictObject({ content: Content }).openapi("EditMessageRequest", {
  description:
    "The user message's new content. Every later message leaves the transcript (deleted), and a new turn answers the edited message.",
});

export const MessageParams = IdParams.extend({
  message_id: z
    .string()
    .min(1)
    .max(100)
    .openapi({ param: { name: "message_id", in: "path" }, description: "A user message's id." }),
});

/** Longest search query, in characters. */
export const MAX_SEARCH_CHARS = 200;

/** A query flag: `true` or `false`. */
const Flag = z.enum(["true", "false"]).transform((v) => v === "true");

export const ListChatsQuery = z.strictObject({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_PAGE)
    .optional()
    .openapi({
      param: { name: "limit", in: "query" },
      description: `Page size, default ${DEFAULT_PAGE}.`,
    }),
  cursor: text()
    .min(1)
    .max(512)
    .optional()
    .openapi({
      param: { name: "cursor", in: "query" },
      description: "`next_cursor` of the previous page (of the same list or search).",
    }),
  q: text()
    .max(MAX_SEARCH_CHARS)
    .optional()
    .openapi({
      param: { name: "q", in: "query" },
      description:
        "Full-text search over titles and message text: every word must match, the last one as " +
        "a prefix (unless the query ends in a space). Best match first; blank: the plain list.",
    }),
  archived: Flag.optional().openapi({
    param: { name: "archived", in: "query" },
    description: "true: the archived chats (listed or searched) instead of the others.",
  }),
});

export const DeleteChatQuery = z.strictObject({
  permanent: Flag.optional().openapi({
    param: { name: "permanent", in: "query" },
    description:
      "true: delete the chat for good, with its messages and events (cannot be undone); " +
      "else it is archived.",
  }),
});

/** Longest chat title, in characters. */
export const MAX_TITLE_CHARS = 200;

export const UpdateChatBody = z
  .strictObject({
    title: text()
      .trim()
      .min(1, "A title cannot be blank.")
      .max(MAX_TITLE_CHARS, `At most ${MAX_TITLE_CHARS} characters.`)
      .optional()
      .openapi({ description: "The new title (trimmed), 1–200 characters." }),
    model_id: Id.optional().openapi({
      description: "An enabled model; the chat's turns use it from the next one.",
    }),
    pinned: z.boolean().optional().openapi({ description: "Pinned chats are listed first." }),
    archived: z
      .boolean()
      .optional()
      .openapi({
        description:
          "Archived chats leave the list (GET /chats?archived=true lists them) and take no new " +
          "messages; false brings one back.",
      }),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), {
    message: "Send at least one of title, model_id, pinned, archived.",
    path: ["title"],
  })
  .openapi("UpdateChatRequest");

/** An SSE event id as a client echoes it: the chat's event sequence number. */
const EventId = z.string().regex(/^\d{1,15}$/, "An event id (a non-negative integer).");

export const StreamQuery = z.strictObject({
  after: EventId.optional().openapi({
    param: { name: "after", in: "query" },
    description: "Like Last-Event-ID, for clients that cannot set headers; the header wins.",
  }),
});

export const StreamHeaders = z.object({
  "last-event-id": EventId.optional().openapi({ param: { name: "last-event-id", in: "header" } }),
});

const ChatStatus = z.enum(["pending", "running", "waiting", "error"]);

export const ChatSchema = z
  .object({
    id: Id,
    title: z.string(),
    status: ChatStatus,
    model_id: Id,
    workspace_id: z.string().nullable(),
    last_error: z
      .object({
        kind: z.string(),
        message: z.string(),
        status_code: z.number().optional(),
        detail: z.string().optional(),
      })
      .nullable()
      .openapi({ description: "The last terminal error (status error), else null." }),
    last_event_seq: z.number().int().openapi({
      description:
        "The chat's newest event id when it was read: stream with Last-Event-ID set to it to get only later events.",
    }),
    pinned: z.boolean().openapi({ description: "Listed before the owner's other chats." }),
    archived: z
      .boolean()
      .openapi({ description: "Out of the list and closed to new messages until unarchived." }),
    created_at: Timestamp,
    updated_at: Timestamp.openapi({
      description: "Its last activity (a message, a status change); renaming or pinning keeps it.",
    }),
  })
  .openapi("Chat");

export const MessagePartSchema = z
  .discriminatedUnion("type", [
    z.object({ type: z.literal("text"), text: z.string() }),
    z.object({ type: z.literal("reasoning"), text: z.string() }),
    z.object({
      type: z.literal("tool_call"),
      tool_call_id: z.string(),
      name: z.string(),
      input: z.unknown(),
    }),
    z.object({
      type: z.literal("tool_result"),
      tool_call_id: z.string(),
      name: z.string(),
      output: z.unknown(),
      is_error: z.boolean(),
    }),
    z.object({ type: z.literal("compaction"), text: z.string() }).openapi({
      description:
        "A summary of the conversation before it (an assistant message of its own): the model sees the latest summary and what follows it, the transcript keeps everything.",
    }),
    z
      .object({
        type: z.literal("error"),
        kind: z.string(),
        message: z.string(),
        status_code: z.number().optional(),
      })
      .openapi({
        description:
          "A turn's terminal error, where it happened (an assistant message of its own, written with the `error` event): what failed and what to do, in one sentence. Never sent to the model.",
      }),
  ])
  .openapi("MessagePart");

export const UsageSchema = z
  .object({
    inputTokens: z.number(),
    outputTokens: z.number(),
    reasoningTokens: z.number(),
    cacheReadTokens: z.number(),
    cacheWriteTokens: z.number(),
  })
  .openapi("Usage");

export const MessageSchema = z
  .object({
    id: Id,
    role: z.enum(["user", "assistant", "tool"]),
    parts: z.array(MessagePartSchema),
    usage: UsageSchema.optional(),
    cost_usd: z.number().nullable().openapi({
      description:
        "What the message's model step cost in US dollars, at the model's pricing in force when the step ran (recorded then, never recomputed); null without usage or pricing.",
    }),
    in_progress: z.boolean().openapi({
      description:
        "An assistant message saved while its step still streams (partial); false once final.",
    }),
    model_id: z.string().nullable().openapi({
      description: "The model that wrote an assistant message; null for user and tool messages.",
    }),
    stopped: z.boolean().openapi({
      description: "Its step was stopped (Stop) before it finished: its parts are what streamed.",
    }),
    retries: z
      .object({ count: z.int().positive(), kind: z.string(), message: z.string() })
      .nullable()
      .openapi({
        description:
          "Its step's failed attempts that were retried, and the last one's error kind and sentence (what happened); null when none.",
      }),
    created_at: Timestamp,
  })
  .openapi("Message");

export const QueuedMessageSchema = z
  .object({
    id: Id.openapi({ description: "The id the message keeps when it joins the transcript." }),
    parts: z.array(MessagePartSchema),
    created_at: Timestamp,
  })
  .openapi("QueuedMessage");

export const ChatListItem = ChatSchema.extend({
  snippet: z.string().nullable().optional().openapi({
    description:
      "Search results only: a short excerpt of the best matching message, null when only the title matched.",
  }),
}).openapi("ChatListItem");

export const ChatList = z
  .object({ chats: z.array(ChatListItem), next_cursor: z.string().nullable() })
  .openapi("ChatList");

export const ChatDetail = z
  .object({
    chat: ChatSchema,
    messages: z.array(MessageSchema),
    queued: z.array(QueuedMessageSchema).openapi({
      description:
        "User messages sent while a turn ran, waiting to join the transcript, oldest first.",
    }),
    replay_from_seq: z
      .int()
      .nonnegative()
      .openapi({
        description:
          "Stream with `Last-Event-ID` set to this to see the step being streamed from its start: " +
          "every event after it belongs to that step (its deltas, retries and usage), and a message " +
          "it saved `in_progress` is then rebuilt from its deltas. Equals `chat.last_event_seq` " +
          "when no turn runs.",
      }),
  })
  .openapi("ChatDetail");

// ---- workspaces -----------------------------------------------------------------------------

export const CreateWorkspaceBody = z
  .strictObject({
    name: text().trim().min(1).max(100),
    directory: text()
      .min(1)
      .max(4096)
      .refine((d) => d.startsWith("/"), "An absolute path on the server's machine.")
      .optional()
      .openapi({
        description:
          "Administrators only: a directory on the server's machine that `keel server` runs an " +
          "agent for itself. Without it, run `keel agent` in the workspace with the token.",
      }),
  })
  .openapi("CreateWorkspaceRequest");

export const WorkspaceSchema = z
  .object({
    id: Id,
    name: z.string(),
    owner: Id,
    directory: z.string().nullable(),
    agent: z.object({
      connected: z.boolean(),
      version: z.string().nullable(),
      last_seen_at: Timestamp.nullable(),
    }),
    created_at: Timestamp,
  })
  .openapi("Workspace");

export const CreatedWorkspace = WorkspaceSchema.extend({
  agent_token: z.string().openapi({
    description: "Shown once: `keel agent --url URL --token TOKEN` in the workspace.",
  }),
}).openapi("CreatedWorkspace");

export const WorkspaceList = z
  .object({ workspaces: z.array(WorkspaceSchema) })
  .openapi("WorkspaceList");

// ---- health ---------------------------------------------------------------------------------

export const HealthSchema = z.object({ status: z.string() }).openapi("Health");

// ---- deployment settings --------------------------------------------------------------------

/** The longest deployment system prompt: it is sent with every model step of every chat. */
export const MAX_SYSTEM_PROMPT_CHARS = 20_000;

/** A retention period in days: a whole number from 1 to 36,500 (100 years). */
const RetentionDays = z.number().int().min(1).max(36_500);

export const UpdateSettingsBody = z
  .strictObject({
    system_prompt: text().max(MAX_SYSTEM_PROMPT_CHARS).nullable().optional().openapi({
      description:
        "Told to every model after Keel's built-in system prompt; null or blank removes it.",
    }),
    title_model_id: Id.nullable().optional().openapi({
      description: "An enabled model that titles new chats; null: each chat's own model.",
    }),
    summary_model_id: Id.nullable().optional().openapi({
      description:
        "An enabled model that writes the summaries of compacted chats; null: each chat's own model.",
    }),
    default_model_id: Id.nullable().optional().openapi({
      description:
        "An enabled model new chats preselect for users who have no chat yet; null: the first enabled model.",
    }),
    default_limit: DefaultLimitField,
    chat_archive_after_days: RetentionDays.nullable().optional().openapi({
      description:
        "Archive chats with no activity for this many days (running or queued chats never); null: never.",
    }),
    chat_delete_after_days: RetentionDays.nullable().optional().openapi({
      description:
        "Delete archived chats, their messages and events, this many days after they were archived; null: never. Cannot be undone.",
    }),
    audit_retention_days: AuditRetentionField,
  })
  .openapi("UpdateSettingsRequest");

export const SettingsSchema = z
  .object({
    system_prompt: z.string().nullable(),
    title_model_id: z.string().nullable(),
    summary_model_id: z.string().nullable(),
    default_model_id: z.string().nullable(),
    default_limit: SpendLimitSchema.nullable(),
    chat_archive_after_days: z.number().int().nullable(),
    chat_delete_after_days: z.number().int().nullable(),
    audit_retention_days: z.number().int().nullable(),
  })
  .openapi("Settings");

// ---- instructions in effect -----------------------------------------------------------------

export const InstructionsResponse = z
  .object({
    layers: z
      .array(
        z.object({
          source: z.enum(["keel", "deployment", "user", "workspace"]).openapi({
            description:
              "keel: Keel's built-in prompt (with the date, and a connected workspace agent's OS " +
              "and directory); deployment: the admins' system prompt; user: the chat owner's " +
              "instructions; workspace: the workspace's AGENTS.md (else CLAUDE.md).",
          }),
          text: z
            .string()
            .openapi({ description: "The system message, exactly as the model gets it." }),
          truncated: z.boolean().optional().openapi({
            description: "true: the source was longer and was cut (AGENTS.md past 32 KB).",
          }),
        }),
      )
      .openapi({
        description: "In the order the model is told them, each its own system message.",
      }),
  })
  .openapi("Instructions");
