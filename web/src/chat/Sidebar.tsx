/**
 * The sidebar: a search box on top (Ctrl+K / ⌘K focuses it), the chats grouped by last activity
 * with pinned ones first (or the search's results, or the archived chats), then the settings and
 * the account.
 */
import { useEffect, useState } from "react";
import { api } from "../api/client.ts";
import type { ChatListItem } from "../api/types.ts";
import { chatIdOf, Link } from "../router.tsx";
import { useSession } from "../session.tsx";
import { ErrorBox } from "../ui/ErrorBox.tsx";
import { ChatRow } from "./ChatRow.tsx";
import { groupChats } from "./chatGroups.ts";
import type { ChatList } from "./useChatList.ts";
import "./sidebar.css";

/** The search box's id: Ctrl+K focuses it (see Shell). */
export const CHAT_SEARCH_ID = "chat-search";
const IS_MAC = /Mac|iPhone|iPad/.test(navigator.platform);
/** How long typing pauses before a search is sent. */
const SEARCH_DEBOUNCE_MS = 200;

/** A search, or the archived list, fetched on demand; null while neither is shown. */
function useOtherList(query: string, archived: boolean, version: number) {
  const [chats, setChats] = useState<ChatListItem[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `version` changes after every change made in this tab: fetch again
  useEffect(() => {
    const q = query.trim() === "" ? "" : query;
    if (q === "" && !archived) {
      setChats(null);
      return;
    }
    let cancelled = false;
    const timer = setTimeout(
      () => {
        api
          .listChats({ q, archived })
          .then((page) => {
            if (!cancelled) {
              setChats(page.chats);
              setError(null);
            }
          })
          .catch((err: unknown) => {
            if (!cancelled) setError(err);
          });
      },
      q === "" ? 0 : SEARCH_DEBOUNCE_MS,
    );
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [query, archived, version]);
  return { chats, error };
}

/** A page of the app in the sidebar's footer: a link that looks like the buttons beside it. */
function NavButton({ to, path, children }: { to: string; path: string; children: string }) {
  return (
    <Link
      to={to}
      className="btn btn-small nav-button"
      aria-current={path === to ? "page" : undefined}
    >
      {children}
    </Link>
  );
}

export function Sidebar({
  path,
  list,
  onSignedOut,
  onClose,
}: {
  path: string;
  list: ChatList;
  onSignedOut(): void;
  /** Closes the sidebar where it is a menu over the page (a narrow window). */
  onClose(): void;
}) {
  const { user, signOut } = useSession();
  const [query, setQuery] = useState("");
  const [archived, setArchived] = useState(false);
  const other = useOtherList(query, archived, list.version);
  const searching = query.trim() !== "";
  const currentId = chatIdOf(path);

  const row = (chat: ChatListItem) => (
    <ChatRow
      key={chat.id}
      chat={chat}
      current={chat.id === currentId}
      list={list}
      {...(searching ? { query } : {})}
    />
  );

  let body: React.ReactNode;
  if (searching || archived) {
    const chats = other.chats;
    body =
      chats === null ? (
        <p className="muted sidebar-note" role="status">
          {searching ? "Searching…" : "Loading…"}
        </p>
      ) : chats.length === 0 ? (
        <p className="muted sidebar-note" role="status">
          {searching
            ? `No ${archived ? "archived " : ""}chat matches “${query.trim()}”.`
            : "No archived chats."}
        </p>
      ) : (
        <section aria-label={searching ? "Search results" : "Archived chats"}>
          {searching ? (
            <p className="sr-only" role="status">
              {chats.length === 1 ? "1 chat found" : `${chats.length} chats found`}
            </p>
          ) : null}
          <ul>{chats.map(row)}</ul>
        </section>
      );
  } else {
    body =
      list.chats.length === 0 ? (
        <p className="muted sidebar-note">No chats yet.</p>
      ) : (
        <>
          {groupChats(list.chats, new Date()).map((group) => (
            <section key={group.label} aria-label={group.label} className="chat-group">
              <h2 className="group-label">{group.label}</h2>
              <ul>{group.chats.map(row)}</ul>
            </section>
          ))}
          {list.hasOlder ? (
            <button
              type="button"
              className="btn-small show-older"
              onClick={() => void list.loadOlder()}
            >
              Show older chats
            </button>
          ) : null}
        </>
      );
  }

  return (
    <aside className="sidebar" aria-label="Chats and navigation">
      <header>
        <span className="brand">
          <img src="/favicon.svg" alt="" width="20" height="20" />
          Keel
        </span>
        <Link to="/" className="btn btn-small btn-new-chat">
          New chat
        </Link>
        <button type="button" className="btn-small drawer-close" onClick={onClose}>
          Close<span className="sr-only"> menu</span>
        </button>
      </header>
      <search className="chat-search">
        <label className="sr-only" htmlFor={CHAT_SEARCH_ID}>
          {archived ? "Search archived chats" : "Search chats"}
        </label>
        <input
          id={CHAT_SEARCH_ID}
          type="search"
          placeholder={archived ? "Search archived chats" : "Search chats"}
          aria-keyshortcuts="Control+K Meta+K"
          autoComplete="off"
          maxLength={200}
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          onKeyDown={(event) => {
            if (event.key === "Escape" && query !== "") {
              event.preventDefault();
              event.stopPropagation();
              setQuery("");
            } else if (event.key === "Enter" || event.key === "ArrowDown") {
              // Enter opens the first result; ↓ moves into the results (Tab works too).
              const first = document.querySelector<HTMLAnchorElement>(
                ".sidebar nav.chats a.chat-link",
              );
              if (first === null) return;
              event.preventDefault();
              if (event.key === "Enter") first.click();
              else first.focus();
            }
          }}
        />
        <span className="shortcut" aria-hidden="true">
          {IS_MAC ? "⌘K" : "Ctrl K"}
        </span>
      </search>
      <nav className="chats" aria-label="Your chats">
        {archived ? (
          <div className="archived-head">
            <h2 className="group-label">Archived chats</h2>
            <button type="button" className="btn-small" onClick={() => setArchived(false)}>
              Back to chats
            </button>
          </div>
        ) : null}
        <ErrorBox error={searching || archived ? other.error : list.error} />
        {body}
      </nav>
      <footer>
        <nav aria-label="Your settings">
          <button
            type="button"
            className="btn-small"
            aria-pressed={archived}
            onClick={() => setArchived((a) => !a)}
          >
            Archived
          </button>
          <NavButton to="/workspaces" path={path}>
            Workspaces
          </NavButton>
        </nav>
        {user.role === "admin" ? (
          <nav aria-label="Administration">
            <NavButton to="/admin/providers" path={path}>
              Providers
            </NavButton>
            <NavButton to="/admin/models" path={path}>
              Models
            </NavButton>
            <NavButton to="/admin/mcp-servers" path={path}>
              MCP servers
            </NavButton>
            <NavButton to="/admin/users" path={path}>
              Users
            </NavButton>
            <NavButton to="/admin/groups" path={path}>
              Groups
            </NavButton>
            <NavButton to="/admin/settings" path={path}>
              Settings
            </NavButton>
            <NavButton to="/admin/audit" path={path}>
              Audit log
            </NavButton>
            <NavButton to="/admin/usage" path={path}>
              Usage
            </NavButton>
          </nav>
        ) : null}
        <div className="account">
          <span>
            Signed in as <strong>{user.username}</strong>
          </span>
          <span className="account-actions">
            <NavButton to="/settings/instructions" path={path}>
              Your instructions
            </NavButton>
            <button
              type="button"
              className="btn-small"
              onClick={() => void signOut().then(onSignedOut)}
            >
              Sign out
            </button>
          </span>
        </div>
      </footer>
    </aside>
  );
}
