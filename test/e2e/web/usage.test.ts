/**
 * Usage and cost in the UI: a chat's header shows what its steps cost, growing as each step ends
 * (the cost recorded with the step at the model's pricing then — a later price change leaves it);
 * the admin page /admin/usage shows the period's totals, a chart per day split per user or model
 * (its chart library loaded only with the page), the top users and chats, and CSV exports. A
 * member is offered no such page. Screenshots at 360, 1024 and 1280 px, light and dark.
 *
 * The server runs on the test run's PostgreSQL (not an embedded one), so the test can give a few
 * steps earlier days, as a month of use would have.
 */
import AxeBuilder from "@axe-core/playwright";
import pg from "pg";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDatabase, dropPostgresDatabase } from "../../../src/store/test-support.ts";
import { textReply } from "../../fakeprovider/index.ts";
import {
  addProviderAndModelViaApi,
  api,
  chatHeader,
  createOwnerViaApi,
  normalize,
  type ProviderAndModel,
  sendViaUi,
  shootWidths,
  shownText,
  startChatViaUi,
  TEST_TIMEOUT,
  UI_TIMEOUT,
  useWeb,
  type WebOptions,
  waitForTurnEnd,
} from "./support.ts";

const MEMBER = { username: "mia", email: "mia@example.com", password: "mia's long password" };
/** $2 per million input tokens, $10 per million output tokens. */
const PRICING = { input_per_mtok: 2, output_per_mtok: 10 };

/** The UI's patience, not expect.poll's default second (a loaded machine reloads slowly). */
const POLL = { timeout: UI_TIMEOUT };

const cost = (page: Page) => page.getByTestId("chat-cost").locator('[aria-hidden="true"]');

