/**
 * Argument parsing with Flower's error texts ("Invalid argument 'abc' of type 'int'"), so
 * scripts that matched on them keep working; Petal answers 400 where Flower crashed with 500.
 */
import { badRequest } from "./errors";

const TRUE = new Set(["y", "yes", "t", "true", "on", "1"]);
const FALSE = new Set(["n", "no", "f", "false", "off", "0"]);

function invalid(value: string | null, type: string): Error {
  // Flower printed a missing argument as its default, the empty list "[]".
  return badRequest(`Invalid argument '${value ?? "[]"}' of type '${type}'`);
}

/** Python's strtobool as Flower uses it; an absent value gives `fallback`. */
export function parseBool(value: string | null, fallback = false): boolean {
  if (value === null || value === "") return fallback;
  const v = value.toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  throw invalid(value, "bool");
}

export function parseIntArg(value: string | null, fallback?: number): number {
  if ((value === null || value === "") && fallback !== undefined) return fallback;
  if (value === null || !/^\s*[-+]?\d+\s*$/.test(value)) throw invalid(value, "int");
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw invalid(value, "int");
  return n;
}

export function parseFloatArg(value: string | null, fallback?: number): number {
  if ((value === null || value === "") && fallback !== undefined) return fallback;
  if (value === null || value.trim() === "") throw invalid(value, "float");
  const n = Number(value);
  if (!Number.isFinite(n)) throw invalid(value, "float");
  return n;
}

/** A float that may be absent (e.g. `soft`/`hard` of /api/task/timeout). */
export function optionalFloat(value: string | null): number | null {
  if (value === null || value === "") return null;
  return parseFloatArg(value);
}

export function requiredString(query: URLSearchParams, name: string): string {
  const v = query.get(name);
  if (v === null || v === "") throw badRequest(`Missing argument '${name}'`);
  return v;
}

/** Values of a repeatable filter; Flower's "All" (any case) means no filter. */
export function filterValues(query: URLSearchParams, name: string): string[] | null {
  const out: string[] = [];
  for (const raw of query.getAll(name)) {
    for (const part of raw.split(",")) {
      const v = part.trim();
      if (v === "") continue;
      if (v.toLowerCase() === "all") return null;
      out.push(v);
    }
  }
  return out.length ? out : null;
}

const FLOWER_MINUTE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?$/;
const HAS_ZONE = /(Z|[+-]\d{2}:?\d{2})$/i;

/**
 * `received_start`/`received_end` → unix seconds. Flower's `%Y-%m-%d %H:%M` is naive server-local
 * time (as Flower reads it); ISO-8601 with a zone and plain unix seconds are accepted too.
 */
export function parseLocalDate(value: string | null, name: string): number | null {
  if (value === null || value === "") return null;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  const m = FLOWER_MINUTE.exec(v);
  if (m) {
    const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? "0"].map(Number) as number[];
    const ms = m[7] ? Number(m[7].padEnd(6, "0")) / 1000 : 0;
    const date = new Date(y!, mo! - 1, d!, h!, mi!, s!, ms);
    if (Number.isNaN(date.getTime()) || date.getMonth() !== mo! - 1) throw badDate(value, name);
    return date.getTime() / 1000;
  }
  if (HAS_ZONE.test(v)) {
    const t = Date.parse(v);
    if (!Number.isNaN(t)) return t / 1000;
  }
  throw badDate(value, name);
}

function badDate(value: string, name: string): Error {
  return badRequest(
    `Invalid argument '${value}' of type 'datetime' for '${name}': use 'YYYY-MM-DD HH:MM' (server local time), ISO 8601 with a zone, or unix seconds`,
  );
}

/**
 * Body `eta`/`expires` date → ISO-8601 with offset. Flower's `%Y-%m-%d %H:%M:%S.%f` is naive and
 * Celery (enable_utc, the default) reads naive ETAs as UTC, so naive strings are taken as UTC.
 */
export function parseBodyDate(value: string, name: string): Date {
  const v = value.trim();
  const flower = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/.exec(v);
  let t: number;
  if (flower) {
    t = Date.parse(`${flower[1]}-${flower[2]}-${flower[3]}T${flower[4]}:${flower[5]}:${flower[6]}.${(flower[7] ?? "0").padEnd(6, "0").slice(0, 3)}Z`);
  } else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(v)) {
    t = Date.parse(HAS_ZONE.test(v) ? v : v + "Z");
  } else {
    t = Number.NaN;
  }
  if (Number.isNaN(t)) {
    throw badRequest(`Invalid '${name}' '${value}': use 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC) or ISO 8601`);
  }
  return new Date(t);
}
