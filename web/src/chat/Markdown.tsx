import { memo } from "react";
import { renderMarkdown, splitBlocks } from "./markdown.ts";

const Block = memo(function Block({ source, final }: { source: string; final: boolean }) {
  // Sanitized by DOMPurify in renderMarkdown.
  // biome-ignore lint/security/noDangerouslySetInnerHtml: sanitized HTML from Markdown
  return <div dangerouslySetInnerHTML={{ __html: renderMarkdown(source, { final }) }} />;
});

/**
 * Markdown text. While `streaming`, only the last block re-renders as text grows; the blocks
 * before it are memoized by their source.
 */
export function Markdown({ text, streaming = false }: { text: string; streaming?: boolean }) {
  const blocks = splitBlocks(text);
  return (
    <div className="markdown">
      {blocks.map((block, i) => (
        // Blocks only grow at the end: an index is a stable key.
        // biome-ignore lint/suspicious/noArrayIndexKey: see above
        <Block key={i} source={block} final={!streaming || i < blocks.length - 1} />
      ))}
    </div>
  );
}
