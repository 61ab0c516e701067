/**
 * Markdown for streamed replies: `splitMarkdown` cuts the text into `marked`'s top-level blocks, each
 * with the reference definitions it uses, so that the blocks rendered one by one are the whole text
 * rendered and only the growing end is lexed and rendered again; `renderMarkdown` must never let
 * model output run code.
 *
 * These tests run in Node, where DOMPurify has no DOM and cannot sanitize: they cover the pure
 * parts (splitting, the Markdown → HTML step and its code-block escaping) and that rendering fails
 * closed without a DOM. DOMPurify's own filtering in a browser is not exercised here.
 */
import { describe, expect, it } from "vitest";
import { type MarkdownSplit, markdownHtml, renderMarkdown, splitMarkdown } from "./markdown.ts";

/** The blocks of `doc` rendered one by one, as `Markdown` renders them. */
function renderByBlock(doc: string, final: boolean): string {
  return splitMarkdown(doc, { streaming: false })
    .blocks.map((block) => markdownHtml(block.source, { final, refs: block.refs }))
    .join("");
}

/** Splits `doc` as a stream delivers it, `step` characters at a time; every split on the way. */
function streamSplits(doc: string, step: (at: number) => number): MarkdownSplit[] {
  const splits: MarkdownSplit[] = [];
  let previous: MarkdownSplit | undefined;
  for (let n = 0; n < doc.length; n += step(n)) {
    previous = splitMarkdown(doc.slice(0, n), { streaming: true }, previous);
    splits.push(previous);
  }
  splits.push(splitMarkdown(doc, { streaming: false }, previous));
  return splits;
}

const sources = (split: MarkdownSplit) => split.blocks.map((b) => b.source);

