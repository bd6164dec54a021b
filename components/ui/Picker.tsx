"use client";

/**
 * A filter chip that opens a searchable multi-select. Made for thousands of options: it filters
 * as you type and renders at most MAX_SHOWN of them.
 */
import { useEffect, useMemo, useRef, useState } from "react";

/** Options rendered at once; refine the search for the rest (default: 200). */
const MAX_SHOWN = 200;

export function Picker({
  label,
  options,
  selected,
  onChange,
  onOpenChange,
  loading = false,
  testId,
}: {
  label: string;
  options: readonly string[];
  selected: readonly string[];
  onChange: (next: string[]) => void;
  /** lets the owner subscribe to the option source only while open */
  onOpenChange?: (open: boolean) => void;
  loading?: boolean;
  testId?: string;
}) {
  const [open, setOpen] = useState(false);
  const [q, setQ] = useState("");
  const root = useRef<HTMLDivElement>(null);

  const setOpenBoth = (v: boolean) => {
    setOpen(v);
    onOpenChange?.(v);
    if (!v) setQ("");
  };

  useEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent) => {
      if (root.current && !root.current.contains(e.target as Node)) setOpenBoth(false);
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") {
        e.preventDefault();
        setOpenBoth(false);
      }
    };
    document.addEventListener("mousedown", onDown);
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("mousedown", onDown);
      document.removeEventListener("keydown", onKey);
    };
  }, [open]);

  const matches = useMemo(() => {
    const f = q.trim().toLowerCase();
    // Selected values first, even if the source no longer lists them (a worker that went away).
    const all = [...selected, ...options.filter((o) => !selected.includes(o))];
    return f ? all.filter((o) => o.toLowerCase().includes(f)) : all;
  }, [q, options, selected]);

  const summary = selected.length === 0 ? "any" : selected.length === 1 ? selected[0] : `${selected[0]} +${selected.length - 1}`;
  const active = selected.length > 0;
  return (
    <div ref={root} className="relative" data-testid={testId}>
      <button
        type="button"
        aria-haspopup="listbox"
        aria-expanded={open}
        onClick={() => setOpenBoth(!open)}
        className={`inline-flex h-7 max-w-[260px] items-center gap-1.5 rounded-md border px-2 text-[12.5px] ${
          active ? "border-accent/50 bg-accent/10 text-fg" : "border-line text-muted hover:border-line-strong hover:text-fg"
        }`}
      >
        <span className="text-muted">{label}:</span>
        <span className="truncate font-medium">{summary}</span>
        <span aria-hidden className="text-[9px] text-faint">
          ▼
        </span>
      </button>
      {open ? (
        <div className="absolute left-0 top-8 z-30 w-[300px] rounded-lg border border-line bg-surface p-1.5 shadow-xl">
          <input
            autoFocus
            value={q}
            onChange={(e) => setQ(e.target.value)}
            placeholder={`Filter ${label.toLowerCase()}…`}
            aria-label={`Filter ${label.toLowerCase()}`}
            className="mb-1 h-7 w-full rounded-md border border-line bg-page px-2 text-[12.5px] outline-none focus:border-accent"
          />
          <ul role="listbox" aria-multiselectable className="max-h-[280px] overflow-auto">
            {matches.slice(0, MAX_SHOWN).map((o) => {
              const on = selected.includes(o);
              return (
                <li key={o} role="option" aria-selected={on}>
                  <label className="flex h-7 cursor-pointer items-center gap-2 rounded px-1.5 text-[12.5px] hover:bg-row-hover">
                    <input
                      type="checkbox"
                      checked={on}
                      onChange={() => onChange(on ? selected.filter((s) => s !== o) : [...selected, o])}
                      className="accent-[var(--accent)]"
                    />
                    <span className="truncate font-mono text-[12px]" title={o}>
                      {o}
                    </span>
                  </label>
                </li>
              );
            })}
          </ul>
          <div className="flex items-center justify-between px-1.5 pt-1 text-[11px] text-faint">
            <span>
              {loading && options.length === 0
                ? "Loading…"
                : matches.length > MAX_SHOWN
                  ? `${MAX_SHOWN} of ${matches.length.toLocaleString("en-US")}; type to narrow`
                  : `${matches.length.toLocaleString("en-US")} shown`}
            </span>
            {selected.length ? (
              <button type="button" className="hover:text-fg" onClick={() => onChange([])}>
                Clear
              </button>
            ) : null}
          </div>
        </div>
      ) : null}
    </div>
  );
}
