/**
 * Models: which of a provider's models people may chat with, at what price and context size, and
 * with which settings (temperature, output limit, reasoning effort, when chats are compacted).
 * The server checks the settings against the provider and its refusal is shown as it says it;
 * a model chats use cannot be deleted, and the refusal offers to disable it instead.
 */
import { type FormEvent, useState } from "react";
import { ApiError, api } from "../api/client.ts";
import type { Model, Provider } from "../api/types.ts";
import { Link } from "../router.tsx";
import { DeleteButton } from "../ui/DeleteButton.tsx";
import { ErrorBox } from "../ui/ErrorBox.tsx";
import { Field } from "../ui/Field.tsx";
import { SaveOrCancel, WideRow } from "../ui/RecordEditing.tsx";
import { RecordTable } from "../ui/RecordTable.tsx";
import { optionalNumber, optionalText, useAction } from "../ui/useAction.ts";
import { useAsync } from "../ui/useAsync.ts";
import type { Group } from "./groups/api.ts";
import { groupsApi } from "./groups/api.ts";
import { accessSummary, groupIdsFrom, ModelAccessField } from "./groups/ModelAccess.tsx";
import {
  PriceAndContextFields,
  pricingFrom,
  SettingsFields,
  settingsFrom,
  settingsSummary,
} from "./ModelFields.tsx";
import { ModelIdField } from "./ModelIdField.tsx";

function ProviderSelect({
  providers,
  value,
  onChange,
}: {
  providers: Provider[];
  value: string;
  onChange(id: string): void;
}) {
  return (
    <Field label="Provider">
      <select name="provider_id" required value={value} onChange={(e) => onChange(e.target.value)}>
        {providers.map((p) => (
          <option key={p.id} value={p.id}>
            {p.name}
          </option>
        ))}
      </select>
    </Field>
  );
}

function AddModelForm({
  providers,
  groups,
  onAdded,
}: {
  providers: Provider[];
  groups: Group[];
  onAdded(): void;
}) {
  const action = useAction();
  const [providerId, setProviderId] = useState(providers[0]?.id ?? "");
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const ok = await action.run(() =>
      api.createModel({
        provider_id: providerId,
        model: String(form.get("model")).trim(),
        display_name: optionalText(form, "display_name"),
        context_window: optionalNumber(form, "context_window") ?? null,
        pricing: pricingFrom(form),
        group_ids: groupIdsFrom(form),
        ...settingsFrom(form, undefined),
      }),
    );
    if (ok) {
      formElement.reset();
      onAdded();
    }
  }
  return (
    <form className="card" onSubmit={submit} aria-labelledby="add-model-title">
      <h2 id="add-model-title">Add a model</h2>
      <div className="form-row">
        <ProviderSelect providers={providers} value={providerId} onChange={setProviderId} />
        <ModelIdField providerId={providerId} />
        <Field label="Display name">
          <input name="display_name" maxLength={200} placeholder="Shown to people" />
        </Field>
      </div>
      <ModelAccessField groups={groups} />
      <PriceAndContextFields />
      <SettingsFields />
      <ErrorBox error={action.error} title="The model was not added." />
      <button className="btn-primary" type="submit" disabled={action.busy}>
        Add model
      </button>
    </form>
  );
}

function EditModelForm({
  model,
  providers,
  groups,
  onDone,
}: {
  model: Model;
  providers: Provider[];
  groups: Group[];
  onDone(changed: boolean): void;
}) {
  const action = useAction();
  const [providerId, setProviderId] = useState(model.provider_id);
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const ok = await action.run(() =>
      api.updateModel(model.id, {
        provider_id: providerId,
        model: String(form.get("model")).trim(),
        // An emptied display name shows the model ID, as when the model was added.
        display_name: optionalText(form, "display_name") ?? String(form.get("model")).trim(),
        enabled: form.get("enabled") === "on",
        context_window: optionalNumber(form, "context_window") ?? null,
        pricing: pricingFrom(form),
        group_ids: groupIdsFrom(form),
        ...settingsFrom(form, null),
      }),
    );
    if (ok) onDone(true);
  }
  return (
    <form className="edit-form" onSubmit={submit} aria-label={`Edit ${model.display_name}`}>
      <h3>Edit {model.display_name}</h3>
      <div className="form-row">
        <Field label="Display name">
          <input name="display_name" maxLength={200} defaultValue={model.display_name} />
        </Field>
        <ModelIdField providerId={providerId} model={model} />
        <ProviderSelect providers={providers} value={providerId} onChange={setProviderId} />
      </div>
      <label className="checkbox">
        <input type="checkbox" name="enabled" defaultChecked={model.enabled} /> Enabled: people can
        pick it for new chats
      </label>
      <ModelAccessField groups={groups} model={model} />
      <PriceAndContextFields model={model} />
      <SettingsFields model={model} />
      <SaveOrCancel action={action} onCancel={() => onDone(false)} />
    </form>
  );
}

