"use client";

import type { SeriesResolution } from "@/lib/protocol/api";
import { RESOLUTIONS } from "./series";

/** Segmented control for chart bucket size. */
export function ResolutionSwitch({ value, onChange }: { value: SeriesResolution; onChange: (r: SeriesResolution) => void }) {
  return (
    <div role="radiogroup" aria-label="Resolution" className="inline-flex rounded-md border border-line p-px" data-testid="resolution-switch">
      {RESOLUTIONS.map((r) => (
        <button
          key={r}
          type="button"
          role="radio"
          aria-checked={r === value}
          onClick={() => onChange(r)}
          className={`num h-6 rounded-[5px] px-2 text-[11.5px] ${r === value ? "bg-surface-2 font-medium text-fg" : "text-muted hover:text-fg"}`}
        >
          {r}
        </button>
      ))}
    </div>
  );
}
