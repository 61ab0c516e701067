/**
 * Models: which of a provider's models people may chat with, at what price and context size, and
 * with which settings (temperature, output limit, reasoning effort, when chats are compacted).
 * The server checks the settings against the provider and its refusal is shown as it says it.
 */
import { type FormEvent, useState } from "react";
import { api } from "../api/client.ts";
import type { Model, Pricing, Provider } from "../api/types.ts";
import { Link } from "../router.tsx";
import { DeleteButton } from "../ui/DeleteButton.tsx";
import { ErrorBox } from "../ui/ErrorBox.tsx";
import { Field } from "../ui/Field.tsx";
import { RecordTable } from "../ui/RecordTable.tsx";
import { optionalNumber, optionalText, useAction } from "../ui/useAction.ts";
import { useAsync } from "../ui/useAsync.ts";

/** Pricing from the form: both prices or neither (a model without pricing has no cost shown). */
function pricingFrom(form: FormData): Pricing | null {
  const input = optionalNumber(form, "input_per_mtok");
  const output = optionalNumber(form, "output_per_mtok");
  if (input === undefined && output === undefined) return null;
  return { input_per_mtok: input ?? 0, output_per_mtok: output ?? 0 };
}

const tokens = (n: number) => `${n.toLocaleString("en-US")} tokens`;

/** What an empty context window means: Keel's window for the model ID (known, else 128,000). */
function contextWindowHint(model: Model | undefined): string {
  if (model !== undefined && model.context_window === null) {
    return `Empty: ${tokens(model.effective_context_window)} (default).`;
  }
  return "Empty: the known window of the model ID, else 128,000 tokens.";
}

function PriceAndContextFields({ model }: { model?: Model }) {
  return (
    <div className="form-row">
      <Field label="Context window" hint={contextWindowHint(model)}>
        <input
          name="context_window"
          type="number"
          min={1}
          step={1}
          defaultValue={model?.context_window ?? ""}
          placeholder={
            model?.context_window === null
              ? model.effective_context_window.toLocaleString("en-US")
              : "tokens"
          }
        />
      </Field>
      <Field label="Input $/1M tokens">
        <input
          name="input_per_mtok"
          type="number"
          min={0}
          step="any"
          defaultValue={model?.pricing?.input_per_mtok ?? ""}
        />
      </Field>
      <Field label="Output $/1M tokens">
        <input
          name="output_per_mtok"
          type="number"
          min={0}
          step="any"
          defaultValue={model?.pricing?.output_per_mtok ?? ""}
        />
      </Field>
    </div>
  );
}

const REASONING_LABELS: Record<string, string> = {
  off: "Off",
  low: "Low",
  medium: "Medium",
  high: "High",
};

/** The server's default compaction threshold (`DEFAULT_COMPACT_AT`), for the hint. */
const DEFAULT_COMPACT_PERCENT = 80;

/** A share of the window (0.7) as the form shows it (70), and back. */
const toPercent = (share: number) => Math.round(share * 1000) / 10;
const toShare = (percent: number) => Math.round(percent * 10) / 1000;

/** The model's settings from the form; an empty field is `empty` (the provider's default). */
function settingsFrom<E extends null | undefined>(form: FormData, empty: E) {
  const reasoning = optionalText(form, "reasoning") as Model["reasoning"] | undefined;
  const compactAt = optionalNumber(form, "compact_at");
  return {
    temperature: optionalNumber(form, "temperature") ?? empty,
    max_output_tokens: optionalNumber(form, "max_output_tokens") ?? empty,
    reasoning: reasoning ?? empty,
    compact_at: compactAt === undefined ? empty : toShare(compactAt),
  };
}

