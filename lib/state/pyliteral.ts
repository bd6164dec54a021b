/**
 * Just enough of Python's `ast.literal_eval` to read a kwargs repr (`"{'x': 100, 'y': 'a'}"`)
 * into the `key=value` pairs Flower's `kwargs:key=value` search matches: each key and value as
 * Python's `str()` would print it, lower-cased. Anything that is not a literal dict (truncated
 * saferepr output, `<object at 0x…>`) gives no pairs, as in Flower.
 */

const EMPTY: ReadonlySet<string> = new Set();

/** The lower-cased `key=value` pairs of a kwargs repr; empty when it is not a literal dict. */
export function kwargsPairs(repr: string | null): ReadonlySet<string> {
  if (repr === null || repr.length < 2 || repr === "{}") return EMPTY;
  return parsePairs(repr);
}

class Fail extends Error {}

/** A parsed literal: `str` is what Python's str() prints for it. */
interface Lit {
  str: string;
}

function parsePairs(src: string): ReadonlySet<string> {
  try {
    const p = new LiteralParser(src);
    p.ws();
    if (src[p.i] !== "{") return EMPTY;
    const entries = p.dict();
    p.ws();
    if (p.i !== src.length || entries === null) return EMPTY;
    const out = new Set<string>();
    for (const [k, v] of entries) out.add(`${k.str.toLowerCase()}=${v.str.toLowerCase()}`);
    return out;
  } catch (e) {
    if (e instanceof Fail) return EMPTY;
    throw e;
  }
}

const ESCAPES: Record<string, string> = { n: "\n", r: "\r", t: "\t", "\\": "\\", "'": "'", '"': '"', a: "\x07", b: "\b", f: "\f", v: "\v", "\n": "" };

class LiteralParser {
  i = 0;
  constructor(private readonly s: string) {}

  ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i])) this.i++;
  }

  /** `{...}` as key/value entries, or null for a set (`{1, 2}`). */
  dict(): [Lit, Lit][] | null {
    this.i++; // {
    const entries: [Lit, Lit][] = [];
    let isSet = false;
    this.ws();
    if (this.s[this.i] === "}") {
      this.i++;
      return entries;
    }
    for (;;) {
      const k = this.value();
      this.ws();
      if (this.s[this.i] === ":" && !isSet) {
        this.i++;
        entries.push([k, this.value()]);
      } else if (entries.length === 0) {
        isSet = true;
      } else {
        throw new Fail();
      }
      this.ws();
      const c = this.s[this.i++];
      if (c === "}") return isSet ? null : entries;
      if (c !== ",") throw new Fail();
      this.ws();
      if (this.s[this.i] === "}") {
        this.i++;
        return isSet ? null : entries;
      }
    }
  }

  value(): Lit {
    this.ws();
    const start = this.i;
    const c = this.s[this.i];
    if (c === undefined) throw new Fail();
    if (c === "'" || c === '"') return { str: this.string() };
    if ((c === "b" || c === "B") && (this.s[this.i + 1] === "'" || this.s[this.i + 1] === '"')) {
      this.i++;
      this.string();
      return { str: this.s.slice(start, this.i) };
    }
    if (c === "{") {
      this.dict();
      return { str: this.s.slice(start, this.i) };
    }
    if (c === "[" || c === "(") {
      this.sequence(c === "[" ? "]" : ")");
      return { str: this.s.slice(start, this.i) };
    }
    const m = /^(?:True|False|None|\.\.\.|-?(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?j?|-?(?:inf|nan))/.exec(this.s.slice(this.i, this.i + 64));
    if (m === null || m[0] === "inf" || m[0] === "nan" || m[0] === "-inf" || m[0] === "-nan") throw new Fail();
    this.i += m[0].length;
    return { str: m[0] };
  }

  private sequence(close: string): void {
    this.i++;
    this.ws();
    if (this.s[this.i] === close) {
      this.i++;
      return;
    }
    for (;;) {
      this.value();
      this.ws();
      const c = this.s[this.i++];
      if (c === close) return;
      if (c !== ",") throw new Fail();
      this.ws();
      if (this.s[this.i] === close) {
        this.i++;
        return;
      }
    }
  }

  /** A quoted Python string literal at `i`; returns its decoded text. */
  private string(): string {
    const q = this.s[this.i++];
    let out = "";
    for (;;) {
      const c = this.s[this.i++];
      if (c === undefined || c === "\n") throw new Fail();
      if (c === q) return out;
      if (c !== "\\") {
        out += c;
        continue;
      }
      const e = this.s[this.i++];
      if (e === undefined) throw new Fail();
      if (e in ESCAPES) out += ESCAPES[e];
      else if (e === "x" || e === "u" || e === "U") {
        const len = e === "x" ? 2 : e === "u" ? 4 : 8;
        const hex = this.s.slice(this.i, this.i + len);
        if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) throw new Fail();
        out += String.fromCodePoint(parseInt(hex, 16));
        this.i += len;
      } else if (e >= "0" && e <= "7") {
        let oct = e;
        while (oct.length < 3 && this.s[this.i] >= "0" && this.s[this.i] <= "7") oct += this.s[this.i++];
        out += String.fromCharCode(parseInt(oct, 8));
      } else out += "\\" + e;
    }
  }
}
