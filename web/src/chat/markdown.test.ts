/**
 * Markdown for streamed replies: `splitBlocks` cuts the text at blank lines outside code fences so
 * that only the growing block re-renders; `renderMarkdown` must never let model output run code.
 *
 * These tests run in Node, where DOMPurify has no DOM and cannot sanitize: they cover the pure
 * parts (splitting, the Markdown → HTML step and its code-block escaping) and that rendering fails
 * closed without a DOM. DOMPurify's own filtering in a browser is not exercised here.
 */
import { describe, expect, it } from "vitest";
import { markdownHtml, renderMarkdown, splitBlocks } from "./markdown.ts";

describe("splitBlocks", () => {
  it.each([
    ["empty text", "", []],
    ["one line", "one", ["one"]],
    ["a blank line splits", "a\n\nb", ["a", "b"]],
    ["a run of blank lines is one cut", "a\n\n\n\nb", ["a", "b"]],
    ["a whitespace-only line is blank", "a\n  \t\nb", ["a", "b"]],
    ["leading and trailing blank lines make no empty blocks", "\n\na\n\n", ["a"]],
    ["lines without a blank between stay together", "a\nb\n\nc", ["a\nb", "c"]],
    [
      "blank lines inside a backtick fence do not split",
      "```js\na\n\n\nb\n```\n\nafter",
      ["```js\na\n\n\nb\n```", "after"],
    ],
    [
      "blank lines inside a tilde fence do not split",
      "~~~\na\n\nb\n~~~\n\nafter",
      ["~~~\na\n\nb\n~~~", "after"],
    ],
    [
      "an unterminated fence runs to the end, blank lines and all",
      "text\n\n```py\nx = 1\n\n\ny = 2",
      ["text", "```py\nx = 1\n\n\ny = 2"],
    ],
    [
      "backticks do not close a tilde fence",
      "~~~\na\n```\n\nb\n~~~\n\nc",
      ["~~~\na\n```\n\nb\n~~~", "c"],
    ],
    [
      "tildes do not close a backtick fence",
      "```\na\n~~~\n\nb\n```\n\nc",
      ["```\na\n~~~\n\nb\n```", "c"],
    ],
    [
      "a shorter marker does not close a longer fence",
      "````md\n```js\nx\n```\n\nstill inside\n````\n\nc",
      ["````md\n```js\nx\n```\n\nstill inside\n````", "c"],
    ],
    ["a longer marker closes", "```\na\n`````\n\nb", ["```\na\n`````", "b"]],
    [
      "a fence may be indented up to three spaces",
      "   ```\na\n\nb\n   ```\n\nc",
      ["   ```\na\n\nb\n   ```", "c"],
    ],
    ["four spaces in is indented code, not a fence", "    ```\n\nb", ["    ```", "b"]],
    [
      // CommonMark: a closing fence has nothing after its marker but spaces.
      "a marker with an info string does not close the fence",
      "```\na\n```js\n\nb\n```\n\nc",
      ["```\na\n```js\n\nb\n```", "c"],
    ],
    [
      // CommonMark: a backtick fence's info string has no backticks, so this is inline code.
      "triple backticks around inline code open no fence",
      "```npm install```\n\nmore\n\n```js\na\n\nb\n```",
      ["```npm install```", "more", "```js\na\n\nb\n```"],
    ],
    ["CRLF line endings", "```\r\na\r\n\r\nb\r\n```\r\n\r\nc", ["```\r\na\r\n\r\nb\r\n```\r", "c"]],
  ])("%s", (_name, source, blocks) => {
    expect(splitBlocks(source)).toEqual(blocks);
  });

  const documents = [
    "# Title\n\nSome *text*.\n\n```ts\nconst a = 1;\n\nconst b = 2;\n```\n\nAfter the code.",
    "Run ```npm test``` first.\n\n```npm install```\n\n```sh\nnpm ci\n\nnpm test\n```\n\nDone.",
    "~~~md\n```js\nnested\n```\n\nstill md\n~~~\n\n> quote\n\n---\n\nend",
    "```\nbare fence\n```python\n\nstill code\n```\n\ntext",
  ];

  it.each(documents)("blocks rendered one by one render like the whole text (%#)", (doc) => {
    for (const final of [true, false]) {
      const whole = markdownHtml(doc, { final });
      const byBlock = splitBlocks(doc)
        .map((block) => markdownHtml(block, { final }))
        .join("");
      expect(byBlock).toBe(whole);
    }
  });

  it.each(documents)("while streaming, blocks only grow at the end (%#)", (doc) => {
    const full = splitBlocks(doc);
    for (let n = 0; n <= doc.length; n++) {
      const blocks = splitBlocks(doc.slice(0, n));
      // Every block but the last one still growing is already final.
      expect(blocks.slice(0, -1), `prefix of ${n} chars`).toEqual(
        full.slice(0, Math.max(0, blocks.length - 1)),
      );
    }
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
