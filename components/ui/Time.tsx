"use client";

import { useEffect, useRef } from "react";
import { serverNowSec } from "../realtime/clock";
import { subscribeTick } from "../realtime/ticker";
import { formatAge, formatClock, formatDuration, timeTooltip } from "./format";

/** Clock time (local) in a cell; hover shows local and UTC with milliseconds. */
export function Clock({ t }: { t: number | null | undefined }) {
  if (t == null) return <span className="text-faint">—</span>;
  return (
    <time className="num" dateTime={new Date(t * 1000).toISOString()} title={timeTooltip(t)}>
      {formatClock(t)}
    </time>
  );
}

/**
 * "1.2 s ago" that keeps ticking. It rewrites its own text on a shared timer instead of
 * re-rendering React, so a table of a thousand ages costs one timer and no reconciliation.
 */
export function Age({
  t,
  intervalMs = 200,
  testId,
  className = "",
}: {
  t: number | null | undefined;
  /** how often the text refreshes (default: 200) */
  intervalMs?: number;
  testId?: string;
  className?: string;
}) {
  const ref = useRef<HTMLTimeElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const render = () => {
      el.textContent = formatAge(t, serverNowSec());
    };
    render();
    return subscribeTick(intervalMs, render);
  }, [t, intervalMs]);
  return (
    <time
      ref={ref}
      data-testid={testId}
      className={`num whitespace-nowrap ${className}`}
      dateTime={t != null ? new Date(t * 1000).toISOString() : undefined}
      title={timeTooltip(t)}
      suppressHydrationWarning
    >
      {t == null ? "never" : ""}
    </time>
  );
}

export function Duration({ s, className = "" }: { s: number | null | undefined; className?: string }) {
  if (s == null) return <span className="text-faint">—</span>;
  return <span className={`num whitespace-nowrap ${className}`}>{formatDuration(s)}</span>;
}
