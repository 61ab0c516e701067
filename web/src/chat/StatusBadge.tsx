/**
 * A chat's status in the words people use; the API's values (`data-status`) stay as they are.
 */
import type { ChatStatus } from "../api/types.ts";

export const STATUS_LABEL: Record<ChatStatus, string> = {
  pending: "Queued",
  running: "Working…",
  waiting: "Ready",
  error: "Failed",
};

/** What a screen reader is told when the chat's status changes (the transcript itself is quiet). */
export const STATUS_ANNOUNCEMENT: Record<ChatStatus, string> = {
  pending: "Queued.",
  running: "Keel is working…",
  waiting: "Ready.",
  error: "The turn failed.",
};

export function StatusBadge({ status }: { status: ChatStatus }) {
  return (
    <span className={`badge badge-${status}`} data-status={status}>
      {STATUS_LABEL[status]}
    </span>
  );
}
