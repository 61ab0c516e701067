// The reply the stream benchmark plays: a long text in small deltas, rendered once as the exact
// OpenAI Chat Completions SSE body the fake provider sends (its own renderer, test/fakeprovider).

import { createRenderer, providerHeaders } from "../test/fakeprovider/render.ts";
import type { StreamEvent } from "../test/fakeprovider/script.ts";

export const BENCH_MODEL = "gpt-bench";
export const CHAT_PATH = "/v1/chat/completions";

/** Short English-ish words; each delta is one of them with a leading space, like a BPE token. */
const WORDS = (
  "the of and to in is it that for on with as was be at by this are or from an not but have " +
  "keel stream token model reply chat agent tool call code test fast loop step part delta text " +
  "we you they can will all one more when so if out up its use what time new each which"
).split(" ");

/** The reply's deltas: `tokens` pieces from a fixed-seed generator, so every run sends the same. */
export function replyDeltas(tokens: number): string[] {
  let seed = 0x9e3779b9;
  const next = () => {
    // xorshift32
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x1_0000_0000;
  };
  const out: string[] = [];
  for (let i = 0; i < tokens; i++) {
    const word = WORDS[Math.floor(next() * WORDS.length)] ?? "x";
    // Sentence breaks now and then, so some deltas carry punctuation and newlines.
    const r = next();
    out.push(r < 0.04 ? `${word}.\n` : r < 0.1 ? `${word},` : ` ${word}`);
  }
  return out;
}

export interface RenderedReply {
  /** The whole SSE body: role chunk, one chunk per delta, finish + usage chunks, `[DONE]`. */
  body: string;
  /** Bytes of the body up to and including the first text delta's frame. */
  firstFrameBytes: number;
  headers: Record<string, string>;
}

/** Renders the reply exactly as the fake provider's `openai-chat` route would stream it. */
export function renderReply(deltas: readonly string[]): RenderedReply {
  const renderer = createRenderer("openai-chat", {
    model: BENCH_MODEL,
    requestNumber: 1,
    usage: { inputTokens: 12, outputTokens: deltas.length },
  });
  const frames: string[] = [renderer.start()];
  for (const text of deltas) {
    const event: StreamEvent = { type: "text", text };
    frames.push(renderer.event(event));
  }
  frames.push(renderer.event({ type: "finish", reason: "stop" }));
  const body = frames.join("");
  const firstFrameBytes = Buffer.byteLength((frames[0] ?? "") + (frames[1] ?? ""));
  return {
    body,
    firstFrameBytes,
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      ...providerHeaders("openai-chat", 1),
    },
  };
}

export interface ReplyFrames {
  /** The role chunk (sent with the headers). */
  start: string;
  /** One `chat.completion.chunk` frame per delta, in order. */
  deltas: string[];
  /** `finish_reason` chunk + usage chunk + `data: [DONE]`. */
  end: string;
  headers: Record<string, string>;
}

/** The same reply as `renderReply`, frame by frame, for a server that paces its deltas. */
export function renderFrames(deltas: readonly string[]): ReplyFrames {
  const renderer = createRenderer("openai-chat", {
    model: BENCH_MODEL,
    requestNumber: 1,
    usage: { inputTokens: 12, outputTokens: deltas.length },
  });
  return {
    start: renderer.start(),
    deltas: deltas.map((text) => renderer.event({ type: "text", text })),
    end: renderer.event({ type: "finish", reason: "stop" }),
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      ...providerHeaders("openai-chat", 1),
    },
  };
}
