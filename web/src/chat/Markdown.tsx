import { memo, useLayoutEffect, useRef } from "react";
import { copyText } from "../ui/CopyButton.tsx";
import { type MarkdownSplit, renderMarkdown, splitMarkdown } from "./markdown.ts";

const Block = memo(function Block({
  source,
  refs,
  final,
}: {
  source: string;
  refs: string;
  final: boolean;
}) {
  const html = renderMarkdown(source, { final, refs });
  const ref = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    if (final && ref.current && html.includes("<pre")) addCodeHeads(ref.current);
  }, [html, final]);
  // Sanitized by DOMPurify in renderMarkdown.
  // biome-ignore lint/security/noDangerouslySetInnerHtml: sanitized HTML from Markdown
  return <div ref={ref} dangerouslySetInnerHTML={{ __html: html }} />;
});

/**
 * Gives each complete code block a header: its language (`data-language`, from the info string)
 * and a Copy button. Added to the sanitized HTML's DOM, not to the HTML itself: the button's
 * listener is ours, and nothing the Markdown says can become one.
 */
function addCodeHeads(root: HTMLElement): void {
  for (const pre of root.querySelectorAll("pre")) {
    if (pre.previousElementSibling?.classList.contains("code-head")) continue;
    const language = pre.dataset.language ?? "";
    const head = document.createElement("div");
    head.className = "code-head";
    const label = document.createElement("span");
    label.className = "code-lang";
    label.textContent = language || "text";
    const button = document.createElement("button");
    button.type = "button";
    button.className = "btn-small code-copy";
    button.textContent = "Copy";
    button.setAttribute("aria-label", language ? `Copy the ${language} code` : "Copy the code");
    let timer: number | undefined;
    button.addEventListener("click", () => {
      void copyText(pre.textContent ?? "").then((ok) => {
        button.textContent = ok ? "Copied" : "Not copied";
        window.clearTimeout(timer);
        timer = window.setTimeout(() => {
          button.textContent = "Copy";
        }, 2000);
      });
    });
    head.append(label, button);
    pre.before(head);
  }
}

/**
 * Markdown text. While `streaming`, only the end of the text is lexed again as it grows (from the
 * previous split), and only the blocks whose source changed re-render: the blocks before them are
 * memoized by their source and the reference definitions they use.
 */
export function Markdown({ text, streaming = false }: { text: string; streaming?: boolean }) {
  // A cache, not state: any earlier split is a valid start (splitMarkdown checks the text grew).
  const previous = useRef<MarkdownSplit | undefined>(undefined);
  const split = splitMarkdown(text, { streaming }, previous.current);
  previous.current = split;
  const { blocks } = split;
  return (
    <div className="markdown">
      {blocks.map((block, i) => (
        <Block
          // biome-ignore lint/suspicious/noArrayIndexKey: blocks change only at the end, so an index is a stable key
          key={i}
          source={block.source}
          refs={block.refs}
          final={!streaming || i < blocks.length - 1}
        />
      ))}
    </div>
  );
}
