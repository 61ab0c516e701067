/**
 * Chats people manage, in the browser, against one real `keel server` and the fake provider:
 * the sidebar's sections (pinned first), rename in place (row menu and chat header), pin, search
 * (Ctrl+K, snippets), the chat's model changed from its header, archive / the Archived view /
 * unarchive, delete for good behind a confirmation (Esc cancels), the tab's title, status words.
 * Screenshots at 360, 1024 and 1280 px, light and dark, go to `${tmpdir}/keel-ui-shots`.
 */
import { mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { textReply } from "../../fakeprovider/index.ts";
import {
  addProviderAndModelViaApi,
  api,
  composer,
  createOwnerViaApi,
  shownText,
  TEST_TIMEOUT,
  UI_TIMEOUT,
  useWeb,
} from "./support.ts";

const SHOTS = join(tmpdir(), "keel-ui-shots");

interface ChatBody {
  id: string;
  title: string;
  status: string;
  model_id: string;
  archived: boolean;
  pinned: boolean;
}

describe("web: chats people manage", { timeout: TEST_TIMEOUT * 2 }, () => {
  const web = useWeb();
  let token: string;
  let firstModel: string;
  let secondModel: string;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    token = await createOwnerViaApi(web.url);
    const added = await addProviderAndModelViaApi(web.url, token, web.fake.url);
    firstModel = added.modelId;
    const made = await api<{ id: string }>(web.url, token, "POST", "/models", {
      provider_id: added.providerId,
      model: "fake-model-2",
      display_name: "Second model",
    });
    secondModel = made.body.id;
  });

  /**
   * A chat made through the API, its first turn answered with `reply`, then renamed `title`
   * (PATCH) once it waits.
   */
  async function chatViaApi(message: string, reply: string, title: string): Promise<string> {
    const before = web.fake.requests.length;
    web.fake.enqueue(textReply(reply));
    const created = await api<ChatBody>(web.url, token, "POST", "/chats", {
      model_id: firstModel,
      content: [{ type: "text", text: message }],
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    await expect
      .poll(
        async () => {
          const chat = await getChat(id);
          return `${chat?.status} ${web.fake.requests.length - before}`;
        },
        { timeout: UI_TIMEOUT },
      )
      .toBe("waiting 1");
    const renamed = await api(web.url, token, "PATCH", `/chats/${id}`, { title });
    expect(renamed.status).toBe(200);
    return id;
  }

  async function getChat(id: string): Promise<ChatBody | null> {
    const res = await api<{ chat: ChatBody }>(web.url, token, "GET", `/chats/${id}`);
    return res.status === 200 ? res.body.chat : null;
  }

  const chats = (page: Page) => page.getByRole("navigation", { name: "Your chats" });
  const chatLink = (page: Page, title: string) =>
    chats(page).getByRole("link", { name: new RegExp(title) });
  async function rowMenu(page: Page, title: string, item: string) {
    await chats(page)
      .getByRole("button", { name: `Options for ${title}` })
      .click();
    await page.getByRole("menuitem", { name: item }).click();
  }
  const sectionTitles = async (page: Page, name: string) =>
    (await chats(page).getByRole("region", { name }).getByRole("link").allInnerTexts()).map((t) =>
      t.split("\n")[0]?.trim(),
    );

  /** Screenshots of the page at the widths people use, light and dark. */
  async function shoot(page: Page, name: string, openMenu = false) {
    for (const width of [360, 1024, 1280]) {
      await page.setViewportSize({ width, height: 760 });
      if (openMenu && width === 360) {
        const toggle = page.getByRole("button", { name: "Menu", exact: true });
        if ((await toggle.getAttribute("aria-expanded")) !== "true") await toggle.click();
      }
      for (const scheme of ["light", "dark"] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        await page.screenshot({ path: join(SHOTS, `${name}-${width}-${scheme}.png`) });
      }
    }
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.emulateMedia({ colorScheme: "light" });
  }

  it("rename, pin, search, change the model, archive, unarchive, delete for good", async () => {
    const budget = await chatViaApi(
      "Check the quarterly numbers",
      "The spreadsheet totals do not add up in column F.",
      "Quarterly budget review",
    );
    const lunch = await chatViaApi("Where shall we eat?", "The noodle place.", "Lunch plans");
    await chatViaApi("What is left before we ship?", "Tag, build, announce.", "Deploy checklist");

    const page = await web.signedInPage(token);
    await page.goto(web.url);
    await chatLink(page, "Deploy checklist").waitFor();
    expect(await page.title()).toBe("Keel");
    expect(await sectionTitles(page, "Today")).toEqual([
      "Deploy checklist",
      "Lunch plans",
      "Quarterly budget review",
    ]);

    // Rename in place from the row's menu.
    await rowMenu(page, "Lunch plans", "Rename");
    const field = chats(page).getByRole("textbox", { name: "Chat title" });
    await field.fill("Team lunch");
    await field.press("Enter");
    await chatLink(page, "Team lunch").waitFor();
    // The focus is back on the chat's link, not lost with the field.
    await expect
      .poll(() => page.evaluate("document.activeElement?.textContent"))
      .toContain("Team lunch");
    expect((await getChat(lunch))?.title).toBe("Team lunch");

    // Pin: a section of its own, on top. Its menu now offers Unpin.
    await rowMenu(page, "Deploy checklist", "Pin");
    await chats(page).getByRole("region", { name: "Pinned" }).waitFor();
    expect(await sectionTitles(page, "Pinned")).toEqual(["Deploy checklist"]);
    // The menu by keyboard: Enter opens it on its first item, ↓ moves, Esc closes it and gives
    // the focus back to its button.
    const options = chats(page).getByRole("button", { name: "Options for Deploy checklist" });
    await options.focus();
    await page.keyboard.press("Enter");
    const focused = () => page.evaluate("document.activeElement?.textContent");
    await expect.poll(focused).toBe("Rename");
    await page.keyboard.press("ArrowDown");
    await expect.poll(focused).toBe("Unpin");
    await page.keyboard.press("End");
    await expect.poll(focused).toBe("Delete…");
    await page.keyboard.press("Escape");
    expect(await page.getByRole("menu").count()).toBe(0);
    await expect
      .poll(() => options.evaluate((el) => el === el.ownerDocument.activeElement))
      .toBe(true);

    // Ctrl+K focuses the search; a prefix of a word in a reply finds the chat, with a snippet.
    await page.locator("body").click();
    await page.keyboard.press("Control+k");
    const search = page.getByRole("searchbox", { name: "Search chats" });
    await expect.poll(() => page.evaluate("document.activeElement?.id")).toBe("chat-search");
    await page.keyboard.type("spreadsh");
    const results = chats(page).getByRole("region", { name: "Search results" });
    await results.getByRole("link", { name: /Quarterly budget review/ }).waitFor();
    expect(await results.getByRole("link").count()).toBe(1);
    expect(await shownText(results.locator(".snippet"))).toContain("spreadsheet totals");
    expect(await shownText(results.locator("mark").first())).toBe("spreadsh");
    await search.fill("nothing like this");
    await chats(page).getByRole("status").filter({ hasText: "No chat matches" }).waitFor();
    // Enter opens the first result.
    await search.fill("spreadsh");
    await results.getByRole("link", { name: /Quarterly budget review/ }).waitFor();
    await search.press("Enter");
    await page.waitForURL(new RegExp(`/chats/${budget}$`));
    await search.press("Escape");
    expect(await search.inputValue()).toBe("");
    await chats(page).getByRole("region", { name: "Today" }).waitFor();

    // The chat's page: the tab is named after it; rename from the header; status in words.
    await chatLink(page, "Quarterly budget review").click();
    const header = page.locator(".chat-header");
    await header.getByRole("button", { name: "Quarterly budget review" }).waitFor();
    await expect.poll(() => page.title()).toBe("Quarterly budget review");
    expect(await shownText(header.locator("[data-status]"))).toBe("Ready");
    await header.getByRole("button", { name: "Quarterly budget review" }).click();
    const headerField = header.getByRole("textbox", { name: "Chat title" });
    await headerField.fill("Budget Q3");
    await headerField.press("Enter");
    await header.getByRole("heading", { name: "Budget Q3" }).waitFor();
    await expect.poll(() => page.title()).toBe("Budget Q3");
    await chatLink(page, "Budget Q3").waitFor();

    // The model, from the header: the next turn uses it.
    await header.getByRole("combobox", { name: "Model" }).selectOption({ label: "Second model" });
    await expect.poll(async () => (await getChat(budget))?.model_id).toBe(secondModel);

    // Archive the open chat: it leaves the list, and the page goes to a new chat.
    await rowMenu(page, "Budget Q3", "Archive");
    await page.getByRole("heading", { name: "New chat" }).waitFor();
    await expect.poll(() => chatLink(page, "Budget Q3").count()).toBe(0);
    expect(await page.title()).toBe("Keel");
    expect((await getChat(budget))?.archived).toBe(true);

    // The Archived view lists it; opened, it says it is archived and offers Unarchive.
    await page.getByRole("button", { name: "Archived" }).click();
    const archived = chats(page).getByRole("region", { name: "Archived chats" });
    await archived.getByRole("link", { name: /Budget Q3/ }).click();
    await page.getByText("This chat is archived.").waitFor();
    expect(await composer(page).count()).toBe(0);
    // Unarchived from the sidebar: the open page follows at once.
    await rowMenu(page, "Budget Q3", "Unarchive");
    await composer(page).waitFor();
    expect((await getChat(budget))?.archived).toBe(false);
    await page.getByRole("button", { name: "Back to chats" }).click();
    await chatLink(page, "Budget Q3").waitFor();
    // Archived elsewhere (another tab, the API): the page says so and has its own Unarchive.
    await api(web.url, token, "PATCH", `/chats/${budget}`, { archived: true });
    await page.reload();
    await page.getByText("This chat is archived.").waitFor();
    await page.getByRole("button", { name: "Unarchive", exact: true }).click();
    await composer(page).waitFor();
    expect((await getChat(budget))?.archived).toBe(false);
    await chatLink(page, "Budget Q3").waitFor();

    // Delete for good: the dialog says it cannot be undone; Esc keeps the chat.
    await rowMenu(page, "Team lunch", "Delete…");
    const dialog = page.getByRole("alertdialog", { name: "Delete this chat for good?" });
    await dialog.waitFor();
    expect(await shownText(dialog)).toContain("cannot be undone");
    // The safe choice has the focus; Esc gives it back to the row's menu button.
    await expect.poll(() => page.evaluate("document.activeElement?.textContent")).toBe("Cancel");
    await page.keyboard.press("Escape");
    await expect.poll(() => dialog.count()).toBe(0);
    await expect
      .poll(() => page.evaluate('document.activeElement?.getAttribute("aria-label")'))
      .toBe("Options for Team lunch");
    expect(await getChat(lunch)).not.toBeNull();
    await rowMenu(page, "Team lunch", "Delete…");
    await dialog.getByRole("button", { name: "Delete for good" }).click();
    // The open dialog hides the rest of the page from the accessibility tree: wait for it to close.
    await expect.poll(() => dialog.count()).toBe(0);
    await expect.poll(() => chatLink(page, "Team lunch").count()).toBe(0);
    expect(await getChat(lunch)).toBeNull();
  });

  it("a chat whose model was disabled says to pick another; a new chat preselects the last model used", async () => {
    const id = await chatViaApi("Use the soon-disabled model", "Fine.", "Model switch");
    const page = await web.signedInPage(token);
    await page.goto(`${web.url}/chats/${id}`);
    const header = page.locator(".chat-header");
    const model = header.getByRole("combobox", { name: "Model" });
    await model.waitFor();
    expect(await model.inputValue()).toBe(firstModel);
    expect(
      (await api(web.url, token, "PATCH", `/models/${firstModel}`, { enabled: false })).status,
    ).toBe(200);
    try {
      await page.reload();
      await page.getByRole("status").filter({ hasText: "is disabled" }).waitFor();
      expect(
        await shownText(page.getByRole("status").filter({ hasText: "is disabled" })),
      ).toContain("Pick another model");
      await shoot(page, "manage-model-disabled");
      await model.selectOption({ label: "Second model" });
      await expect.poll(async () => (await getChat(id))?.model_id).toBe(secondModel);
      await expect.poll(() => page.getByText("is disabled").count()).toBe(0);
      // The chat goes on with the new model.
      web.fake.enqueue(textReply("Answered by the second model."));
      await composer(page).fill("Still there?");
      await composer(page).press("Enter");
      await page.getByText("Answered by the second model.").waitFor();
      expect(web.fake.requests.at(-1)?.model).toBe("fake-model-2");
    } finally {
      await api(web.url, token, "PATCH", `/models/${firstModel}`, { enabled: true });
    }
    // The most recently active chat now uses the second model: a new chat preselects it.
    await page.getByRole("link", { name: "New chat" }).click();
    const picker = page.getByRole("combobox", { name: "Model" });
    await picker.waitFor();
    expect(await picker.inputValue()).toBe(secondModel);
  });

  it("archiving says so in a toast, whose Undo brings the chat back", async () => {
    const id = await chatViaApi("Anything to note?", "Nothing yet.", "Toast notes");
    const page = await web.signedInPage(token);
    await page.goto(web.url);
    await chatLink(page, "Toast notes").waitFor();
    // The menu button says what it is on keyboard focus too (a tooltip, not a `title`).
    await chats(page).getByRole("button", { name: "Options for Toast notes" }).focus();
    await page.getByRole("tooltip", { name: "Options for Toast notes" }).waitFor();
    await page.emulateMedia({ colorScheme: "dark" });
    await page.screenshot({ path: join(SHOTS, "manage-tooltip-1280-dark.png") });
    await page.emulateMedia({ colorScheme: "light" });

    await rowMenu(page, "Toast notes", "Archive");
    // A toast is an item of the notifications region (Radix announces it through a status region).
    const toasts = page.getByRole("region", { name: /^Notifications/ });
    const toast = toasts.getByRole("listitem").filter({ hasText: "Archived “Toast notes”." });
    await toast.waitFor();
    await expect.poll(() => chatLink(page, "Toast notes").count()).toBe(0);
    expect((await getChat(id))?.archived).toBe(true);
    for (const [width, scheme] of [
      [1280, "light"],
      [360, "dark"],
    ] as const) {
      await page.setViewportSize({ width, height: 760 });
      await page.emulateMedia({ colorScheme: scheme, reducedMotion: "reduce" });
      await page.screenshot({ path: join(SHOTS, `manage-toast-${width}-${scheme}.png`) });
    }
    await page.emulateMedia({ colorScheme: "light", reducedMotion: null });
    await page.setViewportSize({ width: 1280, height: 800 });
    await toast.getByRole("button", { name: "Undo" }).click();
    await chatLink(page, "Toast notes").waitFor();
    expect((await getChat(id))?.archived).toBe(false);
  });

  it("past the first page, older chats are shown when asked for", async () => {
    const before = web.fake.requests.length;
    const made = 51;
    web.fake.enqueue(...Array.from({ length: made }, () => textReply("ok")));
    for (let i = 0; i < made; i++) {
      const created = await api(web.url, token, "POST", "/chats", {
        model_id: firstModel,
        content: [{ type: "text", text: `bulk chat ${i}` }],
      });
      expect(created.status).toBe(201);
    }
    await expect
      .poll(() => web.fake.requests.length - before, { timeout: UI_TIMEOUT * 2 })
      .toBe(made);
    const all = await api<{ chats: unknown[] }>(web.url, token, "GET", "/chats?limit=100");
    const total = all.body.chats.length;
    expect(total).toBeGreaterThan(50);

    const page = await web.signedInPage(token);
    await page.goto(web.url);
    const links = chats(page).getByRole("link");
    await expect.poll(() => links.count()).toBe(50);
    await chats(page).getByRole("button", { name: "Show older chats" }).click();
    await expect.poll(() => links.count()).toBe(total);
    expect(await chats(page).getByRole("button", { name: "Show older chats" }).count()).toBe(0);

    // The last row's menu opens upwards: within the list, not cut off below it.
    const menuButtons = chats(page).getByRole("button", { name: /^Options for / });
    await menuButtons.last().scrollIntoViewIfNeeded();
    await menuButtons.last().click();
    const menu = await page.getByRole("menu").boundingBox();
    const list = await chats(page).boundingBox();
    expect(menu && list && menu.y + menu.height <= list.y + list.height).toBe(true);
    await page.keyboard.press("Escape");
  });

  it("looks right at 360, 1024 and 1280 px, light and dark", async () => {
    await chatViaApi(
      "A chat with a long title",
      "Something about migrations and the search index.",
      "Migrating the search index to the new cluster before the holidays",
    );
    const page = await web.signedInPage(token);
    await page.goto(web.url);
    const first = chats(page).getByRole("link").first();
    await first.waitFor();
    await shoot(page, "manage-sidebar", true);

    await page.keyboard.press("Control+k");
    await expect.poll(() => page.evaluate("document.activeElement?.id")).toBe("chat-search");
    await page.keyboard.type("search ind");
    await chats(page).getByRole("region", { name: "Search results" }).waitFor();
    await shoot(page, "manage-search", true);
    await page.getByRole("searchbox", { name: "Search chats" }).fill("");

    await page.setViewportSize({ width: 1280, height: 800 });
    await chats(page)
      .getByRole("button", { name: /^Options for / })
      .first()
      .click();
    await page.getByRole("menu").waitFor();
    await shoot(page, "manage-menu");
    await page.getByRole("menuitem", { name: "Delete…" }).click();
    await page.getByRole("alertdialog").waitFor();
    await shoot(page, "manage-delete-dialog");
    await page.keyboard.press("Escape");

    await chats(page).getByRole("link").first().click();
    await page.locator(".chat-header").waitFor();
    await shoot(page, "manage-chat-header");
  });
});
