/**
 * The chat's workspace in its header: its name, and whether its agent is connected now. There is
 * no event for an agent connecting or leaving, so it asks `GET /workspaces/{id}` every 5 s while
 * the page is visible (and at once when it becomes visible again).
 */
import { useEffect, useState } from "react";
import { ApiError, api } from "../api/client.ts";
import { type AgentPresence, setAgentPresence } from "./agentPresence.ts";
import { setChatShown } from "./tools/useCallDuration.ts";
import "./tools/tools.css";

const POLL_MS = 5_000;

type Shown = { name: string; presence: AgentPresence } | { deleted: true } | null;

function useWorkspace(workspaceId: string): Shown {
  const [shown, setShown] = useState<Shown>(null);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const poll = async () => {
      clearTimeout(timer);
      if (document.visibilityState === "visible") {
        try {
          const workspace = await api.getWorkspace(workspaceId);
          if (stopped) return;
          const presence = workspace.agent.connected ? "online" : "offline";
          setShown({ name: workspace.name, presence });
          setAgentPresence(presence);
        } catch (error) {
          if (stopped) return;
          if (ApiError.isInstance(error) && error.status === 404) {
            setShown({ deleted: true });
            setAgentPresence("offline");
            return; // a deleted workspace does not come back
          }
          // Another failure (network, 403 for an admin reading someone's chat): say nothing new.
        }
      }
      if (!stopped) timer = setTimeout(() => void poll(), POLL_MS);
    };
    const onVisible = () => {
      if (document.visibilityState === "visible") void poll();
    };
    void poll();
    document.addEventListener("visibilitychange", onVisible);
    // Mounted with the chat's first screen: tool calls that start from now on are timed.
    setChatShown(true);
    return () => {
      setChatShown(false);
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisible);
      setAgentPresence("unknown");
    };
  }, [workspaceId]);
  return shown;
}

const AGENT_TEXT: Record<AgentPresence, string> = {
  online: "agent online",
  offline: "agent offline",
  unknown: "agent status unknown",
};

/** Nothing for a chat without a workspace. */
export function WorkspaceBadge({ workspaceId }: { workspaceId: string | null | undefined }) {
  if (!workspaceId) return null;
  return <KnownWorkspaceBadge workspaceId={workspaceId} />;
}

function KnownWorkspaceBadge({ workspaceId }: { workspaceId: string }) {
  const shown = useWorkspace(workspaceId);
  if (shown === null) return null;
  if ("deleted" in shown) {
    return (
      <span className="workspace-badge" data-agent="offline" role="status">
        <span className="workspace-dot" aria-hidden="true" />
        <span className="workspace-name">Workspace deleted</span>
      </span>
    );
  }
  const agent = AGENT_TEXT[shown.presence];
  return (
    <span
      className="workspace-badge"
      data-agent={shown.presence}
      role="status"
      title={`Workspace ${shown.name}: ${agent}`}
    >
      <span className="workspace-dot" aria-hidden="true" />
      <span className="workspace-name">{shown.name}</span>
      <span className="workspace-agent">· {agent}</span>
    </span>
  );
}
