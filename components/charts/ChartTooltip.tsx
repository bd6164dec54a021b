"use client";

import { formatTick, type ChartScale } from "./series";

export interface TooltipEntry {
  name?: string | number;
  value?: unknown;
  color?: string;
  dataKey?: unknown;
}

/** Recharts tooltip body in the app's own surface style (Recharts' default is light-only). */
export function ChartTooltip({
  active,
  payload,
  label,
  resolution,
  format,
}: {
  active?: boolean;
  payload?: readonly TooltipEntry[];
  label?: unknown;
  resolution: ChartScale;
  format: (v: number) => string;
}) {
  if (!active || !payload?.length || typeof label !== "number") return null;
  return (
    <div className="rounded-md border border-line bg-surface px-2.5 py-1.5 text-[12px] shadow-lg">
      <div className="num mb-1 text-muted">{formatTick(label, resolution)}</div>
      {payload.map((p) => (
        <div key={String(p.dataKey ?? p.name)} className="flex items-center gap-2">
          <span aria-hidden className="size-2 rounded-sm" style={{ background: p.color }} />
          <span className="flex-1 text-muted">{p.name}</span>
          <span className="num font-medium">{typeof p.value === "number" ? format(p.value) : "—"}</span>
        </div>
      ))}
    </div>
  );
}

/** Legend row drawn in HTML: readable, wraps, and carries totals. */
export function Legend({ items }: { items: { label: string; color: string; value?: string }[] }) {
  return (
    <div className="flex flex-wrap items-center gap-x-4 gap-y-1 text-[11.5px] text-muted">
      {items.map((i) => (
        <span key={i.label} className="inline-flex items-center gap-1.5">
          <span aria-hidden className="size-2 rounded-sm" style={{ background: i.color }} />
          {i.label}
          {i.value ? <span className="num font-medium text-fg">{i.value}</span> : null}
        </span>
      ))}
    </div>
  );
}

export const AXIS = {
  stroke: "var(--line-strong)",
  tick: { fill: "var(--muted)", fontSize: 11 },
  tickLine: false,
} as const;

export const GRID = { stroke: "var(--line)", strokeDasharray: "2 4", vertical: false } as const;
