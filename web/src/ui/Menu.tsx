/**
 * A menu button (WAI-ARIA menu button pattern): the button opens a `role="menu"` of
 * `role="menuitem"` buttons; ↑/↓/Home/End move between them, Esc or a click elsewhere closes it and
 * gives the focus back to the button, choosing an item closes it first.
 */
import {
  type KeyboardEvent,
  type ReactNode,
  useId,
  useLayoutEffect,
  useRef,
  useState,
} from "react";

export interface MenuItem {
  label: string;
  onSelect(): void;
  danger?: boolean;
}

export function Menu({
  label,
  items,
  className,
  children,
}: {
  /** The button's accessible name ("Options for <chat>"). */
  label: string;
  items: MenuItem[];
  className?: string;
  /** What the button shows (an icon); `label` names it. */
  children: ReactNode;
}) {
  const [open, setOpen] = useState(false);
  /** Opens upwards when there is no room below (in its scrolling list, or the window). */
  const [up, setUp] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLDivElement>(null);
  const id = useId();

  useLayoutEffect(() => {
    if (!open) {
      setUp(false);
      return;
    }
    const list = menu.current;
    if (list !== null && button.current !== null) {
      const scroller = button.current.closest("nav, [data-menu-bounds]");
      const bottom = Math.min(
        window.innerHeight,
        scroller?.getBoundingClientRect().bottom ?? window.innerHeight,
      );
      if (list.getBoundingClientRect().bottom > bottom) setUp(true);
    }
    menu.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
    const onPointer = (event: PointerEvent) => {
      const target = event.target as Node;
      if (!menu.current?.contains(target) && !button.current?.contains(target)) setOpen(false);
    };
    document.addEventListener("pointerdown", onPointer);
    return () => document.removeEventListener("pointerdown", onPointer);
  }, [open]);

  function close() {
    setOpen(false);
    button.current?.focus();
  }

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    const entries = [...(menu.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];
    const at = entries.indexOf(document.activeElement as HTMLElement);
    const move = (to: number) => entries[(to + entries.length) % entries.length]?.focus();
    switch (event.key) {
      case "Escape":
        event.preventDefault();
        event.stopPropagation();
        close();
        break;
      case "ArrowDown":
        event.preventDefault();
        move(at + 1);
        break;
      case "ArrowUp":
        event.preventDefault();
        move(at - 1);
        break;
      case "Home":
        event.preventDefault();
        move(0);
        break;
      case "End":
        event.preventDefault();
        move(entries.length - 1);
        break;
      case "Tab":
        setOpen(false);
        break;
    }
  }

  return (
    <div className={`menu ${className ?? ""}`}>
      <button
        ref={button}
        type="button"
        className="menu-button"
        aria-label={label}
        title={label}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? id : undefined}
        onClick={() => setOpen((o) => !o)}
        onKeyDown={(event) => {
          if (event.key === "ArrowDown" && !open) {
            event.preventDefault();
            setOpen(true);
          }
        }}
      >
        {children}
      </button>
      {open ? (
        <div
          ref={menu}
          id={id}
          role="menu"
          aria-label={label}
          className={up ? "menu-list up" : "menu-list"}
          onKeyDown={onKeyDown}
        >
          {items.map((item) => (
            <button
              key={item.label}
              type="button"
              role="menuitem"
              tabIndex={-1}
              className={item.danger ? "menu-item danger" : "menu-item"}
              onClick={() => {
                close();
                item.onSelect();
              }}
            >
              {item.label}
            </button>
          ))}
        </div>
      ) : null}
    </div>
  );
}
