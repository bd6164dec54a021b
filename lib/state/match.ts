/**
 * A parsed Flower search (search.ts) compiled into a predicate over task-store slots, reading the
 * columns directly: no per-task search text is cached (at a million tasks that cache cost more
 * than the rest of a task together).
 *
 * Semantics are Flower's: an unqualified term is a substring of the lower-cased uuid, name, state,
 * worker, args, kwargs or result; `name:` / `worker:` / `args:` / `kwargs:` / `result:` match
 * their field case-insensitively; `state:` is exact; `kwargs:key=value` is one exact pair.
 *
 * Speed: name, worker and state are decided once per distinct value (a per-id table), not per
 * task. Text fields use the native `includes` on the stored string: the store flags strings that
 * lower-casing could change (A-Z or non-ASCII), and only those fall back to folding at query time.
 */
import type { Columns } from "./columns";
import * as col from "./columns";
import { STATE_OF, charMask, hexBigrams, textBigrams } from "./columns";

// Module-local copies: an imported binding can compile to a getter call per read (tsx/esbuild's
// CommonJS interop), which showed up in million-row loops.
const F_ARGS_UP = col.F_ARGS_UP;
const F_KWARGS_UP = col.F_KWARGS_UP;
const F_MASK_DIRTY = col.F_MASK_DIRTY;
const F_RESULT_UP = col.F_RESULT_UP;
const F_UUID_HEX = col.F_UUID_HEX;
const F_UUID_UP = col.F_UUID_UP;
const WIDE_MASK_HI = col.WIDE_MASK_HI;
const WIDE_SHIFT = col.WIDE_SHIFT;
import { kwargsPairs } from "./pyliteral";
import type { SearchField, SearchNode } from "./search";

/** One call per candidate slot. */
export type SlotPredicate = (slot: number) => boolean;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Compile a parsed search into a slot predicate over `c` (valid until the store changes). */
export function compileSearch(node: SearchNode, c: Columns): SlotPredicate {
  switch (node.kind) {
    case "all":
      return () => true;
    case "and": {
      const parts = node.children.map((ch) => compileSearch(ch, c));
      return (s) => {
        for (let i = 0; i < parts.length; i++) if (!parts[i](s)) return false;
        return true;
      };
    }
    case "or": {
      const parts = node.children.map((ch) => compileSearch(ch, c));
      return (s) => {
        for (let i = 0; i < parts.length; i++) if (parts[i](s)) return true;
        return false;
      };
    }
    case "term":
      return compileTerm(node.field, node.value, c);
  }
}

/**
 * "lower-cased s contains `lower`" for one stored string, given the field's flag bits shifted
 * down (1: has A-Z, 1 << WIDE_SHIFT: has non-ASCII).
 */
type Has = (s: string | null, bits: number) => boolean;

const WIDE = 1 << WIDE_SHIFT;

function hasLower(lower: string): Has {
  // Folding the haystack can only matter for a term with letters (or non-ASCII).
  if (!/[a-z\u0080-\uffff]/.test(lower)) return (s) => s !== null && s.includes(lower);
  // For an ASCII haystack, a non-unicode /i regex is exactly "lower-cased contains" (and 3x
  // cheaper than lower-casing); a non-ASCII term cannot occur in a lower-cased ASCII string.
  const ascii = /^[\x00-\x7f]*$/.test(lower);
  const re = new RegExp(escapeRegExp(lower), "i");
  return (s, bits) => {
    if (s === null) return false;
    if (s.includes(lower)) return true;
    if ((bits & WIDE) !== 0) return s.toLowerCase().includes(lower);
    return bits !== 0 && ascii && re.test(s);
  };
}

/**
 * "The row's args/kwargs/result may contain each of `texts`" (lower-cased), judged on character
 * classes and character pairs: a cheap necessary condition checked before the strings are read.
 * Always true for non-ASCII texts.
 */
function maskCheck(texts: string[], c: Columns): SlotPredicate {
  if (texts.some((t) => /[^\x00-\x7f]/.test(t))) return () => true;
  // Each text on its own: a pair across two of them need not occur in the row.
  const [tlo, thi] = texts.reduce((m, t) => charMask(t, m), [0, 0] as [number, number]);
  const [plo, phi] = texts.reduce((m, t) => textBigrams(t, m), [0, 0] as [number, number]);
  const { flags } = c;
  c.masksWanted = true;
  return (s) => {
    if ((flags[s] & F_MASK_DIRTY) !== 0) c.refreshMask(s);
    const hi = c.mhi[s];
    return (hi & WIDE_MASK_HI) !== 0 || ((tlo & ~c.mlo[s]) | (thi & ~hi) | (plo & ~c.blo[s]) | (phi & ~c.bhi[s])) === 0;
  };
}

