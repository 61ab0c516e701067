/**
 * A chat through trouble, in the browser, against one real `keel server` and the fake provider:
 * - the provider resets the stream mid-reply → a calm retry banner with a live countdown, the
 *   partial reply kept (dimmed) meanwhile, then the full reply, once;
 * - Stop (button and Esc) mid-reply → the partial text stays, the chat waits, the composer works;
 *   a follow-up queued behind the stopped reply gets a turn that can be stopped in turn;
 * - a terminal 401 → the error in words with what to do, in place in the transcript (where it
 *   stays); the admin replaces the key on the Providers page and the next message succeeds;
 * - a page reload and a dropped connection mid-stream → the view ends as a fresh load shows it.
 * Each test starts its own chat.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorReply, hangAfter, type StreamScript, textReply } from "../../fakeprovider/index.ts";
import {
  addProviderAndModelViaApi,
  api,
  composer,
  countOccurrences,
  createOwnerViaApi,
  headerStatus,
  normalize,
  sendViaUi,
  shownText,
  startChatViaUi,
  startTcpProxy,
  streamingReply,
  type TcpProxy,
  TEST_TIMEOUT,
  transcript,
  transcriptText,
  UI_SHOTS,
  UI_TIMEOUT,
  useWeb,
  waitForTurnEnd,
} from "./support.ts";

const OLD_KEY = "sk-revoked-0a1b2c";
const NEW_KEY = "sk-fresh-9z8y7x";

describe("web: a chat through trouble", { timeout: TEST_TIMEOUT }, () => {
  const web = useWeb();
  let token: string;
  /** Between the browser and the server, for the tests that cut the connection. */
  let proxy: TcpProxy;

  beforeAll(async () => {
    token = await createOwnerViaApi(web.url);
    await addProviderAndModelViaApi(web.url, token, web.fake.url, { apiKey: OLD_KEY });
    proxy = await startTcpProxy(Number(new URL(web.url).port));
  });
  afterAll(() => proxy?.close());

  /** A signed-in page on a new chat whose first message is `title`. */
  async function openChat(title: string, origin = web.url): Promise<Page> {
    const page = await web.signedInPage(token);
    await page.goto(origin);
    await startChatViaUi(page, title);
    return page;
  }

  const sidebarLink = (page: Page, title: string) =>
    page
      .getByRole("navigation", { name: "Your chats" })
      .getByRole("link", { name: new RegExp(title) });

  describe("retry", () => {
    const FIRST = "Retries are calm.";
    const UNIQUE = "The reply arrives exactly once, after the banner.";
    const REPLY = `${FIRST} ${UNIQUE} Nothing from the failed attempt is left behind.`;

    /** Samples the retry banner's text until it goes away; returns every distinct text seen. */
    async function watchBanner(page: Page, seen: string[], timeoutMs: number): Promise<string[]> {
      const banner = page.getByRole("status").filter({ hasText: /retrying/ });
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if ((await banner.count()) === 0) return seen;
        const text = await shownText(banner, { timeout: 500 }).catch(() => null);
        if (text === null) return seen;
        if (seen.at(-1) !== text) seen.push(text);
        await page.waitForTimeout(100);
      }
      throw new Error(`the retry banner stayed for ${timeoutMs} ms: ${seen.join(" | ")}`);
    }

    it("a reset mid-reply shows the retry banner counting down, then the full reply once", async () => {
      // The page follows the chat before the fault: a first, plain turn…
      web.fake.enqueue(textReply("Ready when you are."));
      const page = await openChat("Tell me about retries");
      await transcript(page).getByText("Ready when you are.").waitFor();
      await waitForTurnEnd(page);

      // …then a reply the provider resets. Its partial text stays a moment before the reset, so
      // the test sees it go; the reset response asks for 2 s (Retry-After), so the countdown is
      // long enough to watch whatever the jittered backoff draws.
      const resetMidReply: StreamScript = {
        kind: "stream",
        events: [
          { type: "text", text: `${FIRST} ` },
          { type: "text", text: "The reply" },
          { type: "silence", ms: 600 },
        ],
        end: "reset",
        headers: { "retry-after": "2" },
      };
      web.fake.enqueue(resetMidReply, textReply(REPLY, { chunkDelayMs: 20 }));
      await sendViaUi(page, "Go on");

      // The failed attempt streams first…
      await streamingReply(page).getByText(FIRST).waitFor();
      // …then the banner, in human words, naming the next attempt. The partial reply does not
      // vanish: it stays, dimmed, until the retried attempt re-streams it.
      const banner = page.getByRole("status").filter({ hasText: /retrying in \d+ s, attempt 2/ });
      await banner.waitFor();
      const firstText = await shownText(banner);
      const stale = transcript(page).locator("[data-stale]");
      expect(normalize(await shownText(stale))).toBe(`${FIRST} The reply`);
      mkdirSync(UI_SHOTS, { recursive: true });
      await page.screenshot({ path: join(UI_SHOTS, "retry-kept-1280-light.png") });

      const texts = await watchBanner(page, [firstText], 10_000);
      const seconds = texts.flatMap((t) => {
        const match = /retrying in (\d+) s, attempt 2/.exec(t);
        return match ? [Number(match[1])] : [];
      });
      // A live countdown: several values, each smaller than the one before.
      expect(seconds.length, texts.join(" | ")).toBeGreaterThanOrEqual(2);
      expect(seconds, texts.join(" | ")).toEqual([...seconds].sort((a, b) => b - a));
      expect(seconds[0]).toBeGreaterThanOrEqual(2);
      expect(texts.join("\n")).not.toMatch(/error:|stack|undefined|\[object/i);

      // The retried attempt's reply, complete and once; the banner is gone.
      await page.getByRole("article", { name: "Agent reply" }).getByText(UNIQUE).waitFor();
      await waitForTurnEnd(page);
      const body = await shownText(page.locator("body"));
      expect(countOccurrences(body, UNIQUE)).toBe(1);
      expect(countOccurrences(body, FIRST)).toBe(1);
      expect(
        await page
          .getByRole("status")
          .filter({ hasText: /retrying/ })
          .count(),
      ).toBe(0);
      expect(web.fake.requests).toHaveLength(3);

      // A fresh load of the chat shows the same transcript.
      const live = await transcriptText(page);
      await page.reload();
      await transcript(page).getByText(UNIQUE).waitFor();
      expect(await transcriptText(page)).toBe(live);
    });
  });

  describe("stop", () => {
    /** A new chat whose reply streams a few words and then hangs. */
    async function chatWithHangingReply(title: string, partial: string): Promise<Page> {
      web.fake.enqueue(hangAfter(partial, 4, { chunkDelayMs: 30 }));
      const page = await openChat(title);
      await streamingReply(page).getByText(partial).waitFor();
      expect(await headerStatus(page)).toBe("running");
      expect(await page.getByRole("button", { name: "Stop", exact: true }).isVisible()).toBe(true);
      return page;
    }

    /** After a stop: partial text kept as the reply, status waiting, no error, composer ready. */
    async function expectStopped(page: Page, title: string, partial: string) {
      await waitForTurnEnd(page);
      const reply = page.getByRole("article", { name: "Agent reply" });
      await expect.poll(() => reply.count()).toBe(1);
      expect(await reply.getByText(partial).isVisible()).toBe(true);
      expect(await page.getByRole("alert").count()).toBe(0);
      expect(await page.getByRole("button", { name: "Stop", exact: true }).count()).toBe(0);
      await expect
        .poll(() => sidebarLink(page, title).getAttribute("data-status"), { timeout: UI_TIMEOUT })
        .toBe("waiting");
      // The provider's request was cancelled, not left hanging.
      await expect.poll(() => web.fake.inFlight).toBe(0);

      // The composer takes the next message and the chat goes on.
      expect(await composer(page).isEditable()).toBe(true);
      web.fake.enqueue(textReply("Continuing after the stop."));
      await sendViaUi(page, "Continue");
      await transcript(page).getByText("Continuing after the stop.").waitFor();
      await waitForTurnEnd(page);
      expect(await shownText(transcript(page))).toContain(partial);
    }

    it("the Stop button stops a reply mid-stream", async () => {
      const partial = "The first half of an answer";
      const page = await chatWithHangingReply("Stop with the button", partial);
      await page.getByRole("button", { name: "Stop", exact: true }).click();
      await expectStopped(page, "Stop with the button", partial);
    });

    it("Esc in the composer stops a reply mid-stream", async () => {
      const partial = "Another half of an answer";
      const page = await chatWithHangingReply("Stop with Escape", partial);
      await composer(page).focus();
      await composer(page).press("Escape");
      await expectStopped(page, "Stop with Escape", partial);
    });

    it("after Stop, a queued follow-up's turn has its Stop button, and Esc stops it", async () => {
      const first = "The first reply, cut short";
      const second = "The follow-up's reply, cut short too";
      web.fake.enqueue(
        hangAfter(first, 4, { chunkDelayMs: 30 }),
        hangAfter(second, 4, { chunkDelayMs: 30 }),
      );
      const page = await chatWithHangingReply("Stop, then a queued follow-up", first);

      // A follow-up sent while the reply streams waits behind it.
      await sendViaUi(page, "And a follow-up");
      await transcript(page).locator(".msg-queued").getByText("And a follow-up").waitFor();
      await page.getByRole("button", { name: "Stop", exact: true }).click();

      // The first reply stops; the follow-up's turn starts at once (the chat stays running)…
      await streamingReply(page).getByText(second).waitFor();
      const replies = page.getByRole("article", { name: "Agent reply" });
      expect(await replies.filter({ hasText: first }).getAttribute("aria-busy")).not.toBe("true");
      expect(await transcript(page).locator(".msg-queued").count()).toBe(0);
      expect(await headerStatus(page)).toBe("running");
      // …and can be stopped like any turn: its Stop button shows, and Esc stops it.
      await page.getByRole("button", { name: "Stop", exact: true }).waitFor();
      expect(await shownText(page.locator(".composer .hint"))).toContain("Esc stops the turn");
      await composer(page).focus();
      await composer(page).press("Escape");
      await waitForTurnEnd(page);
      await expect.poll(() => web.fake.inFlight).toBe(0);
      expect(await page.getByRole("button", { name: "Stop", exact: true }).count()).toBe(0);
      expect(await replies.count()).toBe(2);
      expect(await replies.nth(1).getByText(second).isVisible()).toBe(true);
      expect(web.fake.requests).toHaveLength(2);
    });
  });

  describe("provider auth error", () => {
    it("a 401 shows its message and advice; after the admin replaces the key the chat goes on", async () => {
      web.fake.enqueue(errorReply("auth"));
      const page = await openChat("Check the key");
      const chatId = decodeURIComponent(new URL(page.url()).pathname.split("/").at(-1) ?? "");

      // The error, in place in the transcript, in the server's words — one sentence that says
      // what to do, nothing added by the page — and for an admin a way to the provider's page.
      const alert = transcript(page).locator(".msg-error").filter({ hasText: "The turn failed." });
      await alert.waitFor();
      await waitForTurnEnd(page, "error");
      const detail = await api<{ chat: { last_error: { kind: string; message: string } } }>(
        web.url,
        token,
        "GET",
        `/chats/${chatId}`,
      );
      expect(detail.body.chat.last_error.kind).toBe("auth");
      const alertText = normalize(await shownText(alert));
      expect(alertText).toBe(
        `The turn failed. ${normalize(detail.body.chat.last_error.message)} Open the providers page`,
      );
      expect(alertText).not.toMatch(/stack|at \w+ \(|\[object/);
      expect(await alert.getByRole("link", { name: "Open the providers page" }).count()).toBe(1);
      const link = sidebarLink(page, "Check the key");
      await expect
        .poll(() => link.getAttribute("data-status"), { timeout: UI_TIMEOUT })
        .toBe("error");
      expect(await shownText(link)).toContain("Failed");
      expect(await composer(page).isEditable()).toBe(true);
      expect(web.fake.requests).toHaveLength(1);

      // The admin replaces the key; the page says a key is set and never shows it.
      await page
        .getByRole("navigation", { name: "Administration" })
        .getByRole("link", { name: "Providers" })
        .click();
      const row = page.getByRole("row", { name: /Fake provider/ });
      await row.getByRole("button", { name: "Replace key" }).click();
      await row.getByLabel("New API key for Fake provider").fill(NEW_KEY);
      await row.getByRole("button", { name: "Save key" }).click();
      await row.getByRole("button", { name: "Replace key" }).waitFor();
      expect(normalize(await shownText(row))).toContain("set");
      expect(await shownText(page.locator("body"))).not.toContain(NEW_KEY);

      // Back in the chat: the next message succeeds; the error stays where it happened.
      web.fake.enqueue(textReply("Authorized at last."));
      await link.click();
      await page.getByRole("heading", { name: "Check the key" }).waitFor();
      await alert.waitFor(); // still in error until the next turn starts
      await sendViaUi(page, "Try again");
      await transcript(page).getByText("Authorized at last.").waitFor();
      await waitForTurnEnd(page);
      expect(await headerStatus(page)).toBe("waiting");
      expect(await page.getByRole("alert").count()).toBe(0);
      expect(await alert.count()).toBe(1);
      const shown = await transcriptText(page);
      expect(shown.indexOf("The turn failed.")).toBeLessThan(shown.indexOf("Try again"));
      await expect
        .poll(() => link.getAttribute("data-status"), { timeout: UI_TIMEOUT })
        .toBe("waiting");

      // The provider saw the old key, then the new one.
      expect(web.fake.requests.map((r) => r.headers.authorization)).toEqual([
        `Bearer ${OLD_KEY}`,
        `Bearer ${NEW_KEY}`,
      ]);
    });
  });

  describe("reconnect", () => {
    /** A reply of numbered sentences, so a lost or doubled piece shows. */
    function longReply(tag: string, sentences: number): string {
      const out: string[] = [];
      for (let i = 1; i <= sentences; i++) out.push(`${tag} sentence ${i} of ${sentences}.`);
      return out.join(" ");
    }

    function expectEachSentenceOnce(text: string, tag: string, sentences: number) {
      const counts = [];
      for (let i = 1; i <= sentences; i++) {
        counts.push(countOccurrences(text, `${tag} sentence ${i} of ${sentences}.`));
      }
      expect(counts).toEqual(counts.map(() => 1));
    }

    /** The chat as a fresh page load shows it. */
    async function freshView(page: Page, marker: string): Promise<string> {
      const fresh = await page.context().newPage();
      await fresh.goto(page.url());
      await transcript(fresh).getByText(marker).waitFor();
      await waitForTurnEnd(fresh);
      const text = await transcriptText(fresh);
      await fresh.close();
      return text;
    }

    it("a reload mid-stream shows the reply from its start and ends as a fresh load shows it", async () => {
      // ~4 words a sentence, a word every 15 ms: about 4 s of streaming.
      web.fake.enqueue(textReply(longReply("Reloaded", 60), { chunkDelayMs: 15 }));
      const page = await openChat("Reload mid-stream");
      await streamingReply(page).getByText("Reloaded sentence 5 of 60.").waitFor();
      await page.reload();
      // While it still streams, the reloaded page shows the reply from its first word (it
      // replays the step from the chat's `replay_from_seq`), not only what came after the reload.
      const draft = streamingReply(page);
      await draft
        .getByText(/Reloaded sentence [1-5]\d of 60\./)
        .first()
        .waitFor();
      expect(await shownText(draft)).toContain(
        "Reloaded sentence 1 of 60. Reloaded sentence 2 of 60.",
      );
      const last = "Reloaded sentence 60 of 60.";
      await page.getByRole("article", { name: "Agent reply" }).getByText(last).waitFor();
      await waitForTurnEnd(page);
      const live = await transcriptText(page);
      expectEachSentenceOnce(live, "Reloaded", 60);
      expect(live).toBe(await freshView(page, last));
    });

    it("a dropped connection shows Reconnecting…, then resumes with nothing lost or doubled", async () => {
      web.fake.enqueue(textReply(longReply("Offline", 40), { chunkDelayMs: 25 }));
      const page = await openChat("Offline mid-stream", proxy.url);
      await streamingReply(page).getByText("Offline sentence 5 of 40.").waitFor();

      // The connection drops (the proxy resets it) and the network stays down for a second,
      // while the reply goes on streaming on the server.
      await page.context().setOffline(true);
      expect(proxy.drop()).toBeGreaterThan(0);
      const indicator = page.getByRole("status").filter({ hasText: "Reconnecting…" });
      await indicator.waitFor();
      await page.waitForTimeout(1_000);
      await page.context().setOffline(false);

      const last = "Offline sentence 40 of 40.";
      await page.getByRole("article", { name: "Agent reply" }).getByText(last).waitFor();
      await waitForTurnEnd(page);
      await indicator.waitFor({ state: "detached" });
      const live = await transcriptText(page);
      expectEachSentenceOnce(live, "Offline", 40);
      expect(live).toBe(await freshView(page, last));
    });
  });
});
