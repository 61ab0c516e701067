/**
 * Markdown → sanitized HTML, with code highlighting. Streaming text is cut into blocks (at blank
 * lines outside code fences) so that each frame re-renders only the block still growing, never the
 * whole reply.
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
import { Marked, type Tokens } from "marked";

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

/** Markdown → HTML, not sanitized: raw HTML and `javascript:` links in the source pass through. */
export function markdownHtml(source: string, options: { final: boolean }): string {
  return (options.final ? highlighted : plain).parse(source, { async: false });
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

export function renderMarkdown(source: string, options: { final: boolean }): string {
  // No DOM, no sanitizer: fail closed and show the source as text.
  if (!DOMPurify.isSupported) return escapeHtml(source);
  const key = `${options.final ? "f" : "p"}${source}`;
  const cached = rendered.get(key);
  if (cached !== undefined) return cached;
  const html = DOMPurify.sanitize(markdownHtml(source, options));
  if (rendered.size >= RENDERED_MAX) rendered.delete(rendered.keys().next().value as string);
  rendered.set(key, html);
  return html;
}

/** An opening fence (CommonMark): a backtick fence's info string has no backtick, so
 * ```` ```npm test``` ```` on a line of its own is inline code, not a fence. */
const FENCE_OPEN = /^ {0,3}(`{3,}(?=[^`]*$)|~{3,})/;
/** A closing fence: the marker alone on its line; ```` ```js ```` inside a fence is content. */
const FENCE_CLOSE = /^ {0,3}(`{3,}|~{3,})\s*$/;

/** Cuts Markdown into blocks at blank lines that are not inside a fenced code block. */
export function splitBlocks(source: string): string[] {
  const blocks: string[] = [];
  let current: string[] = [];
  let fence: string | null = null;
  for (const line of source.split("\n")) {
    if (fence === null) {
      fence = FENCE_OPEN.exec(line)?.[1] ?? null;
    } else {
      const marker = FENCE_CLOSE.exec(line)?.[1];
      if (marker !== undefined && marker[0] === fence[0] && marker.length >= fence.length) {
        fence = null;
      }
    }
    if (fence === null && line.trim() === "" && current.length > 0) {
      blocks.push(current.join("\n"));
      current = [];
    } else if (!(fence === null && line.trim() === "")) {
      current.push(line);
    }
  }
  if (current.length > 0) blocks.push(current.join("\n"));
  return blocks;
}
