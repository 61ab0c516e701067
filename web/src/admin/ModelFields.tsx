/**
 * The fields of a model shared by its add and edit forms: pricing and context window, and the
 * settings its provider takes (temperature, output limit, reasoning, compaction threshold).
 */
import type { Model, Pricing } from "../api/types.ts";
import { Field } from "../ui/Field.tsx";
import { optionalNumber, optionalText } from "../ui/useAction.ts";

/** Pricing from the form: both prices or neither (a model without pricing has no cost shown). */
export function pricingFrom(form: FormData): Pricing | null {
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

export function PriceAndContextFields({ model }: { model?: Model }) {
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

export const REASONING_LABELS: Record<string, string> = {
  off: "Off",
  low: "Low",
  medium: "Medium",
  high: "High",
};

/** The server's default compaction threshold (`DEFAULT_COMPACT_AT`), for the hint. */
const DEFAULT_COMPACT_PERCENT = 80;

/** A share of the window (0.7) as the form shows it (70), and back. */
export const toPercent = (share: number) => Math.round(share * 1000) / 10;
const toShare = (percent: number) => Math.round(percent * 10) / 1000;

/** The model's settings from the form; an empty field is `empty` (the provider's default). */
export function settingsFrom<E extends null | undefined>(form: FormData, empty: E) {
  const reasoning = optionalText(form, "reasoning") as Model["reasoning"] | undefined;
  const compactAt = optionalNumber(form, "compact_at");
  return {
    temperature: optionalNumber(form, "temperature") ?? empty,
    max_output_tokens: optionalNumber(form, "max_output_tokens") ?? empty,
    reasoning: reasoning ?? empty,
    compact_at: compactAt === undefined ? empty : toShare(compactAt),
  };
}

export function SettingsFields({ model }: { model?: Model }) {
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
export function settingsSummary(model: Model): string {
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
