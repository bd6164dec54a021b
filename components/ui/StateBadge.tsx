import { stateStyle } from "./state";

/**
 * A task state as a tinted pill. The glyph is drawn by CSS (::before) so the element's text is
 * exactly the state name, which tests and screen readers read.
 */
export function StateBadge({ state, size = "sm" }: { state: string; size?: "sm" | "md" }) {
  const st = stateStyle(state);
  const pad = size === "md" ? "px-2 py-0.5 text-xs" : "px-1.5 py-px text-[11px]";
  return (
    <span
      data-testid="task-state"
      data-state={state}
      data-glyph={st.glyph}
      className={`inline-flex items-center gap-1 whitespace-nowrap rounded font-medium tracking-wide ring-1 ring-inset before:content-[attr(data-glyph)] before:text-[0.9em] before:no-underline ${pad} ${st.badge} ${st.struck ? "line-through decoration-1" : ""}`}
    >
      {state}
    </span>
  );
}

/** Small solid dot in a state's colour (timeline, legends). */
export function StateDot({ state, className = "" }: { state: string; className?: string }) {
  return <span aria-hidden className={`inline-block size-2 shrink-0 rounded-full ${stateStyle(state).dot} ${className}`} />;
}
