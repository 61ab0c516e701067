/**
 * Code lines highlighted as the Markdown code blocks are (the same highlight.js and languages,
 * registered by `../markdown.ts`), one line at a time so that a diff or a preview can put each
 * line in its own row. A construct spanning lines (a block comment) is not known across them.
 */
import hljs from "highlight.js/lib/core";
import "../markdown.ts";

const BY_EXTENSION: Record<string, string> = {
  ts: "typescript",
  tsx: "typescript",
  mts: "typescript",
  cts: "typescript",
  js: "javascript",
  jsx: "javascript",
  mjs: "javascript",
  cjs: "javascript",
  json: "json",
  py: "python",
  go: "go",
  rs: "rust",
  java: "java",
  css: "css",
  html: "xml",
  xml: "xml",
  svg: "xml",
  yml: "yaml",
  yaml: "yaml",
  sh: "bash",
  bash: "bash",
  sql: "sql",
  diff: "diff",
};

export function languageOf(path: string | undefined): string | undefined {
  const extension = /\.([A-Za-z0-9]+)$/.exec(path ?? "")?.[1]?.toLowerCase();
  const language = extension === undefined ? undefined : BY_EXTENSION[extension];
  return language !== undefined && hljs.getLanguage(language) !== undefined ? language : undefined;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Each line as HTML: highlighted when the language is known, else escaped text. */
export function highlightLines(lines: readonly string[], language: string | undefined): string[] {
  return lines.map((line) =>
    language === undefined
      ? escapeHtml(line)
      : hljs.highlight(line, { language, ignoreIllegals: true }).value,
  );
}
