/**
 * Toasts: short confirmations of something done away from where the reader looks ("Archived
 * “Plan”", with Undo), on Radix's toast — announced politely to screen readers (`role="status"`),
 * gone after a few seconds (not while hovered or focused), F8 reaches them from the keyboard, a
 * swipe dismisses them. `useToast()` anywhere under `<Toaster>` shows one.
 */
import * as Toast from "@radix-ui/react-toast";
import { createContext, type ReactNode, useCallback, useContext, useState } from "react";

export interface ToastAction {
  /** The button's text ("Undo"). */
  label: string;
  /** What it says to a screen reader that cannot reach the toast in time ("Unarchive it from the Archived list"). */
  altText: string;
  onAct(): void;
}

interface ShownToast {
  id: number;
  text: string;
  action?: ToastAction | undefined;
}

type ShowToast = (text: string, action?: ToastAction) => void;

const ToastContext = createContext<ShowToast>(() => undefined);

export function useToast(): ShowToast {
  return useContext(ToastContext);
}

/** At most this many at once: older ones leave first. */
const MAX_SHOWN = 3;
let nextId = 0;

export function Toaster({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<ShownToast[]>([]);
  const show = useCallback<ShowToast>((text, action) => {
    nextId += 1;
    const toast = { id: nextId, text, action };
    setToasts((shown) => [...shown.slice(-(MAX_SHOWN - 1)), toast]);
  }, []);
  const dismiss = useCallback((id: number) => {
    setToasts((shown) => shown.filter((t) => t.id !== id));
  }, []);
  return (
    <ToastContext.Provider value={show}>
      <Toast.Provider duration={5000} label="Notification">
        {children}
        {toasts.map((t) => (
          <Toast.Root
            key={t.id}
            className="toast"
            onOpenChange={(open) => {
              if (!open) dismiss(t.id);
            }}
          >
            <Toast.Description className="toast-text">{t.text}</Toast.Description>
            {t.action ? (
              <Toast.Action asChild altText={t.action.altText}>
                <button type="button" className="btn-small" onClick={t.action.onAct}>
                  {t.action.label}
                </button>
              </Toast.Action>
            ) : null}
            <Toast.Close className="toast-close" aria-label="Dismiss">
              <span aria-hidden="true">×</span>
            </Toast.Close>
          </Toast.Root>
        ))}
        <Toast.Viewport className="toast-viewport" />
      </Toast.Provider>
    </ToastContext.Provider>
  );
}
