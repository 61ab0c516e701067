/**
 * A short label shown beside a control on hover and on keyboard focus (Radix tooltip), in place
 * of the native `title`, which keyboard users never see and touch screens never show. It
 * describes the control; the control still needs its own accessible name (`aria-label` or text).
 * One `TooltipProvider` at the root shares the delay: moving along a row of controls shows each
 * label at once.
 */
import * as RadixTooltip from "@radix-ui/react-tooltip";
import type { ReactElement, ReactNode } from "react";

export function TooltipProvider({ children }: { children: ReactNode }) {
  return <RadixTooltip.Provider delayDuration={400}>{children}</RadixTooltip.Provider>;
}

export function Tooltip({
  label,
  side = "top",
  children,
}: {
  label: string;
  side?: "top" | "right" | "bottom" | "left";
  /** One focusable element (a button): it becomes the trigger. */
  children: ReactElement;
}) {
  return (
    <RadixTooltip.Root>
      <RadixTooltip.Trigger asChild>{children}</RadixTooltip.Trigger>
      <RadixTooltip.Portal>
        <RadixTooltip.Content className="tooltip" side={side} sideOffset={4} collisionPadding={8}>
          {label}
        </RadixTooltip.Content>
      </RadixTooltip.Portal>
    </RadixTooltip.Root>
  );
}
