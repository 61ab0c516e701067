import { memo, useRef } from "react";
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
  // Sanitized by DOMPurify in renderMarkdown.
  // biome-ignore lint/security/noDangerouslySetInnerHtml: sanitized HTML from Markdown
  return <div dangerouslySetInnerHTML={{ __html: renderMarkdown(source, { final, refs }) }} />;
});

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
