/**
 * Python `repr` of JSON values, as Celery's saferepr writes argsrepr/kwargsrepr/result in events
 * (PROTOCOL.md §5.5): strings in single quotes, None/True/False, tuples for args, nesting capped
 * at 3 levels (deeper prints `[...]`/`{...}`) and about 1024 characters (then `...`).
 */

export const REPR_MAX_LENGTH = 1024;
export const REPR_MAX_LEVEL = 3;

export function pyRepr(value: unknown, maxLength = REPR_MAX_LENGTH): string {
  return truncate(repr(value, 0), maxLength);
}

/** A positional-args tuple: `(2, 3)`, `('x',)`, `()`. */
export function pyReprArgs(args: unknown[], maxLength = REPR_MAX_LENGTH): string {
  return truncate(tuple(args, 0), maxLength);
}

function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  return s.slice(0, max) + "...";
}

function tuple(items: unknown[], level: number): string {
  if (items.length === 1) return "(" + repr(items[0], level + 1) + ",)";
  return "(" + items.map((v) => repr(v, level + 1)).join(", ") + ")";
}

function repr(v: unknown, level: number): string {
  if (v === null || v === undefined) return "None";
  switch (typeof v) {
    case "boolean":
      return v ? "True" : "False";
    case "number":
      if (Number.isNaN(v)) return "nan";
      if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
      return String(v);
    case "bigint":
      return v.toString();
    case "string":
      return pyStr(v);
    case "object": {
      if (Array.isArray(v)) {
        if (level >= REPR_MAX_LEVEL) return "[...]";
        return "[" + v.map((x) => repr(x, level + 1)).join(", ") + "]";
      }
      if (v instanceof Date) return pyStr(v.toISOString());
      if (level >= REPR_MAX_LEVEL) return "{...}";
      const parts = Object.entries(v as Record<string, unknown>).map(([k, x]) => pyStr(k) + ": " + repr(x, level + 1));
      return "{" + parts.join(", ") + "}";
    }
    default:
      return pyStr(String(v));
  }
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
