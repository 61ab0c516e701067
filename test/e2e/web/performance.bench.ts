/**
 * The chat view stays responsive during a long, fast stream: a 20,000-token reply (one delta per
 * word, Markdown with code blocks) while Chromium's Performance API records long tasks and a
 * requestAnimationFrame loop records frame intervals. Prints the figures; asserts only what a
 * busy 2-core machine cannot blur: the whole reply arrives exactly once, and the main thread is
 * free for most of the stream.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  type StreamEvent,
  type StreamScript,
  splitWords,
  textReply,
} from "../../fakeprovider/index.ts";
import {
  addProviderAndModelViaApi,
  api,
  countOccurrences,
  createOwnerViaApi,
  sendViaUi,
  shownText,
  startChatViaUi,
  transcript,
  useWeb,
  waitForTurnEnd,
} from "./support.ts";

const TOKENS = 20_000;

/** Installed before the app loads: long tasks (PerformanceObserver) and every frame's time. */
const RECORDER = `(() => {
  const perf = { longTasks: [], frames: [] };
  window.__keelPerf = perf;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) perf.longTasks.push([e.startTime, e.duration]);
  }).observe({ type: "longtask", buffered: true });
  const tick = (t) => { perf.frames.push(t); requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  // When a streaming reply (aria-busy) appears and goes: the stream's window, in page time.
  perf.busy = [];
  let busy = false;
  new MutationObserver(() => {
    const now = document.querySelector('article[aria-busy="true"]') !== null;
    if (now !== busy) { busy = now; perf.busy.push([performance.now(), now]); }
  }).observe(document, { subtree: true, childList: true });
})()`;

/** Long tasks and frame intervals between two page times (performance.now()). */
const SUMMARY = (from: number, to: number) => `(() => {
  const perf = window.__keelPerf;
  const tasks = perf.longTasks.filter(([s, d]) => s + d >= ${from} && s <= ${to});
  const frames = perf.frames.filter((t) => t >= ${from} && t <= ${to});
  const intervals = frames.slice(1).map((t, i) => t - frames[i]).sort((a, b) => a - b);
  const pct = (p) => intervals.length ? intervals[Math.min(intervals.length - 1, Math.floor(p * intervals.length))] : 0;
  return {
    longTasks: tasks.length,
    longTaskMs: tasks.reduce((sum, [, d]) => sum + d, 0),
    maxLongTaskMs: tasks.reduce((max, [, d]) => Math.max(max, d), 0),
    frames: frames.length,
    p50FrameMs: pct(0.5),
    p95FrameMs: pct(0.95),
    maxFrameMs: intervals.length ? intervals[intervals.length - 1] : 0,
    framesOver50Ms: intervals.filter((d) => d > 50).length,
  };
})()`;

interface Summary {
  longTasks: number;
  longTaskMs: number;
  maxLongTaskMs: number;
  frames: number;
  p50FrameMs: number;
  p95FrameMs: number;
  maxFrameMs: number;
  framesOver50Ms: number;
}

/**
 * ~20,000 words of Markdown: numbered paragraphs (so a lost or doubled one shows), with a fenced
 * TypeScript block and a list every few paragraphs.
 */
function longMarkdown(words: number): { text: string; paragraphs: number } {
  const blocks: string[] = [];
  let count = 0;
  let paragraph = 0;
  while (count < words) {
    paragraph += 1;
    const sentence = `Paragraph ${paragraph} begins here, and it goes on about streaming text quickly without dropping frames or repeating itself`;
    const body = `${sentence}. ${sentence.replace("begins here", "continues")}.`;
    blocks.push(body);
    count += body.split(/\s+/).length;
    if (paragraph % 8 === 0) {
      const code = [
        "```ts",
        `export function step${paragraph}(input: number): number {`,
        `  const doubled = input * 2; // paragraph ${paragraph}`,
        "  return doubled + 1;",
        "}",
        "```",
      ].join("\n");
      blocks.push(code);
      count += code.split(/\s+/).length;
      blocks.push(`- first point of list ${paragraph}\n- second point of list ${paragraph}`);
      count += 12;
    }
  }
  return { text: blocks.join("\n\n"), paragraphs: paragraph };
}

interface Report {
  mode: string;
  tokens: number;
  streamMs: number;
  longTasks: number;
  longTaskMs: number;
  longTaskShare: number;
  maxLongTaskMs: number;
  frames: number;
  p50FrameMs: number;
  p95FrameMs: number;
  maxFrameMs: number;
  framesOver50Ms: number;
}

/** One delta per word; `burst` words at a time, `pauseMs` apart (0: as fast as the server goes). */
function wordStream(text: string, burst: number, pauseMs: number): StreamScript {
  const events: StreamEvent[] = [];
  for (const [i, word] of splitWords(text).entries()) {
    if (pauseMs > 0 && i > 0 && i % burst === 0) events.push({ type: "silence", ms: pauseMs });
    events.push({ type: "text", text: word });
  }
  events.push({ type: "finish", reason: "stop", usage: { inputTokens: 50, outputTokens: TOKENS } });
  return { kind: "stream", events, end: "complete" };
}

