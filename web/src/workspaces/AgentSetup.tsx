/**
 * Starting a workspace's agent from the Workspaces page: once, right after creating the workspace,
 * its token and the one line that downloads and runs the agent, each with a copy button, and the
 * agent's status as it changes (the page polls); at any time after, the line again (it holds no
 * secret) for restarting an agent elsewhere.
 */
import { useId } from "react";
import type { CreatedWorkspace, Workspace } from "../api/types.ts";
import { CopyButton } from "../ui/CopyButton.tsx";
import { agentOneLiner } from "./agentCommand.ts";

/** A labelled value shown in full (wrapping, selectable) with its copy button. */
function CopyField({
  label,
  value,
  copyLabel,
}: {
  label: string;
  value: string;
  copyLabel: string;
}) {
  const id = useId();
  return (
    <figure className="copy-field" aria-labelledby={id}>
      {/* The button beside the label, so the value keeps the full width on a phone. */}
      <div className="copy-field-head">
        <span className="copy-field-label" id={id}>
          {label}
        </span>
        <CopyButton text={value} label={copyLabel} />
      </div>
      <code className="copy-field-value">{value}</code>
    </figure>
  );
}

/** Whether the new workspace's agent is there yet: a live region, so the change is announced. */
function LiveAgentStatus({ agent }: { agent: Workspace["agent"] | undefined }) {
  return (
    <p className="agent-live" role="status">
      {agent?.connected ? (
        <span className="badge badge-waiting">
          Agent connected{agent.version ? ` · ${agent.version}` : ""}
        </span>
      ) : (
        <span className="muted">Waiting for the agent to connect…</span>
      )}
    </p>
  );
}

/** Shown once after creating a workspace: the token will not be shown again. */
export function NewAgentPanel({
  created,
  agent,
  onDone,
}: {
  created: CreatedWorkspace;
  /** The workspace's agent as last polled. */
  agent: Workspace["agent"] | undefined;
  onDone(): void;
}) {
  const titleId = useId();
  const title = <strong id={titleId}>Workspace “{created.name}” created.</strong>;
  if (created.directory) {
    return (
      <section className="notice new-agent" aria-labelledby={titleId}>
        <p>
          {title} The server runs its agent in <code>{created.directory}</code>.
        </p>
        <LiveAgentStatus agent={agent} />
        <button type="button" className="btn-small" onClick={onDone}>
          Done
        </button>
      </section>
    );
  }
  return (
    <section className="notice new-agent" aria-labelledby={titleId}>
      <p>
        {title} Start its agent where the code is: it runs the chats' tools there and connects out
        to this server.
      </p>
      <CopyField
        label="1. Copy the agent token (shown only now)"
        value={created.agent_token}
        copyLabel="Copy the agent token"
      />
      <CopyField
        label="2. In the workspace's directory, run (Node.js 20 or later), and paste the token when asked"
        value={agentOneLiner(window.location.origin)}
        copyLabel="Copy the command"
      />
      <p className="hint">
        To run it unattended (a service, a script), set <code>KEEL_AGENT_TOKEN</code> in its
        environment instead. In a Keel checkout, <code>npx keel agent --url …</code> does the same.
      </p>
      <LiveAgentStatus agent={agent} />
      <button type="button" className="btn-small" onClick={onDone}>
        Done
      </button>
    </section>
  );
}

/** The line again, for a workspace whose agent is to be started once more (with its token). */
export function ConnectHelp() {
  return (
    <details className="connect-help">
      <summary>How to start a workspace's agent</summary>
      <CopyField
        label="In the workspace's directory, run (Node.js 20 or later); it asks for the token"
        value={agentOneLiner(window.location.origin)}
        copyLabel="Copy the command to start an agent"
      />
      <p className="hint">
        The token was shown once, when the workspace was created. Lost it? Delete the workspace and
        add it again.
      </p>
    </details>
  );
}
