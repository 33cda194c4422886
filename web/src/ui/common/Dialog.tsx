import type { ComponentChildren } from "preact";
import { useLayoutEffect } from "preact/hooks";

/** A modal dialog: a labelled `role="dialog"`, closed by Escape or the backdrop. */
export function Dialog(props: { title: string; onClose: () => void; children: ComponentChildren; wide?: boolean }) {
  useLayoutEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") props.onClose();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [props.onClose]);
  return (
    <div class="backdrop" onClick={(e) => e.target === e.currentTarget && props.onClose()}>
      <div class={props.wide ? "dialog wide" : "dialog"} role="dialog" aria-modal="true" aria-label={props.title}>
        <header class="dialog-head">
          <h2>{props.title}</h2>
          <button type="button" class="icon" aria-label="Close" onClick={props.onClose}>
            ✕
          </button>
        </header>
        {props.children}
      </div>
    </div>
  );
}

/** An error in plain words, announced to screen readers. */
export function ErrorText(props: { error: string | null }) {
  return props.error ? (
    <p class="error" role="alert">
      {props.error}
    </p>
  ) : null;
}
