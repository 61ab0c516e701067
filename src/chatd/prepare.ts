/**
 * What one turn (or one compaction) of a chat runs with, read as it is when it starts: the chat's
 * model, its tools, the instructions (DESIGN.md §7: read once per turn, never per step), its
 * context budget — the model's window and the lower of the model's and the owner's compaction
 * thresholds — and the deployment's summary model.
 */
import { contextBudget, DEFAULT_COMPACT_AT } from "../chatloop/context.ts";
import type { Publish } from "../chatloop/publish.ts";
import type { ToolRegistry } from "../chatloop/tools.ts";
import type { TurnOptions } from "../chatloop/turn.ts";
import { contextWindowOf } from "../provider/context-windows.ts";
import type { ChatModel } from "../provider/index.ts";
import type { Chat, ChatErrorRecord } from "../store/types.ts";
import { gatherInstructions } from "./instructions.ts";
import { type ModelResolver, restrictedModelError } from "./models.ts";
import type { ChatDaemonOptions, DaemonStore } from "./options.ts";
import { turnBudget } from "./spend-check.ts";

export interface PrepareDeps {
  store: DaemonStore;
  models: ModelResolver;
  /** The tools of a chat when `options.toolsFor` is not given. */
  tools: ToolRegistry;
  options: ChatDaemonOptions;
}

export type PreparedTurn =
  /** The chat's model cannot run (removed, disabled, misconfigured): the run ends with `error`. */
  | { ok: false; error: ChatErrorRecord }
  | { ok: true; options: TurnOptions; model: ChatModel; titleModelId: string | null };

export async function prepareTurn(
  deps: PrepareDeps,
  chat: Chat,
  signal: AbortSignal,
  publish: Publish,
): Promise<PreparedTurn> {
  const { store, models, options: o } = deps;
  const resolved = await models.resolve(chat.model_id);
  if (!resolved.ok) return { ok: false, error: resolved.error };
  // Asked at every turn: a model restricted since the chat began (or an owner who left its
  // groups) stops here with a message, never a stuck chat.
  const mayUse = (modelId: string) => store.mayUseModel(chat.owner_id, modelId);
  if (!(await mayUse(chat.model_id)))
    return { ok: false, error: restrictedModelError(resolved.record) };
  const { layers, settings, preferences } = await gatherInstructions({
    store,
    chat,
    workspaces: o.workspaces,
    builtIn: o.systemPrompt,
    readTimeoutMs: o.workspaceReadTimeoutMs,
    signal,
  });
  const record = resolved.record;
  const compactAt = Math.min(
    record.settings.compact_at ?? DEFAULT_COMPACT_AT,
    preferences.compact_at ?? 1,
  );
  const options: TurnOptions = {
    store,
    model: resolved.model,
    chat,
    tools: (await o.toolsFor?.(chat)) ?? deps.tools,
    signal,
    publish,
    policy: o.policy,
    silenceMs: o.silenceMs,
    pricing: record.pricing,
    maxSteps: o.maxSteps,
    flushIntervalMs: o.flushIntervalMs,
    deadlineMs: o.turnDeadlineMs,
    instructions: layers,
    context: contextBudget(
      contextWindowOf(record).tokens,
      compactAt,
      record.settings.max_output_tokens,
    ),
    // The owner's spend limit, checked before every step (the owner pays, whoever sent).
    budget: turnBudget(store.spendLimits, chat.owner_id),
  };
  // The deployment's summary and title models serve the owner's chat: one they may not use is
  // passed over, and the chat's own model summarises and titles instead.
  const summaryId = settings.summary_model_id;
  if (summaryId !== null && summaryId !== chat.model_id && (await mayUse(summaryId))) {
    const summary = await models.resolve(summaryId);
    // A summary model since disabled or removed: the chat's own model summarises.
    if (summary.ok) {
      options.summaryModel = {
        model: summary.model,
        modelId: summaryId,
        pricing: summary.record.pricing,
      };
    }
  }
  const titleId = settings.title_model_id;
  const titleModelId = titleId !== null && (await mayUse(titleId)) ? titleId : null;
  return { ok: true, options, model: resolved.model, titleModelId };
}
