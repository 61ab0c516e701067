/**
 * Providers: where the LLM credentials live. Everything about one can be changed; a key is
 * write-only: the page shows whether one is set and offers to replace or remove it, never the
 * key itself. "Test connection" sends the provider the smallest real request and shows the
 * outcome in the words a chat would use; a refused delete shows the server's reason.
 */
import { type FormEvent, useState } from "react";
import { api } from "../api/client.ts";
import type { Provider, ProviderTestResult, ProviderType } from "../api/types.ts";
import { DeleteButton } from "../ui/DeleteButton.tsx";
import { ErrorBox } from "../ui/ErrorBox.tsx";
import { Field } from "../ui/Field.tsx";
import { SaveOrCancel, WideRow } from "../ui/RecordEditing.tsx";
import { RecordTable } from "../ui/RecordTable.tsx";
import { type Action, optionalText, useAction } from "../ui/useAction.ts";
import { useAsync } from "../ui/useAsync.ts";
import {
  newOptions,
  PROVIDER_LABELS,
  PROVIDER_TYPES,
  ProviderFields,
  providerPatch,
} from "./ProviderFields.tsx";

const COLUMNS = ["Name", "Type", "Base URL", "API key", "Connection", "Actions"];

function AddProviderForm({ onAdded }: { onAdded(): void }) {
  const action = useAction();
  const [type, setType] = useState<ProviderType>("openai");

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const ok = await action.run(() =>
      api.createProvider({
        type,
        name: String(form.get("name")).trim(),
        base_url: optionalText(form, "base_url") ?? null,
        api_key: optionalText(form, "api_key"),
        options: newOptions(type, form),
      }),
    );
    if (ok) {
      formElement.reset();
      onAdded();
    }
  }

  return (
    <form className="card" onSubmit={submit} aria-labelledby="add-provider-title">
      <h2 id="add-provider-title">Add a provider</h2>
      {/* Keyed by type: a field another type does not read starts empty again. */}
      <ProviderFields key={type} type={type}>
        <Field label="Type">
          <select
            name="type"
            value={type}
            onChange={(e) => setType(e.target.value as ProviderType)}
          >
            {PROVIDER_TYPES.map((t) => (
              <option key={t} value={t}>
                {PROVIDER_LABELS[t]}
              </option>
            ))}
          </select>
        </Field>
      </ProviderFields>
      <ErrorBox error={action.error} title="The provider was not added." />
      <button className="btn-primary" type="submit" disabled={action.busy}>
        Add provider
      </button>
    </form>
  );
}

function EditProviderForm({
  provider,
  onDone,
}: {
  provider: Provider;
  onDone(changed: boolean): void;
}) {
  const action = useAction();
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    if (await action.run(() => api.updateProvider(provider.id, providerPatch(provider, form)))) {
      onDone(true);
    }
  }
  return (
    <form className="edit-form" onSubmit={submit} aria-label={`Edit ${provider.name}`}>
      <h3>
        Edit {provider.name} <span className="muted">· {PROVIDER_LABELS[provider.type]}</span>
      </h3>
      <ProviderFields type={provider.type} provider={provider} />
      <SaveOrCancel action={action} onCancel={() => onDone(false)} />
    </form>
  );
}

function ReplaceKeyForm({ provider, onDone }: { provider: Provider; onDone(): void }) {
  const action = useAction();
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const key = String(new FormData(event.currentTarget).get("api_key"));
    if (await action.run(() => api.updateProvider(provider.id, { api_key: key }))) onDone();
  }
  return (
    <form className="inline-form" onSubmit={submit}>
      <Field label={`New API key for ${provider.name}`}>
        <input name="api_key" type="password" required autoComplete="off" />
      </Field>
      <ErrorBox error={action.error} />
      <div className="row-actions">
        <button className="btn-primary btn-small" type="submit" disabled={action.busy}>
          Save key
        </button>
        <button className="btn-small" type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}

type TestState = { running: true } | { running: false; result: ProviderTestResult } | null;

