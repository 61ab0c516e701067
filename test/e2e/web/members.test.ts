/**
 * Members, created by the admin on the Users page, see their own chats only and no admin page:
 * the UI says so, and the server refuses the same requests made with the member's session.
 */
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { textReply } from "../../fakeprovider/index.ts";
import {
  addProviderAndModelViaApi,
  api,
  createOwnerViaApi,
  normalize,
  shownText,
  signInViaUi,
  TEST_TIMEOUT,
  useWeb,
} from "./support.ts";

const ALICE = { username: "alice", email: "alice@example.com", password: "alice's password" };
const BOB = { username: "bob", email: "bob@example.com", password: "bob's long password" };

describe("web: members", { timeout: TEST_TIMEOUT }, () => {
  const web = useWeb();
  let token: string;
  let modelId: string;

  beforeAll(async () => {
    token = await createOwnerViaApi(web.url);
    ({ modelId } = await addProviderAndModelViaApi(web.url, token, web.fake.url));
  });

  async function addUserViaUi(page: Page, user: typeof ALICE) {
    const form = page.getByRole("form", { name: "Add a user" });
    await form.getByLabel("Username").fill(user.username);
    await form.getByLabel("Email").fill(user.email);
    await form.getByLabel("Password").fill(user.password);
    await form.getByRole("combobox", { name: /^Role/ }).selectOption("member");
    await form.getByRole("button", { name: "Add user" }).click();
    const row = page.getByRole("row", { name: new RegExp(user.email) });
    await row.waitFor();
    expect(
      await row.getByRole("combobox", { name: `Role for ${user.username}` }).inputValue(),
    ).toBe("member");
  }

  it("a member sees neither another member's chat nor the admin pages", async () => {
    // The admin creates a member on the Users page.
    const admin = await web.signedInPage(token);
    await admin.goto(web.url);
    await admin
      .getByRole("navigation", { name: "Administration" })
      .getByRole("link", { name: "Users" })
      .click();
    await admin.getByRole("heading", { name: "Users", level: 1 }).waitFor();
    await addUserViaUi(admin, ALICE);

    // Bob, another member, chats (through the API: his side is not what this test is about).
    const bob = await api<{ user: { id: string } }>(web.url, token, "POST", "/users", {
      ...BOB,
      role: "member",
    });
    expect(bob.status).toBe(201);
    const bobToken = (
      await api<{ session_token: string }>(web.url, undefined, "POST", "/users/login", {
        email: BOB.email,
        password: BOB.password,
      })
    ).body.session_token;
    web.fake.enqueue(textReply("A reply only Bob may read."));
    const bobChat = (
      await api<{ id: string }>(web.url, bobToken, "POST", "/chats", {
        model_id: modelId,
        content: [{ type: "text", text: "Bob's private plans" }],
      })
    ).body.id;

    // Alice signs in: no admin navigation, and Bob's chat is not in her sidebar…
    const alice = await web.newPage();
    await signInViaUi(alice, web.url, ALICE.email, ALICE.password);
    const aliceChats = alice.getByRole("navigation", { name: "Your chats" });
    await aliceChats.getByText("No chats yet.").waitFor();
    expect(await aliceChats.getByRole("link").count()).toBe(0);
    expect(await alice.getByRole("navigation", { name: "Administration" }).count()).toBe(0);

    // …nor can she open it by its address.
    await alice.goto(`${web.url}/chats/${bobChat}`);
    await alice.getByRole("heading", { name: "Chat unavailable" }).waitFor();
    expect(normalize(await shownText(alice.getByRole("alert")))).toBe("Chat not found.");
    const aliceBody = await shownText(alice.locator("body"));
    expect(aliceBody).not.toContain("A reply only Bob may read.");
    expect(aliceBody).not.toContain("Bob's private plans");

    // The admin pages say they are not for her.
    for (const path of ["/admin/providers", "/admin/models", "/admin/users"]) {
      await alice.goto(`${web.url}${path}`);
      await alice.getByRole("heading", { name: "Not available" }).waitFor();
      expect(await alice.getByRole("table").count()).toBe(0);
    }

    // And the server refuses her session what the UI does not offer. (Sent with the UI's own
    // Origin, as its pages send it: what is tested is her role, not the cross-site rule.)
    const request = alice.context().request;
    const status = async (method: "GET" | "POST" | "PATCH", path: string, data?: unknown) =>
      (
        await request.fetch(`${web.url}/api/v1${path}`, {
          method,
          data,
          headers: { origin: web.url },
          failOnStatusCode: false,
        })
      ).status();
    const aliceId = (
      (await (await request.get(`${web.url}/api/v1/users/me`)).json()) as { user: { id: string } }
    ).user.id;
    expect(await status("GET", "/providers")).toBe(403);
    expect(await status("GET", "/users")).toBe(403);
    expect(
      await status("POST", "/providers", { type: "openai", name: "mine", api_key: "sk-x" }),
    ).toBe(403);
    expect(await status("POST", "/models", { provider_id: bobChat, model: "x" })).toBe(403);
    expect(await status("PATCH", `/users/${aliceId}`, { role: "admin" })).toBe(403); // no self-promotion
    expect(await status("GET", `/chats/${bobChat}`)).toBe(404);
    expect(await status("GET", `/chats/${bobChat}/stream`)).toBe(404);
    expect(
      await status("POST", `/chats/${bobChat}/messages`, {
        content: [{ type: "text", text: "Hi Bob" }],
      }),
    ).toBe(404);
    const list = (await (await request.get(`${web.url}/api/v1/chats`)).json()) as {
      chats: unknown[];
    };
    expect(list.chats).toEqual([]);

    // Bob still has his chat, with its reply.
    await expect
      .poll(async () => {
        const { body } = await api<{ messages: Array<{ role: string }> }>(
          web.url,
          bobToken,
          "GET",
          `/chats/${bobChat}`,
        );
        return body.messages.map((m) => m.role);
      })
      .toEqual(["user", "assistant"]);
  });
});
