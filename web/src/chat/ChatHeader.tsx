/**
 * The chat's header: its title (click to rename in place), its model (a select: a new model
 * applies from the next turn; a disabled or removed model says to pick another), and what the
 * page adds (connection, Compact, status).
 */
import { type ReactNode, useState } from "react";
import { api } from "../api/client.ts";
import type { Chat, Model, UpdateChatRequest } from "../api/types.ts";
import { ErrorBox } from "../ui/ErrorBox.tsx";
import { Tooltip } from "../ui/Tooltip.tsx";
import { useAsync } from "../ui/useAsync.ts";
import { RenameField, untitled } from "./ChatRow.tsx";

export function ChatHeader({
  chat,
  onChange,
  children,
}: {
  chat: Chat;
  onChange(patch: UpdateChatRequest): Promise<unknown>;
  children: ReactNode;
}) {
  const [renaming, setRenaming] = useState(false);
  const models = useAsync(() => api.listModels());
  const [error, setError] = useState<unknown>(null);
  const all = models.data?.models ?? [];
  const current = all.find((m) => m.id === chat.model_id);
  const unusable = models.data !== undefined && !current?.enabled;

  async function pickModel(modelId: string) {
    setError(null);
    try {
      await onChange({ model_id: modelId });
    } catch (err) {
      setError(err);
    }
  }

  return (
    <>
      <header className="chat-header">
        {renaming ? (
          <RenameField
            className="chat-title-field"
            title={chat.title}
            onDone={async (next) => {
              if (next !== null && next !== chat.title) await onChange({ title: next });
              setRenaming(false);
            }}
          />
        ) : (
          <h1>
            <Tooltip label="Rename this chat" side="bottom">
              <button type="button" className="chat-title" onClick={() => setRenaming(true)}>
                {untitled(chat.title)}
              </button>
            </Tooltip>
          </h1>
        )}
        <ModelSelect models={all} chat={chat} onPick={(id) => void pickModel(id)} />
        {children}
      </header>
      {unusable ? (
        <p className="notice model-notice" role="status">
          {current
            ? `This chat's model, ${current.display_name}, is disabled.`
            : "This chat's model is no longer available."}{" "}
          Pick another model above to go on; it answers from your next message.
        </p>
      ) : null}
      <ErrorBox error={error} title="The model was not changed." />
    </>
  );
}

function ModelSelect({
  models,
  chat,
  onPick,
}: {
  models: Model[];
  chat: Chat;
  onPick(modelId: string): void;
}) {
  const enabled = models.filter((m) => m.enabled);
  const current = models.find((m) => m.id === chat.model_id);
  if (models.length === 0) return null;
  return (
    <>
      <label className="sr-only" htmlFor="chat-model">
        Model
      </label>
      <select
        id="chat-model"
        className="chat-model"
        value={chat.model_id}
        onChange={(e) => onPick(e.target.value)}
        aria-invalid={current?.enabled ? undefined : true}
      >
        {current?.enabled ? null : (
          <option value={chat.model_id} disabled>
            {current ? `${current.display_name} (disabled)` : "Unavailable model"}
          </option>
        )}
        {enabled.map((m) => (
          <option key={m.id} value={m.id}>
            {m.display_name}
          </option>
        ))}
      </select>
    </>
  );
}
