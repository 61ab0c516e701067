/**
 * Whether the open chat's workspace agent is connected, as the chat header last saw it
 * (`WorkspaceBadge` polls it). Tool cards read it to say a call is waiting for an offline agent:
 * the server streams nothing that tells a waiting call from a silent one (`src/workspace/hub.ts`
 * holds the call up to 30 s for an agent to connect). One chat page is open at a time, so one
 * value is enough.
 */
import { useSyncExternalStore } from "react";

export type AgentPresence = "online" | "offline" | "unknown";

let presence: AgentPresence = "unknown";
const listeners = new Set<() => void>();

export function setAgentPresence(next: AgentPresence): void {
  if (next === presence) return;
  presence = next;
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useAgentPresence(): AgentPresence {
  return useSyncExternalStore(subscribe, () => presence);
}
