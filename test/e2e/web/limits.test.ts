/**
 * Spend limits in the UI: a member whose turn crossed their limit sees it above the composer —
 * the server's sentence, the reset — with Send off, in the chat and on a new chat; their settings
 * page shows the meter; an admin sets the default on the Settings page and the member's own limit
 * on the Users page, and the member can write again. Screenshots at 360, 1024 and 1280 px, light
 * and dark (`shootWidths`).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Locator, Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { textReply } from "../../fakeprovider/index.ts";
import {
  addProviderAndModelViaApi,
  api,
  composer,
  createOwnerViaApi,
  shootWidths,
  startChatViaUi,
  TEST_TIMEOUT,
  UI_SHOTS,
  UI_TIMEOUT,
  useWeb,
  waitForTurnEnd,
} from "./support.ts";

/** `shootWidths`, with `target` scrolled into view at each width (a card low on a long page). */
async function shootScrolled(page: Page, name: string, target: Locator): Promise<void> {
  mkdirSync(UI_SHOTS, { recursive: true });
  for (const width of [360, 1024, 1280]) {
    await page.setViewportSize({ width, height: 900 });
    await target.scrollIntoViewIfNeeded();
    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.screenshot({ path: join(UI_SHOTS, `${name}-${width}-${scheme}.png`) });
    }
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.emulateMedia({ colorScheme: "light" });
}

/** 100 output tokens at $10,000 per million: the scripted reply costs $1. */
const PRICING = { input_per_mtok: 0, output_per_mtok: 10_000 };
const ONE_DOLLAR = { inputTokens: 100, outputTokens: 100 };
const MEMBER = { username: "bob", email: "bob@example.com", password: "bob's long password" };

