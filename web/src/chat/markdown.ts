/**
 * Markdown → sanitized HTML, with code highlighting. Text is cut into the blocks of `marked`'s own
 * top-level tokens, each rendered with the text's reference definitions, so that a streaming reply
 * re-lexes and re-renders per frame only the block still growing, never the whole reply.
 */
import DOMPurify from "dompurify";
import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import css from "highlight.js/lib/languages/css";
import diff from "highlight.js/lib/languages/diff";
import go from "highlight.js/lib/languages/go";
import java from "highlight.js/lib/languages/java";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import python from "highlight.js/lib/languages/python";
import rust from "highlight.js/lib/languages/rust";
import sql from "highlight.js/lib/languages/sql";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";
import yaml from "highlight.js/lib/languages/yaml";
import { type Links, Marked, type Token, type Tokens } from "marked";

const LANGUAGES = {
  bash,
  css,
  diff,
  go,
  java,
  javascript,
  json,
  python,
  rust,
  sql,
  typescript,
  xml,
  yaml,
};
for (const [name, language] of Object.entries(LANGUAGES)) hljs.registerLanguage(name, language);
hljs.registerAliases(["sh", "shell", "zsh"], { languageName: "bash" });
hljs.registerAliases(["js", "jsx", "mjs"], { languageName: "javascript" });
hljs.registerAliases(["ts", "tsx"], { languageName: "typescript" });
hljs.registerAliases(["html", "svg"], { languageName: "xml" });
hljs.registerAliases(["py"], { languageName: "python" });
hljs.registerAliases(["yml"], { languageName: "yaml" });
hljs.registerAliases(["rs"], { languageName: "rust" });

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function renderer(highlight: boolean) {
  return new Marked({
    gfm: true,
    renderer: {
      code({ text, lang }: Tokens.Code) {
        const language = (lang ?? "").trim().split(/\s+/)[0] ?? "";
        const known = highlight && language !== "" && hljs.getLanguage(language) !== undefined;
        const body = known ? hljs.highlight(text, { language }).value : escapeHtml(text);
        const label = language ? ` data-language="${escapeHtml(language)}"` : "";
        return `<pre${label}><code class="hljs">${body}</code></pre>\n`;
      },
    },
  });
}

const highlighted = renderer(true);
// The block still streaming is re-rendered every frame: highlighting waits until it is complete.
const plain = renderer(false);

/**
 * Markdown → HTML, not sanitized: raw HTML and `javascript:` links in the source pass through.
 * `refs` (a block's `MarkdownBlock.refs`) are reference definitions from elsewhere in the text.
 */
export function markdownHtml(source: string, options: { final: boolean; refs?: string }): string {
  const marked = options.final ? highlighted : plain;
  if (!options.refs) return marked.parse(source, { async: false });
  const lexer = new marked.Lexer(marked.defaults);
  Object.assign(lexer.tokens.links, JSON.parse(options.refs) as Links);
  return marked.parser(lexer.lex(source));
}

// DOMPurify needs a DOM: without one (Node: tests, tools) it has neither hooks nor `sanitize`.
if (DOMPurify.isSupported) {
  // Set once: a config passed to every `sanitize` call is parsed again on every call (it was a
  // third of the main thread's time while a long reply streamed).
  DOMPurify.setConfig({ USE_PROFILES: { html: true } });
  DOMPurify.addHook("afterSanitizeAttributes", (node) => {
    if (node.tagName === "A") {
      node.setAttribute("target", "_blank");
      node.setAttribute("rel", "noopener noreferrer");
    }
  });
}

/**
 * Recently rendered blocks, by source: when a streamed reply is saved, its message renders the
 * same blocks the draft just rendered, and a long reply would otherwise re-parse, highlight and
 * sanitize them all in one task.
 */
const rendered = new Map<string, string>();
const RENDERED_MAX = 2_000;

export function renderMarkdown(source: string, options: { final: boolean; refs?: string }): string {
  // No DOM, no sanitizer: fail closed and show the source as text.
  if (!DOMPurify.isSupported) return escapeHtml(source);
  const key = `${options.final ? "f" : "p"}${options.refs ?? ""}\u0000${source}`;
  const cached = rendered.get(key);
  if (cached !== undefined) return cached;
  const html = DOMPurify.sanitize(markdownHtml(source, options));
  if (rendered.size >= RENDERED_MAX) rendered.delete(rendered.keys().next().value as string);
  rendered.set(key, html);
  return html;
}

/** A top-level token of the text, as `marked`'s lexer cut it. */
interface Lexed {
  readonly raw: string;
  readonly type: string;
  /** The link reference definitions in it (in a blockquote or a list item too), in order. */
  readonly defs: ReadonlyArray<Tokens.Def>;
  /** The `refs` last computed for it, and the links they were computed from. */
  refs?: { links: string; refs: string };
}

/** One block to render: a top-level token's source, and the definitions it may refer to. */
export interface MarkdownBlock {
  source: string;
  /** The reference definitions (`[1]: https://…`) of the whole text that the block may use, as
   * JSON: "" when none. A block is rendered again only when its source or these change. */
  refs: string;
}

