/**
 * `keel chat`: create, list, show, send to, watch, stop and compact chats, via the HTTP API (and
 * manage them: `chat-manage.ts`).
 */
import { Command, Option } from "commander";
import { addChatManagement } from "./chat-manage.ts";
import type { ApiClient } from "./client.ts";
import { type CliIO, EXIT_ERROR, EXIT_INTERRUPTED } from "./io.ts";
import { EventRenderer, formatMessage } from "./render.ts";
import { listOf, loggedInClient, runCommand, UserError } from "./session.ts";

interface ChatSummary {
  id: string;
  title: string;
  status: string;
  model_id: string;
  updated_at: string;
}
interface ModelSummary {
  id: string;
  display_name: string;
  enabled: boolean;
}

function textContent(text: string) {
  return [{ type: "text", text }];
}

/**
 * The model a new chat takes without --model, as the web UI preselects it: the one you used last,
 * else the deployment's default, else the only one there is.
 */
async function defaultModel(client: ApiClient): Promise<string> {
  const models = listOf<ModelSummary>(await client.get("/models"), "models").filter(
    (m) => m.enabled !== false,
  );
  const me = await client
    .get<{ user: { last_model_id?: string | null; default_model_id?: string | null } }>("/users/me")
    .catch(() => null);
  for (const preferred of [me?.user.last_model_id, me?.user.default_model_id]) {
    if (preferred && models.some((m) => m.id === preferred)) return preferred;
  }
  if (models.length === 1 && models[0]) return models[0].id;
  if (models.length === 0) {
    throw new UserError(
      "No model is available. Ask an administrator to add one (`keel models add`).",
    );
  }
  const names = models.map((m) => `  ${m.id}  ${m.display_name}`).join("\n");
  throw new UserError(`Several models are available; pick one with --model:\n${names}`);
}

/** The name the replies of a chat's model are labelled with; "keel" when it cannot be read. */
async function modelName(client: ApiClient, modelId: string): Promise<string> {
  try {
    const models = listOf<ModelSummary>(await client.get("/models"), "models");
    return models.find((m) => m.id === modelId)?.display_name || "keel";
  } catch {
    // A label is not worth failing the transcript for (a model deleted, a narrower token).
    return "keel";
  }
}

/**
 * Follows a chat's events and renders them. With `untilIdle`, returns once the chat is
 * `waiting` or `error` after having been busy (exit 1 on error); otherwise runs until Ctrl-C.
 */
async function watch(
  client: ApiClient,
  chatId: string,
  io: CliIO,
  untilIdle: boolean,
  afterEventId?: number,
): Promise<number> {
  const controller = new AbortController();
  const removeInterrupt = io.onInterrupt(() => controller.abort());
  const renderer = new EventRenderer(io);
  let busy = false;
  try {
    await client.followEvents(
      `/chats/${encodeURIComponent(chatId)}/stream`,
      (event) => {
        renderer.handle(event);
        if (renderer.status === "pending" || renderer.status === "running") busy = true;
        const idle = renderer.status === "waiting" || renderer.status === "error";
        return untilIdle && busy && idle ? "stop" : undefined;
      },
      {
        signal: controller.signal,
        ...(afterEventId !== undefined ? { lastEventId: String(afterEventId) } : {}),
        onReconnect: () => io.stderr("(connection to the server lost; reconnecting)\n"),
      },
    );
  } finally {
    removeInterrupt();
  }
  if (controller.signal.aborted) return EXIT_INTERRUPTED;
  return renderer.status === "error" ? EXIT_ERROR : 0;
}

