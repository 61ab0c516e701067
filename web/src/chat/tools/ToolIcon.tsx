/** A small line icon for a tool card's kind (decorative: the header's words say what it did). */

const PATHS: Record<string, string> = {
  // a pencil
  edit: "M11.5 2.5l2 2L6 12H4v-2l7.5-7.5zM10 4l2 2",
  // a page with a plus
  write: "M4 1.5h5l3 3v10H4zM9 1.5v3h3M8 7.5v4M6 9.5h4",
  // a page with lines
  read: "M4 1.5h5l3 3v10H4zM9 1.5v3h3M6 8h4M6 10.5h4",
  // a folder
  list: "M1.5 4V13h13V5.5H7.5L6 4z",
  // a magnifier
  search: "M7 2.5a4.5 4.5 0 1 1 0 9 4.5 4.5 0 0 1 0-9zM10.3 10.3l3.7 3.7",
  // a terminal prompt
  execute: "M1.5 2.5h13v11h-13zM4 6l2.5 2L4 10M8 10.5h4",
  // a plug
  mcp: "M5.5 1.5v3M10.5 1.5v3M3.5 4.5h9v3a4.5 4.5 0 0 1-9 0zM8 12v2.5",
};

const KIND: Record<string, string> = {
  edit_file: "edit",
  write_file: "write",
  read_file: "read",
  list_files: "list",
  search_files: "search",
  execute: "execute",
  process_output: "execute",
  process_list: "execute",
  process_signal: "execute",
};

export function ToolIcon({ name }: { name: string }) {
  const kind = KIND[name] ?? "mcp";
  return (
    <svg className="tool-icon" viewBox="0 0 16 16" width="15" height="15" aria-hidden="true">
      <path
        d={PATHS[kind]}
        fill="none"
        stroke="currentColor"
        strokeWidth="1.3"
        strokeLinecap="round"
        strokeLinejoin="round"
      />
    </svg>
  );
}
