/**
 * Python `repr` of JSON values, two flavours:
 * - pyRepr / pyReprArgs: a port of Celery's `saferepr` (celery/utils/saferepr.py), which writes
 *   argsrepr/kwargsrepr and the `result` of task-succeeded (PROTOCOL.md §5.5): strings always in
 *   single quotes with only `'` escaped, nesting capped at 3 levels (`[...]`, `{...}`), output
 *   cut once about 1024 characters are spent (`, ...` then the open brackets), quirks included.
 * - pythonRepr / pyStr: the builtin `repr`, which Celery uses for exceptions (`ValueError('x')`).
 * Lengths count code points, as Python does. JSON cannot tell 2.0 from 2, so whole numbers print
 * as ints.
 */

export const REPR_MAX_LENGTH = 1024;
export const REPR_MAX_LEVEL = 3;

/** saferepr of one value with Celery's default budget (default: 1024 characters; Infinity = no cap). */
export function pyRepr(value: unknown, maxLength = REPR_MAX_LENGTH): string {
  const s = direct(value, 0, maxLength);
  return s.length < maxLength ? s : saferepr(value, maxLength);
}

/** saferepr of a positional-args tuple: `(2, 3)`, `('x',)`, `()`. */
export function pyReprArgs(args: unknown[], maxLength = REPR_MAX_LENGTH): string {
  if (args.length === 0) return maxLength > 2 ? "()" : saferepr(new Tuple(args), maxLength);
  let s = "(" + direct(args[0], 1, maxLength);
  for (let i = 1; i < args.length && s.length < maxLength; i++) s += ", " + direct(args[i], 1, maxLength);
  s += args.length === 1 ? ",)" : ")";
  return s.length < maxLength ? s : saferepr(new Tuple(args), maxLength);
}

/** The plain token writer pyRepr must match byte for byte (tests compare both). */
export function referencePyRepr(value: unknown, maxLength = REPR_MAX_LENGTH): string {
  return saferepr(value, maxLength);
}

/** The plain token writer pyReprArgs must match byte for byte (tests compare both). */
export function referencePyReprArgs(args: unknown[], maxLength = REPR_MAX_LENGTH): string {
  return saferepr(new Tuple(args), maxLength);
}

/**
 * saferepr as it prints when nothing gets cut: the token stream below, written straight out.
 * Whenever the whole text has fewer than maxLength characters (so fewer code points), the
 * budget never reaches a token, so both agree byte for byte; callers check that length and take
 * saferepr otherwise. Containers stop early once `limit` is passed, so huge values stay cheap.
 */
function direct(v: unknown, level: number, limit: number): string {
  if (typeof v === "string") return quoted(v);
  if (v === null || typeof v !== "object" || v instanceof Date) return scalar(v);
  const isArray = Array.isArray(v);
  if (level >= REPR_MAX_LEVEL) return isArray ? "[...]" : "{...}";
  let s: string;
  if (isArray) {
    s = "[";
    for (let i = 0; i < v.length && s.length < limit; i++) s += (i === 0 ? "" : ", ") + direct(v[i], level + 1, limit);
    return s + "]";
  }
  s = "{";
  const keys = Object.keys(v);
  for (let i = 0; i < keys.length && s.length < limit; i++)
    s += (i === 0 ? "" : ", ") + quoted(keys[i]) + ": " + direct((v as Record<string, unknown>)[keys[i]], level + 1, limit);
  return s + "}";
}

