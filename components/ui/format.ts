/**
 * Human-sized numbers, durations and times. Pure functions so every cell, tooltip and ticking
 * label formats the same way (and tests pin the wording).
 */

/** `850 ms`, `1.6 ms`, `2.4 s`, `12 s`, `3 m 12 s`, `2 h 5 m`, `3 d 4 h`. Input: seconds. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds)) return "—";
  const s = Math.max(0, seconds);
  if (s < 0.001) return `${trim((s * 1000).toFixed(2))} ms`;
  if (s < 0.01) return `${trim((s * 1000).toFixed(1))} ms`;
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 10) return `${trim(s.toFixed(1))} s`;
  if (s < 60) return `${Math.floor(s)} s`;
  const total = Math.floor(s);
  if (total < 3600) return `${Math.floor(total / 60)} m ${total % 60} s`;
  if (total < 86400) return `${Math.floor(total / 3600)} h ${Math.floor((total % 3600) / 60)} m`;
  return `${Math.floor(total / 86400)} d ${Math.floor((total % 86400) / 3600)} h`;
}

/**
 * Age relative to now: `0.8 s ago`, `12 s ago`, `3 m 12 s ago`, `in 4 s` for the future.
 * Sub-10 s ages keep one decimal so a heartbeat age visibly ticks between heartbeats.
 */
export function formatAge(thenSec: number | null | undefined, nowSec: number): string {
  if (thenSec == null || !Number.isFinite(thenSec)) return "never";
  const d = nowSec - thenSec;
  // Clock skew of a few ms makes "just now" ages slightly negative; do not print "in 0.0 s".
  if (d < 0 && d > -0.5) return "0.0 s ago";
  if (d < 0) return `in ${formatAgeSpan(-d)}`;
  return `${formatAgeSpan(d)} ago`;
}

function formatAgeSpan(d: number): string {
  if (d < 10) return `${d.toFixed(1)} s`;
  return formatDuration(d);
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** `2026-11-22 03:05:14.123` in the browser's local zone. */
export function formatLocal(unixSec: number): string {
  const d = new Date(unixSec * 1000);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
  );
}

/** `2026-11-22 03:05:14.123 UTC`. */
export function formatUtc(unixSec: number): string {
  const d = new Date(unixSec * 1000);
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)} UTC`
  );
}

/** Tooltip text for a point in time: local first (what the operator's clock shows), then UTC. */
export function timeTooltip(unixSec: number | null | undefined): string | undefined {
  if (unixSec == null || !Number.isFinite(unixSec)) return undefined;
  return `${formatLocal(unixSec)} local\n${formatUtc(unixSec)}`;
}

/** `03:05:14` local, for dense table cells; `03:05:14.123` with `ms`. */
export function formatClock(unixSec: number | null | undefined, ms = false): string {
  if (unixSec == null || !Number.isFinite(unixSec)) return "—";
  const d = new Date(unixSec * 1000);
  const base = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return ms ? `${base}.${pad(d.getMilliseconds(), 3)}` : base;
}

const INT = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/** `12,345`; `—` for missing values. */
export function formatCount(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n)) return "—";
  return INT.format(n);
}

/** Axis-sized counts: `950`, `1.2k`, `34k`, `1.5M`. */
export function formatCompact(n: number): string {
  const a = Math.abs(n);
  if (a < 1000) return String(Math.round(n));
  if (a < 1e6) return `${trim((n / 1000).toFixed(a < 10_000 ? 1 : 0))}k`;
  return `${trim((n / 1e6).toFixed(1))}M`;
}

/** 0..1 → `2.3%`; exact zero prints `0%` so a healthy cluster reads calm. */
export function formatPercent(ratio: number | null | undefined): string {
  if (ratio == null || !Number.isFinite(ratio)) return "—";
  if (ratio === 0) return "0%";
  const p = ratio * 100;
  if (p < 0.1) return "<0.1%";
  return `${trim(p.toFixed(p < 10 ? 1 : 0))}%`;
}

/** Load average triple, two decimals each. */
export function formatLoad(load: readonly number[] | null | undefined): string {
  if (!load || load.length === 0) return "—";
  return load.map((x) => x.toFixed(2)).join("  ");
}

/** First 8 characters of a uuid, as tables show it. */
export function shortId(id: string): string {
  return id.length > 8 ? id.slice(0, 8) : id;
}

function trim(s: string): string {
  return s.includes(".") ? s.replace(/\.?0+$/, "") : s;
}
