/**
 * The chat's cost so far, in its header: the sum of the costs recorded with its steps (each at
 * the pricing in force when it ran), from the messages and `usage` events the page already has,
 * so it grows as each step ends. Hidden until a step has usage; steps of a model without pricing
 * have tokens but no cost, and say so.
 */
import { Tooltip } from "../ui/Tooltip.tsx";
import type { ChatViewState } from "./reducer.ts";

export interface ChatCostTotal {
  usd: number;
  steps: number;
  unpriced: number;
}

export function chatCost(usage: ChatViewState["usage"]): ChatCostTotal {
  let usd = 0;
  let steps = 0;
  let unpriced = 0;
  for (const entry of Object.values(usage)) {
    steps += 1;
    if (entry.cost_usd === undefined) unpriced += 1;
    else usd += entry.cost_usd;
  }
  return { usd, steps, unpriced };
}

/** Dollars as people read them: cents, or "<$0.01" for a cost too small to show in cents. */
export function formatUsd(usd: number): string {
  if (usd > 0 && usd < 0.005) return "<$0.01";
  return usd.toLocaleString("en-US", {
    style: "currency",
    currency: "USD",
    minimumFractionDigits: 2,
    maximumFractionDigits: 2,
  });
}

export function ChatCost({ usage }: { usage: ChatViewState["usage"] }) {
  const total = chatCost(usage);
  if (total.steps === 0) return null;
  const priced = total.steps - total.unpriced;
  const shown = priced === 0 ? "$?" : `${formatUsd(total.usd)}${total.unpriced > 0 ? "+" : ""}`;
  const steps = `${total.steps} model ${total.steps === 1 ? "step" : "steps"}`;
  const label =
    priced === 0
      ? `Cost of this chat unknown: its model has no pricing (${steps}).`
      : `Cost of this chat so far: $${total.usd.toFixed(4)} over ${steps}` +
        (total.unpriced > 0 ? `, ${total.unpriced} of them without pricing.` : ".");
  return (
    <Tooltip label={label} side="bottom">
      {/* Focusable so the exact figure is one Tab away, not only on hover. */}
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: the tooltip's trigger must take focus */}
      <span className="chat-cost" data-testid="chat-cost" tabIndex={0}>
        <span aria-hidden="true">{shown}</span>
        <span className="sr-only">{label}</span>
      </span>
    </Tooltip>
  );
}