describe("web: performance", { timeout: 120_000 }, () => {
  const web = useWeb();
  let token: string;

  beforeAll(async () => {
    token = await createOwnerViaApi(web.url);
    await addProviderAndModelViaApi(web.url, token, web.fake.url);
  });

  /**
   * Streams the long reply into a chat the page follows; checks that all of it arrived exactly
   * once (on the page and in the saved message); returns the figures of the stream's window.
   */
  async function measure(mode: string, stream: (text: string) => StreamScript): Promise<Report> {
    const { text, paragraphs } = longMarkdown(TOKENS);
    web.fake.enqueue(textReply("Ready."));
    const page = await web.signedInPage(token, { initScript: RECORDER });
    await page.goto(web.url);
    const chatId = await startChatViaUi(page, `Stream a very long answer (${mode})`);
    await transcript(page).getByText("Ready.").waitFor();
    await waitForTurnEnd(page);

    web.fake.enqueue(stream(text));
    const sent = (await page.evaluate("performance.now()")) as number;
    await sendViaUi(page, "Now the long one");
    await page
      .getByRole("article", { name: "Agent reply" })
      .last()
      .getByText(`Paragraph ${paragraphs} continues`)
      .first()
      .waitFor({ timeout: 90_000 });
    await waitForTurnEnd(page, "waiting", 30_000);
    // The stream's window: from the draft's first frame to the saved reply replacing it (from
    // the send when the page never showed a draft: the whole reply came within one frame).
    const busy = (await page.evaluate("window.__keelPerf.busy")) as Array<[number, boolean]>;
    const shownAt = busy.filter(([t, b]) => b && t >= sent).map(([t]) => t);
    const start = shownAt[0] ?? sent;
    const end =
      busy.findLast(([t, b]) => !b && t >= start)?.[0] ??
      ((await page.evaluate("performance.now()")) as number);

    // The whole reply, each paragraph exactly once, and the server saved the same text.
    const shown = await shownText(transcript(page));
    const missingOrDoubled: string[] = [];
    for (let i = 1; i <= paragraphs; i++) {
      const n = countOccurrences(shown, `Paragraph ${i} begins here,`);
      if (n !== 1) missingOrDoubled.push(`${i}×${n}`);
    }
    expect(missingOrDoubled).toEqual([]);
    expect(countOccurrences(shown, "export function step8(")).toBe(1);
    const saved = await api<{ messages: Array<{ parts: Array<{ text?: string }> }> }>(
      web.url,
      token,
      "GET",
      `/chats/${chatId}`,
    );
    expect(
      saved.body.messages
        .at(-1)
        ?.parts.map((p) => p.text ?? "")
        .join(""),
    ).toBe(text);

    const figures = (await page.evaluate(SUMMARY(start, end))) as Summary;
    const streamMs = end - start;
    const report: Report = {
      mode,
      tokens: TOKENS,
      streamMs: Math.round(streamMs),
      longTasks: figures.longTasks,
      longTaskMs: Math.round(figures.longTaskMs),
      longTaskShare: Number((figures.longTaskMs / streamMs).toFixed(3)),
      maxLongTaskMs: Math.round(figures.maxLongTaskMs),
      frames: figures.frames,
      p50FrameMs: Number(figures.p50FrameMs.toFixed(1)),
      p95FrameMs: Number(figures.p95FrameMs.toFixed(1)),
      maxFrameMs: Math.round(figures.maxFrameMs),
      framesOver50Ms: figures.framesOver50Ms,
    };
    console.log(`web performance: ${JSON.stringify(report)}`);
    expect(figures.frames).toBeGreaterThan(0);
    return report;
  }

  it(`a ${TOKENS.toLocaleString("en-US")}-token reply at ~5,000 tokens/s keeps the main thread free`, async () => {
    // 250 words every 50 ms: far faster than a real model, spread over a few seconds of frames.
    const report = await measure("paced", (text) => wordStream(text, 250, 50));
    // Bounds a loaded 2-core machine keeps (measured idle: no long task, p95 frame 16.8 ms;
    // before per-block HTML was reused, the saved reply's render alone was a 350-450 ms task).
    expect(report.longTaskShare).toBeLessThan(0.25);
    expect(report.maxLongTaskMs).toBeLessThan(300);
    expect(report.p95FrameMs).toBeLessThan(100);
  });

  it(`a ${TOKENS.toLocaleString("en-US")}-token reply as fast as the server relays it never freezes the page`, async () => {
    // All 20,000 deltas at once (~1-2 s): a stress test; the page batches them per frame.
    const report = await measure("burst", (text) => wordStream(text, 0, 0));
    expect(report.maxLongTaskMs).toBeLessThan(1_000);
    expect(report.longTaskShare).toBeLessThan(0.9);
  });
});
