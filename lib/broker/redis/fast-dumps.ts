/**
 * Python's json.dumps (ensure_ascii, ", " and ": ") for the hot path of events: one native
 * JSON.stringify, then one pass that adds Python's separator spaces outside strings and escapes
 * non-ASCII. Same bytes as pythonJsonDumps for JSON-safe values (strings, finite numbers,
 * booleans, null, arrays, plain objects, Dates); anything else (BigInt, NaN, Infinity) goes
 * through pythonJsonDumps, which spells them as Python does.
 */
import { pythonJsonDumps } from "../../protocol/envelope";

const COMMA = 44;
const COLON = 58;
const QUOTE = 34;
const BACKSLASH = 92;

/** a value JSON.stringify would write differently from Python */
function unsafe(v: unknown, depth: number): boolean {
  if (depth > 32) return true;
  switch (typeof v) {
    case "number":
      return !Number.isFinite(v);
    case "bigint":
    case "function":
    case "symbol":
      return true;
    case "object": {
      if (v === null || v instanceof Date) return false;
      if (Array.isArray(v)) {
        for (const x of v) if (unsafe(x, depth + 1)) return true;
        return false;
      }
      if (typeof (v as { toJSON?: unknown }).toJSON === "function") return true;
      for (const k in v as Record<string, unknown>) if (unsafe((v as Record<string, unknown>)[k], depth + 1)) return true;
      return false;
    }
    default:
      return false;
  }
}

export function fastPythonJsonDumps(value: unknown): string {
  if (unsafe(value, 0)) return pythonJsonDumps(value);
  const json = JSON.stringify(value) ?? "null";
  let out = "";
  let from = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      else if (c >= 0x7f) {
        out += json.slice(from, i) + "\\u" + c.toString(16).padStart(4, "0");
        from = i + 1;
      }
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === COMMA || c === COLON) {
      out += json.slice(from, i + 1) + " ";
      from = i + 1;
    }
  }
  return out + json.slice(from);
}