/** axe-core's serious and critical findings (WCAG 2.x A and AA), as rule and elements. */
async function blockingViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
    .analyze();
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(" | ")}`);
}

async function sql(url: string, text: string, params: unknown[] = []): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text, params);
  } finally {
    await client.end();
  }
}

describe("web: usage and cost", { timeout: TEST_TIMEOUT * 3 }, () => {
  const options: WebOptions = { env: {} };
  let databaseUrl = "";
  beforeAll(async () => {
    databaseUrl = await createPostgresDatabase();
    options.env = { KEEL_POSTGRES_URL: databaseUrl };
  });
  // Registered before useWeb's hooks, so it runs after them (after hooks run in reverse): the
  // server has stopped before its database is dropped.
  afterAll(async () => {
    if (databaseUrl) await dropPostgresDatabase(databaseUrl).catch(() => {});
  });
  const web = useWeb(options);

  let token = "";
  let memberToken = "";
  let model: ProviderAndModel;
  let seeded: Promise<void> | undefined;

  /** The owner, a priced model on the fake and a member: made once, by the first test to ask. */
  function seed(): Promise<void> {
    seeded ??= (async () => {
      token = await createOwnerViaApi(web.url);
      model = await addProviderAndModelViaApi(web.url, token, web.fake.url);
      const priced = await api(web.url, token, "PATCH", `/models/${model.modelId}`, {
        pricing: PRICING,
      });
      expect(priced.status).toBe(200);
      const member = await api(web.url, token, "POST", "/users", { ...MEMBER, role: "member" });
      expect(member.status).toBe(201);
      const login = await api<{ session_token: string }>(
        web.url,
        undefined,
        "POST",
        "/users/login",
        { email: MEMBER.email, password: MEMBER.password },
      );
      memberToken = login.body.session_token;
    })();
    return seeded;
  }

  it("the chat header shows the chat's cost, growing as steps end", async () => {
    await seed();
    const page = await web.signedInPage(token);
    await page.goto(web.url);
    // 12,000 in × $2 + 3,000 out × $10, per million: $0.054.
    web.fake.enqueue(
      textReply("The first answer.", { usage: { inputTokens: 12_000, outputTokens: 3_000 } }),
    );
    await startChatViaUi(page, "What does this cost?");
    await waitForTurnEnd(page);
    await expect.poll(() => cost(page).textContent(), POLL).toBe("$0.05");

    // A new price applies to the next step only; the first keeps what it cost.
    await api(web.url, token, "PATCH", `/models/${model.modelId}`, {
      pricing: { input_per_mtok: 20, output_per_mtok: 100 },
    });
    web.fake.enqueue(
      textReply("The second answer.", { usage: { inputTokens: 1_000, outputTokens: 100 } }),
    );
    await sendViaUi(page, "And this?");
    await waitForTurnEnd(page);
    // $0.054 + (1,000 × $20 + 100 × $100) / 1e6 = $0.084.
    await expect.poll(() => cost(page).textContent(), POLL).toBe("$0.08");
    expect(normalize(await shownText(chatHeader(page)))).toContain("$0.08");
    await page.reload();
    await expect.poll(() => cost(page).textContent(), POLL).toBe("$0.08");
    const label = await page.getByTestId("chat-cost").locator(".sr-only").textContent();
    expect(label).toBe("Cost of this chat so far: $0.0840 over 2 model steps.");
    await api(web.url, token, "PATCH", `/models/${model.modelId}`, { pricing: PRICING });
    await shootWidths(page, "usage-chat-header");
  });

  it("an admin sees totals, a chart per day, the top users and chats, and exports", async () => {
    await seed();
    // The member's chat, through the API, answered by the fake.
    web.fake.enqueue(
      textReply("Mia's answer.", { usage: { inputTokens: 40_000, outputTokens: 2_000 } }),
    );
    const created = await api<{ id: string }>(web.url, memberToken, "POST", "/chats", {
      model_id: model.modelId,
      content: [{ type: "text", text: "Summarise the design doc" }],
    });
    expect(created.status).toBe(201);
    await expect
      .poll(
        async () =>
          (
            await api<{ chat: { status: string } }>(
              web.url,
              memberToken,
              "GET",
              `/chats/${created.body.id}`,
            )
          ).body.chat.status,
        { timeout: UI_TIMEOUT },
      )
      .toBe("waiting");
    // Earlier days of use: copies of the steps so far, one a day over the last two weeks.
    await sql(
      databaseUrl,
      `INSERT INTO messages (chat_id, role, parts, usage, model_id, cost_usd, input_tokens,
         output_tokens, reasoning_tokens, cache_read_tokens, cache_write_tokens, user_id,
         provider_id, created_at)
       SELECT chat_id, role, parts, usage, model_id, cost_usd * (1 + d % 3), input_tokens,
              output_tokens, reasoning_tokens, cache_read_tokens, cache_write_tokens, user_id,
              provider_id, created_at - make_interval(days => d)
         FROM messages, generate_series(1, 14) AS d
        WHERE user_id IS NOT NULL`,
    );

    const page = await web.signedInPage(token);
    const scripts: string[] = [];
    page.on("request", (request) => {
      if (request.resourceType() === "script") scripts.push(new URL(request.url()).pathname);
    });
    await page.goto(web.url);
    await page.getByRole("heading", { name: "New chat" }).waitFor();
    // The chart library is not part of the app's load.
    expect(scripts.some((s) => /UsageChart/.test(s))).toBe(false);

    await page
      .getByRole("navigation", { name: "Administration" })
      .getByRole("link", { name: "Usage" })
      .click();
    await page.getByRole("heading", { name: "Usage and cost", level: 1 }).waitFor();
    expect(await page.getByRole("button", { name: "30 days" }).getAttribute("aria-pressed")).toBe(
      "true",
    );
    const totals = page.locator(".usage-totals");
    await totals.waitFor();
    expect(normalize(await shownText(totals))).toMatch(/^Cost \$[\d.]+ Input tokens .+ Chats 2$/);

    // The chart: stacked bars per day, per user; its code came with the page.
    const chart = page.getByRole("figure", { name: /^Cost per day and user/ });
    await chart.locator(".recharts-bar-rectangle").first().waitFor();
    expect(scripts.some((s) => /UsageChart/.test(s))).toBe(true);
    expect(normalize(await shownText(chart.locator(".recharts-legend-wrapper")))).toMatch(
      /mia.*owner|owner.*mia/,
    );

    const topUsers = page
      .getByRole("table")
      .filter({ has: page.getByRole("columnheader", { name: "User", exact: true }) });
    expect(await topUsers.getByRole("rowheader").allTextContents()).toEqual(
      expect.arrayContaining(["owner", "mia"]),
    );
    const topChats = page
      .getByRole("table")
      .filter({ has: page.getByRole("columnheader", { name: "Chat", exact: true }) });
    expect(normalize(await shownText(topChats))).toContain("Summarise the design doc mia");
    // (The pointer off the chart: no tooltip in the pictures.)
    await page.mouse.move(0, 0);
    // The page with its chart and tables passes axe-core, light and dark, wide and narrow.
    for (const width of [1280, 360]) {
      await page.setViewportSize({ width, height: 900 });
      for (const scheme of ["light", "dark"] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        expect(await blockingViolations(page), `${scheme}, ${width} px`).toEqual([]);
      }
    }
    await page.emulateMedia({ colorScheme: "light" });
    await page.setViewportSize({ width: 1280, height: 800 });
    await shootWidths(page, "usage-admin");
    // The page scrolls inside the window: its end (the tables, the exports) in pictures too.
    await page.locator(".usage-page").evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    await shootWidths(page, "usage-admin-end");

    // Tokens per model; the last 7 days.
    await page.getByRole("button", { name: "Tokens" }).click();
    await page.getByRole("button", { name: "Per model" }).click();
    await page.getByRole("figure", { name: /^Tokens per day and model/ }).waitFor();
    expect(normalize(await shownText(page.locator(".usage-chart .recharts-legend-wrapper")))).toBe(
      model.modelName,
    );
    await page.getByRole("button", { name: "7 days" }).click();
    const weekAgo = new Date(Date.now() - 6 * 86_400_000).toISOString().slice(0, 10);
    await expect
      .poll(() => page.getByRole("link", { name: "Per user" }).getAttribute("href"), POLL)
      .toContain(`since=${weekAgo}&`);
    // The view is in the address: opened again, the page shows the same.
    await page.waitForURL(/\/admin\/usage\?days=7&split=model&show=tokens$/);
    await page.reload();
    await page.getByRole("figure", { name: /^Tokens per day and model/ }).waitFor();
    expect(await page.getByRole("button", { name: "7 days" }).getAttribute("aria-pressed")).toBe(
      "true",
    );
    await page.getByRole("button", { name: "Custom" }).click();
    const custom = page.getByRole("form", { name: "Custom period" });
    await custom.getByLabel("From").fill("2026-01-10");
    await custom.getByLabel("To").fill("2026-01-01");
    await custom.getByRole("button", { name: "Apply" }).click();
    expect(await custom.getByRole("alert").textContent()).toBe(
      "The first day comes after the last.",
    );
    await page.mouse.move(0, 0);
    await shootWidths(page, "usage-admin-tokens");

    // The export: the rows of the same period as CSV.
    const href = await page.getByRole("link", { name: "Per user" }).getAttribute("href");
    expect(href).toMatch(
      /^\/api\/v1\/usage\?group_by=user&since=\d{4}-\d{2}-\d{2}&until=.*format=csv$/,
    );
    const csv = await page.context().request.get(`${web.url}${href}`);
    expect(csv.status()).toBe(200);
    expect(csv.headers()["content-type"]).toBe("text/csv; charset=utf-8");
    expect((await csv.text()).split("\r\n")[0]).toMatch(/^key,name,cost_usd,/);
  });

  it("a member is offered no usage page, and reads only their own usage", async () => {
    await seed();
    const page = await web.signedInPage(memberToken);
    await page.goto(`${web.url}/admin/usage`);
    await page.getByRole("heading", { name: "Not available" }).waitFor();
    expect(await page.getByRole("navigation", { name: "Administration" }).count()).toBe(0);
    const mine = await api<{ rows: Array<{ name: string }> }>(
      web.url,
      memberToken,
      "GET",
      "/usage?group_by=user",
    );
    expect(mine.body.rows.map((r) => r.name)).toEqual(["mia"]);
  });
});