function SettingsFields({ model }: { model?: Model }) {
  return (
    <div className="form-row">
      <Field label="Temperature" hint="0–2 (Anthropic 0–1). Empty: the provider's default.">
        <input
          name="temperature"
          type="number"
          min={0}
          max={2}
          step="any"
          defaultValue={model?.temperature ?? ""}
        />
      </Field>
      <Field label="Max output tokens" hint="Per model step. Empty: Keel's default.">
        <input
          name="max_output_tokens"
          type="number"
          min={1}
          step={1}
          defaultValue={model?.max_output_tokens ?? ""}
          placeholder="tokens"
        />
      </Field>
      <Field label="Reasoning" hint="Thinking effort, if the model reasons.">
        <select name="reasoning" defaultValue={model?.reasoning ?? ""}>
          <option value="">Provider default</option>
          {Object.entries(REASONING_LABELS).map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </Field>
      <Field
        label="Compact at (% of window)"
        hint={`10–95: a chat's earlier conversation is summarised once its prompt fills this much of the context window. Empty: ${DEFAULT_COMPACT_PERCENT}%. Users may only lower it.`}
      >
        <input
          name="compact_at"
          type="number"
          min={10}
          max={95}
          step="any"
          defaultValue={model?.compact_at == null ? "" : toPercent(model.compact_at)}
          placeholder={String(DEFAULT_COMPACT_PERCENT)}
        />
      </Field>
    </div>
  );
}

/** The settings column: what differs from the provider's defaults. */
function settingsSummary(model: Model): string {
  const parts = [
    model.temperature !== null ? `temperature ${model.temperature}` : null,
    model.max_output_tokens !== null
      ? `${model.max_output_tokens.toLocaleString()} output tokens`
      : null,
    model.reasoning !== null
      ? `reasoning ${REASONING_LABELS[model.reasoning]?.toLowerCase()}`
      : null,
    model.compact_at !== null ? `compact at ${toPercent(model.compact_at)}%` : null,
  ].filter((part) => part !== null);
  return parts.length ? parts.join(" · ") : "defaults";
}

function AddModelForm({ providers, onAdded }: { providers: Provider[]; onAdded(): void }) {
  const action = useAction();
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const ok = await action.run(() =>
      api.createModel({
        provider_id: String(form.get("provider_id")),
        model: String(form.get("model")).trim(),
        display_name: optionalText(form, "display_name"),
        context_window: optionalNumber(form, "context_window") ?? null,
        pricing: pricingFrom(form),
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
        <Field label="Provider">
          <select name="provider_id" required>
            {providers.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Model ID" hint="The provider's own model name.">
          <input name="model" required maxLength={200} placeholder="e.g. claude-sonnet-4-5" />
        </Field>
        <Field label="Display name">
          <input name="display_name" maxLength={200} placeholder="Shown to people" />
        </Field>
      </div>
      <PriceAndContextFields />
      <SettingsFields />
      <ErrorBox error={action.error} title="The model was not added." />
      <button className="btn-primary" type="submit" disabled={action.busy}>
        Add model
      </button>
    </form>
  );
}

function EditModelForm({ model, onDone }: { model: Model; onDone(changed: boolean): void }) {
  const action = useAction();
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const ok = await action.run(() =>
      api.updateModel(model.id, {
        context_window: optionalNumber(form, "context_window") ?? null,
        pricing: pricingFrom(form),
        ...settingsFrom(form, null),
      }),
    );
    if (ok) onDone(true);
  }
  return (
    <form className="inline-form" onSubmit={submit} aria-label={`Edit ${model.display_name}`}>
      <PriceAndContextFields model={model} />
      <SettingsFields model={model} />
      <ErrorBox error={action.error} title="Not saved." />
      <button className="btn-primary btn-small" type="submit" disabled={action.busy}>
        Save
      </button>{" "}
      <button className="btn-small" type="button" onClick={() => onDone(false)}>
        Cancel
      </button>
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

function ModelRow({
  model,
  providerName,
  onChanged,
}: {
  model: Model;
  providerName: string;
  onChanged(): void;
}) {
  const action = useAction();
  const [editing, setEditing] = useState(false);

  async function toggle(enabled: boolean) {
    if (await action.run(() => api.updateModel(model.id, { enabled }))) onChanged();
  }
  async function remove() {
    if (await action.run(() => api.deleteModel(model.id))) onChanged();
  }

  return (
    <tr>
      <td>
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
      <td className="mono">{model.model}</td>
      <td>{providerName}</td>
      <td>
        <ContextWindow model={model} />
      </td>
      <td>{price(model.pricing)}</td>
      <td>{settingsSummary(model)}</td>
      <td>
        {editing ? (
          <EditModelForm
            model={model}
            onDone={(changed) => {
              setEditing(false);
              if (changed) onChanged();
            }}
          />
        ) : (
          <div className="row-actions">
            <button
              type="button"
              className="btn-small"
              onClick={() => setEditing(true)}
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
        )}
        <ErrorBox error={action.error} />
      </td>
    </tr>
  );
}

export function ModelsPage() {
  const models = useAsync(() => api.listModels());
  const providers = useAsync(() => api.listProviders());
  const providerList = providers.data?.providers ?? [];
  const names = new Map(providerList.map((p) => [p.id, p.name]));
  const list = models.data?.models ?? [];
  return (
    <div className="page">
      <h1>Models</h1>
      <p className="muted">Enabled models appear in everyone's model picker.</p>
      <ErrorBox error={models.error ?? providers.error} />
      <RecordTable
        columns={[
          "Enabled",
          "Name",
          "Model ID",
          "Provider",
          "Context",
          "Price per 1M tokens",
          "Settings",
          "Actions",
        ]}
        count={list.length}
        loading={models.loading}
        empty="No model yet."
      >
        {list.map((m) => (
          <ModelRow
            key={m.id}
            model={m}
            providerName={names.get(m.provider_id) ?? "unknown provider"}
            onChanged={() => void models.reload()}
          />
        ))}
      </RecordTable>
      {providerList.length > 0 ? (
        <AddModelForm providers={providerList} onAdded={() => void models.reload()} />
      ) : providers.loading ? null : (
        <p>
          Add a <Link to="/admin/providers">provider</Link> first: every model belongs to one.
        </p>
      )}
    </div>
  );
}
