/**
 * The address's query string, kept current: the app's `navigate` (router.tsx) announces a change
 * with the `keel:navigate` event, the browser's back and forward with `popstate`.
 */
import { useSyncExternalStore } from "react";
import { navigate } from "../../router.tsx";

function subscribe(onChange: () => void): () => void {
  window.addEventListener("popstate", onChange);
  window.addEventListener("keel:navigate", onChange);
  return () => {
    window.removeEventListener("popstate", onChange);
    window.removeEventListener("keel:navigate", onChange);
  };
}

export function useSearch(): string {
  return useSyncExternalStore(subscribe, () => location.search);
}

/** Puts `search` (no `?`) in the address for this page: a new history entry, so Back undoes it. */
export function setSearch(search: string): void {
  const next = `${location.pathname}${search ? `?${search}` : ""}`;
  if (next !== `${location.pathname}${location.search}`) navigate(next);
}
