/**
 * First run, as a new operator meets Keel: the setup page creates the owner, the admin pages add a
 * provider (pointed at the fake) and a priced model, and a new chat streams a Markdown reply with
 * a highlighted code block and its token usage and cost.
 */
import { describe, expect, it } from "vitest";
import { textReply } from "../../fakeprovider/index.ts";
import {
  composer,
  countOccurrences,
  normalize,
  setupOwnerViaUi,
  shownText,
  startChatViaUi,
  streamingReply,
  TEST_TIMEOUT,
  transcript,
  UI_TIMEOUT,
  useWeb,
  waitForTurnEnd,
} from "./support.ts";

const API_KEY = "sk-first-run-7c1e";

const REPLY = [
  "Here is the **answer** you asked for:",
  "",
  "```ts",
  "const answer: number = 42;",
  "export function twice(n: number): number {",
  "  return n * 2;",
  "}",
  "```",
  "",
  "The first run went smoothly.",
].join("\n");

describe("web: first run", { timeout: TEST_TIMEOUT }, () => {
  const web = useWeb();

  it("setup → owner → provider and model on the admin pages → new chat → streamed reply", async () => {
    const page = await web.newPage();
    await setupOwnerViaUi(page, web.url);

    // No model yet: the new-chat page says what to do, and links to the providers page.
    await page.getByText("No model is enabled yet.").waitFor();
    await page.getByRole("link", { name: "provider", exact: true }).click();

    // Providers: an OpenAI-compatible endpoint at the fake; the key is write-only.
    await page.getByRole("heading", { name: "Providers", level: 1 }).waitFor();
    const addProvider = page.getByRole("form", { name: "Add a provider" });
    await addProvider.getByRole("combobox", { name: /^Type/ }).selectOption("openai-compatible");
    await addProvider.getByLabel("Name").fill("Fake endpoint");
    await addProvider.getByLabel("Base URL").fill(`${web.fake.url}/v1`);
    await addProvider.getByLabel("API key").fill(API_KEY);
    await addProvider.getByRole("button", { name: "Add provider" }).click();
    const providerRow = page.getByRole("row", { name: /Fake endpoint/ });
    await providerRow.waitFor();
    expect(normalize(await shownText(providerRow))).toContain("set");
    expect(await shownText(page.locator("body"))).not.toContain(API_KEY);

    // Models: one model of that provider, with pricing so the reply shows its cost.
    await page
      .getByRole("navigation", { name: "Administration" })
      .getByRole("link", { name: "Models" })
      .click();
    await page.getByRole("heading", { name: "Models", level: 1 }).waitFor();
    const addModel = page.getByRole("form", { name: "Add a model" });
    // A <label> around a <select> names it with its chosen option too: "Provider Fake endpoint".
    await addModel
      .getByRole("combobox", { name: /^Provider/ })
      .selectOption({ label: "Fake endpoint" });
    await addModel.getByLabel("Model ID").fill("fake-model-1");
    await addModel.getByLabel("Display name").fill("Fake Model One");
    await addModel.getByLabel("Context window").fill("128000");
    await addModel.getByLabel("Input $/1M tokens").fill("1000");
    await addModel.getByLabel("Output $/1M tokens").fill("2000");
    await addModel.getByRole("button", { name: "Add model" }).click();
    const modelRow = page.getByRole("row", { name: /Fake Model One/ });
    await modelRow.waitFor();
    expect(
      await modelRow.getByRole("checkbox", { name: "Enabled: Fake Model One" }).isChecked(),
    ).toBe(true);

    // A new chat: the picker offers the model; the reply streams in small, slow pieces.
    web.fake.enqueue(
      textReply(REPLY, {
        chunkDelayMs: 25,
        usage: { inputTokens: 1200, outputTokens: 345 },
      }),
    );
    await page.getByRole("link", { name: "New chat" }).click();
    const picker = page.getByRole("combobox", { name: /^Model/ });
    await expect.poll(() => shownText(picker.locator("option:checked"))).toBe("Fake Model One");
    await startChatViaUi(page, "Show me a TypeScript snippet");

    // It streams: a reply still being written shows before the finished one.
    await streamingReply(page).waitFor();
    const reply = page.getByRole("article", { name: "Agent reply" });
    await reply.getByText("The first run went smoothly.").waitFor();
    await waitForTurnEnd(page);

    // Rendered Markdown: bold text and a highlighted TypeScript code block.
    await expect.poll(() => shownText(reply.locator("strong"))).toBe("answer");
    const code = reply.locator('pre[data-language="ts"] code');
    expect(await shownText(code)).toContain("const answer: number = 42;");
    expect(await code.locator(".hljs-keyword").count()).toBeGreaterThan(0);
    expect(await reply.locator("pre").count()).toBe(1);

    // Usage and cost: 1,200 in × $1000/M + 345 out × $2000/M = $1.2 + $0.69.
    await expect
      .poll(() => shownText(reply.locator(".msg-meta")), { timeout: UI_TIMEOUT })
      .toBe("1,200 in · 345 out tokens · $1.8900");

    // The reply is there once, the sidebar lists the chat as waiting, the composer is ready.
    const text = await shownText(transcript(page));
    expect(countOccurrences(text, "The first run went smoothly.")).toBe(1);
    expect(countOccurrences(text, "Show me a TypeScript snippet")).toBe(1);
    const sidebarLink = page
      .getByRole("navigation", { name: "Your chats" })
      .getByRole("link", { name: /Show me a TypeScript snippet/ });
    await expect.poll(() => sidebarLink.getAttribute("data-status")).toBe("waiting");
    expect(await composer(page).isEditable()).toBe(true);

    // The provider got the key the admin typed; the model id the admin entered. (The Models
    // page also asked it for its model list, a GET the fake does not serve.)
    const completions = web.fake.requests.filter((r) => r.method === "POST");
    expect(completions).toHaveLength(1);
    expect(completions[0]?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(completions[0]?.model).toBe("fake-model-1");
  });
});
