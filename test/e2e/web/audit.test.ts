/**
 * The audit log page: an admin finds what they just did (adding a provider in the UI), narrows
 * the list to one family of actions (the filter is in the address, so the view can be shared),
 * opens a row on its changes (the API key only as "changed", its value nowhere), pages with
 * "Load more" and exports what the filters show. A member is offered no such page and the server
 * refuses them the log. Screenshots at 360, 1024 and 1280 px, light and dark.
 */
import AxeBuilder from "@axe-core/playwright";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import {
  api,
  createOwnerViaApi,
  normalize,
  shootWidths,
  shownText,
  TEST_TIMEOUT,
  UI_TIMEOUT,
  useWeb,
} from "./support.ts";

const KEY = "sk-audit-secret-value-4242";
const MEMBER = { username: "mia", email: "mia@example.com", password: "mia's long password" };

/** `expect.poll` with the UI's patience (its default, 1 s, is short for a page of 100 rows). */
const poll = <T>(read: () => Promise<T>) => expect.poll(read, { timeout: UI_TIMEOUT });

/** The action badges of the rows shown, in order. */
const actions = (page: Page) => page.locator(".audit-row .audit-action").allTextContents();

describe("web: the audit log", { timeout: TEST_TIMEOUT * 2 }, () => {
  const web = useWeb();
  let token: string;

  beforeAll(async () => {
    token = await createOwnerViaApi(web.url);
  });

  it("an admin sees the provider they just added, filters by action and opens the row", async () => {
    const page = await web.signedInPage(token);
    await page.goto(`${web.url}/admin/providers`);
    const add = page.getByRole("form", { name: "Add a provider" });
    await add.getByRole("combobox", { name: /^Type/ }).selectOption("openai-compatible");
    await add.getByLabel("Name").fill("Audited LLM");
    await add.getByLabel("Base URL").fill(`${web.fake.url}/v1`);
    await add.getByLabel("API key").fill(KEY);
    await add.getByRole("button", { name: "Add provider" }).click();
    await page
      .getByRole("row", { name: /Audited LLM/ })
      .first()
      .waitFor();

    // The Audit log, from the admin navigation: the newest row is the provider just added.
    await page
      .getByRole("navigation", { name: "Administration" })
      .getByRole("link", { name: "Audit log" })
      .click();
    await page.getByRole("heading", { name: "Audit log", level: 1 }).waitFor();
    const newest = page.locator(".audit-row").first();
    await poll(() => newest.locator(".audit-action").textContent()).toBe("provider.create");
    expect(normalize(await shownText(newest))).toMatch(
      /owner provider\.create Audited LLM provider Success 127\.0\.0\.1/,
    );
    expect(await actions(page)).toContain("user.create");

    // Only providers: the choice applies at once and goes into the address.
    await page.getByRole("combobox", { name: "Action" }).selectOption("provider.");
    await page.waitForURL(/\/admin\/audit\?action=provider\.$/);
    await poll(() => actions(page)).toEqual(["provider.create"]);

    // The row opens on its changes: the key as changed, never its value.
    await newest.getByRole("button", { name: /^Details, / }).click();
    const details = page.locator(".audit-details");
    await details.getByRole("heading", { name: "Changes" }).waitFor();
    const change = (field: string) =>
      page
        .locator(".audit-changes")
        .first()
        .locator("li", { hasText: new RegExp(`^${field} `) });
    expect(await change("name").locator("ins").textContent()).toBe("Audited LLM");
    expect(normalize(await shownText(change("api_key")))).toContain("api_key changed (a secret");
    expect(await page.content()).not.toContain(KEY);
    expect(
      await newest.getByRole("button", { name: /^Details, / }).getAttribute("aria-expanded"),
    ).toBe("true");
    await shootWidths(page, "audit-admin");

    // An update shows from → to.
    const providerId = (await api<{ providers: Array<{ id: string; name: string }> }>(
      web.url,
      token,
      "GET",
      "/providers",
    ).then((r) => r.body.providers.find((p) => p.name === "Audited LLM")?.id)) as string;
    const renamed = await api(web.url, token, "PATCH", `/providers/${providerId}`, {
      name: "Audited LLM (prod)",
    });
    expect(renamed.status).toBe(200);
    await page.getByRole("button", { name: "Refresh" }).click();
    await poll(() => actions(page)).toEqual(["provider.update", "provider.create"]);
    // A click anywhere on the row opens it too.
    await page.locator(".audit-row").first().locator(".audit-target").click();
    await change("name").locator("del").waitFor();
    expect(await change("name").locator("del").textContent()).toBe("Audited LLM");
    expect(await change("name").locator("ins").textContent()).toBe("Audited LLM (prod)");

    // The address is the view: opened elsewhere, it shows the same filter and rows.
    const shared = await web.signedInPage(token);
    await shared.goto(page.url());
    expect(await shared.getByRole("combobox", { name: "Action" }).inputValue()).toBe("provider.");
    await poll(() => actions(shared)).toEqual(["provider.update", "provider.create"]);

    // From an open row to every event on its target.
    await page.getByRole("link", { name: "All events on this provider" }).first().click();
    await page.waitForURL((u) => u.searchParams.get("target") === `provider:${providerId}`);
    await poll(() => actions(page)).toEqual(["provider.update", "provider.create"]);
    expect(await page.getByLabel("Target").inputValue()).toBe(`provider:${providerId}`);

    // The export carries the filters.
    const href = await page.getByRole("link", { name: "Export CSV" }).getAttribute("href");
    expect(href).toMatch(/^\/api\/v1\/audit\/export\?/);
    const query = new URL(href ?? "", web.url).searchParams;
    expect(query.get("target")).toBe(`provider:${providerId}`);
    expect(query.get("format")).toBe("csv");
    const csv = await page.context().request.get(`${web.url}${href}`);
    expect(csv.status()).toBe(200);
    const text = await csv.text();
    expect(text).toContain("provider.create");
    expect(text).toContain("provider.update");
    expect(text).not.toContain("user.create");
    expect(text).not.toContain(KEY);
  });

  it("a time preset and a typed action narrow the list; nothing matching says so", async () => {
    const page = await web.signedInPage(token);
    // A few rows (axe over a page of 100 takes a minute on a busy machine).
    await page.goto(`${web.url}/admin/audit?action=user.&range=24h`);
    expect(await page.getByRole("combobox", { name: "Time" }).inputValue()).toBe("24h");
    await poll(async () => (await actions(page)).length).toBeGreaterThan(0);

    await page.getByRole("combobox", { name: "Action" }).selectOption("other");
    await page.getByLabel("Action name").fill("no.such.action");
    await page.getByLabel("Action name").press("Enter");
    await page.getByText("No event matches these filters.").waitFor();
    expect(new URL(page.url()).searchParams.get("action")).toBe("no.such.action");

    await page.getByRole("button", { name: "Clear filters" }).first().click();
    await page.waitForURL(`${web.url}/admin/audit`);
    await poll(async () => (await actions(page)).length).toBeGreaterThan(0);
  });

  it("says how long events are kept, and an admin changes it in place", async () => {
    const page = await web.signedInPage(token);
    await page.goto(`${web.url}/admin/audit`);
    await page.getByText("Events are kept for 1 year, then deleted.").waitFor();
    await page.getByRole("button", { name: "Change" }).click();
    await page.getByLabel("Keep events for").selectOption({ label: "90 days" });
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByText("Events are kept for 90 days, then deleted.").waitFor();
    const settings = await api<{ audit_retention_days: number | null }>(
      web.url,
      token,
      "GET",
      "/settings",
    );
    expect(settings.body.audit_retention_days).toBe(90);
    // The change is itself in the log.
    await page.getByRole("button", { name: "Refresh" }).click();
    await poll(() => actions(page).then((a) => a[0])).toBe("settings.update");
  });

  it("Load more brings the next page, no row twice", async () => {
    // 105 more events than a page holds (a page is 100): each change of your instructions is one.
    for (let i = 0; i < 105; i += 1) {
      const saved = await api(web.url, token, "PATCH", "/users/me", { instructions: `v${i}` });
      expect(saved.status).toBe(200);
    }
    const page = await web.signedInPage(token);
    await page.goto(`${web.url}/admin/audit`);
    await poll(async () => (await actions(page)).length).toBe(100);
    await page.getByRole("button", { name: "Load more" }).click();
    await poll(async () => (await actions(page)).length).toBeGreaterThan(105);
    const ids = await page
      .locator(".audit-row")
      .evaluateAll((rows) => rows.map((row) => row.getAttribute("data-event-id")));
    expect(new Set(ids).size).toBe(ids.length);
    // The keyboard's focus is on the first row the click brought.
    const first = page.locator(".audit-row").nth(100).locator(".audit-toggle");
    await poll(() => first.evaluate((el) => el === el.ownerDocument.activeElement)).toBe(true);
    await poll(() => page.getByRole("button", { name: "Load more" }).count()).toBe(0);
  });

  it("has no serious or critical accessibility violation, rows open, light and dark", async () => {
    // A failed sign-in: a row marked as a failure, with its reason.
    const failed = await api(web.url, undefined, "POST", "/users/login", {
      email: "owner@example.com",
      password: "not the password at all",
    });
    expect(failed.status).toBe(401);
    const page = await web.signedInPage(token);
    // A few rows (axe over a page of 100 takes a minute on a busy machine).
    await page.goto(`${web.url}/admin/audit?action=user.&range=24h`);
    const failure = page.locator(".audit-row.audit-failed").first();
    await failure.getByRole("button", { name: /^Details, / }).click();
    await page.locator(".audit-details .audit-error").waitFor();
    await page
      .locator(".audit-row", { hasText: "user.create" })
      .first()
      .getByRole("button", { name: /^Details, / })
      .click();
    for (const width of [1280, 360]) {
      await page.setViewportSize({ width, height: 800 });
      for (const scheme of ["light", "dark"] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        const results = await new AxeBuilder({ page })
          .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
          .analyze();
        const blocking = results.violations
          .filter((v) => v.impact === "serious" || v.impact === "critical")
          .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(" | ")}`);
        expect(blocking, `${scheme}, ${width} px`).toEqual([]);
      }
    }
    await shootWidths(page, "audit-all");
  });

  it("a member is not offered the page, and the server refuses them the log", async () => {
    const created = await api(web.url, token, "POST", "/users", { ...MEMBER, role: "member" });
    expect(created.status).toBe(201);
    const login = await api<{ session_token: string }>(web.url, undefined, "POST", "/users/login", {
      email: MEMBER.email,
      password: MEMBER.password,
    });
    const page = await web.signedInPage(login.body.session_token);
    await page.goto(`${web.url}/admin/audit`);
    await page.getByRole("heading", { name: "Not available" }).waitFor();
    expect(await page.getByRole("link", { name: "Audit log" }).count()).toBe(0);
    expect(await page.getByRole("table").count()).toBe(0);

    const request = page.context().request;
    expect((await request.get(`${web.url}/api/v1/audit`)).status()).toBe(403);
    expect((await request.get(`${web.url}/api/v1/audit/export?format=csv`)).status()).toBe(403);
  });
});