describe("splitMarkdown", () => {
  it.each([
    ["empty text", "", []],
    ["one line", "one", ["one"]],
    ["a blank line splits", "a\n\nb", ["a", "b"]],
    ["a run of blank lines is one cut", "a\n\n\n\nb", ["a", "b"]],
    ["leading and trailing blank lines make no empty blocks", "\n\na\n\n", ["a"]],
    ["lines without a blank between stay together", "a\nb\n\nc", ["a\nb", "c"]],
    ["a heading then a paragraph", "# Title\ntext", ["# Title\n", "text"]],
    [
      "blank lines inside a fence do not split",
      "```js\na\n\n\nb\n```\n\nafter",
      ["```js\na\n\n\nb\n```", "after"],
    ],
    [
      "an unterminated fence runs to the end, blank lines and all",
      "text\n\n```py\nx = 1\n\n\ny = 2",
      ["text", "```py\nx = 1\n\n\ny = 2"],
    ],
    ["a loose list is one block", "- one\n\n- two\n\n- three", ["- one\n\n- two\n\n- three"]],
    [
      "a list item's second paragraph stays in the list",
      "1. first\n\n   more of the first\n2. second",
      ["1. first\n\n   more of the first\n2. second"],
    ],
    [
      "indented code with a blank line is one block",
      "text\n\n    a = 1\n\n    b = 2\n\nafter",
      ["text", "    a = 1\n\n    b = 2", "after"],
    ],
    ["CRLF line endings", "```\r\na\r\n\r\nb\r\n```\r\n\r\nc", ["```\na\n\nb\n```", "c"]],
  ])("%s", (_name, source, blocks) => {
    expect(sources(splitMarkdown(source, { streaming: false }))).toEqual(blocks);
  });

  const documents = [
    "# Title\n\nSome *text*.\n\n```ts\nconst a = 1;\n\nconst b = 2;\n```\n\nAfter the code.",
    "Run ```npm test``` first.\n\n```npm install```\n\n```sh\nnpm ci\n\nnpm test\n```\n\nDone.",
    "~~~md\n```js\nnested\n```\n\nstill md\n~~~\n\n> quote\n\n---\n\nend",
    "```\nbare fence\n```python\n\nstill code\n```\n\ntext",
    // Issue 10, item 15: what a cut at blank lines rendered apart from the whole text.
    "See [the docs][1] and [the API][api], or [1].\n\nMore text.\n\n[1]: https://example.com/docs\n[API]: https://example.com/api 'The API'",
    "Steps:\n\n- one\n\n- two\n\n- three\n\nDone.",
    "1. First item.\n\n   Its second paragraph.\n\n2. Second item.",
    "Code:\n\n    a = 1\n\n    b = 2\n\nAfter.",
    "- item\n\n      indented code in the item\n\n  and its paragraph",
    "> A quote with [a reference][q]\n>\n> in two paragraphs.\n\n[q]: https://example.com/q",
    "Defined first:\n\n[x]: https://example.com/first\n\nthen used: [x], and [X][] too.\n\n[x]: https://example.com/second",
    "| a | b |\n|---|---|\n| [t] | 2 |\n\n[t]: https://example.com/t\n\ntext\n***\nmore",
    "A [constructor] and [__proto__].\n\n[constructor]: https://example.com/c\n[__proto__]: https://example.com/p",
  ];

  it.each(documents)("blocks rendered one by one render like the whole text (%#)", (doc) => {
    for (const final of [true, false]) {
      expect(renderByBlock(doc, final)).toBe(markdownHtml(doc, { final }));
    }
  });

  it("a reference link defined later is a link, not its source", () => {
    const html = renderByBlock("Read [the docs][1].\n\nMore.\n\n[1]: https://example.com/d", true);
    expect(html).toContain('<a href="https://example.com/d">the docs</a>');
    expect(html).not.toContain("[1]");
  });

  it.each(documents)(
    "streamed a character at a time, each split is the split of the text so far (%#)",
    (doc) => {
      const splits = streamSplits(doc, () => 1);
      for (const [n, split] of splits.slice(0, -1).entries()) {
        expect(split.blocks, `prefix of ${n} chars`).toEqual(
          splitMarkdown(doc.slice(0, n), { streaming: true }).blocks,
        );
      }
      expect(splits.at(-1)?.blocks).toEqual(splitMarkdown(doc, { streaming: false }).blocks);
    },
  );

  it.each(documents)("streamed in uneven pieces, it ends as the whole text splits (%#)", (doc) => {
    for (const size of [2, 3, 7, 16]) {
      const splits = streamSplits(doc, (at) => 1 + ((at * 31) % size));
      expect(splits.at(-1)?.blocks).toEqual(splitMarkdown(doc, { streaming: false }).blocks);
    }
  });

  it.each(documents)("while streaming, only the last blocks change (%#)", (doc) => {
    const full = sources(splitMarkdown(doc, { streaming: false }));
    for (const [n, split] of streamSplits(doc, () => 1).entries()) {
      // Every block but the last two is already final: the last one grows, and the one before
      // it may still take it in (a list its next item, after `2` became `2.`).
      expect(sources(split).slice(0, -2), `prefix of ${n} chars`).toEqual(
        full.slice(0, Math.max(0, split.blocks.length - 2)),
      );
    }
  });

  it("a grown text is lexed again from its last blank line only: earlier tokens are kept", () => {
    const before = splitMarkdown("# Title\n\nFirst paragraph.\n\nSecond", { streaming: true });
    const after = splitMarkdown(
      "# Title\n\nFirst paragraph.\n\nSecond one.",
      { streaming: true },
      before,
    );
    expect(after.lexed.slice(0, -1)).toEqual(before.lexed.slice(0, -1));
    for (const [i, token] of after.lexed.slice(0, -1).entries()) {
      expect(token, `token ${i}`).toBe(before.lexed[i]);
    }
    expect(after.lexed.at(-1)).not.toBe(before.lexed.at(-1));
    // A text that is not a continuation is lexed afresh.
    const other = splitMarkdown("Else", { streaming: true }, after);
    expect(sources(other)).toEqual(["Else"]);
  });

  describe("refs: the reference definitions a block may use", () => {
    const doc =
      "Read [the docs][1].\n\nNo links here.\n\n```js\nconst a = [1];\n```\n\n[1]: https://example.com/d";
    const refs = (split: MarkdownSplit) => split.blocks.map((b) => b.refs);
    const docsRef = JSON.stringify({ "1": { href: "https://example.com/d" } });

    it("a block gets the definitions whose label it has, and no others", () => {
      expect(refs(splitMarkdown(doc, { streaming: false }))).toEqual([docsRef, "", docsRef, ""]);
    });

    it("while its definition still streams, no block gets it; once it is done, they do", () => {
      const streaming = splitMarkdown(`${doc.slice(0, -4)}`, { streaming: true });
      expect(refs(streaming)).toEqual(["", "", "", ""]);
      const next = splitMarkdown(`${doc}\n\nThe end`, { streaming: true });
      expect(refs(next)).toEqual([docsRef, "", docsRef, "", ""]);
    });

    it("the same definitions give the same refs string (so memoized blocks stay as they are)", () => {
      const a = splitMarkdown(`${doc}\n\nmore`, { streaming: true });
      const b = splitMarkdown(`${doc}\n\nmore text`, { streaming: true }, a);
      expect(b.blocks.slice(0, -1)).toEqual(a.blocks.slice(0, -1));
    });
  });
});

