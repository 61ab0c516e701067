/**
 * A new chat: pick a model the user may use — preselected: the one of their most recent chat, else
 * the one an administrator set as the default, else the first — and write the first message.
 */
import { useState } from "react";
import { api } from "../api/client.ts";
import { isSpendLimitError } from "../limits/api.ts";
import { LimitNotice } from "../limits/LimitNotice.tsx";
import { useSpend } from "../limits/useSpend.ts";
import { Link, navigate } from "../router.tsx";
import { useSession } from "../session.tsx";
import { ErrorBox } from "../ui/ErrorBox.tsx";
import { useAsync } from "../ui/useAsync.ts";
import { Composer } from "./Composer.tsx";

export function NewChatPage({ onCreated }: { onCreated(): void }) {
  const { user } = useSession();
  const models = useAsync(() => api.listModels());
  const workspaces = useAsync(() => api.listWorkspaces());
  const me = useAsync(() => api.me());
  const spend = useSpend();
  const [workspaceId, setWorkspaceId] = useState<string>("");
  const usable = (models.data?.models ?? []).filter((m) => m.enabled);
  const [picked, setPicked] = useState<string>("");
  const [error, setError] = useState<unknown>(null);
  const preferred = [picked, me.data?.user.last_model_id, me.data?.user.default_model_id];
  const modelId =
    preferred.find((id) => id && usable.some((m) => m.id === id)) ?? usable[0]?.id ?? "";

  async function create(text: string) {
    setError(null);
    try {
      const chat = await api.createChat({
        model_id: modelId,
        content: [{ type: "text", text }],
        ...(workspaceId ? { workspace_id: workspaceId } : {}),
      });
      onCreated();
      navigate(`/chats/${chat.id}`);
    } catch (err) {
      // Over the spend limit: the notice above the composer says so (and Send goes off).
      if (isSpendLimitError(err)) void spend.reload();
      else setError(err);
      throw err;
    }
  }

  if ((models.loading && models.data === undefined) || (me.loading && me.data === undefined)) {
    return <p className="page muted">Loading…</p>;
  }
  if (usable.length === 0) {
    return (
      <div className="page">
        <h1>New chat</h1>
        <ErrorBox error={models.error} />
        {user.role === "admin" ? (
          <p>
            No model is enabled yet. Add a <Link to="/admin/providers">provider</Link> (with its API
            key), then a <Link to="/admin/models">model</Link>.
          </p>
        ) : (
          <p>No model is available to you yet. Ask an administrator to enable one.</p>
        )}
      </div>
    );
  }
  return (
    <>
      <div className="page transcript">
        <h1>New chat</h1>
        <p className="muted">What should the agent do?</p>
        <ErrorBox error={error} title="The chat was not created." />
      </div>
      <Composer
        onSend={create}
        sendLabel="Start chat"
        notice={<LimitNotice spend={spend.spend} />}
        blocked={spend.spend?.over === true}
      >
        <label className="sr-only" htmlFor="model-picker">
          Model
        </label>
        <select id="model-picker" value={modelId} onChange={(e) => setPicked(e.target.value)}>
          {usable.map((m) => (
            <option key={m.id} value={m.id}>
              {m.display_name}
            </option>
          ))}
        </select>
        {(workspaces.data?.workspaces.length ?? 0) > 0 ? (
          <>
            <label className="sr-only" htmlFor="workspace-picker">
              Workspace
            </label>
            <select
              id="workspace-picker"
              value={workspaceId}
              onChange={(e) => setWorkspaceId(e.target.value)}
            >
              <option value="">No workspace (no tools)</option>
              {workspaces.data?.workspaces.map((w) => (
                <option key={w.id} value={w.id}>
                  {w.name}
                  {w.agent.connected ? "" : " (agent offline)"}
                </option>
              ))}
            </select>
          </>
        ) : null}
      </Composer>
    </>
  );
}
