/**
 * Client-side routing in a few lines: the path lives in `location`, `navigate` pushes it, and
 * `usePath` re-renders on change. The server answers every non-API path with the app.
 */
import { type AnchorHTMLAttributes, type MouseEvent, type Ref, useSyncExternalStore } from "react";

const CHANGE = "keel:navigate";

export function navigate(path: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  window.dispatchEvent(new Event(CHANGE));
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener("popstate", onChange);
  window.addEventListener(CHANGE, onChange);
  return () => {
    window.removeEventListener("popstate", onChange);
    window.removeEventListener(CHANGE, onChange);
  };
}

export function usePath(): string {
  return useSyncExternalStore(subscribe, () => location.pathname);
}

/** `/chats/:id` → the id, else null. */
export function chatIdOf(path: string): string | null {
  const match = /^\/chats\/([^/]+)$/.exec(path);
  return match?.[1] ? decodeURIComponent(match[1]) : null;
}

type LinkProps = AnchorHTMLAttributes<HTMLAnchorElement> & {
  to: string;
  /** The anchor (React 19 passes `ref` as a prop). */
  ref?: Ref<HTMLAnchorElement>;
};

/** An anchor that navigates in place, keeping the browser's own behaviour for new tabs. */
export function Link({ to, onClick, ...rest }: LinkProps) {
  const handle = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return <a href={to} onClick={handle} {...rest} />;
}
