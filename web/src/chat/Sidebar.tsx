import type { ChatStatus } from "../api/types.ts";
import { Link } from "../router.tsx";
import { useSession } from "../session.tsx";
import type { ChatList } from "./useChatList.ts";

const STATUS_LABEL: Record<ChatStatus, string> = {
  pending: "queued",
  running: "running",
  waiting: "waiting",
  error: "error",
};

export function StatusBadge({ status }: { status: ChatStatus }) {
  return (
    <span className={`badge badge-${status}`} data-status={status}>
      {STATUS_LABEL[status]}
    </span>
  );
}

export function Sidebar({
  path,
  list,
  onSignedOut,
}: {
  path: string;
  list: ChatList;
  onSignedOut(): void;
}) {
  const { user, signOut } = useSession();
  return (
    <aside className="sidebar" aria-label="Chats and navigation">
      <header>
        <span className="brand">Keel</span>
        <Link to="/" className="btn btn-small">
          New chat
        </Link>
      </header>
      <nav className="chats" aria-label="Your chats">
        {list.chats.length === 0 ? <p className="muted">No chats yet.</p> : null}
        <ul>
          {list.chats.map((chat) => (
            <li key={chat.id}>
              <Link
                to={`/chats/${chat.id}`}
                className="chat-link"
                aria-current={path === `/chats/${chat.id}` ? "page" : undefined}
              >
                <span className="title">{chat.title || "Untitled chat"}</span>
                <StatusBadge status={chat.status} />
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <footer>
        <nav aria-label="Your settings">
          <Link to="/workspaces" aria-current={path === "/workspaces" ? "page" : undefined}>
            Workspaces
          </Link>
        </nav>
        {user.role === "admin" ? (
          <nav aria-label="Administration">
            <Link to="/admin/providers">Providers</Link>
            <Link to="/admin/models">Models</Link>
            <Link to="/admin/mcp-servers">MCP servers</Link>
            <Link to="/admin/users">Users</Link>
            <Link to="/admin/settings">Settings</Link>
          </nav>
        ) : null}
        <div className="account">
          <span>
            Signed in as <strong>{user.username}</strong>
          </span>
          <span className="account-actions">
            <Link
              to="/settings/instructions"
              aria-current={path === "/settings/instructions" ? "page" : undefined}
            >
              Your instructions
            </Link>
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