describe("web: spend limits", { timeout: TEST_TIMEOUT * 2 }, () => {
  const web = useWeb();
  let admin: string;
  let member: string;
  let memberId: string;

  beforeAll(async () => {
    admin = await createOwnerViaApi(web.url);
    const model = await addProviderAndModelViaApi(web.url, admin, web.fake.url);
    await api(web.url, admin, "PATCH", `/models/${model.modelId}`, { pricing: PRICING });
    const created = await api<{ user: { id: string } }>(web.url, admin, "POST", "/users", {
      ...MEMBER,
      role: "member",
    });
    memberId = created.body.user.id;
    const login = await api<{ session_token: string }>(web.url, undefined, "POST", "/users/login", {
      email: MEMBER.email,
      password: MEMBER.password,
    });
    member = login.body.session_token;
    await api(web.url, admin, "PUT", `/users/${memberId}/limit`, { usd: 0.5, period: "day" });
  });

  it("over the limit, the composer says so before anyone types, and Send is off", async () => {
    web.fake.enqueue(textReply("Hello! How can I help?", { usage: ONE_DOLLAR }));
    const page = await web.signedInPage(member);
    await page.goto(web.url);
    await startChatViaUi(page, "Hello");
    await waitForTurnEnd(page);

    // The turn cost $1 of $0.50: the notice appears without another try.
    const notice = page.getByTestId("limit-notice");
    await notice.waitFor({ timeout: UI_TIMEOUT });
    const spend = await api<{ message: string }>(web.url, member, "GET", "/users/me/spend");
    expect(await notice.textContent()).toContain(spend.body.message);
    expect(spend.body.message).toContain("You have spent $1.00 of your $0.50 daily limit.");
    await composer(page).fill("Another question");
    expect(await page.getByRole("button", { name: "Send" }).isDisabled()).toBe(true);
    await shootWidths(page, "limits-composer");

    // A new chat says the same before anything is typed.
    await page.goto(`${web.url}/`);
    await page.getByRole("heading", { name: "New chat" }).waitFor();
    await notice.waitFor();
    expect(await page.getByRole("button", { name: "Start chat" }).isDisabled()).toBe(true);
    await shootWidths(page, "limits-new-chat");

    // Their settings page: the meter, full.
    await page.goto(`${web.url}/settings/instructions`);
    const meter = page.getByRole("meter", { name: "Spend this period" });
    await meter.waitFor();
    expect(await meter.getAttribute("aria-valuetext")).toBe("$1.00 of $0.50");
    await shootScrolled(page, "limits-meter", meter);
  });

  it("an admin sets the default and a member's own limit; the member may write again", async () => {
    const page = await web.signedInPage(admin);
    await page.goto(`${web.url}/admin/settings`);
    const form = page.getByRole("form", { name: "Spend limit" });
    const period = form.getByRole("combobox", { name: "Every user may spend" });
    await period.waitFor();
    expect(await period.inputValue()).toBe("");
    await period.selectOption("month");
    await form.getByRole("spinbutton", { name: "Amount (USD)" }).fill("20");
    await form.getByRole("button", { name: "Save" }).click();
    await form.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    const settings = await api<Record<string, unknown>>(web.url, admin, "GET", "/settings");
    expect(settings.body.default_limit).toEqual({ usd: 20, period: "month" });
    await form.scrollIntoViewIfNeeded();
    await shootWidths(page, "limits-default");

    await page.goto(`${web.url}/admin/users`);
    const row = page.getByRole("row").filter({ hasText: MEMBER.email });
    await row.getByText("$0.50 a day").waitFor();
    await page
      .getByRole("row")
      .filter({ hasText: "owner@example.com" })
      .getByText("$20 a month")
      .waitFor();
    await shootWidths(page, "limits-users");
    await row.getByRole("button", { name: `Change the spend limit of ${MEMBER.username}` }).click();
    const dialog = page.getByRole("alertdialog");
    await dialog.getByRole("combobox", { name: "They may spend" }).selectOption("week");
    await dialog.getByRole("spinbutton", { name: "Amount (USD)" }).fill("10");
    await shootWidths(page, "limits-user-dialog");
    await dialog.getByRole("button", { name: "Save" }).click();
    await row.getByText("$10 a week").waitFor();
    const limit = await api<Record<string, unknown>>(
      web.url,
      admin,
      "GET",
      `/users/${memberId}/limit`,
    );
    expect(limit.body).toMatchObject({ effective: { usd: 10, period: "week", source: "user" } });

    // Back to the default: the cell says so.
    await row.getByRole("button", { name: `Change the spend limit of ${MEMBER.username}` }).click();
    await dialog.getByRole("combobox", { name: "They may spend" }).selectOption("");
    await dialog.getByRole("button", { name: "Save" }).click();
    await row.getByText("$20 a month").waitFor();
    await row.getByText("default").waitFor();

    // Under the default's $20 now: the member's composer has no notice, and Send works.
    const theirs = await web.signedInPage(member);
    await theirs.goto(web.url);
    await theirs.getByRole("heading", { name: "New chat" }).waitFor();
    await composer(theirs).fill("Hello again");
    await expect
      .poll(() => theirs.getByRole("button", { name: "Start chat" }).isDisabled(), {
        timeout: UI_TIMEOUT,
      })
      .toBe(false);
    expect(await theirs.getByTestId("limit-notice").count()).toBe(0);
  });

  it("an admin sets a group's limit on the Groups page; its members' rows say so", async () => {
    const group = await api<{ id: string }>(web.url, admin, "POST", "/groups", {
      name: "Contractors",
      user_ids: [memberId],
    });
    expect(group.status).toBe(201);
    const page = await web.signedInPage(admin);
    await page.goto(`${web.url}/admin/groups`);
    const row = page.getByRole("row").filter({ hasText: "Contractors" });
    await row.getByText("No limit").waitFor();
    await row.getByRole("button", { name: "Change the spend limit of Contractors" }).click();
    const dialog = page.getByRole("alertdialog");
    await dialog.getByRole("combobox", { name: "Its members may spend" }).selectOption("day");
    await dialog.getByRole("spinbutton", { name: "Amount (USD)" }).fill("3");
    await dialog.getByRole("button", { name: "Save" }).click();
    await row.getByText("$3 a day").waitFor();
    await shootWidths(page, "limits-groups");

    await page.goto(`${web.url}/admin/users`);
    const member = page.getByRole("row").filter({ hasText: MEMBER.email });
    await member.getByText("$3 a day").waitFor();
    await member.getByText("group").waitFor();
    await api(web.url, admin, "DELETE", `/groups/${group.body.id}/limit`);
  });
});