const stateTable = (test: (lower: string) => boolean): Uint8Array => Uint8Array.from(STATE_OF, (st) => (test(st.toLowerCase()) ? 1 : 0));

/** Printable ASCII a Python repr shows as written (no quotes or backslash to escape). */
const REPR_SAFE = /^[\x20-\x21\x23-\x26\x28-\x5b\x5d-\x7e]*$/;

function compileTerm(field: SearchField | null, value: string, c: Columns): SlotPredicate {
  const lower = value.toLowerCase();
  const { flags, state, uuid, args, kwargs, result } = c;
  if (field === null) {
    const ids = c.pool.matchTable((l) => l.includes(lower));
    const st = stateTable((l) => l.includes(lower));
    const { name, worker } = c;
    const has = hasLower(lower);
    // A hex-only uuid cannot hold a term with other characters; for one that can, a compiled
    // regex beats `includes`, whose per-call search setup dominates on 36 hex characters.
    const maybeHex = /^[0-9a-f-]*$/.test(lower);
    const hexRe = new RegExp(escapeRegExp(lower));
    const [blo, bhi] = hexBigrams(lower);
    const { ulo, uhi } = c;
    const inHexUuid = (s: number): boolean => maybeHex && ((blo & ~ulo[s]) | (bhi & ~uhi[s])) === 0 && hexRe.test(uuid[s] as string);
    const maybe = maskCheck([lower], c);
    return (s) => {
      if (ids[name[s]] === 1 || ids[worker[s]] === 1 || st[state[s]] === 1) return true;
      const f = flags[s];
      return (
        ((f & F_UUID_HEX) !== 0 ? inHexUuid(s) : has(uuid[s], bitsOf(f, F_UUID_UP))) ||
        (maybe(s) && (has(args[s], bitsOf(f, F_ARGS_UP)) || has(kwargs[s], bitsOf(f, F_KWARGS_UP)) || has(result[s], bitsOf(f, F_RESULT_UP))))
      );
    };
  }
  if (field === "state") {
    const st = stateTable((l) => l === lower);
    return (s) => st[state[s]] === 1;
  }
  if (field === "kwargs") {
    const eq = lower.indexOf("=");
    if (eq >= 0) {
      const key = lower.slice(0, eq).trim();
      const val = lower.slice(eq + 1).trim();
      const pair = `${key}=${val}`;
      // A pair can only come from a repr that shows key and value as written: check that cheaply
      // before parsing the dict (for keys/values a repr would escape, parse every row).
      if (REPR_SAFE.test(key) && REPR_SAFE.test(val)) {
        const hasKey = hasLower(key);
        const hasVal = hasLower(val);
        const maybe = maskCheck([key, val], c);
        return (s) => {
          if (!maybe(s)) return false;
          const k = kwargs[s];
          const f = bitsOf(flags[s], F_KWARGS_UP);
          return hasKey(k, f) && hasVal(k, f) && kwargsPairs(k).has(pair);
        };
      }
      return (s) => kwargsPairs(kwargs[s]).has(pair);
    }
  }
  const re = new RegExp(escapeRegExp(lower), "iu");
  if (field === "name" || field === "worker") {
    const ids = c.pool.matchTable((_l, raw) => re.test(raw));
    const col = field === "name" ? c.name : c.worker;
    return (s) => ids[col[s]] === 1;
  }
  const [col, bit] = field === "args" ? [args, F_ARGS_UP] : field === "kwargs" ? [kwargs, F_KWARGS_UP] : [result, F_RESULT_UP];
  // An ASCII term against a string with no A-Z and no non-ASCII: case-insensitive matching is
  // plain substring search.
  const ascii = /^[\x00-\x7f]*$/.test(lower);
  const mask = bit | (bit << WIDE_SHIFT);
  const maybe = maskCheck([lower], c);
  return (s) => {
    const v = col[s];
    if (v === null || !maybe(s)) return false;
    return ascii && (flags[s] & mask) === 0 ? v.includes(lower) : re.test(v);
  };
}

/** A field's flag bits moved down to 1 (has A-Z) and WIDE (has non-ASCII). */
function bitsOf(flags: number, bit: number): number {
  return ((flags & bit) !== 0 ? 1 : 0) | ((flags & (bit << WIDE_SHIFT)) !== 0 ? WIDE : 0);
}
