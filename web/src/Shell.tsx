/** The signed-in app: the chat sidebar and the page the path names. */
import { useEffect, useState } from "react";
import { AuditPage } from "./admin/AuditPage.tsx";
import { GroupsPage } from "./admin/GroupsPage.tsx";
import { McpServersPage } from "./admin/McpServersPage.tsx";
import { ModelsPage } from "./admin/ModelsPage.tsx";
import { ProvidersPage } from "./admin/ProvidersPage.tsx";
import { SettingsPage } from "./admin/SettingsPage.tsx";
import { UsagePage } from "./admin/UsagePage.tsx";
import { UsersPage } from "./admin/UsersPage.tsx";
import { ChatPage } from "./chat/ChatPage.tsx";
import { NewChatPage } from "./chat/NewChatPage.tsx";
import { CHAT_SEARCH_ID, Sidebar } from "./chat/Sidebar.tsx";
import { useChatList } from "./chat/useChatList.ts";
import { chatIdOf, usePath } from "./router.tsx";
import { useSession } from "./session.tsx";
import { InstructionsPage } from "./settings/InstructionsPage.tsx";
import { WorkspacesPage } from "./workspaces/WorkspacesPage.tsx";

function AdminOnly({ children }: { children: React.ReactNode }) {
  const { user } = useSession();
  if (user.role !== "admin") {
    return (
      <div className="page">
        <h1>Not available</h1>
        <p>This page is for administrators.</p>
      </div>
    );
  }
  return children;
}

function Page({ path, list }: { path: string; list: ReturnType<typeof useChatList> }) {
  const chatId = chatIdOf(path);
  if (chatId !== null) {
    return <ChatPage key={chatId} chatId={chatId} onChatChanged={list.update} list={list} />;
  }
  switch (path) {
    case "/workspaces":
      return <WorkspacesPage />;
    case "/settings/instructions":
      return <InstructionsPage />;
    case "/admin/providers":
      return (
        <AdminOnly>
          <ProvidersPage />
        </AdminOnly>
      );
    case "/admin/models":
      return (
        <AdminOnly>
          <ModelsPage />
        </AdminOnly>
      );
    case "/admin/mcp-servers":
      return (
        <AdminOnly>
          <McpServersPage />
        </AdminOnly>
      );
    case "/admin/users":
      return (
        <AdminOnly>
          <UsersPage />
        </AdminOnly>
      );
    case "/admin/groups":
      return (
        <AdminOnly>
          <GroupsPage />
        </AdminOnly>
      );
    case "/admin/settings":
      return (
        <AdminOnly>
          <SettingsPage />
        </AdminOnly>
      );
    case "/admin/audit":
      return (
        <AdminOnly>
          <AuditPage />
        </AdminOnly>
      );
    case "/admin/usage":
      return (
        <AdminOnly>
          <UsagePage />
        </AdminOnly>
      );
    default:
      return <NewChatPage onCreated={() => void list.refresh()} />;
  }
}

export function Shell({ onSignedOut }: { onSignedOut(): void }) {
  const path = usePath();
  const list = useChatList();
  const [menuOpen, setMenuOpen] = useState(false);
  // biome-ignore lint/correctness/useExhaustiveDependencies: close the narrow-window menu on navigation
  useEffect(() => setMenuOpen(false), [path]);
  // Ctrl+K (⌘K): the chat search, wherever the focus is; on a narrow window the menu opens first.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      // Esc closes the narrow-window menu (a menu or dialog inside it closes first, on its own).
      if (event.key === "Escape" && !event.defaultPrevented) {
        if (document.querySelector('[role="alertdialog"]') === null) setMenuOpen(false);
        return;
      }
      if (!(event.ctrlKey || event.metaKey) || event.key.toLowerCase() !== "k") return;
      event.preventDefault();
      setMenuOpen(true);
      requestAnimationFrame(() => {
        const box = document.getElementById(CHAT_SEARCH_ID);
        if (box instanceof HTMLInputElement) {
          box.focus();
          box.select();
        }
      });
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
  // The tab says "Keel" everywhere but in a chat, whose page names it after the chat.
  useEffect(() => {
    if (chatIdOf(path) === null) document.title = "Keel";
  }, [path]);
  return (
    <div className={menuOpen ? "shell menu-open" : "shell"}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Sidebar
        path={path}
        list={list}
        onSignedOut={onSignedOut}
        onClose={() => setMenuOpen(false)}
      />
      {menuOpen ? (
        // The rest of a narrow window, dimmed: a click there closes the menu (Esc does too).
        <div className="drawer-backdrop" aria-hidden="true" onClick={() => setMenuOpen(false)} />
      ) : null}
      <main className="main" id="main">
        <button
          type="button"
          className="menu-toggle btn-small"
          aria-expanded={menuOpen}
          onClick={() => setMenuOpen((open) => !open)}
        >
          Menu
        </button>
        <Page path={path} list={list} />
      </main>
    </div>
  );
}
