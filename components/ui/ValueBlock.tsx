"use client";

import { useState } from "react";
import { CopyButton } from "./Copy";

/** Lines shown before a long value collapses behind "Show all" (default: 12). */
const COLLAPSED_LINES = 12;
/** Characters shown collapsed for one very long line (default: 600). */
const COLLAPSED_CHARS = 600;

/**
 * A repr/JSON value or a traceback in a monospace block: wraps, collapses when long, copies.
 * Python reprs are shown as they are (they are what Celery users read in logs).
 */
export function ValueBlock({
  value,
  tone = "default",
  testId,
  wrap = true,
}: {
  value: string | null | undefined;
  tone?: "default" | "error";
  testId?: string;
  wrap?: boolean;
}) {
  const [expanded, setExpanded] = useState(false);
  if (value == null || value === "") return <span className="text-faint">—</span>;
  const lines = value.split("\n");
  const long = lines.length > COLLAPSED_LINES || value.length > COLLAPSED_CHARS;
  let shown = value;
  if (long && !expanded) {
    shown = lines.length > COLLAPSED_LINES ? lines.slice(0, COLLAPSED_LINES).join("\n") : value.slice(0, COLLAPSED_CHARS);
  }
  return (
    <div className="group relative min-w-0" data-testid={testId}>
      <pre
        className={`max-h-[560px] overflow-auto rounded-md border border-line bg-surface-2 px-2.5 py-1.5 font-mono text-[12px] leading-[1.55] ${
          wrap ? "whitespace-pre-wrap break-words" : "whitespace-pre"
        } ${tone === "error" ? "text-st-failure-fg" : "text-fg"}`}
      >
        {/* Keeps the first lines clear of the buttons in the corner (wrapped text ran under them). */}
        <span aria-hidden className={`float-right h-5 ${long ? "w-[118px]" : "w-[46px]"}`} />
        {shown}
        {long && !expanded ? <span className="text-faint">{"\n"}…</span> : null}
      </pre>
      <div className="absolute right-1.5 top-1.5 flex gap-1 opacity-70 group-hover:opacity-100">
        {long ? (
          <button
            type="button"
            onClick={() => setExpanded((e) => !e)}
            className="rounded border border-line bg-surface px-1.5 py-0.5 text-[11px] text-muted hover:text-fg"
          >
            {expanded ? "Collapse" : `Show all (${value.length.toLocaleString("en-US")} chars)`}
          </button>
        ) : null}
        <CopyButton text={value} />
      </div>
    </div>
  );
}
