/**
 * Context compaction in the browser, against a real `keel server` and the fake provider:
 * - Compact on a waiting chat: the quiet "Summarising…" line while the summary is written, then a
 *   collapsed "Earlier conversation summarised" divider across the transcript that opens on the
 *   summary (as Markdown); Compact is off until there is something new to summarise;
 * - Stop during the summary ends the line, with no divider;
 * - a chat past its model's threshold is compacted on its own, and the divider says why;
 * - the user's own threshold ("Compact my chats earlier") is saved, read back, and cleared.
 * Screenshots at 360, 1024 and 1280 px, light and dark, go to `${tmpdir}/keel-ui-shots`.
 */
import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Locator, Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { COMPACTION_SYSTEM_PROMPT } from "../../../src/chatloop/compaction.ts";
import { hangAfter, type Script, textReply } from "../../fakeprovider/index.ts";
import {
  addProviderAndModelViaApi,
  api,
  createOwnerViaApi,
  sendViaUi,
  shownText,
  TEST_TIMEOUT,
  transcript,
  UI_TIMEOUT,
  useWeb,
  waitForTurnEnd,
} from "./support.ts";

const SHOTS = join(tmpdir(), "keel-ui-shots");

const SUMMARY = [
  "## Goal",
  "Make the build green on the CI runner.",
  "",
  "## Files touched",
  "- `package.json`: the test script runs vitest once",
  "",
  "## Open work",
  "- Pin the Node version in the workflow.",
].join("\n");

/** Screenshots of the page at the widths people use, light and dark. */
async function shoot(page: Page, name: string, focus?: Locator) {
  for (const width of [360, 1024, 1280]) {
    await page.setViewportSize({ width, height: 800 });
    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await focus?.scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(SHOTS, `${name}-${width}-${scheme}.png`) });
    }
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.emulateMedia({ colorScheme: "light" });
}