/** The text cut into blocks; pass it back to the next `splitMarkdown` of the text grown. */
export interface MarkdownSplit {
  /** The text with its line endings normalized, as the lexer sees it. */
  readonly text: string;
  readonly lexed: readonly Lexed[];
  readonly blocks: MarkdownBlock[];
}

function defsIn(tokens: readonly Token[], into: Tokens.Def[] = []): Tokens.Def[] {
  for (const token of tokens) {
    if (token.type === "def") into.push(token as Tokens.Def);
    else if (token.type === "blockquote") defsIn((token as Tokens.Blockquote).tokens, into);
    else if (token.type === "list") {
      for (const item of (token as Tokens.List).items) defsIn(item.tokens, into);
    }
  }
  return into;
}

/** The top-level tokens of `text` (block level only: inline lexing waits for rendering). */
function lexTop(text: string): Lexed[] {
  const lexer = new plain.Lexer(plain.defaults);
  return lexer.blockTokens(text, []).map((token) => ({
    raw: token.raw,
    type: token.type,
    defs: defsIn([token]),
  }));
}

const totalLength = (lexed: readonly Lexed[]) => lexed.reduce((n, t) => n + t.raw.length, 0);

/**
 * The top-level tokens of `text`, lexing again only the end of it when it grew from `previous`:
 * the tokens from the last blank line on (the last token may still grow into the ones just
 * before it — `***` turning from a rule into emphasis continues the paragraph before it), and
 * from the blank line before when a list ends there (its next item may be arriving). A blank line
 * ends every other block: indented code takes a line after a blank one by its first characters,
 * which have arrived when it is lexed (until then the line is blank).
 */
function lexGrown(text: string, previous: MarkdownSplit | undefined): Lexed[] {
  const prev = previous?.lexed;
  if (prev === undefined || prev.length === 0 || !text.startsWith(previous?.text ?? "")) {
    return lexTop(text);
  }
  const runStart = (at: number) => {
    let i = at;
    while (i > 0 && prev[i - 1]?.type !== "space") i -= 1;
    return i;
  };
  let from = runStart(prev.findLastIndex((t) => t.type !== "space"));
  // A list goes on after a blank line when the next line's marker arrives (`2.` after `2`).
  while (from >= 2 && prev[from - 2]?.type === "list") from = runStart(from - 2);
  if (from <= 0) return lexTop(text);
  const kept = prev.slice(0, from);
  return [...kept, ...lexTop(text.slice(totalLength(kept)))];
}

/** The links as `marked` keeps them: the first definition of a label wins (and a label such as
 * `constructor` is a label like any other). */
function linksOf(lexed: readonly Lexed[]): Links {
  const links: Links = Object.create(null);
  for (const token of lexed) {
    for (const def of token.defs) links[def.tag] ??= { href: def.href, title: def.title };
  }
  return links;
}

/** Only the definitions whose label the block's text has (as `marked` compares labels). */
function refsOf(token: Lexed, links: Links, linksJson: string): string {
  // A definition renders nothing, whatever the links.
  if (linksJson === "{}" || token.type === "def" || !token.raw.includes("]")) return "";
  if (token.refs?.links === linksJson) return token.refs.refs;
  const text = normalizeLabel(token.raw);
  const used = Object.entries(links).filter(([tag]) => text.includes(tag));
  const refs = used.length === 0 ? "" : JSON.stringify(Object.fromEntries(used));
  token.refs = { links: linksJson, refs };
  return refs;
}

/** `marked`'s label normalization (its `[foo  Bar]` and `[FOO bar]` are the same label). */
const normalizeLabel = (label: string) =>
  label.trim().replace(/\s+/g, " ").toLowerCase().toUpperCase().toLowerCase();

/**
 * Cuts Markdown into the blocks `marked` sees at the top level (paragraphs, lists — a loose list
 * whole —, code blocks, tables…), each with the reference definitions it may use, so that each
 * block rendered alone renders as it does within the whole text. Given the split of the text
 * before it grew, only the end is lexed again. While `streaming`, the definitions of the last
 * block (a URL still arriving) are not given to the others yet.
 */
export function splitMarkdown(
  source: string,
  options: { streaming: boolean },
  previous?: MarkdownSplit,
): MarkdownSplit {
  const text = source.replace(/\r\n?/g, "\n");
  let lexed = lexGrown(text, previous);
  // Every character is in exactly one token; if a future `marked` breaks that, lex it all.
  if (totalLength(lexed) !== text.length) lexed = lexTop(text);
  const settled = options.streaming ? lexed.slice(0, -1) : lexed;
  const links = linksOf(settled);
  const linksJson = JSON.stringify(links);
  const blocks: MarkdownBlock[] = [];
  for (const token of lexed) {
    if (token.type === "space") continue;
    blocks.push({ source: token.raw, refs: refsOf(token, links, linksJson) });
  }
  return { text, lexed, blocks };
}
