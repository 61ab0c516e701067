/**
 * Messages and turns in the browser (issue 12), against a real `keel server` and the fake
 * provider: Copy on a reply and on a code block (with its language); Edit on the user's message —
 * the editor says the later messages will leave, Save reruns, and the model hears the edit and
 * nothing after it; ↑ in the empty composer edits the last message; Regenerate on the last reply;
 * a stopped reply marked "Stopped" after a reload; a retried reply's quiet note; a turn's error
 * kept in place after the next turn. Screenshots into `UI_SHOTS`.
 */
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { errorReply, hangAfter, textReply } from "../../fakeprovider/index.ts";
import {
  addProviderAndModelViaApi,
  composer,
  createOwnerViaApi,
  normalize,
  sendViaUi,
  shootWidths,
  shownText,
  startChatViaUi,
  streamingReply,
  TEST_TIMEOUT,
  transcript,
  transcriptText,
  UI_TIMEOUT,
  useWeb,
  waitForTurnEnd,
} from "./support.ts";

/** What the page's clipboard holds (the test's tsconfig has no DOM types: the string form). */
const clipboard = (page: Page) => page.evaluate<string>("navigator.clipboard.readText()");

const CODE = "const answer = 42;\nconsole.log(answer);";
const REPLY_WITH_CODE = `Here it is:\n\n\`\`\`ts\n${CODE}\n\`\`\`\n\nThat prints 42.`;

