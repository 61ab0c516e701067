import { describe, expect, it } from "vitest";
import type { ChatModel, StreamPart } from "../provider/types.ts";
import type { Chat, ChatEvent, Message } from "../store/types.ts";
import {
  cleanTitle,
  deriveTitle,
  GENERATED_TITLE_LENGTH,
  titleFirstExchange,
  UNTITLED,
} from "./title.ts";

const text = (t: string) => [{ type: "text" as const, text: t }];

describe("deriveTitle", () => {
  it("takes the first non-blank line, whitespace collapsed", () => {
    expect(deriveTitle(text("\n\n  Fix   the build \nplease"))).toBe("Fix the build");
  });
  it("cuts long lines at a word boundary", () => {
    const title = deriveTitle(text(`${"word ".repeat(40)}end`));
    expect([...title].length).toBeLessThanOrEqual(80);
    expect(title.endsWith("word…")).toBe(true);
  });
  it("falls back for blank content", () => {
    expect(deriveTitle(text("   "))).toBe(UNTITLED);
  });
});

describe("cleanTitle", () => {
  it.each([
    ['"Fixing the flaky CI build."', "Fixing the flaky CI build"],
    ["Title: Greeting the agent", "Greeting the agent"],
    ["\n  **Rust lifetimes**  \nexplanation", "Rust lifetimes"],
    ["“Don't panic” about errors", "Don't panic about errors"],
    ["  \n ", null],
    ['""', null],
  ])("%j → %j", (answer, title) => {
    expect(cleanTitle(answer)).toBe(title);
  });
  it("cuts to at most 60 characters, one line", () => {
    const title = cleanTitle(`${"longword ".repeat(20)}\nsecond line`) ?? "";
    expect([...title].length).toBeLessThanOrEqual(GENERATED_TITLE_LENGTH);
    expect(title).not.toContain("\n");
  });
});

describe("titleFirstExchange", () => {
  /** A chat's first exchange in a fake store; `renamedTo`: its title when the title is saved. */
  function world(renamedTo: string | null) {
    const saved: string[] = [];
    const announced: unknown[] = [];
    const chat = { id: "c1", model_id: "m1", title: "fix the build" };
    const message = (role: "user" | "assistant", t: string) =>
      ({ id: role, chat_id: "c1", role, parts: text(t) }) as unknown as Message;
    const store = {
      listMessages: async () => [message("user", "fix the build"), message("assistant", "Done.")],
      getChat: async () => ({ ...chat, title: renamedTo ?? chat.title }) as unknown as Chat,
      updateChat: async (_id: string, patch: { title?: string }) => {
        if (patch.title !== undefined) saved.push(patch.title);
        return null;
      },
      events: {
        append: async (_id: string, type: string, data: unknown) => {
          announced.push({ type, data });
          return { seq: 1, type, data } as unknown as ChatEvent;
        },
      },
    } as unknown as Parameters<typeof titleFirstExchange>[0]["store"];
    const model: ChatModel = {
      providerType: "openai-compatible",
      providerName: "Fake",
      modelId: "m1",
      async *stream() {
        yield { type: "text-delta", delta: "Fixing the build" } as StreamPart;
      },
    };
    const models = {} as unknown as Parameters<typeof titleFirstExchange>[0]["models"];
    return {
      saved,
      announced,
      run: () =>
        titleFirstExchange({ store, models }, chat, model, null, new AbortController().signal),
    };
  }

  it("saves and announces the title a model wrote", async () => {
    const w = world(null);
    await w.run();
    expect(w.saved).toEqual(["Fixing the build"]);
    expect(w.announced).toEqual([{ type: "title", data: { title: "Fixing the build" } }]);
  });

  it("leaves a chat renamed while its title was written as its owner named it", async () => {
    const w = world("Release checklist");
    await w.run();
    expect(w.saved).toEqual([]);
    expect(w.announced).toEqual([]);
  });
});
