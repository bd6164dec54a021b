"use client";

import type { SeriesResolution } from "@/lib/protocol/api";
import { RANGES, RESOLUTIONS, type ChartRange, type ChartScale } from "./series";

const RANGE_TITLE: Record<ChartRange, string> = {
  "1h": "Last hour from history (1 min buckets)",
  "24h": "Last 24 hours from history (10 min buckets)",
  "7d": "Last 7 days from history (1 h buckets)",
};

function Segment<T extends string>({ items, value, onChange, label, title }: { items: readonly T[]; value: string; onChange: (v: T) => void; label: string; title?: (v: T) => string }) {
  return (
    <div role="radiogroup" aria-label={label} className="inline-flex rounded-md border border-line p-px">
      {items.map((r) => (
        <button
          key={r}
          type="button"
          role="radio"
          aria-checked={r === value}
          title={title?.(r)}
          onClick={() => onChange(r)}
          className={`num h-6 rounded-[5px] px-2 text-[11.5px] ${r === value ? "bg-surface-2 font-medium text-fg" : "text-muted hover:text-fg"}`}
        >
          {r}
        </button>
      ))}
    </div>
  );
}

/**
 * Segmented control for chart bucket size. With `ranges`, a second group offers the history
 * ranges (1h / 24h / 7d), which survive restarts; the live resolutions stay as they were.
 */
export function ResolutionSwitch<R extends SeriesResolution | ChartScale>({ value, onChange, ranges = false }: { value: R; onChange: (r: R) => void; ranges?: boolean }) {
  return (
    <div className="inline-flex items-center gap-1.5" data-testid="resolution-switch">
      <Segment items={RESOLUTIONS} value={value} onChange={(r) => onChange(r as R)} label="Resolution" />
      {ranges ? (
        <>
          <span aria-hidden className="text-[11px] text-muted">
            history
          </span>
          <Segment items={RANGES} value={value} onChange={(r) => onChange(r as R)} label="History range" title={(r) => RANGE_TITLE[r]} />
        </>
      ) : null}
    </div>
  );
}