export function chatCommand(io: CliIO): Command {
  const chat = new Command("chat").description("Create, list, follow and stop chats.");

  chat
    .command("create")
    .description(
      "Start a chat with a first message; prints its id (with --watch, follows the reply).",
    )
    .argument("<message>", "the first message")
    .option("--model <id>", "model id (default: the only available model)")
    .option("--workspace <id>", "work in this workspace: the agent gets its tools")
    .option("--watch", "follow the reply until the turn is over")
    .action((message: string, options: { model?: string; workspace?: string; watch?: boolean }) =>
      runCommand(io, async () => {
        const client = await loggedInClient();
        const modelId = options.model ?? (await defaultModel(client));
        const created = await client.post<ChatSummary>("/chats", {
          model_id: modelId,
          content: textContent(message),
          ...(options.workspace ? { workspace_id: options.workspace } : {}),
        });
        io.stdout(`${created.id}\n`);
        return options.watch ? watch(client, created.id, io, true) : 0;
      }),
    );

  chat
    .command("list")
    .description("Your chats, newest first.")
    .addOption(new Option("--limit <n>", "how many").default("20"))
    .option("--archived", "your archived chats instead")
    .action((options: { limit: string; archived?: boolean }) =>
      runCommand(io, async () => {
        const client = await loggedInClient();
        const params = new URLSearchParams({ limit: options.limit });
        if (options.archived) params.set("archived", "true");
        const body = await client.get(`/chats?${params}`);
        const chats = listOf<ChatSummary>(body, "chats");
        if (chats.length === 0) io.stdout('No chats yet. Start one with `keel chat create "…"`.\n');
        for (const c of chats)
          io.stdout(`${c.id}  ${c.status.padEnd(8)} ${c.updated_at}  ${c.title}\n`);
        return 0;
      }),
    );

  chat
    .command("show")
    .description("Print a chat's transcript.")
    .argument("<id>", "chat id")
    .action((id: string) =>
      runCommand(io, async () => {
        const client = await loggedInClient();
        const body = await client.get<{
          chat: ChatSummary & { last_error?: { message: string } | null };
          messages: Array<{ id: string; role: string; parts: Array<{ type: string }> }>;
        }>(`/chats/${encodeURIComponent(id)}`);
        io.stdout(`# ${body.chat.title} (${body.chat.status})\n\n`);
        const assistant = await modelName(client, body.chat.model_id);
        for (const message of body.messages) io.stdout(`${formatMessage(message, assistant)}\n`);
        if (body.chat.status === "error" && body.chat.last_error)
          io.stderr(`error: ${body.chat.last_error.message}\n`);
        return 0;
      }),
    );

  chat
    .command("send")
    .description("Send a message to a chat (queued if a turn is running).")
    .argument("<id>", "chat id")
    .argument("<message>", "the message")
    .option("--watch", "follow the reply until the turn is over")
    .action((id: string, message: string, options: { watch?: boolean }) =>
      runCommand(io, async () => {
        const client = await loggedInClient();
        // Follow only what this message causes: start after the chat's newest event.
        const { chat } = await client.get<{ chat: { last_event_seq: number } }>(
          `/chats/${encodeURIComponent(id)}`,
        );
        await client.post(`/chats/${encodeURIComponent(id)}/messages`, {
          content: textContent(message),
        });
        return options.watch ? watch(client, id, io, true, chat.last_event_seq) : 0;
      }),
    );

  chat
    .command("watch")
    .description(
      "Follow a chat live: its history, then streamed text, tool calls, retries and errors. Ctrl-C to leave (the chat keeps running).",
    )
    .argument("<id>", "chat id")
    .option("--until-idle", "leave when the current turn is over")
    .action((id: string, options: { untilIdle?: boolean }) =>
      runCommand(io, async () => watch(await loggedInClient(), id, io, options.untilIdle ?? false)),
    );

  chat
    .command("stop")
    .description("Stop the chat's running turn (the partial reply is kept).")
    .argument("<id>", "chat id")
    .action((id: string) =>
      runCommand(io, async () => {
        const client = await loggedInClient();
        await client.post(`/chats/${encodeURIComponent(id)}/interrupt`);
        io.stderr("stopped\n");
        return 0;
      }),
    );

  chat
    .command("compact")
    .description(
      "Summarise the chat's conversation now, so its later turns start from the summary (the transcript keeps everything). A running chat is compacted when its turn ends.",
    )
    .argument("<id>", "chat id")
    .option("--watch", "follow the chat until the compaction is done, and print the summary")
    .action((id: string, options: { watch?: boolean }) =>
      runCommand(io, async () => {
        const client = await loggedInClient();
        const path = `/chats/${encodeURIComponent(id)}`;
        const before = (await client.get(path)) as { chat: { last_event_seq: number } };
        await client.post(`${path}/compact`);
        io.stderr("compaction asked for\n");
        return options.watch ? watch(client, id, io, true, before.chat.last_event_seq) : 0;
      }),
    );

  addChatManagement(chat, io);
  return chat;
}
