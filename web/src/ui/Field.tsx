/**
 * A labelled form control. The label names the control by `htmlFor` (so a select's chosen
 * option is not part of its name) and the hint describes it (`aria-describedby`), not names it.
 */
import { cloneElement, type ReactElement, useId } from "react";

type Control = ReactElement<{ id?: string; "aria-describedby"?: string }>;

export function Field({
  label,
  hint,
  children,
}: {
  label: string;
  hint?: string;
  children: Control;
}) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {cloneElement(children, { id, "aria-describedby": hintId })}
      {hint ? (
        <span className="hint" id={hintId}>
          {hint}
        </span>
      ) : null}
    </div>
  );
}
