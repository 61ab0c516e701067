/**
 * A streamed Markdown reply, in the browser, renders as the whole text does (issue 10, item 15):
 * a reference link defined at the end is a link, a loose list is one list, a list item keeps its
 * second paragraph, indented code keeps its blank line — while it streams, once saved, and after
 * a reload.
 */
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { textReply } from "../../fakeprovider/index.ts";
import {
  addProviderAndModelViaApi,
  createOwnerViaApi,
  startChatViaUi,
  TEST_TIMEOUT,
  useWeb,
  waitForTurnEnd,
} from "./support.ts";

const REPLY = [
  "Read [the docs][1] first.",
  "Steps:",
  "- one\n\n- two\n\n- three",
  "1. First item.\n\n   Its second paragraph.\n\n2. Second item.",
  "Code:",
  "    a = 1\n\n    b = 2",
  "[1]: https://example.com/docs",
].join("\n\n");

/** What the reply shows, structurally. */
async function shape(page: Page) {
  const reply = page.getByRole("article", { name: "Agent reply" }).last().locator(".markdown");
  return {
    links: await Promise.all((await reply.locator("a").all()).map((a) => a.getAttribute("href"))),
    literalRefs: ((await reply.textContent()) ?? "").includes("[1]"),
    bulletLists: await reply.locator("ul").count(),
    bullets: await reply.locator("ul > li").count(),
    numbered: await reply.locator("ol > li").count(),
    secondParagraphInItem: await reply.locator("ol > li p", { hasText: "Its second" }).count(),
    code: await reply.locator("pre code").allTextContents(),
  };
}

const EXPECTED = {
  links: ["https://example.com/docs"],
  literalRefs: false,
  bulletLists: 1,
  bullets: 3,
  numbered: 2,
  secondParagraphInItem: 1,
  code: ["a = 1\n\nb = 2"],
};

describe("web: a Markdown reply", { timeout: TEST_TIMEOUT }, () => {
  const web = useWeb();
  let token: string;

  beforeAll(async () => {
    token = await createOwnerViaApi(web.url);
    await addProviderAndModelViaApi(web.url, token, web.fake.url);
  });

  it("renders block by block as the whole text: reference links, loose lists, indented code", async () => {
    web.fake.enqueue(textReply(REPLY, { chunkDelayMs: 5 }));
    const page = await web.signedInPage(token);
    await page.goto(web.url);
    await startChatViaUi(page, "Show me Markdown");
    await waitForTurnEnd(page);
    expect(await shape(page)).toEqual(EXPECTED);
    await page.reload();
    await waitForTurnEnd(page);
    expect(await shape(page)).toEqual(EXPECTED);
  });
});
