/**
 * Reads a kwargs repr (`"{'x': 100, 'y': 'a'}"`) into the `key=value` pairs Flower's
 * `kwargs:key=value` search matches: each key and value as Python's `str()` would print it,
 * lower-cased. The parsing is lib/protocol/pyliteral's; anything that is not a literal dict
 * (truncated saferepr output, `<object at 0x…>`) gives no pairs, as in Flower.
 */
import { parsePyDictEntries } from "../protocol/pyliteral";

const EMPTY: ReadonlySet<string> = new Set();

/** The lower-cased `key=value` pairs of a kwargs repr; empty when it is not a literal dict. */
export function kwargsPairs(repr: string | null): ReadonlySet<string> {
  if (repr === null || repr.length < 2 || repr === "{}") return EMPTY;
  const r = parsePyDictEntries(repr);
  if (!r.ok) return EMPTY;
  const out = new Set<string>();
  // str() of a str is its text; of anything else it is its repr, which is the source as written.
  for (const e of r.entries) {
    const k = e.keyIsString ? (e.key as string) : e.keySource;
    const v = e.valueIsString ? (e.value as string) : e.valueSource;
    out.add(`${k.toLowerCase()}=${v.toLowerCase()}`);
  }
  return out;
}
