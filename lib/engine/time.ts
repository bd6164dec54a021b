/**
 * The time spellings of Celery's wire (PROTOCOL.md §9.9): `eta`/`expires` are offset-aware ISO
 * strings with microseconds (`2026-11-22T02:31:59.184000+00:00`), `date_done` is naive UTC.
 */

// Thousands of results a second share a millisecond: the last spelling is reused.
let lastMs = NaN;
let lastIso = "";

function isoCore(ms: number): string {
  if (ms === lastMs) return lastIso;
  // toISOString gives "...T02:31:59.184Z"; Python's isoformat prints microseconds.
  lastIso = new Date(ms).toISOString().slice(0, 23) + "000";
  lastMs = ms;
  return lastIso;
}

/** Offset-aware UTC ISO string as Python's `datetime.isoformat()` writes it. */
export function isoUtc(ms: number): string {
  return isoCore(ms) + "+00:00";
}

/** Naive UTC ISO string (result `date_done`). */
export function naiveUtcIso(ms: number): string {
  return isoCore(ms);
}

const HAS_OFFSET = /(?:Z|[+-]\d{2}:?\d{2})$/i;

/**
 * Parse an ISO-8601 `eta`/`expires`; a naive value is read as UTC (Celery reads it in the
 * worker's timezone, which is UTC by default). Returns epoch ms, or null when absent/invalid.
 */
export function parseIsoMs(value: unknown): number | null {
  if (typeof value !== "string" || value === "") return null;
  const text = HAS_OFFSET.test(value) ? value : value + "Z";
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : null;
}

/** Accepts a Date, an ISO string or epoch ms; returns epoch ms or throws TypeError. */
export function toEpochMs(value: Date | string | number, what: string): number {
  const ms = value instanceof Date ? value.getTime() : typeof value === "number" ? value : parseIsoMs(value);
  if (ms === null || !Number.isFinite(ms)) throw new TypeError(`invalid ${what}: ${String(value)}`);
  return ms;
}
