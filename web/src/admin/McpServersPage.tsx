/**
 * MCP servers: Streamable HTTP servers whose tools reach every chat as `<name>__<tool>`. Header
 * values are write-only, like a provider's key: the page lists the header names and offers to
 * replace or remove a value, never shows one. "Check tools" connects now and lists what the
 * server offers, or says why it cannot.
 */
import { type FormEvent, useState } from "react";
import { api } from "../api/client.ts";
import type { McpServer, McpServerTools } from "../api/types.ts";
import { DeleteButton } from "../ui/DeleteButton.tsx";
import { ErrorBox } from "../ui/ErrorBox.tsx";
import { Field } from "../ui/Field.tsx";
import { RecordTable } from "../ui/RecordTable.tsx";
import { optionalText, useAction } from "../ui/useAction.ts";
import { useAsync } from "../ui/useAsync.ts";

/** "a, b" → ["a", "b"]; empty → null (no list). */
function toolList(form: FormData, name: string): string[] | null {
  const text = optionalText(form, name);
  if (text === undefined) return null;
  return text
    .split(/[\s,]+/)
    .map((t) => t.trim())
    .filter((t) => t !== "");
}

interface HeaderRow {
  key: number;
  name: string;
  value: string;
  /** A header the server already has: an empty value keeps it. */
  stored: boolean;
  removed: boolean;
}

let nextKey = 0;
const newRow = (name = "", stored = false): HeaderRow => ({
  key: nextKey++,
  name,
  value: "",
  stored,
  removed: false,
});

/** Header rows: a name and a write-only value each; stored ones can be replaced or removed. */
function HeaderRows({ rows, setRows }: { rows: HeaderRow[]; setRows(rows: HeaderRow[]): void }) {
  const change = (key: number, patch: Partial<HeaderRow>) =>
    setRows(rows.map((row) => (row.key === key ? { ...row, ...patch } : row)));
  return (
    <fieldset className="header-rows">
      <legend>Headers (sent with every request; values are stored encrypted, never shown)</legend>
      {rows.map((row) => (
        <div className="form-row" key={row.key}>
          <Field label="Header name">
            <input
              value={row.name}
              disabled={row.stored}
              placeholder="Authorization"
              onChange={(e) => change(row.key, { name: e.target.value })}
            />
          </Field>
          <Field
            label="Value"
            hint={row.stored ? "Leave empty to keep the stored value." : undefined}
          >
            <input
              type="password"
              autoComplete="off"
              value={row.value}
              disabled={row.removed}
              placeholder={row.stored ? "(stored)" : "Bearer …"}
              onChange={(e) => change(row.key, { value: e.target.value })}
            />
          </Field>
          {row.stored ? (
            <label className="checkbox">
              <input
                type="checkbox"
                checked={row.removed}
                onChange={(e) => change(row.key, { removed: e.target.checked })}
              />{" "}
              Remove
            </label>
          ) : (
            <button
              type="button"
              className="btn-small"
              aria-label={`Remove header row ${row.name}`}
              onClick={() => setRows(rows.filter((r) => r.key !== row.key))}
            >
              Remove
            </button>
          )}
        </div>
      ))}
      <button type="button" className="btn-small" onClick={() => setRows([...rows, newRow()])}>
        Add a header
      </button>
    </fieldset>
  );
}

/** What the rows change: new or replaced values, and removals (null). Unchanged ones: left out. */
function headerPatch(rows: HeaderRow[]): Record<string, string | null> {
  const patch: Record<string, string | null> = {};
  for (const row of rows) {
    const name = row.name.trim();
    if (name === "") continue;
    if (row.removed) patch[name] = null;
    else if (row.value !== "") patch[name] = row.value;
  }
  return patch;
}

/** The fields both forms share: name, URL, allow and deny lists. */
function ServerFields({ server }: { server?: McpServer }) {
  return (
    <>
      <div className="form-row">
        <Field
          label="Name"
          hint="Prefixes its tools: docs → docs__search. Letters, digits, _ and -."
        >
          <input
            name="name"
            required
            maxLength={30}
            pattern="[A-Za-z0-9_\-]{1,30}"
            defaultValue={server?.name}
            placeholder="docs"
          />
        </Field>
        <Field label="URL" hint="The server's Streamable HTTP endpoint.">
          <input
            name="url"
            type="url"
            required
            defaultValue={server?.url}
            placeholder="https://mcp.example.com/mcp"
          />
        </Field>
      </div>
      <div className="form-row">
        <Field label="Only these tools" hint="Comma-separated; empty: every tool.">
          <input name="tools_allow" defaultValue={server?.tools_allow?.join(", ") ?? ""} />
        </Field>
        <Field label="Never these tools" hint="Comma-separated.">
          <input name="tools_deny" defaultValue={server?.tools_deny?.join(", ") ?? ""} />
        </Field>
      </div>
    </>
  );
}

function AddServerForm({ onAdded }: { onAdded(): void }) {
  const action = useAction();
  const [rows, setRows] = useState<HeaderRow[]>([]);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(headerPatch(rows))) {
      if (value !== null) headers[name] = value;
    }
    const ok = await action.run(() =>
      api.createMcpServer({
        name: String(form.get("name")).trim(),
        url: String(form.get("url")).trim(),
        headers,
        enabled: form.get("enabled") === "on",
        tools_allow: toolList(form, "tools_allow"),
        tools_deny: toolList(form, "tools_deny"),
      }),
    );
    if (ok) {
      formElement.reset();
      setRows([]);
      onAdded();
    }
  }

  return (
    <form className="card" onSubmit={submit} aria-labelledby="add-mcp-title">
      <h2 id="add-mcp-title">Add an MCP server</h2>
      <ServerFields />
      <HeaderRows rows={rows} setRows={setRows} />
      <label className="checkbox">
        <input name="enabled" type="checkbox" defaultChecked /> Enabled
      </label>
      <ErrorBox error={action.error} title="The MCP server was not added." />
      <button className="btn-primary" type="submit" disabled={action.busy}>
        Add MCP server
      </button>
    </form>
  );
}

