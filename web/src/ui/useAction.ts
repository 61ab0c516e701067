/** Runs one user action at a time (a form submit, a button) and keeps its error for the screen. */
import { useCallback, useState } from "react";

export interface Action {
  busy: boolean;
  error: unknown;
  /** Runs `work`; resolves true when it succeeded. Never throws: the error is kept instead. */
  run(work: () => Promise<unknown>): Promise<boolean>;
  clear(): void;
}

export function useAction(): Action {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = useCallback(async (work: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
      return true;
    } catch (err) {
      setError(err);
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  const clear = useCallback(() => setError(null), []);
  return { busy, error, run, clear };
}

/** A form field's trimmed text, or undefined when left empty. */
export function optionalText(form: FormData, name: string): string | undefined {
  const value = String(form.get(name) ?? "").trim();
  return value === "" ? undefined : value;
}

/** A form field as a number, or undefined when left empty. */
export function optionalNumber(form: FormData, name: string): number | undefined {
  const text = optionalText(form, name);
  return text === undefined ? undefined : Number(text);
}
