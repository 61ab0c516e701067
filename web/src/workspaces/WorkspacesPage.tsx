/**
 * Workspaces: where a chat's tools run. Creating one shows its agent token once, with the line
 * that downloads and starts its agent (AgentSetup.tsx); the agents' status stays current: the
 * page polls the list (there is no event stream for workspaces), only while it is visible.
 */
import { type FormEvent, useCallback, useEffect, useState } from "react";
import { api } from "../api/client.ts";
import type { CreatedWorkspace, Workspace, WorkspaceList } from "../api/types.ts";
import { useSession } from "../session.tsx";
import { DeleteButton } from "../ui/DeleteButton.tsx";
import { ErrorBox } from "../ui/ErrorBox.tsx";
import { Field } from "../ui/Field.tsx";
import { RecordTable } from "../ui/RecordTable.tsx";
import { optionalText, useAction } from "../ui/useAction.ts";
import { ConnectHelp, NewAgentPanel } from "./AgentSetup.tsx";

/** How often the list is fetched again while the page is visible. */
const POLL_MS = 3000;

/** The workspaces, fetched again every POLL_MS while the tab is visible and when it comes back. */
function usePolledWorkspaces() {
  const [data, setData] = useState<WorkspaceList>();
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const reload = useCallback(async () => {
    try {
      setData(await api.listWorkspaces());
      setError(null);
    } catch (err) {
      setError(err);
    } finally {
      setLoading(false);
    }
  }, []);
  useEffect(() => {
    let timer: number | undefined;
    let stopped = false;
    let busy = false;
    // One request at a time: the next is scheduled when the last one is answered (a tab that
    // comes back while one is under way waits for it rather than starting a second chain).
    const poll = async () => {
      if (busy) return;
      window.clearTimeout(timer);
      busy = true;
      try {
        if (document.visibilityState === "visible") await reload();
      } finally {
        busy = false;
      }
      if (!stopped) timer = window.setTimeout(poll, POLL_MS);
    };
    const onVisible = () => {
      if (document.visibilityState === "visible") void poll();
    };
    void poll();
    document.addEventListener("visibilitychange", onVisible);
    return () => {
      stopped = true;
      window.clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisible);
    };
  }, [reload]);
  return { data, error, loading, reload };
}

function AgentStatus({ agent }: { agent: Workspace["agent"] }) {
  return agent.connected ? (
    <span className="badge badge-waiting">
      connected{agent.version ? ` · ${agent.version}` : ""}
    </span>
  ) : (
    <span className="badge">offline</span>
  );
}

function CreateWorkspaceForm({ onCreated }: { onCreated(created: CreatedWorkspace): void }) {
  const { user } = useSession();
  const action = useAction();
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    let created: CreatedWorkspace | undefined;
    const ok = await action.run(async () => {
      created = await api.createWorkspace({
        name: String(form.get("name")).trim(),
        directory: optionalText(form, "directory"),
      });
    });
    if (ok && created) {
      formElement.reset();
      onCreated(created);
    }
  }
  return (
    <form className="card" onSubmit={submit} aria-labelledby="add-workspace-title">
      <h2 id="add-workspace-title">Add a workspace</h2>
      <div className="form-row">
        <Field label="Name">
          <input name="name" required maxLength={100} placeholder="e.g. api-server" />
        </Field>
        {user.role === "admin" ? (
          <Field
            label="Directory on the server"
            hint="Optional. The server then runs the agent itself, as its own OS user."
          >
            <input name="directory" placeholder="/srv/repos/api-server" />
          </Field>
        ) : null}
      </div>
      <ErrorBox error={action.error} title="The workspace was not created." />
      <button className="btn-primary" type="submit" disabled={action.busy}>
        Add workspace
      </button>
    </form>
  );
}

function WorkspaceRow({ workspace, onChanged }: { workspace: Workspace; onChanged(): void }) {
  const action = useAction();
  async function remove() {
    if (await action.run(() => api.deleteWorkspace(workspace.id))) onChanged();
  }
  return (
    <tr>
      <td>{workspace.name}</td>
      <td>
        <AgentStatus agent={workspace.agent} />
      </td>
      <td className="mono">
        {workspace.directory ?? <span className="muted">its own machine</span>}
      </td>
      <td>
        <DeleteButton
          kind="workspace"
          name={workspace.name}
          disabled={action.busy}
          onConfirmed={() => void remove()}
        />
        <ErrorBox error={action.error} />
      </td>
    </tr>
  );
}

export function WorkspacesPage() {
  const workspaces = usePolledWorkspaces();
  const [created, setCreated] = useState<CreatedWorkspace | null>(null);
  const list = workspaces.data?.workspaces ?? [];
  const createdNow = created ? list.find((w) => w.id === created.id) : undefined;
  return (
    <div className="page">
      <h1>Workspaces</h1>
      <p className="muted">
        A chat started in a workspace can read, search, edit and run code there, through the
        workspace's agent. The agent never holds an LLM key.
      </p>
      <ErrorBox error={workspaces.error} />
      {created ? (
        <NewAgentPanel
          created={created}
          agent={createdNow?.agent}
          onDone={() => setCreated(null)}
        />
      ) : null}
      <RecordTable
        columns={["Name", "Agent", "Where", "Actions"]}
        count={list.length}
        loading={workspaces.loading}
        empty="No workspace yet."
      >
        {list.map((w) => (
          <WorkspaceRow key={w.id} workspace={w} onChanged={() => void workspaces.reload()} />
        ))}
      </RecordTable>
      <ConnectHelp />
      <CreateWorkspaceForm
        onCreated={(workspace) => {
          setCreated(workspace);
          void workspaces.reload();
        }}
      />
    </div>
  );
}
