import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { json } from "./rows.ts";
import {
  appended,
  createTestDatabase,
  type Opened,
  type TestDatabase,
  unique,
} from "./test-support.ts";
import type { MessagePart } from "./types.ts";

/**
 * A model's stream or a tool's output may carry what PostgreSQL's jsonb cannot hold (U+0000, an
 * unpaired surrogate): it is stored as U+FFFD, never a failed write that ends the turn.
 */
describe("text PostgreSQL cannot store", () => {
  let testDb: TestDatabase;
  let opened: Opened;
  beforeAll(async () => {
    testDb = await createTestDatabase();
    opened = await testDb.open();
  });
  afterAll(async () => {
    await testDb?.cleanup();
  });

  it.each([
    ["NUL", "a\u0000b", "a\uFFFDb"],
    ["a lone high surrogate", "a\ud800b", "a\uFFFDb"],
    ["a lone low surrogate", "\udc00", "\uFFFD"],
    ["a stream cut inside a surrogate pair", "smile \ud83d", "smile \uFFFD"],
    ["a reversed pair", "\ude00\ud83d", "\uFFFD\uFFFD"],
  ])("%s in streamed text and tool output is stored as U+FFFD", async (_, bad, stored) => {
    const { store } = opened;
    const name = unique("u");
    const user = await store.createUser({
      username: name,
      email: `${name}@example.com`,
      password: "pw",
      role: "member",
    });
    const provider = await store.createProvider({ type: "openai", name: unique("p") });
    const model = await store.createModel({ provider_id: provider.id, model: "m" });
    const { chat } = await store.createChat({
      owner_id: user.id,
      model_id: model.id,
      title: "t",
      first_message: [{ type: "text", text: "hi" }],
    });
    const parts: MessagePart[] = [
      { type: "text", text: bad },
      { type: "reasoning", text: bad },
      { type: "tool_call", tool_call_id: "c1", name: "read_file", input: { [bad]: [bad] } },
    ];
    const assistant = await store.saveMessage(chat.id, {
      id: crypto.randomUUID(),
      role: "assistant",
      parts,
      model_id: model.id,
      in_progress: true,
    });
    const tool = await store.insertMessage(chat.id, {
      role: "tool",
      parts: [
        {
          type: "tool_result",
          tool_call_id: "c1",
          name: "read_file",
          output: bad,
          is_error: false,
        },
      ],
    });
    const event = await appended(
      store.events.append(chat.id, "message_part", {
        message_id: assistant.id,
        part: { type: "text", text: bad },
      }),
    );

    expect(assistant.parts).toEqual([
      { type: "text", text: stored },
      { type: "reasoning", text: stored },
      { type: "tool_call", tool_call_id: "c1", name: "read_file", input: { [stored]: [stored] } },
    ]);
    expect(tool.parts[0]).toMatchObject({ output: stored });
    expect(event.data).toEqual({ message_id: assistant.id, part: { type: "text", text: stored } });
    const listed = await store.listMessages(chat.id);
    expect(listed.map((m) => m.parts)).toContainEqual(assistant.parts);
  });

  it("leaves everything else exactly as it was, surrogate pairs and escapes included", () => {
    const value = { text: "🙂 \\u0000 \\ud800 \u2028", n: 1.5, nested: [null, true, "e\u0301"] };
    expect(JSON.parse(json(value))).toEqual(value);
  });
});
