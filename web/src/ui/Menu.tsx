/**
 * A menu button on Radix's dropdown menu (WAI-ARIA menu button pattern): the button opens a
 * `role="menu"` of `role="menuitem"`s; ↑/↓/Home/End and typing a letter move between them, Esc or
 * a click elsewhere closes it and gives the focus back to the button. The list is placed beside
 * the button where it fits — within the scrolling list the button is in (a `nav` or
 * `[data-menu-bounds]`), else the window: near the list's end it opens upwards — and is portalled
 * out of that list, so nothing clips it.
 */
import * as DropdownMenu from "@radix-ui/react-dropdown-menu";
import { type ReactNode, useRef, useState } from "react";
import { Tooltip } from "./Tooltip.tsx";

export interface MenuItem {
  label: string;
  onSelect(): void;
  danger?: boolean;
  /**
   * The item opens something that takes the focus itself (a field in place of the row, a
   * dialog): the menu does not give the focus back to its button when it closes.
   */
  takesFocus?: boolean;
}

export function Menu({
  label,
  items,
  className,
  children,
}: {
  /** The button's accessible name ("Options for <chat>"); also its tooltip. */
  label: string;
  items: MenuItem[];
  className?: string;
  /** What the button shows (an icon); `label` names it. */
  children: ReactNode;
}) {
  const handedOff = useRef(false);
  const button = useRef<HTMLButtonElement>(null);
  const [bounds, setBounds] = useState<Element | null>(null);
  return (
    <div className={`menu ${className ?? ""}`}>
      <DropdownMenu.Root
        modal={false}
        onOpenChange={(open) => {
          if (!open) return;
          handedOff.current = false;
          setBounds(button.current?.closest("nav, [data-menu-bounds]") ?? null);
        }}
      >
        <Tooltip label={label}>
          <DropdownMenu.Trigger ref={button} className="menu-button" aria-label={label}>
            {children}
          </DropdownMenu.Trigger>
        </Tooltip>
        <DropdownMenu.Portal>
          <DropdownMenu.Content
            className="menu-list"
            aria-label={label}
            align="end"
            sideOffset={2}
            collisionPadding={8}
            collisionBoundary={bounds}
            onCloseAutoFocus={(event) => {
              if (handedOff.current) event.preventDefault();
            }}
          >
            {items.map((item) => (
              <DropdownMenu.Item
                key={item.label}
                className={item.danger ? "menu-item danger" : "menu-item"}
                onSelect={() => {
                  handedOff.current = item.takesFocus === true;
                  item.onSelect();
                }}
              >
                {item.label}
              </DropdownMenu.Item>
            ))}
          </DropdownMenu.Content>
        </DropdownMenu.Portal>
      </DropdownMenu.Root>
    </div>
  );
}