describe("markdownHtml: code blocks", () => {
  const script = "<script>alert(1)</script>";

  it.each([
    ["a known language, final (highlighted)", "html", true],
    ["a known language, streaming (plain)", "html", false],
    ["an unknown language", "brainfuck", true],
    ["no language", "", true],
  ])("escape their content: %s", (_name, lang, final) => {
    const html = markdownHtml(`\`\`\`${lang}\n${script}\n<img src=x onerror=alert(1)>\n\`\`\``, {
      final,
    });
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).toMatch(/^<pre[^>]*><code class="hljs">/);
  });

  it("escape a hostile info string in data-language", () => {
    const html = markdownHtml('```"><img src=x onerror=alert(1)>\nx\n```', { final: true });
    expect(html).not.toMatch(/<img/i);
    expect(html).toContain('data-language="&#34;&#62;&#60;img"');
  });

  it("are highlighted only once final", () => {
    const source = "```ts\nconst a: number = 1;\n```";
    expect(markdownHtml(source, { final: true })).toContain('class="hljs-keyword"');
    expect(markdownHtml(source, { final: false })).not.toContain("hljs-");
  });

  it("an alias picks its language", () => {
    expect(markdownHtml("```sh\necho hi\n```", { final: true })).toContain('data-language="sh"');
    expect(markdownHtml("```sh\necho hi\n```", { final: true })).toContain("hljs-built_in");
  });
});

describe("renderMarkdown: model output never runs", () => {
  /** Markup that would run script or load something if it reached the page. */
  const DANGEROUS = [
    /<script/i,
    /<iframe/i,
    /<[a-z][^>]*\son[a-z]+\s*=/i,
    /<a[^>]*\shref\s*=\s*["']?\s*javascript:/i,
    /<img/i,
  ];
  const payloads = [
    ["a script tag", "Hello <script>alert(document.cookie)</script> world"],
    ["an onerror handler", "<img src=x onerror=alert(1)>"],
    ["a javascript: link", "[click me](javascript:alert(1))"],
    ["a javascript: autolink in HTML", '<a href="javascript:alert(1)">x</a>'],
    ["an iframe", '<iframe src="https://evil.example"></iframe>'],
    ["an svg onload", "<svg onload=alert(1)></svg>"],
  ] as const;

  it.each(payloads)(
    "%s: the Markdown step alone lets it through (so sanitizing is needed)",
    (_n, src) => {
      const html = markdownHtml(src, { final: true });
      expect(DANGEROUS.some((pattern) => pattern.test(html))).toBe(true);
    },
  );

  it.each(payloads)("%s: renderMarkdown never returns it", (_n, src) => {
    for (const final of [true, false]) {
      const html = renderMarkdown(src, { final });
      for (const pattern of DANGEROUS) expect(html).not.toMatch(pattern);
    }
  });
});
