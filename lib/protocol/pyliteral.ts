/**
 * A Python-literal parser in the spirit of `ast.literal_eval`, for the repr strings Celery events
 * carry (`args`, `kwargs`, `result`; PROTOCOL.md §5.5). Browser-safe: the UI asks it whether a
 * task's arguments can be recovered for Retry, the server uses it to re-send them.
 *
 * Values map to JSON, because that is what a re-sent task message carries:
 * - str → string; int → number (refused beyond ±2^53, JSON would silently round it); float →
 *   number (inf/nan refused); None/True/False → null/true/false; tuple, list, set → array
 *   (`set()` included); dict → object whose keys are converted as `json.dumps` does (1 → "1",
 *   None → "null", True → "true"), which is what a JSON-serialising client put on the wire anyway.
 * - bytes (`b'..'`): decoded byte-per-char (latin-1) by default; `bytes: "refuse"` refuses them
 *   (parseArgsRepr/parseKwargsRepr do, since re-sending bytes as str would change the type).
 * - Refused with a reason: truncated saferepr output (a bare `...`, or `[...]` past saferepr's 3
 *   levels), non-literals (`<object at 0x…>`, `datetime.datetime(…)`, `Decimal('1')`, names),
 *   complex numbers, `\N{…}` escapes, f-strings, triple quotes, implicit concatenation.
 *
 * Two string conventions (`strings` option):
 * - "python" (default): Python's source escapes, as `repr()` writes and literal_eval reads.
 * - "saferepr": what Celery's saferepr writes for argsrepr/kwargsrepr: the text between single
 *   quotes is raw (real newlines, unescaped backslashes) and only the quote is escaped (`\'`).
 *   Reading `'C:\new'` with Python escapes would turn a path into a newline, so args use this.
 */
import { K_DICT, K_LIST, K_TUPLE, run, snippet, type Opts, type PyDictEntry, type PyValue } from "./pyliteral-parser";

export type { PyDictEntry, PyValue } from "./pyliteral-parser";
export { PY_MAX_DEPTH } from "./pyliteral-parser";

export type PyParseResult<T = PyValue> = { ok: true; value: T } | { ok: false; reason: string };

export interface PyParseOptions {
  /** string escape convention (default: "python") */
  strings?: "python" | "saferepr";
  /** bytes literals: latin-1 strings or refused (default: "latin1") */
  bytes?: "latin1" | "refuse";
}

/** Parse one Python literal. Never throws. */
export function parsePyLiteral(src: string, opts: PyParseOptions = {}): PyParseResult {
  const r = run(src, { strings: opts.strings ?? "python", bytes: opts.bytes ?? "latin1", bigInt: "refuse" });
  return r.ok ? { ok: true, value: r.value } : r;
}

const NO_ARGS = "no arguments recorded (the event carried no args repr)";
/** Celery's saferepr strings; bytes refused since re-sending them as str would change their type. */
const ARGS_OPTS: Opts = { strings: "saferepr", bytes: "refuse", bigInt: "refuse" };

/**
 * Positional args from a task's `args` repr (Celery's argsrepr: a tuple, or a list when sent
 * through Flower's API). Strings are read the saferepr way and bytes are refused.
 */
export function parseArgsRepr(repr: string | null | undefined): PyParseResult<PyValue[]> {
  if (repr == null || repr.trim() === "") return { ok: false, reason: NO_ARGS };
  const r = run(repr, ARGS_OPTS);
  if (!r.ok) return r;
  if (r.kind !== K_TUPLE && r.kind !== K_LIST) return { ok: false, reason: `args repr is not a tuple or list: ${snippet(repr, 0)}` };
  return { ok: true, value: r.value as PyValue[] };
}

/** Keyword args from a task's `kwargs` repr: a dict whose keys are all strings. */
export function parseKwargsRepr(repr: string | null | undefined): PyParseResult<Record<string, PyValue>> {
  if (repr == null || repr.trim() === "") return { ok: false, reason: "no keyword arguments recorded (the event carried no kwargs repr)" };
  const r = run(repr, { ...ARGS_OPTS, strictKeys: true });
  if (!r.ok) return r;
  if (r.kind !== K_DICT) return { ok: false, reason: `kwargs repr is not a dict: ${snippet(repr, 0)}` };
  return { ok: true, value: r.value as Record<string, PyValue> };
}

/**
 * The entries of a dict literal in source order, for callers that need Python's `str()` of each
 * key and value (search). Lenient where only the text matters: big ints are kept (rounded).
 */
export function parsePyDictEntries(src: string): { ok: true; entries: PyDictEntry[] } | { ok: false; reason: string } {
  const entries: PyDictEntry[] = [];
  const r = run(src, { strings: "python", bytes: "latin1", bigInt: "lossy", entries });
  if (!r.ok) return r;
  if (r.kind !== K_DICT) return { ok: false, reason: "not a dict literal" };
  return { ok: true, entries };
}
