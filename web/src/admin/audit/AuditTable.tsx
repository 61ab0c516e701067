/**
 * The audit log's rows: when (relative, the exact time on hover or focus), who, what, on what,
 * whether it worked and from where. A row opens (its time is the button; a click anywhere on it
 * does the same) to show what changed, field by field, and everything else the event records.
 * On a phone each row is a card (the admin tables' rule in styles.css, `data-label`).
 */
import { type ReactNode, useId, useState } from "react";
import { Link } from "../../router.tsx";
import { Tooltip } from "../../ui/Tooltip.tsx";
import type { AuditChange, AuditEvent } from "./api.ts";
import {
  actorLabel,
  exactTime,
  formatValue,
  isDestructive,
  relativeTime,
  shortUserAgent,
} from "./format.ts";

const COLUMNS = ["Time", "Actor", "Action", "Target", "Outcome", "Source"];

function ChangeLine({ field, change }: { field: string; change: AuditChange }) {
  if (change === "[changed]") {
    return (
      <li>
        <span className="mono audit-field">{field}</span>{" "}
        <span className="audit-secret">changed (a secret: its values are never recorded)</span>
      </li>
    );
  }
  const hasFrom = "from" in change;
  const hasTo = "to" in change;
  return (
    <li>
      <span className="mono audit-field">{field}</span>{" "}
      {hasFrom ? (
        <>
          <span className="sr-only">from </span>
          <del className="mono">{formatValue(change.from)}</del>
        </>
      ) : null}
      {hasFrom && hasTo ? <span aria-hidden="true"> → </span> : null}
      {hasTo ? (
        <>
          <span className="sr-only">{hasFrom ? " to " : "set to "}</span>
          <ins className="mono">{formatValue(change.to)}</ins>
        </>
      ) : null}
    </li>
  );
}

/** From one event to the rest of its actor's, or of its target's: an investigation's next step. */
function Pivots({ event }: { event: AuditEvent }) {
  const actor = event.actor.id ?? event.actor.name;
  const target = event.target?.id ? `${event.target.type}:${event.target.id}` : null;
  if (actor === null && target === null) return null;
  const to = (name: string, value: string) =>
    `/admin/audit?${new URLSearchParams({ [name]: value }).toString()}`;
  return (
    <p className="audit-pivots">
      {actor !== null ? (
        <Link to={to("actor", actor)}>All events by {actorLabel(event.actor)}</Link>
      ) : null}
      {target !== null && event.target ? (
        <Link to={to("target", target)}>
          All events on this {event.target.type.replaceAll("_", " ")}
        </Link>
      ) : null}
    </p>
  );
}

function Details({ event }: { event: AuditEvent }) {
  const changes = Object.entries(event.changes ?? {});
  return (
    <div className="audit-details">
      {event.outcome === "failure" ? (
        <p className="audit-error">
          <strong>Failed:</strong> {event.error ?? "the server recorded no reason."}
        </p>
      ) : null}
      {changes.length > 0 ? (
        <section aria-label="Changes">
          {/* A failed change changed nothing: what it would have changed. */}
          <h3>{event.outcome === "failure" ? "Attempted changes" : "Changes"}</h3>
          <ul className="audit-changes">
            {changes.map(([field, change]) => (
              <ChangeLine key={field} field={field} change={change} />
            ))}
          </ul>
        </section>
      ) : (
        <p className="muted">No field changes recorded for this event.</p>
      )}
      <dl className="audit-facts">
        <dt>Time</dt>
        <dd>
          {exactTime(event.time)} <span className="mono muted">{event.time}</span>
        </dd>
        <dt>Actor</dt>
        <dd>
          {actorLabel(event.actor)} <span className="muted">({event.actor.type})</span>
          {event.actor.id ? <span className="mono muted"> {event.actor.id}</span> : null}
        </dd>
        {event.target ? (
          <>
            <dt>Target</dt>
            <dd>
              {event.target.name ?? event.target.type}{" "}
              <span className="muted">({event.target.type})</span>
              {event.target.id ? <span className="mono muted"> {event.target.id}</span> : null}
            </dd>
          </>
        ) : null}
        <dt>Address</dt>
        <dd className="mono">{event.source.address ?? "—"}</dd>
        <dt>User agent</dt>
        <dd className="mono">{event.source.user_agent ?? "—"}</dd>
        <dt>Event ID</dt>
        <dd className="mono">{event.id}</dd>
      </dl>
      <Pivots event={event} />
    </div>
  );
}

