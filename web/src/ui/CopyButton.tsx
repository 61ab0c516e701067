/**
 * "Copy" for a piece of text: the clipboard API where the page may use it (HTTPS or localhost),
 * else the older `execCommand("copy")` — a Keel server on a LAN address over plain HTTP has no
 * clipboard API. Says "Copied" for a moment, to screen readers too; when both ways fail, "Not
 * copied", and a toast says what to do instead (the text beside it selects whole with one click,
 * for copying by hand).
 */
import { useEffect, useRef, useState } from "react";
import { useToast } from "./Toaster.tsx";

/** Copies `text`; whether it worked (the code blocks of a reply use it too). */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Refused (no permission, page not focused): try the older way.
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.append(area);
  area.select();
  try {
    return document.execCommand("copy");
  } catch {
    return false;
  } finally {
    area.remove();
  }
}

export function CopyButton({
  text,
  label,
}: {
  text: string /** "Copy the token" */;
  label: string;
}) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  const timer = useRef<number | undefined>(undefined);
  const toast = useToast();
  useEffect(() => () => window.clearTimeout(timer.current), []);
  async function copy() {
    const copied = await copyText(text);
    setState(copied ? "copied" : "failed");
    if (!copied)
      toast("Not copied: this browser did not allow it. Select the text and copy it by hand.");
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => setState("idle"), 2000);
  }
  return (
    <button type="button" className="btn-small copy-button" aria-label={label} onClick={copy}>
      <span aria-live="polite">
        {state === "copied" ? "Copied" : state === "failed" ? "Not copied" : "Copy"}
      </span>
    </button>
  );
}