describe("web: edit and rerun, regenerate, copy", { timeout: TEST_TIMEOUT }, () => {
  // Retries in milliseconds, so a retried reply is quick to get.
  const web = useWeb({ env: { KEEL_RETRY_BASE_DELAY_MS: "20", KEEL_RETRY_MAX_DELAY_MS: "50" } });
  let token: string;

  beforeAll(async () => {
    token = await createOwnerViaApi(web.url);
    await addProviderAndModelViaApi(web.url, token, web.fake.url);
  });

  async function openChat(first: string, reply: string): Promise<Page> {
    web.fake.enqueue(textReply(reply));
    const page = await web.signedInPage(token);
    await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
    await page.goto(web.url);
    await startChatViaUi(page, first);
    await waitForTurnEnd(page);
    return page;
  }

  const replies = (page: Page) => page.getByRole("article", { name: "Agent reply" });
  const userMessages = (page: Page) => transcript(page).locator("article.msg-user");
  /** What the model was sent in request `n` (0-based), as text. */
  const prompt = (n: number) => JSON.stringify(web.fake.requests[n]?.body ?? null);

  it("copies a reply and its code block, and names the block's language", async () => {
    const page = await openChat("Show me some code", REPLY_WITH_CODE);
    const reply = replies(page).last();
    await reply.locator("pre").waitFor();

    const head = reply.locator(".code-head");
    expect(await shownText(head.locator(".code-lang"))).toBe("ts");
    const copyCode = head.getByRole("button", { name: "Copy the ts code" });
    await copyCode.click();
    expect(await clipboard(page)).toBe(CODE);
    expect(await shownText(copyCode)).toBe("Copied");

    await reply.getByRole("button", { name: "Copy the message" }).click();
    expect(await clipboard(page)).toBe(REPLY_WITH_CODE);

    // The model's name and a time beside the reply; the full date on hover.
    const header = reply.locator(".msg-role");
    expect(normalize(await shownText(header))).toBe("Fake model just now");
    expect(await header.locator("time").getAttribute("title")).toMatch(/\d{4}/);
    await shootWidths(page, "messages-copy");
  });

  it("edit and rerun: the later messages leave, the model hears only the edit", async () => {
    const page = await openChat("Name a colour", "Blue.");
    web.fake.enqueue(textReply("Green."));
    await sendViaUi(page, "Another one");
    await transcript(page).getByText("Green.").waitFor();
    await waitForTurnEnd(page);

    const first = userMessages(page).first();
    await first.hover();
    await first.getByRole("button", { name: "Edit" }).click();
    const editor = first.getByRole("form", { name: "Edit the message" });
    await editor.waitFor();
    // Before saving, it says plainly what saving does.
    expect(normalize(await shownText(editor))).toContain(
      "The 3 messages after this one will leave the transcript, and the chat runs again from here.",
    );
    await shootWidths(page, "messages-edit");
    await editor.getByRole("textbox", { name: "Message" }).fill("Name a fruit");
    web.fake.enqueue(textReply("A pear."));
    await editor.getByRole("button", { name: "Save and rerun" }).click();

    await transcript(page).getByText("A pear.").waitFor({ timeout: UI_TIMEOUT });
    await waitForTurnEnd(page);
    const shown = await transcriptText(page);
    for (const gone of ["Blue.", "Another one", "Green.", "Name a colour"]) {
      expect(shown).not.toContain(gone);
    }
    expect(shown).toContain("Name a fruit");
    expect(web.fake.requests).toHaveLength(3);
    expect(prompt(2)).toContain("Name a fruit");
    for (const gone of ["colour", "Blue.", "Another one", "Green."]) {
      expect(prompt(2)).not.toContain(gone);
    }

    // A reload shows the same transcript: the server removed them, not just the page.
    await page.reload();
    await transcript(page).getByText("A pear.").waitFor();
    expect(await transcriptText(page)).not.toContain("Blue.");
  });

  it("↑ in the empty composer edits the last message; Esc cancels", async () => {
    const page = await openChat("First question", "First answer.");
    web.fake.enqueue(textReply("Second answer."));
    await sendViaUi(page, "Second question");
    await transcript(page).getByText("Second answer.").waitFor();
    await waitForTurnEnd(page);

    await composer(page).focus();
    await composer(page).press("ArrowUp");
    const last = userMessages(page).last();
    const editor = last.getByRole("form", { name: "Edit the message" });
    await editor.waitFor();
    expect(await editor.getByRole("textbox").inputValue()).toBe("Second question");
    expect(normalize(await shownText(editor))).toContain("The message after this one will leave");
    await editor.getByRole("textbox").press("Escape");
    expect(await editor.count()).toBe(0);
    expect(await transcriptText(page)).toContain("Second answer.");
  });

  it("a retried reply says so quietly; an error stays where it happened, in the server's words", async () => {
    web.fake.enqueue(errorReply("overloaded"), errorReply("overloaded"), textReply("Made it."));
    const page = await web.signedInPage(token);
    await page.goto(web.url);
    await startChatViaUi(page, "Try hard");
    await transcript(page).getByText("Made it.").waitFor({ timeout: UI_TIMEOUT });
    await waitForTurnEnd(page);
    const retried = replies(page).last().locator("[data-note=retried]");
    expect(normalize(await shownText(retried))).toMatch(/^retried 2× — .*overloaded/i);

    web.fake.enqueue(errorReply("auth"));
    await sendViaUi(page, "And again");
    const error = transcript(page).locator(".msg-error");
    await error.waitFor({ timeout: UI_TIMEOUT });
    await waitForTurnEnd(page, "error");
    // One notice: the error in place, not a second one under the transcript; it can be retried.
    expect(await page.locator(".msg-error, .error-box[data-kind]").count()).toBe(1);
    expect(await replies(page).last().getByRole("button", { name: "Try again" }).count()).toBe(1);
    await shootWidths(page, "messages-error");

    web.fake.enqueue(textReply("Fine now."));
    await sendViaUi(page, "Once more");
    await transcript(page).getByText("Fine now.").waitFor({ timeout: UI_TIMEOUT });
    await waitForTurnEnd(page);
    await page.reload();
    await transcript(page).getByText("Fine now.").waitFor();
    expect(await error.count()).toBe(1);
    const shown = await transcriptText(page);
    expect(shown.indexOf("And again")).toBeLessThan(shown.indexOf("The turn failed."));
    expect(shown.indexOf("The turn failed.")).toBeLessThan(shown.indexOf("Once more"));
    // The model never heard the error.
    expect(prompt(web.fake.requests.length - 1)).not.toContain("The turn failed");
    expect(prompt(web.fake.requests.length - 1)).not.toContain("API key");
  });

  it("regenerate replaces the last reply; a stopped reply says so, also after a reload", async () => {
    const page = await openChat("Tell me a joke", "Why did the chicken…");
    const reply = replies(page).last();
    await reply.hover();
    web.fake.enqueue(hangAfter("A better one: knock kn", 3));
    await reply.getByRole("button", { name: "Regenerate" }).click();
    await streamingReply(page).getByText("A better one").waitFor({ timeout: UI_TIMEOUT });
    expect(await transcriptText(page)).not.toContain("chicken");
    // Regenerate is offered only while no turn runs.
    expect(await page.getByRole("button", { name: "Regenerate" }).count()).toBe(0);

    await page.getByRole("button", { name: "Stop", exact: true }).click();
    await waitForTurnEnd(page);
    const stopped = replies(page).last();
    await stopped.locator("[data-note=stopped]").waitFor();
    expect(web.fake.requests).toHaveLength(2);
    expect(prompt(1)).toContain("Tell me a joke");
    expect(prompt(1)).not.toContain("chicken");

    await page.reload();
    await transcript(page).getByText("A better one").waitFor();
    expect(await shownText(replies(page).last().locator("[data-note=stopped]"))).toBe("Stopped");
    await shootWidths(page, "messages-stopped");

    // Regenerate the stopped reply: one reply again, the new one.
    web.fake.enqueue(textReply("Knock knock."));
    await replies(page).last().hover();
    await replies(page).last().getByRole("button", { name: "Regenerate" }).click();
    await transcript(page).getByText("Knock knock.").waitFor({ timeout: UI_TIMEOUT });
    await waitForTurnEnd(page);
    expect(await replies(page).count()).toBe(1);
  });
});
