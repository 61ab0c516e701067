/**
 * One tool call in the transcript: a header saying in words what it did (`Edited src/app.ts
 * (+12 −3)`, `Ran npm test — exit 1 · 3.2 s`) and how it stands, and a body for its kind — a
 * diff, a file preview, a command's live output — with the input as fields and the raw JSON
 * behind "Details". Memoized on plain props: a finished card does not re-render while another
 * call's output streams.
 */
import { type ComponentType, memo, useEffect, useId, useMemo, useState } from "react";
import { useAgentPresence } from "../agentPresence.ts";
import {
  type BodyProps,
  EditBody,
  ExecuteBody,
  OutputBody,
  ReadBody,
  WriteBody,
} from "./bodies.tsx";
import { InputFields, RawDetails } from "./InputFields.tsx";
import { outputText, parseInput, stateOf, type ToolState } from "./parse.ts";
import { type SummaryParts, toolSummaryParts } from "./summary.ts";
import { ToolIcon } from "./ToolIcon.tsx";
import { useCallDuration } from "./useCallDuration.ts";
import "./tools.css";

const BODIES: Record<string, ComponentType<BodyProps>> = {
  edit_file: EditBody,
  write_file: WriteBody,
  read_file: ReadBody,
  execute: ExecuteBody,
  process_output: ExecuteBody,
};

/** Open at first: what changed and what ran; a problem. Reads, listings and searches closed. */
function openAtFirst(name: string, state: ToolState): boolean {
  if (state === "failed" || state === "offline" || state === "stopped") return true;
  return name === "edit_file" || name === "write_file" || name === "execute";
}

const CHIP: Record<ToolState, string | null> = {
  running: "Running…",
  done: null,
  failed: "Failed",
  stopped: "Stopped",
  offline: "Agent offline",
};

/** A failure worth a second look: a non-zero exit, a timeout, a kill. */
const BAD_DETAIL = /^(exit -?[1-9]|timed out|killed|could not start)/;

/** The header's words, with the counts of an edit and a bad exit in colour. */
function SummaryText({ summary }: { summary: SummaryParts }) {
  const counts = /^(.*) \(\+(\d+) −(\d+)\)$/.exec(summary.title);
  return (
    <span className="tool-title">
      {counts ? (
        <>
          {counts[1]}{" "}
          <span className="tool-counts">
            (<span className="tool-added">+{counts[2]}</span>{" "}
            <span className="tool-removed">−{counts[3]}</span>)
          </span>
        </>
      ) : (
        summary.title
      )}
      {summary.detail ? (
        <>
          {" — "}
          {summary.detail.split(" · ").map((piece, i) => (
            <span key={piece}>
              {i > 0 ? " · " : null}
              <span className="tool-detail" data-bad={BAD_DETAIL.test(piece) ? "true" : undefined}>
                {piece}
              </span>
            </span>
          ))}
        </>
      ) : null}
    </span>
  );
}

export const ToolCard = memo(function ToolCard({
  callId,
  name,
  input,
  output,
  isError,
  running,
  watching,
}: {
  callId: string;
  name: string;
  /** The persisted input, or the JSON text still streaming from the model. */
  input: unknown;
  /** The result's output, or the output streamed so far; undefined before any. */
  output: unknown;
  isError: boolean;
  running: boolean;
  /** The call is persisted and was seen running here: it is timed, and may wait for the agent. */
  watching: boolean;
}) {
  const parsed = useMemo(() => parseInput(input), [input]);
  const text = useMemo(() => (output === undefined ? undefined : outputText(output)), [output]);
  const state = stateOf({ output: text, isError, running });
  const duration = useCallDuration(callId, state === "running", watching);
  const presence = useAgentPresence();
  // Nothing streamed says a call is waiting for an agent; the header's poll says it is offline.
  const waiting = watching && state === "running" && !text && presence === "offline";
  const summary = toolSummaryParts({
    name,
    input: parsed,
    output: text,
    state,
    durationMs: name === "execute" ? duration : undefined,
  });
  const [open, setOpen] = useState(() => openAtFirst(name, state));
  // A call that fails or is stopped while shown opens on what went wrong (once: the reader may
  // close it again).
  const ended = state === "failed" || state === "offline" || state === "stopped";
  useEffect(() => {
    if (ended) setOpen(true);
  }, [ended]);
  const bodyId = useId();
  const Body = BODIES[name] ?? OutputBody;
  // A call still streaming from the model is being written, not run yet.
  const chip = waiting ? "Waiting…" : state === "running" && !watching ? "Preparing…" : CHIP[state];
  return (
    <div className="tool-card" data-tool={name} data-state={waiting ? "waiting" : state}>
      <button
        type="button"
        className="tool-head"
        aria-expanded={open}
        aria-controls={open ? bodyId : undefined}
        onClick={() => setOpen(!open)}
      >
        <ToolIcon name={name} />
        <SummaryText summary={summary} />
        {chip ? <span className={`tool-chip tool-chip-${state}`}>{chip}</span> : null}
        <span className="tool-chevron" aria-hidden="true" />
      </button>
      {waiting ? (
        <p className="tool-waiting" role="status">
          Waiting for the workspace agent… It is offline; the call runs if it connects within 30 s.
        </p>
      ) : null}
      {open ? (
        <div className="tool-body" id={bodyId}>
          <InputFields name={name} input={parsed} />
          <Body name={name} input={parsed} output={text} state={state} />
          <RawDetails input={input} output={text} />
        </div>
      ) : null}
    </div>
  );
});
