/**
 * A turn's models and the owner's access (groups.ts): the chat's own model restricted to groups
 * the owner is not in refuses the turn with a message; the deployment's title and summary models
 * the owner may not use are passed over (the chat's own model titles and summarises). Run on the
 * real store, as `prepareTurn` reads it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ToolRegistry } from "../chatloop/tools.ts";
import { Transport } from "../provider/index.ts";
import type { SqlStore } from "../store/store.ts";
import { createTestDatabase, type TestDatabase, unique } from "../store/test-support.ts";
import type { Chat, Role } from "../store/types.ts";
import { ModelResolver } from "./models.ts";
import { prepareTurn } from "./prepare.ts";

describe("a turn's models and the owner's groups", () => {
  let database: TestDatabase;
  let store: SqlStore;
  const transport = new Transport();
  let providerId = "";
  beforeAll(async () => {
    database = await createTestDatabase();
    store = (await database.open()).store;
    const provider = await store.createProvider({
      type: "openai-compatible",
      name: unique("p"),
      base_url: "http://127.0.0.1:9/v1",
    });
    providerId = provider.id;
  });
  afterAll(async () => {
    await transport.close();
    await database?.cleanup();
  });

  const user = (role: Role = "member") => {
    const name = unique("u");
    return store.createUser({ username: name, email: `${name}@example.com`, password: "pw", role });
  };
  const model = (name: string) =>
    store.createModel({ provider_id: providerId, model: unique("m"), display_name: name });

  async function chatOf(ownerId: string, modelId: string): Promise<Chat> {
    const { chat } = await store.createChat({
      owner_id: ownerId,
      model_id: modelId,
      title: "t",
      first_message: [{ type: "text", text: "hi" }],
    });
    return chat;
  }

  function prepare(chat: Chat) {
    const deps = {
      store,
      models: new ModelResolver(store, transport),
      tools: new ToolRegistry(),
      options: { store },
    };
    return prepareTurn(deps, chat, new AbortController().signal, async () => {});
  }

  it("refuses the turn of a chat whose model the owner may not use, with the message", async () => {
    const [member, admin] = await Promise.all([user(), user("admin")]);
    const own = await model("Locked");
    const group = await store.createGroup({ name: unique("G") });
    const chat = await chatOf(member.id, own.id);
    const adminChat = await chatOf(admin.id, own.id);
    expect((await prepare(chat)).ok).toBe(true);

    await store.setModelGroups(own.id, [group.id]);
    const refused = await prepare(chat);
    expect(refused).toMatchObject({
      ok: false,
      error: {
        kind: "config",
        message: expect.stringContaining(
          'The model "Locked" is not available to you (an administrator restricted it to some groups)',
        ),
      },
    });
    expect((await prepare(adminChat)).ok).toBe(true);
    await store.updateGroup(group.id, { user_ids: [member.id] });
    expect((await prepare(chat)).ok).toBe(true);
  });

  it("passes over the title and summary models the owner may not use", async () => {
    const [member, insider] = await Promise.all([user(), user()]);
    const own = await model("Everyday");
    const titles = await model("Titles");
    const summaries = await model("Summaries");
    const group = await store.createGroup({ name: unique("G"), user_ids: [insider.id] });
    await store.deploymentSettings.update({
      title_model_id: titles.id,
      summary_model_id: summaries.id,
    });
    const before = await prepare(await chatOf(member.id, own.id));
    expect(before).toMatchObject({ ok: true, titleModelId: titles.id });
    expect(before.ok && before.options.summaryModel?.modelId).toBe(summaries.id);

    await store.setModelGroups(titles.id, [group.id]);
    await store.setModelGroups(summaries.id, [group.id]);
    const outside = await prepare(await chatOf(member.id, own.id));
    expect(outside).toMatchObject({ ok: true, titleModelId: null });
    expect(outside.ok && outside.options.summaryModel).toBeUndefined();
    const inside = await prepare(await chatOf(insider.id, own.id));
    expect(inside).toMatchObject({ ok: true, titleModelId: titles.id });
    expect(inside.ok && inside.options.summaryModel?.modelId).toBe(summaries.id);
  });
});
