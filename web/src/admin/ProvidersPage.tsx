/**
 * Providers: where the LLM credentials live. A key is write-only: the page shows whether one is
 * set and offers to replace or remove it, never the key itself.
 */
import { type FormEvent, useState } from "react";
import { api } from "../api/client.ts";
import type { CreateProviderRequest, Provider, ProviderType } from "../api/types.ts";
import { DeleteButton } from "../ui/DeleteButton.tsx";
import { ErrorBox } from "../ui/ErrorBox.tsx";
import { Field } from "../ui/Field.tsx";
import { RecordTable } from "../ui/RecordTable.tsx";
import { optionalText, useAction } from "../ui/useAction.ts";
import { useAsync } from "../ui/useAsync.ts";

/** Every provider type the server accepts (a new server type is a type error here). */
export const PROVIDER_LABELS: Record<ProviderType, string> = {
  openai: "OpenAI",
  anthropic: "Anthropic",
  google: "Google",
  bedrock: "Amazon Bedrock",
  azure: "Azure OpenAI",
  openrouter: "OpenRouter",
  "openai-compatible": "OpenAI-compatible endpoint",
};
const PROVIDER_TYPES = Object.keys(PROVIDER_LABELS) as ProviderType[];

/** The options a type needs beyond a key, read from the add form. */
function optionsFor(type: ProviderType, form: FormData): CreateProviderRequest["options"] {
  if (type === "bedrock") {
    return {
      region: optionalText(form, "region"),
      access_key_id: optionalText(form, "access_key_id"),
      secret_access_key: optionalText(form, "secret_access_key"),
    };
  }
  if (type === "azure") return { resource_name: optionalText(form, "resource_name") };
  return undefined;
}

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
        options: optionsFor(type, form),
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
      <div className="form-row">
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
        <Field label="Name">
          <input name="name" required maxLength={100} placeholder="e.g. Anthropic (team key)" />
        </Field>
      </div>
      <div className="form-row">
        <Field label="Base URL" hint="Needed for OpenAI-compatible endpoints and proxies.">
          <input name="base_url" type="url" placeholder="Leave empty for the provider's own" />
        </Field>
        <Field label="API key" hint="Stored encrypted. Nobody can read it back.">
          <input name="api_key" type="password" autoComplete="off" />
        </Field>
      </div>
      {type === "bedrock" ? (
        <div className="form-row">
          <Field label="Region">
            <input name="region" placeholder="us-east-1" />
          </Field>
          <Field label="Access key ID">
            <input name="access_key_id" autoComplete="off" />
          </Field>
          <Field label="Secret access key">
            <input name="secret_access_key" type="password" autoComplete="off" />
          </Field>
        </div>
      ) : null}
      {type === "azure" ? (
        <Field label="Resource name">
          <input name="resource_name" />
        </Field>
      ) : null}
      <ErrorBox error={action.error} title="The provider was not added." />
      <button className="btn-primary" type="submit" disabled={action.busy}>
        Add provider
      </button>
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
      <button className="btn-primary btn-small" type="submit" disabled={action.busy}>
        Save key
      </button>{" "}
      <button className="btn-small" type="button" onClick={onDone}>
        Cancel
      </button>
    </form>
  );
}

function ProviderRow({ provider, onChanged }: { provider: Provider; onChanged(): void }) {
  const action = useAction();
  const [replacing, setReplacing] = useState(false);

  async function removeKey() {
    if (await action.run(() => api.updateProvider(provider.id, { api_key: null }))) onChanged();
  }
  async function remove() {
    if (await action.run(() => api.deleteProvider(provider.id))) onChanged();
  }

  return (
    <tr>
      <td>{provider.name}</td>
      <td>{PROVIDER_LABELS[provider.type]}</td>
      <td className="mono">{provider.base_url ?? <span className="muted">default</span>}</td>
      <td>
        {provider.has_api_key ? (
          <span className="badge badge-waiting">set</span>
        ) : (
          <span className="badge">not set</span>
        )}
      </td>
      <td>
        {replacing ? (
          <ReplaceKeyForm
            provider={provider}
            onDone={() => {
              setReplacing(false);
              onChanged();
            }}
          />
        ) : (
          <div className="row-actions">
            <button type="button" className="btn-small" onClick={() => setReplacing(true)}>
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
        <ErrorBox error={action.error} />
      </td>
    </tr>
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
        columns={["Name", "Type", "Base URL", "API key", "Actions"]}
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
