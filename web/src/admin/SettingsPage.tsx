/**
 * The deployment's settings: the system prompt every model is told after Keel's built-in one,
 * the model that titles new chats, the one that summarises compacted chats, and the one new chats
 * preselect. The server validates; its error is shown as it says it.
 */
import { type FormEvent, useState } from "react";
import { api } from "../api/client.ts";
import type { Model, Settings } from "../api/types.ts";
import { CharacterCount } from "../ui/CharacterCount.tsx";
import { ErrorBox } from "../ui/ErrorBox.tsx";
import { Field } from "../ui/Field.tsx";
import { SaveActions } from "../ui/SaveActions.tsx";
import { useAction } from "../ui/useAction.ts";
import { useAsync } from "../ui/useAsync.ts";
import { DefaultLimitSettings } from "./DefaultLimitSettings.tsx";
import { RetentionSettings } from "./RetentionSettings.tsx";

/** The server's limit (`MAX_SYSTEM_PROMPT_CHARS`), shown beside the count; the server enforces it. */
const PROMPT_LIMIT = 20_000;

/** A model for a deployment-wide job, or "" for each chat's own model. */
function ModelSelect({
  name,
  value,
  models,
  onChange,
  none = "The chat's own model",
  ...labelled
}: {
  name: string;
  /** What "" means for this setting. */
  none?: string;
  value: string;
  models: Model[];
  onChange(value: string): void;
  /** Set by `Field`, which labels and describes the select. */
  id?: string;
  "aria-describedby"?: string;
}) {
  return (
    <select {...labelled} name={name} value={value} onChange={(e) => onChange(e.target.value)}>
      <option value="">{none}</option>
      {models.map((m) => (
        // A disabled model stays shown while it is the one chosen.
        <option key={m.id} value={m.id} disabled={!m.enabled && m.id !== value}>
          {m.display_name}
          {m.enabled ? "" : " (disabled)"}
        </option>
      ))}
    </select>
  );
}

function SettingsForm({ settings, models }: { settings: Settings; models: Model[] }) {
  const action = useAction();
  const [prompt, setPrompt] = useState(settings.system_prompt ?? "");
  const [titleModel, setTitleModel] = useState(settings.title_model_id ?? "");
  const [summaryModel, setSummaryModel] = useState(settings.summary_model_id ?? "");
  const [defaultModel, setDefaultModel] = useState(settings.default_model_id ?? "");
  const [saved, setSaved] = useState(false);
  const length = [...prompt].length;
  const current = models.find((m) => m.id === titleModel);
  const currentSummary = models.find((m) => m.id === summaryModel);
  const currentDefault = models.find((m) => m.id === defaultModel);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setSaved(false);
    const ok = await action.run(async () => {
      const updated = await api.updateSettings({
        system_prompt: prompt.trim() === "" ? null : prompt,
        title_model_id: titleModel === "" ? null : titleModel,
        summary_model_id: summaryModel === "" ? null : summaryModel,
        default_model_id: defaultModel === "" ? null : defaultModel,
      });
      setPrompt(updated.system_prompt ?? "");
      setTitleModel(updated.title_model_id ?? "");
      setSummaryModel(updated.summary_model_id ?? "");
      setDefaultModel(updated.default_model_id ?? "");
    });
    setSaved(ok);
  }

  return (
    <form className="card settings-form" onSubmit={submit} aria-labelledby="settings-title">
      <h2 id="settings-title">Deployment</h2>
      <Field
        label="System prompt"
        hint="Told to every model after Keel's built-in instructions, from the next turn of every chat. Users can see it."
      >
        <textarea
          name="system_prompt"
          rows={10}
          value={prompt}
          onChange={(e) => {
            setPrompt(e.target.value);
            setSaved(false);
          }}
        />
      </Field>
      <CharacterCount length={length} limit={PROMPT_LIMIT} />
      <Field label="Title model" hint="Writes each chat's title after its first reply.">
        <ModelSelect
          name="title_model_id"
          value={titleModel}
          models={models}
          onChange={(value) => {
            setTitleModel(value);
            setSaved(false);
          }}
        />
      </Field>
      {current && !current.enabled ? (
        <p className="notice">This model is disabled: chats are titled by their own model.</p>
      ) : null}
      <Field
        label="Summary model"
        hint="Writes the summary that replaces a long chat's earlier conversation when it is compacted. Its context window should be at least as large as the chats' models'."
      >
        <ModelSelect
          name="summary_model_id"
          value={summaryModel}
          models={models}
          onChange={(value) => {
            setSummaryModel(value);
            setSaved(false);
          }}
        />
      </Field>
      {currentSummary && !currentSummary.enabled ? (
        <p className="notice">This model is disabled: chats are summarised by their own model.</p>
      ) : null}
      <Field
        label="Default model for new chats"
        hint="Preselected on the New chat page for people who have not chatted yet; everyone else gets the model of their latest chat."
      >
        <ModelSelect
          name="default_model_id"
          value={defaultModel}
          models={models}
          none="The first enabled model"
          onChange={(value) => {
            setDefaultModel(value);
            setSaved(false);
          }}
        />
      </Field>
      {currentDefault && !currentDefault.enabled ? (
        <p className="notice">This model is disabled: new chats preselect the first enabled one.</p>
      ) : null}
      <ErrorBox error={action.error} title="The settings were not saved." />
      <SaveActions busy={action.busy} saved={saved} />
    </form>
  );
}

export function SettingsPage() {
  const settings = useAsync(() => api.getSettings());
  const models = useAsync(() => api.listModels());
  return (
    <div className="page">
      <h1>Settings</h1>
      <ErrorBox error={settings.error ?? models.error} />
      {settings.data && models.data ? (
        <>
          <SettingsForm settings={settings.data} models={models.data.models} />
          <DefaultLimitSettings settings={settings.data} />
          <RetentionSettings settings={settings.data} />
        </>
      ) : settings.loading || models.loading ? (
        <p className="muted">Loading…</p>
      ) : null}
    </div>
  );
}