describe("web: context compaction", { timeout: TEST_TIMEOUT }, () => {
  const web = useWeb();
  let token: string;
  let modelId: string;
  let providerId: string;

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    token = await createOwnerViaApi(web.url);
    ({ modelId, providerId } = await addProviderAndModelViaApi(web.url, token, web.fake.url));
  });

  /** A signed-in page on a chat with one exchange, its turn over. */
  async function chatWithOneReply(): Promise<{ page: Page; chatId: string }> {
    web.fake.enqueue(textReply("The build fails on the CI runner: the test script watches files."));
    const created = await api<{ id: string }>(web.url, token, "POST", "/chats", {
      model_id: modelId,
      content: [{ type: "text", text: "Why is the build red?" }],
    });
    expect(created.status).toBe(201);
    const page = await web.signedInPage(token);
    await page.goto(`${web.url}/chats/${created.body.id}`);
    await transcript(page).getByText("the test script watches files").waitFor();
    await waitForTurnEnd(page);
    return { page, chatId: created.body.id };
  }

  const compactButton = (page: Page) => page.getByRole("button", { name: "Compact", exact: true });
  const compactingLine = (page: Page) =>
    page.getByRole("status").filter({ hasText: "Summarising the conversation" });
  const divider = (page: Page) => transcript(page).locator("details.compaction");

  /** The collapsed divider is one line at every width, and nothing scrolls sideways. */
  async function expectOneLine(page: Page) {
    for (const width of [360, 1024, 1280]) {
      await page.setViewportSize({ width, height: 800 });
      const label = await divider(page).locator(".compaction-label").boundingBox();
      const lineHeight = (await page.evaluate(
        'parseFloat(getComputedStyle(document.querySelector("details.compaction summary")).lineHeight)',
      )) as number;
      expect(label?.height, `at ${width} px`).toBeLessThan(1.5 * lineHeight);
      expect(
        await page.evaluate("document.documentElement.scrollWidth > window.innerWidth"),
        `at ${width} px`,
      ).toBe(false);
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  }

  it("Compact: a summarising line, then a collapsed divider that opens on the summary", async () => {
    const { page } = await chatWithOneReply();
    const button = compactButton(page);
    expect(await button.isEnabled()).toBe(true);
    expect(await button.getAttribute("title")).toMatch(/Summarise the conversation so far/);

    // A summary that does not come: the line shows where a reply would stream; Stop ends it.
    web.fake.enqueue(hangAfter("## Goal\nMake", 1));
    await button.click();
    await compactingLine(page).waitFor();
    expect(await page.getByRole("button", { name: "Compacting…" }).isDisabled()).toBe(true);
    await shoot(page, "compaction-running");
    await page.getByRole("button", { name: "Stop", exact: true }).click();
    await compactingLine(page).waitFor({ state: "detached" });
    await waitForTurnEnd(page);
    expect(await divider(page).count()).toBe(0);
    await expect.poll(() => web.fake.inFlight, { timeout: UI_TIMEOUT }).toBe(0);

    // Again, and the summary is written: the divider, collapsed, with why it happened.
    web.fake.enqueue(textReply(SUMMARY));
    await compactButton(page).click();
    await divider(page).waitFor();
    await waitForTurnEnd(page);
    expect(await compactingLine(page).count()).toBe(0);
    expect(await divider(page).getAttribute("open")).toBeNull();
    const label = divider(page).locator("summary");
    expect(await shownText(label)).toContain("Earlier conversation summarised · on request");
    // Collapsed: one line, the summary not shown; the conversation above it stays.
    expect(await shownText(transcript(page))).not.toContain("Make the build green");
    expect(await shownText(transcript(page))).toContain("the test script watches files");
    // Nothing new to summarise until the conversation goes on.
    expect(await compactButton(page).isDisabled()).toBe(true);
    await expectOneLine(page);
    await shoot(page, "compaction-divider", divider(page));

    // Opened: the summary, rendered as Markdown.
    await label.click();
    const body = divider(page).locator(".compaction-body");
    await body.getByRole("heading", { name: "Goal" }).waitFor();
    expect(await shownText(body)).toMatch(/^Summarised on request\. From here on the model reads/);
    expect(await shownText(body)).toContain("Make the build green on the CI runner.");
    expect(await body.getByRole("listitem").count()).toBe(2);
    expect(await shownText(body.locator("code").first())).toBe("package.json");
    await shoot(page, "compaction-divider-open", divider(page));

    // A reload: the divider again, collapsed; why it happened was only known live.
    await page.reload();
    await divider(page).waitFor();
    expect(await divider(page).getAttribute("open")).toBeNull();
    expect((await shownText(divider(page).locator("summary"))).trim()).toMatch(
      /Earlier conversation summarised$/,
    );
    expect(await compactButton(page).isDisabled()).toBe(true);

    // The conversation goes on from the summary; Compact is available again.
    web.fake.enqueue(textReply("Pinned Node 24 in the workflow."));
    await sendViaUi(page, "Pin the Node version.");
    await transcript(page).getByText("Pinned Node 24 in the workflow.").waitFor();
    await waitForTurnEnd(page);
    expect(await compactButton(page).isEnabled()).toBe(true);
    const prompt = web.fake.requests.at(-1)?.rawBody ?? "";
    expect(prompt).toContain("Make the build green on the CI runner.");
    expect(prompt).not.toContain("Why is the build red?");
  });

  it("past the model's threshold, a turn compacts on its own and the divider says why", async () => {
    // A small model: its window is set below the chat's size once the first turn is over.
    const small = await api<{ id: string }>(web.url, token, "POST", "/models", {
      provider_id: providerId,
      model: "fake-small",
      display_name: "Small model",
    });
    expect(small.status).toBe(201);
    // Summaries from the summary requests, replies from the others, whatever their order.
    let summary: Script = textReply(SUMMARY);
    web.fake.setResponder((request) =>
      request.rawBody.includes(COMPACTION_SYSTEM_PROMPT.slice(0, 60))
        ? summary
        : textReply(`Reply ${request.n}.`),
    );
    const created = await api<{ id: string }>(web.url, token, "POST", "/chats", {
      model_id: small.body.id,
      content: [{ type: "text", text: `Look at the build. ${"It is red. ".repeat(150)}` }],
    });
    const page = await web.signedInPage(token);
    await page.goto(`${web.url}/chats/${created.body.id}`);
    await waitForTurnEnd(page);
    // 80% of the window (the default threshold) is just over the first prompt: the next turn's
    // prompt is past it.
    const first = web.fake.requests[0]?.promptTokens ?? 0;
    const window = Math.ceil((first + 40) / 0.8);
    const patched = await api(web.url, token, "PATCH", `/models/${small.body.id}`, {
      context_window: window,
    });
    expect(patched.status).toBe(200);

    // A summary that does not come: the line says why it is written; Stop ends it.
    summary = hangAfter("## Goal\nLook", 1);
    await sendViaUi(page, `And the tests? ${"They are slow. ".repeat(60)}`);
    const line = compactingLine(page);
    await line.waitFor();
    expect(await shownText(line)).toBe("Summarising the conversation to fit the model's context…");
    await page.getByRole("button", { name: "Stop", exact: true }).click();
    await line.waitFor({ state: "detached" });
    await waitForTurnEnd(page);
    expect(await divider(page).count()).toBe(0);

    // The next turn compacts first, then answers from the summary.
    summary = textReply(SUMMARY);
    await sendViaUi(page, "Go on.");
    await divider(page).waitFor();
    await waitForTurnEnd(page);
    expect(await shownText(divider(page).locator("summary"))).toContain(
      "Earlier conversation summarised · to fit the model's context window",
    );
    // The divider comes before the reply that was written from it.
    const order = await transcript(page)
      .locator("details.compaction, article")
      .evaluateAll((nodes) => nodes.map((n) => (n.tagName === "DETAILS" ? "divider" : "message")));
    expect(order.at(-2)).toBe("divider");
    expect(order.at(-1)).toBe("message");
    expect(await compactingLine(page).count()).toBe(0);
    const last = web.fake.requests.at(-1);
    expect(last?.rawBody).toContain("Make the build green on the CI runner.");
    expect(last?.promptTokens).toBeLessThan(window);
  });

  it("the user's compaction threshold is saved, read back and cleared", async () => {
    const page = await web.signedInPage(token);
    await page.goto(`${web.url}/settings/instructions`);
    const form = page.getByRole("form", { name: "Context compaction" });
    const select = form.getByRole("combobox", { name: "Compact my chats earlier" });
    await select.waitFor();
    expect(await select.inputValue()).toBe("");
    expect(await shownText(form)).toMatch(/can only make it happen earlier/);

    await select.selectOption({ label: "At 50% of the context window" });
    await form.getByRole("button", { name: "Save" }).click();
    await form.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    const me = async () =>
      (await api<{ user: { compact_at: number | null } }>(web.url, token, "GET", "/users/me")).body
        .user.compact_at;
    expect(await me()).toBe(0.5);
    await page.reload();
    await select.waitFor();
    expect(await select.inputValue()).toBe("0.5");
    await shoot(page, "compaction-setting", form);

    // A share set through the API that the page does not offer is shown as it is.
    await api(web.url, token, "PATCH", "/users/me", { compact_at: 0.55 });
    await page.reload();
    await select.waitFor();
    expect(await select.inputValue()).toBe("0.55");
    expect(await shownText(select.locator("option:checked"))).toBe("At 55% of the context window");

    await select.selectOption({ label: "Model default" });
    await form.getByRole("button", { name: "Save" }).click();
    await form.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    expect(await me()).toBeNull();
  });
});