/** A QUOTED or KEY token as saferepr prints it: single quotes, only `'` escaped. */
function quoted(s: string): string {
  return "'" + (s.includes("'") ? s.replace(/'/g, "\\'") : s) + "'";
}

class Tuple {
  constructor(readonly items: unknown[]) {}
}

// Token kinds: LIT = bracket/separator literal, KEY = dict key, QUOTED = string, TEXT = other.
const LIT = 0;
const KEY = 1;
const QUOTED = 2;
const TEXT = 3;
interface Token {
  kind: 0 | 1 | 2 | 3;
  value: string;
}
const SEP: Token = { kind: LIT, value: ", " };
const KVSEP: Token = { kind: LIT, value: ": " };

/**
 * Tokens in saferepr's order. `ends` holds the closing literal of every container whose opening
 * token has been pulled and whose closing one has not: exactly what Python prints after `, ...`.
 */
function* tokens(v: unknown, ends: string[]): Generator<Token, void, undefined> {
  if (typeof v === "string") {
    yield { kind: QUOTED, value: v };
    return;
  }
  let start: string;
  let end: string;
  let items: unknown[] | null = null;
  let entries: [string, unknown][] | null = null;
  if (v instanceof Tuple) {
    start = "(";
    end = v.items.length === 1 ? ",)" : ")";
    items = v.items;
  } else if (Array.isArray(v)) {
    start = "[";
    end = "]";
    items = v;
  } else if (v !== null && typeof v === "object" && !(v instanceof Date)) {
    start = "{";
    end = "}";
    entries = Object.entries(v as Record<string, unknown>);
  } else {
    yield { kind: TEXT, value: scalar(v) };
    return;
  }
  if (ends.length >= REPR_MAX_LEVEL) {
    yield { kind: TEXT, value: start + "..." + end };
    return;
  }
  ends.push(end);
  yield { kind: LIT, value: start };
  if (items) {
    for (let i = 0; i < items.length; i++) {
      yield* tokens(items[i], ends);
      if (i < items.length - 1) yield SEP;
    }
  } else if (entries) {
    for (let i = 0; i < entries.length; i++) {
      yield { kind: KEY, value: entries[i][0] };
      yield KVSEP;
      yield* tokens(entries[i][1], ends);
      if (i < entries.length - 1) yield SEP;
    }
  }
  ends.pop();
  yield { kind: LIT, value: end };
}

function saferepr(value: unknown, maxLength: number): string {
  let budget = Number.isFinite(maxLength) ? maxLength : Infinity;
  const ends: string[] = [];
  let out = "";
  for (const tok of tokens(value, ends)) {
    if (budget <= 0) {
      out += ", ...";
      for (let i = ends.length - 1; i >= 0; i--) out += ends[i];
      return out;
    }
    let s: string;
    if (tok.kind === LIT) s = tok.value;
    else if (tok.kind === TEXT) s = truncate(tok.value, budget);
    else s = "'" + truncate(tok.value, budget).replace(/'/g, "\\'") + "'";
    out += s;
    if (budget !== Infinity) budget -= codePointLength(s);
  }
  return out;
}

/** celery.utils.text.truncate: at `max` code points or more, cut, back off to the last space, add "...". */
function truncate(s: string, max: number): string {
  if (!Number.isFinite(max) || max <= 0 || s.length < max) return s;
  let idx = 0;
  let count = 0;
  while (idx < s.length && count < max) {
    const c = s.charCodeAt(idx);
    idx += c >= 0xd800 && c <= 0xdbff && idx + 1 < s.length ? 2 : 1;
    count++;
  }
  if (count < max) return s;
  const cut = s.slice(0, idx);
  const space = cut.lastIndexOf(" ");
  return (space === -1 ? cut : cut.slice(0, space)) + "...";
}

function codePointLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n--;
      i++;
    }
  }
  return n;
}

function scalar(v: unknown): string {
  if (v === null || v === undefined) return "None";
  switch (typeof v) {
    case "boolean":
      return v ? "True" : "False";
    case "number":
      return pyNumber(v);
    case "bigint":
      return v.toString();
    default:
      return v instanceof Date ? pyStr(v.toISOString()) : pyStr(String(v));
  }
}

/** Python's str() of a number: ints as digits, floats with Python's exponent rules (1e-05, 1e+16). */
export function pyNumber(n: number): string {
  if (Number.isNaN(n)) return "nan";
  if (!Number.isFinite(n)) return n > 0 ? "inf" : "-inf";
  const abs = Math.abs(n);
  if (Number.isInteger(n) && abs < 1e16) return String(n);
  if (n === 0) return "0";
  const exp = Math.floor(Math.log10(abs));
  if (exp >= -4 && exp < 16) return String(n);
  const [mant, e] = n.toExponential().split("e");
  const ev = Number(e);
  return mant + "e" + (ev < 0 ? "-" : "+") + String(Math.abs(ev)).padStart(2, "0");
}

/** The builtin repr of a JSON value (no truncation, no level cap): exceptions' args use it. */
export function pythonRepr(v: unknown): string {
  if (typeof v === "string") return pyStr(v);
  if (Array.isArray(v)) return "[" + v.map(pythonRepr).join(", ") + "]";
  if (v !== null && typeof v === "object" && !(v instanceof Date)) {
    const parts = Object.entries(v as Record<string, unknown>).map(([k, x]) => pyStr(k) + ": " + pythonRepr(x));
    return "{" + parts.join(", ") + "}";
  }
  return scalar(v);
}

/** Python str repr: single quotes unless the text holds a single quote and no double quote. */
export function pyStr(s: string): string {
  const useDouble = s.includes("'") && !s.includes('"');
  const q = useDouble ? '"' : "'";
  let out = q;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === "\\") out += "\\\\";
    else if (ch === q) out += "\\" + q;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c < 0x20 || c === 0x7f) out += "\\x" + c.toString(16).padStart(2, "0");
    else out += ch;
  }
  return out + q;
}
