/**
 * `keel chat edit|regenerate|rename|model|pin|unpin|archive|unarchive|search|delete`: managing
 * chats, via the HTTP API.
 */
import type { Command } from "commander";
import type { CliIO } from "./io.ts";
import { listOf, loggedInClient, runCommand, UserError } from "./session.ts";

interface ChatHit {
  id: string;
  title: string;
  status: string;
  updated_at: string;
  snippet?: string | null;
}

const path = (id: string) => `/chats/${encodeURIComponent(id)}`;

/** Adds the management subcommands to `keel chat`. */
export function addChatManagement(chat: Command, io: CliIO): void {
  chat
    .command("rename")
    .description("Give a chat a new title.")
    .argument("<id>", "chat id")
    .argument("<title>", "the new title")
    .action((id: string, title: string) =>
      runCommand(io, async () => {
        const client = await loggedInClient();
        await client.patch(path(id), { title });
        io.stderr("Renamed.\n");
        return 0;
      }),
    );

  chat
    .command("edit")
    .description(
      "Replace one of your messages and run the chat again from it (every later message leaves the transcript).",
    )
    .argument("<id>", "chat id")
    .argument("<text>", "the message's new text")
    .option("--message <message-id>", "which message (default: your last one)")
    .action((id: string, text: string, options: { message?: string }) =>
      runCommand(io, async () => {
        const client = await loggedInClient();
        let messageId = options.message;
        if (!messageId) {
          const body = await client.get<{ messages: Array<{ id: string; role: string }> }>(
            path(id),
          );
          messageId = body.messages.findLast((m) => m.role === "user")?.id;
          if (!messageId) throw new UserError("The chat has no message of yours to edit.");
        }
        await client.patch(`${path(id)}/messages/${encodeURIComponent(messageId)}`, {
          content: [{ type: "text", text }],
        });
        io.stderr("Edited; the chat runs again from your message.\n");
        return 0;
      }),
    );

  chat
    .command("regenerate")
    .description("Answer your last message again (the last reply leaves the transcript).")
    .argument("<id>", "chat id")
    .action((id: string) =>
      runCommand(io, async () => {
        const client = await loggedInClient();
        await client.post(`${path(id)}/regenerate`);
        io.stderr("A new reply is on its way.\n");
        return 0;
      }),
    );

  chat
    .command("model")
    .description(
      "Move a chat to another model, from its next turn (e.g. when its model was disabled).",
    )
    .argument("<id>", "chat id")
    .argument("<model>", "model id (see `keel models list`)")
    .action((id: string, model: string) =>
      runCommand(io, async () => {
        const client = await loggedInClient();
        await client.patch(path(id), { model_id: model });
        io.stderr("The chat's next turn uses that model.\n");
        return 0;
      }),
    );

  const flags = [
    ["pin", { pinned: true }, "Keep a chat at the top of your list.", "Pinned."],
    ["unpin", { pinned: false }, "Let a pinned chat take its place by date again.", "Unpinned."],
    [
      "archive",
      { archived: true },
      "Put a chat away: out of your list, still readable, and back with `keel chat unarchive`.",
      "Archived.",
    ],
    ["unarchive", { archived: false }, "Bring an archived chat back to your list.", "Unarchived."],
  ] as const;
  for (const [name, body, description, done] of flags) {
    chat
      .command(name)
      .description(description)
      .argument("<id>", "chat id")
      .action((id: string) =>
        runCommand(io, async () => {
          const client = await loggedInClient();
          await client.patch(path(id), body);
          io.stderr(`${done}\n`);
          return 0;
        }),
      );
  }

  chat
    .command("search")
    .description("Find chats by their title and what was said in them.")
    .argument("<query>", "words to look for")
    .option("--limit <n>", "how many", "20")
    .action((query: string, options: { limit: string }) =>
      runCommand(io, async () => {
        const client = await loggedInClient();
        const params = new URLSearchParams({ q: query, limit: options.limit });
        const hits = listOf<ChatHit>(await client.get(`/chats?${params}`), "chats");
        if (hits.length === 0) io.stdout(`No chat matches "${query}".\n`);
        for (const hit of hits) {
          io.stdout(`${hit.id}  ${hit.updated_at}  ${hit.title}\n`);
          if (hit.snippet) io.stdout(`    ${hit.snippet.replace(/\s+/g, " ").trim()}\n`);
        }
        return 0;
      }),
    );

  chat
    .command("delete")
    .description(
      "Archive a chat; with --permanent, delete it and its whole transcript for good (this cannot be undone).",
    )
    .argument("<id>", "chat id")
    .option("--permanent", "delete for good instead of archiving")
    .action((id: string, options: { permanent?: boolean }) =>
      runCommand(io, async () => {
        const client = await loggedInClient();
        await client.delete(`${path(id)}${options.permanent ? "?permanent=true" : ""}`);
        io.stderr(options.permanent ? "Deleted for good.\n" : "Archived.\n");
        return 0;
      }),
    );
}