function price(pricing: Model["pricing"]): string {
  if (pricing === null) return "—";
  return `$${pricing.input_per_mtok} in / $${pricing.output_per_mtok} out`;
}

/** The window Keel works with; "default" when no admin set it (known for the ID, else 128,000). */
function ContextWindow({ model }: { model: Model }) {
  const size = model.effective_context_window.toLocaleString("en-US");
  if (model.context_window !== null) return <>{size}</>;
  return (
    <span title="No context window set: the known window of this model ID, else 128,000 tokens.">
      {size} <span className="muted">(default)</span>
    </span>
  );
}

const COLUMNS = [
  "Enabled",
  "Name",
  "Model ID",
  "Provider",
  "Who can use it",
  "Context",
  "Price per 1M tokens",
  "Settings",
  "Actions",
];

function ModelRow({
  model,
  providers,
  groups,
  onChanged,
}: {
  model: Model;
  providers: Provider[];
  groups: Group[];
  onChanged(): void;
}) {
  const action = useAction();
  const [editing, setEditing] = useState(false);
  const providerName = providers.find((p) => p.id === model.provider_id)?.name;
  // A delete refused because chats use the model: disabling is the way out, offered here.
  const inUse = ApiError.isInstance(action.error) && action.error.status === 409;

  async function toggle(enabled: boolean) {
    if (await action.run(() => api.updateModel(model.id, { enabled }))) onChanged();
  }
  async function remove() {
    if (await action.run(() => api.deleteModel(model.id))) onChanged();
  }

  return (
    <>
      <tr>
        <td data-label="Enabled">
          <label className="checkbox">
            <input
              type="checkbox"
              checked={model.enabled}
              disabled={action.busy}
              onChange={(e) => void toggle(e.target.checked)}
              aria-label={`Enabled: ${model.display_name}`}
            />
          </label>
        </td>
        <td>{model.display_name}</td>
        <td data-label="Model ID" className="mono">
          {model.model}
        </td>
        <td data-label="Provider">{providerName ?? "unknown provider"}</td>
        <td data-label="Who can use it">{accessSummary(model, groups)}</td>
        <td data-label="Context">
          <ContextWindow model={model} />
        </td>
        <td data-label="Price per 1M tokens">{price(model.pricing)}</td>
        <td data-label="Settings">{settingsSummary(model)}</td>
        <td>
          <div className="row-actions">
            <button
              type="button"
              className="btn-small"
              onClick={() => setEditing(!editing)}
              aria-expanded={editing}
              aria-label={`Edit ${model.display_name}`}
            >
              Edit
            </button>
            <DeleteButton
              kind="model"
              name={model.display_name}
              disabled={action.busy}
              onConfirmed={() => void remove()}
            />
          </div>
        </td>
      </tr>
      {action.error ? (
        <WideRow span={COLUMNS.length} className="notice-row">
          <ErrorBox error={action.error} />
          {inUse && model.enabled ? (
            <button type="button" className="btn-small" onClick={() => void toggle(false)}>
              Disable {model.display_name}
            </button>
          ) : null}
        </WideRow>
      ) : null}
      {editing ? (
        <WideRow span={COLUMNS.length} className="edit-row">
          <EditModelForm
            model={model}
            providers={providers}
            groups={groups}
            onDone={(changed) => {
              setEditing(false);
              if (changed) onChanged();
            }}
          />
        </WideRow>
      ) : null}
    </>
  );
}

export function ModelsPage() {
  const models = useAsync(() => api.listModels());
  const providers = useAsync(() => api.listProviders());
  const groups = useAsync(() => groupsApi.list());
  const providerList = providers.data?.providers ?? [];
  const groupList = groups.data?.groups ?? [];
  const list = models.data?.models ?? [];
  return (
    <div className="page">
      <h1>Models</h1>
      <p className="muted">
        Enabled models appear in the model picker of everyone who may use them: everyone, or the
        members of the groups a model is limited to.
      </p>
      <ErrorBox error={models.error ?? providers.error ?? groups.error} />
      <RecordTable
        columns={COLUMNS}
        count={list.length}
        loading={models.loading}
        empty="No model yet."
      >
        {list.map((m) => (
          <ModelRow
            key={m.id}
            model={m}
            providers={providerList}
            groups={groupList}
            onChanged={() => void models.reload()}
          />
        ))}
      </RecordTable>
      {providerList.length > 0 ? (
        <AddModelForm
          providers={providerList}
          groups={groupList}
          onAdded={() => void models.reload()}
        />
      ) : providers.loading ? null : (
        <p>
          Add a <Link to="/admin/providers">provider</Link> first: every model belongs to one.
        </p>
      )}
    </div>
  );
}