function EditServerForm({ server, onDone }: { server: McpServer; onDone(saved: boolean): void }) {
  const action = useAction();
  const [rows, setRows] = useState<HeaderRow[]>(() =>
    server.header_names.map((name) => newRow(name, true)),
  );

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const headers = headerPatch(rows);
    const ok = await action.run(() =>
      api.updateMcpServer(server.id, {
        name: String(form.get("name")).trim(),
        url: String(form.get("url")).trim(),
        tools_allow: toolList(form, "tools_allow"),
        tools_deny: toolList(form, "tools_deny"),
        ...(Object.keys(headers).length > 0 ? { headers } : {}),
      }),
    );
    if (ok) onDone(true);
  }

  return (
    <form className="inline-form" onSubmit={submit} aria-label={`Edit ${server.name}`}>
      <ServerFields server={server} />
      <HeaderRows rows={rows} setRows={setRows} />
      <ErrorBox error={action.error} title="The changes were not saved." />
      <button className="btn-primary btn-small" type="submit" disabled={action.busy}>
        Save
      </button>{" "}
      <button className="btn-small" type="button" onClick={() => onDone(false)}>
        Cancel
      </button>
    </form>
  );
}

function ToolsCheck({ server }: { server: McpServer }) {
  const action = useAction();
  const [tools, setTools] = useState<McpServerTools["tools"] | null>(null);
  async function check() {
    setTools(null);
    await action.run(async () => setTools((await api.listMcpServerTools(server.id)).tools));
  }
  return (
    <div>
      <button type="button" className="btn-small" onClick={check} disabled={action.busy}>
        {action.busy ? "Checking…" : "Check tools"}
      </button>
      <ErrorBox error={action.error} title={`Could not list the tools of ${server.name}.`} />
      {tools ? (
        tools.length === 0 ? (
          <p className="muted">The server lists no tools.</p>
        ) : (
          <ul className="tool-list">
            {tools.map((tool) => (
              <li key={tool.name}>
                <span className="mono">{tool.chat_name ?? tool.name}</span>
                {tool.offered ? null : <span className="badge"> not offered</span>}
                {tool.description ? <span className="muted"> — {tool.description}</span> : null}
              </li>
            ))}
          </ul>
        )
      ) : null}
    </div>
  );
}

function ServerRow({ server, onChanged }: { server: McpServer; onChanged(): void }) {
  const action = useAction();
  const [editing, setEditing] = useState(false);

  async function toggle(enabled: boolean) {
    if (await action.run(() => api.updateMcpServer(server.id, { enabled }))) onChanged();
  }
  async function remove() {
    if (await action.run(() => api.deleteMcpServer(server.id))) onChanged();
  }

  const filters = [
    server.tools_allow ? `only ${server.tools_allow.join(", ") || "none"}` : "all",
    server.tools_deny?.length ? `not ${server.tools_deny.join(", ")}` : null,
  ]
    .filter(Boolean)
    .join("; ");

  return (
    <tr>
      <td className="mono">{server.name}</td>
      <td className="mono">{server.url}</td>
      <td>
        {server.header_names.length ? (
          server.header_names.join(", ")
        ) : (
          <span className="muted">none</span>
        )}
      </td>
      <td>{filters}</td>
      <td>
        <label className="checkbox">
          <input
            type="checkbox"
            checked={server.enabled}
            disabled={action.busy}
            aria-label={`${server.name} enabled`}
            onChange={(e) => void toggle(e.target.checked)}
          />{" "}
          {server.enabled ? "on" : "off"}
        </label>
      </td>
      <td>
        {editing ? (
          <EditServerForm
            server={server}
            onDone={(saved) => {
              setEditing(false);
              if (saved) onChanged();
            }}
          />
        ) : (
          <div className="row-actions">
            <button type="button" className="btn-small" onClick={() => setEditing(true)}>
              Edit
            </button>
            <DeleteButton
              kind="MCP server"
              name={server.name}
              disabled={action.busy}
              onConfirmed={() => void remove()}
            />
          </div>
        )}
        <ToolsCheck server={server} />
        <ErrorBox error={action.error} />
      </td>
    </tr>
  );
}

export function McpServersPage() {
  const servers = useAsync(() => api.listMcpServers());
  const list = servers.data?.mcp_servers ?? [];
  return (
    <div className="page">
      <h1>MCP servers</h1>
      <p className="muted">
        Tools from MCP servers (Streamable HTTP), offered to every chat as{" "}
        <span className="mono">name__tool</span>. They run on the server's network with the headers
        you give them; a server that is down only leaves its tools out.
      </p>
      <ErrorBox error={servers.error} />
      <RecordTable
        columns={["Name", "URL", "Headers", "Tools", "Enabled", "Actions"]}
        count={list.length}
        loading={servers.loading}
        empty="No MCP server yet."
      >
        {list.map((s) => (
          <ServerRow key={s.id} server={s} onChanged={() => void servers.reload()} />
        ))}
      </RecordTable>
      <AddServerForm onAdded={() => void servers.reload()} />
    </div>
  );
}
