/**
 * The audit page's filters. What is typed (actor, an exact action, target, a custom range) is
 * applied with Enter or "Apply"; a choice from a list (an action family, a time preset) applies
 * at once. The form starts from the filters in the address and writes back to it (`onApply`).
 */
import { type FormEvent, useState } from "react";
import { Field } from "../../ui/Field.tsx";
import {
  ACTION_CHOICES,
  type AuditFilters,
  fromLocalInput,
  hasFilters,
  NO_FILTERS,
  RANGE_PRESETS,
  type RangePreset,
  toLocalInput,
} from "./filters.ts";

const OTHER = "other";
const ANY = "";

function actionChoiceOf(action: string): string {
  if (action === "") return ANY;
  return ACTION_CHOICES.some((c) => c.value === action) ? action : OTHER;
}

export function AuditFilterBar({
  filters,
  onApply,
}: {
  filters: AuditFilters;
  onApply(filters: AuditFilters): void;
}) {
  const [draft, setDraft] = useState(filters);
  const [actionChoice, setActionChoice] = useState(actionChoiceOf(filters.action));
  const set = (patch: Partial<AuditFilters>) => setDraft((d) => ({ ...d, ...patch }));

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    onApply({
      ...draft,
      actor: draft.actor.trim(),
      action: draft.action.trim(),
      target: draft.target.trim(),
    });
  }

  function chooseAction(choice: string) {
    setActionChoice(choice);
    if (choice === OTHER) {
      // Keep what was chosen as the text to edit ("provider." → "provider.update").
      set({ action: draft.action });
      return;
    }
    const next = { ...draft, action: choice };
    setDraft(next);
    onApply(next);
  }

  function chooseRange(range: RangePreset) {
    const next = { ...draft, range };
    setDraft(next);
    if (range !== "custom") onApply({ ...next, since: "", until: "" });
  }

  return (
    <search className="audit-filters" aria-label="Audit log filters">
      <form onSubmit={submit}>
        <div className="audit-filter-fields">
          <Field label="Actor">
            <input
              name="actor"
              value={draft.actor}
              onChange={(e) => set({ actor: e.target.value })}
              placeholder="Name or user ID"
              autoComplete="off"
              spellCheck={false}
            />
          </Field>
          <Field label="Action">
            <select value={actionChoice} onChange={(e) => chooseAction(e.target.value)}>
              <option value={ANY}>Any action</option>
              {ACTION_CHOICES.map((choice) => (
                <option key={choice.value} value={choice.value}>
                  {choice.label}
                </option>
              ))}
              <option value={OTHER}>Other (type it)…</option>
            </select>
          </Field>
          {actionChoice === OTHER ? (
            <Field label="Action name" hint="Exact, or a prefix ending in “.”">
              <input
                name="action"
                value={draft.action}
                onChange={(e) => set({ action: e.target.value })}
                placeholder="e.g. chat.delete"
                autoComplete="off"
                spellCheck={false}
              />
            </Field>
          ) : null}
          <Field label="Target">
            <input
              name="target"
              value={draft.target}
              onChange={(e) => set({ target: e.target.value })}
              placeholder="type or type:ID"
              autoComplete="off"
              spellCheck={false}
            />
          </Field>
          <Field label="Time">
            <select
              value={draft.range}
              onChange={(e) => chooseRange(e.target.value as RangePreset)}
            >
              {RANGE_PRESETS.map((preset) => (
                <option key={preset.value} value={preset.value}>
                  {preset.label}
                </option>
              ))}
            </select>
          </Field>
          {draft.range === "custom" ? (
            <>
              <Field label="From">
                <input
                  type="datetime-local"
                  value={toLocalInput(draft.since)}
                  onChange={(e) => set({ since: fromLocalInput(e.target.value) })}
                />
              </Field>
              <Field label="To">
                <input
                  type="datetime-local"
                  value={toLocalInput(draft.until)}
                  onChange={(e) => set({ until: fromLocalInput(e.target.value) })}
                />
              </Field>
            </>
          ) : null}
        </div>
        <div className="form-actions">
          <button type="submit" className="btn-primary btn-small">
            Apply
          </button>
          {hasFilters(filters) ? (
            <button type="button" className="btn-small" onClick={() => onApply(NO_FILTERS)}>
              Clear filters
            </button>
          ) : null}
        </div>
      </form>
    </search>
  );
}
