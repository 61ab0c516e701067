/**
 * The transcript follows a streaming reply only while the reader is at the bottom: one who scrolled
 * up to read something stays where they are while the reply goes on, and is followed again once
 * back at the bottom. (The listener that tells the two apart used to be attached before the chat
 * had loaded — to nothing — so every delta pulled the reader back down.)
 */
import { beforeAll, describe, expect, it } from "vitest";
import { type StreamEvent, textReply } from "../../fakeprovider/index.ts";
import {
  addProviderAndModelViaApi,
  createOwnerViaApi,
  startChatViaUi,
  TEST_TIMEOUT,
  useWeb,
  waitForTurnEnd,
} from "./support.ts";

const LONG = Array.from(
  { length: 80 },
  (_, i) => `Paragraph ${i + 1} of a long first answer, long enough to scroll.`,
).join("\n\n");

/** A reply that streams a line every 150 ms for a few seconds. */
function slowReply(lines: number) {
  const events: StreamEvent[] = [];
  for (let i = 1; i <= lines; i++) {
    events.push({ type: "silence", ms: 150 }, { type: "text", text: `Streamed line ${i}.\n\n` });
  }
  return { kind: "stream" as const, events, end: "complete" as const };
}

const scrollTop = `document.querySelector(".transcript").scrollTop`;
const gapToBottom = `(() => { const t = document.querySelector(".transcript"); return t.scrollHeight - t.scrollTop - t.clientHeight; })()`;

describe("web: following a streaming reply", { timeout: TEST_TIMEOUT }, () => {
  const web = useWeb();
  let token: string;

  beforeAll(async () => {
    token = await createOwnerViaApi(web.url);
    await addProviderAndModelViaApi(web.url, token, web.fake.url);
  });

  it("a reader who scrolled up stays put while the reply streams; at the bottom, it follows", async () => {
    const page = await web.signedInPage(token);
    await page.setViewportSize({ width: 1024, height: 700 });
    web.fake.enqueue(textReply(LONG));
    await page.goto(web.url);
    await startChatViaUi(page, "Write a lot");
    await waitForTurnEnd(page);

    web.fake.enqueue(slowReply(30));
    await page.getByRole("textbox", { name: "Message" }).fill("And more, slowly");
    await page.keyboard.press("Enter");
    await page.getByText("Streamed line 2.").waitFor();
    // Scroll up to read the first answer.
    await page.evaluate(`${scrollTop} = 0`);
    await page.mouse.move(500, 300);
    await page.mouse.wheel(0, -200);
    await page.getByText("Streamed line 8.").waitFor();
    expect((await page.evaluate(scrollTop)) as number).toBeLessThan(100);

    // Back at the bottom: followed again.
    await page.evaluate(
      `(() => { const t = document.querySelector(".transcript"); t.scrollTop = t.scrollHeight; })()`,
    );
    await page.getByText("Streamed line 16.").waitFor();
    expect((await page.evaluate(gapToBottom)) as number).toBeLessThan(80);
    await waitForTurnEnd(page);
  });
});
