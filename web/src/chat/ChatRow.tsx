/**
 * One chat in the sidebar: its link (title, a status unless it is simply ready, a search
 * snippet), and its menu — rename in place, pin or unpin, archive or unarchive, delete for good
 * after a confirmation that says it cannot be undone.
 */
import { useEffect, useRef, useState } from "react";
import type { ChatListItem } from "../api/types.ts";
import { Link, navigate } from "../router.tsx";
import { ConfirmDialog } from "../ui/ConfirmDialog.tsx";
import { ErrorBox } from "../ui/ErrorBox.tsx";
import { Menu, type MenuItem } from "../ui/Menu.tsx";
import { useToast } from "../ui/Toaster.tsx";
import { Highlighted } from "./Highlighted.tsx";
import { StatusBadge } from "./StatusBadge.tsx";
import type { ChatList } from "./useChatList.ts";

/** A small pin before a pinned chat's title (its name says "Pinned"). */
function PinIcon() {
  return (
    <svg className="pin" viewBox="0 0 16 16" width="12" height="12" role="img" aria-label="Pinned">
      <path
        fill="currentColor"
        d="M9.8 1.2a1 1 0 0 1 1.4 0l3.6 3.6a1 1 0 0 1 0 1.4l-.7.7a1 1 0 0 1-1.1.2L10.6 9l.3 2.6a1 1 0 0 1-.3.8l-.8.8L6.9 10.3 2.7 14.5 1.5 13.3l4.2-4.2-2.9-2.9.8-.8a1 1 0 0 1 .8-.3l2.6.3 1.9-2.4a1 1 0 0 1 .2-1.1z"
      />
    </svg>
  );
}

export const untitled = (title: string) => title || "Untitled chat";

export function ChatRow({
  chat,
  current,
  list,
  query,
}: {
  chat: ChatListItem;
  /** The chat open in the page. */
  current: boolean;
  list: Pick<ChatList, "change" | "remove">;
  /** The search that found it: its words are highlighted. */
  query?: string;
}) {
  const [renaming, setRenaming] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const link = useRef<HTMLAnchorElement>(null);
  const row = useRef<HTMLLIElement>(null);
  const toast = useToast();
  /** After renaming in place, the focus goes back to the chat's link (the field is gone). */
  const refocus = useRef(false);
  useEffect(() => {
    if (!renaming && refocus.current) {
      refocus.current = false;
      link.current?.focus();
    }
  }, [renaming]);
  const title = untitled(chat.title);

  async function act(work: () => Promise<unknown>) {
    setError(null);
    try {
      await work();
    } catch (err) {
      setError(err);
    }
  }

  const items: MenuItem[] = chat.archived
    ? [
        {
          label: "Unarchive",
          onSelect: () =>
            void act(async () => {
              await list.change(chat.id, { archived: false });
              toast(`Unarchived “${title}”.`);
            }),
        },
      ]
    : [
        { label: "Rename", takesFocus: true, onSelect: () => setRenaming(true) },
        {
          label: chat.pinned ? "Unpin" : "Pin",
          onSelect: () => void act(() => list.change(chat.id, { pinned: !chat.pinned })),
        },
        {
          label: "Archive",
          onSelect: () =>
            void act(async () => {
              await list.change(chat.id, { archived: true });
              if (current) navigate("/");
              // The row leaves the list: say where it went, and offer the way back.
              toast(`Archived “${title}”.`, {
                label: "Undo",
                altText: "Unarchive it from the Archived chats list",
                onAct: () => void list.change(chat.id, { archived: false }).catch(() => undefined),
              });
            }),
        },
      ];
  items.push({
    label: "Delete…",
    danger: true,
    takesFocus: true,
    onSelect: () => setDeleting(true),
  });

  return (
    <li ref={row} className={current ? "chat-row current" : "chat-row"}>
      {renaming ? (
        <RenameField
          title={chat.title}
          onDone={async (next) => {
            if (next !== null && next !== chat.title) await list.change(chat.id, { title: next });
            refocus.current = true;
            setRenaming(false);
          }}
        />
      ) : (
        <Link
          ref={link}
          to={`/chats/${chat.id}`}
          className="chat-link"
          data-status={chat.status}
          aria-current={current ? "page" : undefined}
        >
          <span className="title">
            {chat.pinned ? <PinIcon /> : null}
            <Highlighted text={title} query={query} />
          </span>
          {chat.status === "waiting" ? null : <StatusBadge status={chat.status} />}
          {chat.snippet ? (
            <span className="snippet">
              <Highlighted text={chat.snippet} query={query} />
            </span>
          ) : null}
        </Link>
      )}
      {renaming ? null : (
        <Menu label={`Options for ${title}`} items={items} className="chat-menu">
          <span aria-hidden="true">⋯</span>
        </Menu>
      )}
      {error !== null ? (
        <div className="row-error">
          <ErrorBox error={error} />
        </div>
      ) : null}
      {deleting ? (
        <ConfirmDialog
          title="Delete this chat for good?"
          confirmLabel="Delete for good"
          onClose={() => setDeleting(false)}
          returnFocus={() => row.current?.querySelector<HTMLElement>(".menu-button")}
          onConfirm={async () => {
            await list.remove(chat.id);
            toast(`Deleted “${title}”.`);
            if (current) navigate("/");
          }}
        >
          <p>
            “{title}” and all of its messages will be deleted. This cannot be undone.
            {chat.archived ? null : " To keep it out of the way instead, archive it."}
          </p>
        </ConfirmDialog>
      ) : null}
    </li>
  );
}

/**
 * A title edited in place: Enter or leaving the field saves, Esc cancels. `onDone(null)`: nothing
 * to save (cancelled, or blank). A refusal stays in the field with the server's words.
 */
export function RenameField({
  title,
  onDone,
  className,
}: {
  title: string;
  onDone(next: string | null): Promise<void>;
  className?: string;
}) {
  const [value, setValue] = useState(title);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const finished = useRef(false);

  useEffect(() => {
    input.current?.focus();
    input.current?.select();
  }, []);

  async function finish(next: string | null) {
    if (finished.current || busy) return;
    const trimmed = next?.trim() ?? "";
    setBusy(true);
    try {
      finished.current = true;
      await onDone(trimmed === "" ? null : trimmed);
    } catch (err) {
      finished.current = false;
      setError(err);
      setBusy(false);
    }
  }

  return (
    <div className={`rename-field ${className ?? ""}`}>
      <input
        ref={input}
        aria-label="Chat title"
        value={value}
        maxLength={200}
        disabled={busy}
        onChange={(e) => setValue(e.target.value)}
        onBlur={() => void finish(value)}
        onKeyDown={(event) => {
          if (event.key === "Enter") {
            event.preventDefault();
            void finish(value);
          } else if (event.key === "Escape") {
            event.preventDefault();
            event.stopPropagation();
            void finish(null);
          }
        }}
      />
      <ErrorBox error={error} title="Not renamed." />
    </div>
  );
}