/** A cell, its content in one box (a phone's card puts the column's name beside that box). */
function Cell({
  label,
  className,
  children,
}: {
  label: string;
  className?: string;
  children: ReactNode;
}) {
  return (
    <td data-label={label} className={className}>
      <div className="audit-cell">{children}</div>
    </td>
  );
}

function Row({ event, now }: { event: AuditEvent; now: number }) {
  const [open, setOpen] = useState(false);
  const detailsId = useId();
  const failed = event.outcome === "failure";
  const agent = shortUserAgent(event.source.user_agent);
  const toggle = () => setOpen((o) => !o);
  return (
    <>
      <tr
        data-event-id={event.id}
        className={`audit-row${failed ? " audit-failed" : ""}${open ? " audit-open" : ""}`}
        onClick={(e) => {
          // A click on the button toggles by itself; selecting text to copy it does not.
          if ((e.target as HTMLElement).closest("button")) return;
          if (window.getSelection()?.toString()) return;
          toggle();
        }}
      >
        <Cell label="Time" className="audit-time">
          <Tooltip label={exactTime(event.time)} side="right">
            <button
              type="button"
              className="audit-toggle"
              aria-expanded={open}
              aria-controls={open ? detailsId : undefined}
              onClick={toggle}
            >
              <span className="audit-chevron" aria-hidden="true" />
              <span className="sr-only">Details, </span>
              <time dateTime={event.time}>{relativeTime(event.time, now)}</time>
            </button>
          </Tooltip>
        </Cell>
        <Cell label="Actor">
          <span className="audit-actor">{actorLabel(event.actor)}</span>
          {event.actor.type !== "user" ? (
            <span className="muted audit-kind"> {event.actor.type}</span>
          ) : null}
        </Cell>
        <Cell label="Action">
          <span
            className={`badge audit-action${isDestructive(event.action) ? " destructive" : ""}`}
          >
            {event.action}
          </span>
        </Cell>
        <Cell label="Target">
          {event.target ? (
            <>
              <span className="audit-target">{event.target.name ?? event.target.id}</span>
              <span className={(event.target.name ?? event.target.id) ? "muted audit-kind" : ""}>
                {" "}
                {event.target.type}
              </span>
            </>
          ) : (
            <span className="muted">—</span>
          )}
        </Cell>
        <Cell label="Outcome">
          {failed ? (
            <span className="badge badge-error">Failed</span>
          ) : (
            <span className="audit-ok">Success</span>
          )}
        </Cell>
        <Cell label="Source" className="audit-source">
          {event.source.address ? (
            <span className="mono audit-address">{event.source.address}</span>
          ) : null}
          {agent ? <span className="muted audit-agent">{agent}</span> : null}
          {!event.source.address && !agent ? <span className="muted">—</span> : null}
        </Cell>
      </tr>
      {open ? (
        <tr className="audit-details-row" id={detailsId}>
          <td colSpan={COLUMNS.length}>
            <Details event={event} />
          </td>
        </tr>
      ) : null}
    </>
  );
}

export function AuditTable({ events, now }: { events: AuditEvent[]; now: number }) {
  return (
    <div className="table-wrap audit-table">
      <table>
        <thead>
          <tr>
            {COLUMNS.map((column) => (
              <th key={column} scope="col">
                {column}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {events.map((event) => (
            <Row key={event.id} event={event} now={now} />
          ))}
        </tbody>
      </table>
    </div>
  );
}