/** The outcome of the last test: ✓ and the latency, or the classified failure. */
function ConnectionCell({
  provider,
  test,
  testing,
  onTest,
}: {
  provider: Provider;
  test: TestState;
  testing: Action;
  onTest(): void;
}) {
  let shown = <span className="muted">not tested</span>;
  if (test?.running) shown = <span className="muted">Testing…</span>;
  else if (test?.result.ok) {
    shown = (
      <span className="test-ok">
        <span aria-hidden="true">✓ </span>Connected ·{" "}
        {test.result.latency_ms.toLocaleString("en-US")} ms
      </span>
    );
  } else if (test) {
    shown = (
      <span className="test-fail">
        <span aria-hidden="true">✗ </span>
        {test.result.message ?? "The test failed."}
        {test.result.detail ? <span className="test-detail">{test.result.detail}</span> : null}
      </span>
    );
  }
  return (
    <td className="connection-cell" data-label="Connection">
      <span role="status">{shown}</span>
      <button
        type="button"
        className="btn-small test-button"
        onClick={onTest}
        disabled={testing.busy}
        aria-label={`Test connection to ${provider.name}`}
      >
        Test connection
      </button>
      <ErrorBox error={testing.error} />
    </td>
  );
}

function ProviderRow({ provider, onChanged }: { provider: Provider; onChanged(): void }) {
  const action = useAction();
  const testing = useAction();
  const [mode, setMode] = useState<"view" | "edit" | "key">("view");
  const [test, setTest] = useState<TestState>(null);

  async function removeKey() {
    if (await action.run(() => api.updateProvider(provider.id, { api_key: null }))) onChanged();
  }
  async function remove() {
    if (await action.run(() => api.deleteProvider(provider.id))) onChanged();
  }
  async function runTest() {
    setTest({ running: true });
    let result: ProviderTestResult | undefined;
    await testing.run(async () => {
      result = await api.testProvider(provider.id);
    });
    setTest(result ? { running: false, result } : null);
  }

  return (
    <>
      <tr>
        <td>{provider.name}</td>
        <td data-label="Type">{PROVIDER_LABELS[provider.type]}</td>
        <td data-label="Base URL" className="mono">
          {provider.base_url ?? <span className="muted">default</span>}
        </td>
        <td data-label="API key">
          {provider.has_api_key ? (
            <span className="badge badge-waiting">set</span>
          ) : (
            <span className="badge">not set</span>
          )}
        </td>
        <ConnectionCell
          provider={provider}
          test={test}
          testing={testing}
          onTest={() => void runTest()}
        />
        <td>
          {mode === "key" ? (
            <ReplaceKeyForm
              provider={provider}
              onDone={() => {
                setMode("view");
                onChanged();
              }}
            />
          ) : (
            <div className="row-actions">
              <button
                type="button"
                className="btn-small"
                onClick={() => setMode(mode === "edit" ? "view" : "edit")}
                aria-expanded={mode === "edit"}
                aria-label={`Edit ${provider.name}`}
              >
                Edit
              </button>
              <button type="button" className="btn-small" onClick={() => setMode("key")}>
                {provider.has_api_key ? "Replace key" : "Set key"}
              </button>
              {provider.has_api_key ? (
                <button
                  type="button"
                  className="btn-small"
                  onClick={removeKey}
                  disabled={action.busy}
                >
                  Remove key
                </button>
              ) : null}
              <DeleteButton
                kind="provider"
                name={provider.name}
                disabled={action.busy}
                onConfirmed={() => void remove()}
              />
            </div>
          )}
        </td>
      </tr>
      {action.error ? (
        <WideRow span={COLUMNS.length} className="notice-row">
          <ErrorBox error={action.error} />
        </WideRow>
      ) : null}
      {mode === "edit" ? (
        <WideRow span={COLUMNS.length} className="edit-row">
          <EditProviderForm
            provider={provider}
            onDone={(changed) => {
              setMode("view");
              if (changed) {
                // A changed provider's last test says nothing about it any more.
                setTest(null);
                onChanged();
              }
            }}
          />
        </WideRow>
      ) : null}
    </>
  );
}

export function ProvidersPage() {
  const providers = useAsync(() => api.listProviders());
  const list = providers.data?.providers ?? [];
  return (
    <div className="page">
      <h1>Providers</h1>
      <p className="muted">The LLM services Keel calls. Workspaces never see these credentials.</p>
      <ErrorBox error={providers.error} />
      <RecordTable
        columns={COLUMNS}
        count={list.length}
        loading={providers.loading}
        empty="No provider yet."
      >
        {list.map((p) => (
          <ProviderRow key={p.id} provider={p} onChanged={() => void providers.reload()} />
        ))}
      </RecordTable>
      <AddProviderForm onAdded={() => void providers.reload()} />
    </div>
  );
}
