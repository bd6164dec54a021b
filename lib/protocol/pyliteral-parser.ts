/**
 * The parser behind pyliteral.ts (its header documents the value mapping and the options):
 * a single pass over the text with sticky regexes, no tokens array, one `kind` register
 * instead of wrapper objects.
 */
import { pyNumber } from "./repr";

export type PyValue = null | boolean | number | string | PyValue[] | { [key: string]: PyValue };

/** One top-level entry of a dict literal, with the source text of key and value. */
export interface PyDictEntry {
  key: PyValue;
  /** the key's source, e.g. `'x'` or `1` */
  keySource: string;
  keyIsString: boolean;
  value: PyValue;
  valueSource: string;
  valueIsString: boolean;
}

/** Containers nested deeper than this are refused, so hostile input cannot blow the stack (default: 100). */
export const PY_MAX_DEPTH = 100;

export interface Opts {
  strings: "python" | "saferepr";
  bytes: "latin1" | "refuse";
  bigInt: "refuse" | "lossy";
  /** top-level dict keys must be str (kwargs) */
  strictKeys?: boolean;
  /** when set, the top-level dict's entries are recorded here */
  entries?: PyDictEntry[];
}

// Kind of the last value parsed: decides tuple-vs-scalar for args and how a dict key is named.
export const K_INT = 0;
export const K_FLOAT = 1;
export const K_STR = 2;
export const K_CONST = 3; // None, True, False
export const K_TUPLE = 4;
export const K_LIST = 5;
export const K_SET = 6;
export const K_DICT = 7;
export type Kind = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;

class Refused {
  constructor(readonly reason: string) {}
}

export function run(src: string, o: Opts): { ok: true; value: PyValue; kind: Kind } | { ok: false; reason: string } {
  if (typeof src !== "string") return { ok: false, reason: "not a string" };
  try {
    const p = new Parser(src, o);
    p.ws();
    const value = p.value();
    const kind = p.kind;
    p.ws();
    if (p.i < src.length) throw new Refused(`unexpected text after the literal at offset ${p.i}: ${snippet(src, p.i)}`);
    return { ok: true, value, kind };
  } catch (e) {
    if (e instanceof Refused) return { ok: false, reason: e.reason };
    if (e instanceof RangeError) return { ok: false, reason: "nested too deep" };
    throw e;
  }
}

export function snippet(s: string, at: number): string {
  const part = s.slice(at, at + 40);
  return JSON.stringify(part.length < s.length - at ? part + "…" : part);
}

const TRUNCATED = "truncated: Celery's saferepr cut this repr at about 1024 characters";
const TOO_DEEP = "truncated: nested deeper than the 3 levels Celery's saferepr prints";

const IDENT = /[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/y;
const RADIX_INT = /0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+/y;
const DECIMAL = /(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?[jJ]?/y;
const BAD_UNDERSCORE = /__|_$|_\.|\._|_[eE]|[eE][+-]?_/;
const BAD_RADIX_UNDERSCORE = /__|_$/;
const STRING_PREFIX = /(?:[rRuUbBfF]|[bB][rR]|[rR][bB]|[fF][rR]|[rR][fF])(?=['"])/y;
const HEX = /^[0-9a-fA-F]+$/;

const SIMPLE_ESCAPES: Record<string, string> = {
  "\\": "\\",
  "'": "'",
  '"': '"',
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
};

class Parser {
  i = 0;
  kind: Kind = K_CONST;
  private depth = 0;

  constructor(
    private readonly s: string,
    private readonly o: Opts,
  ) {}

  ws(): void {
    const s = this.s;
    for (;;) {
      const c = s.charCodeAt(this.i);
      if (c === 32 || c === 9 || c === 10 || c === 13 || c === 12) this.i++;
      else return;
    }
  }

  private end(what: string): never {
    throw new Refused(`incomplete: the text ends inside ${what}`);
  }

  value(): PyValue {
    this.ws();
    const s = this.s;
    const c = s[this.i];
    if (c === undefined) this.end("a value");
    if (c === "(" || c === "[" || c === "{") return this.container(c);
    if (c === "'" || c === '"') return this.string("");
    if (c === "." && s.startsWith("...", this.i)) throw new Refused(`${TRUNCATED} ('...' at offset ${this.i})`);
    if ((c >= "0" && c <= "9") || c === ".") return this.number(1);
    if (c === "-" || c === "+") {
      this.i++;
      this.ws();
      const d = s[this.i];
      if (d === undefined) this.end("a number");
      if ((d >= "0" && d <= "9") || d === ".") return this.number(c === "-" ? -1 : 1);
      if (s.startsWith("inf", this.i) || s.startsWith("nan", this.i)) throw new Refused(`not representable in JSON: ${c}${s.slice(this.i, this.i + 3)} at offset ${this.i - 1}`);
      throw new Refused(`unexpected ${JSON.stringify(c)} at offset ${this.i - 1}: only numbers take a sign`);
    }
    STRING_PREFIX.lastIndex = this.i;
    const pre = STRING_PREFIX.exec(s);
    if (pre) {
      const p = pre[0].toLowerCase();
      if (p.includes("f")) throw new Refused(`not a literal: f-string at offset ${this.i}`);
      this.i += p.length;
      return this.string(p);
    }
    IDENT.lastIndex = this.i;
    const id = IDENT.exec(s);
    if (id) return this.name(id[0]);
    if (c === "<") throw new Refused(`not a literal: an object's repr at offset ${this.i}: ${snippet(s, this.i)}`);
    throw new Refused(`unexpected ${JSON.stringify(c)} at offset ${this.i}`);
  }

  private name(id: string): PyValue {
    const at = this.i;
    this.i += id.length;
    this.kind = K_CONST;
    if (id === "None") return null;
    if (id === "True") return true;
    if (id === "False") return false;
    if (id === "inf" || id === "nan") throw new Refused(`not representable in JSON: ${id} at offset ${at}`);
    this.ws();
    if (this.s[this.i] === "(") {
      if (id === "set") {
        this.i++;
        this.ws();
        if (this.s[this.i] === ")") {
          this.i++;
          this.kind = K_SET;
          return [];
        }
      }
      throw new Refused(`not a literal: ${id}(…) at offset ${at} is an object's repr`);
    }
    throw new Refused(`not a literal: name ${JSON.stringify(id)} at offset ${at}`);
  }

  private number(sign: 1 | -1): number {
    const s = this.s;
    const at = this.i;
    RADIX_INT.lastIndex = at;
    let m = RADIX_INT.exec(s);
    let isFloat = false;
    const isRadix = m !== null;
    if (!m) {
      DECIMAL.lastIndex = at;
      m = DECIMAL.exec(s);
      if (!m) throw new Refused(`unexpected "." at offset ${at}`);
      isFloat = /[.eE]/.test(m[0]);
    }
    const text = m[0];
    this.i = at + text.length;
    // saferepr cuts long text (a huge int) mid-token and appends "...".
    if (s.startsWith("..", this.i) || (text.endsWith(".") && s[this.i] === ".")) throw new Refused(`${TRUNCATED} (number at offset ${at})`);
    const next = s.charCodeAt(this.i);
    if ((next >= 65 && next <= 90) || (next >= 97 && next <= 122) || next === 95 || (next >= 48 && next <= 57)) {
      throw new Refused(`invalid number at offset ${at}: ${snippet(s, at)}`);
    }
    if (text.endsWith("j") || text.endsWith("J")) throw new Refused(`not representable in JSON: complex number at offset ${at}`);
    if (text.includes("_") && (isRadix ? BAD_RADIX_UNDERSCORE : BAD_UNDERSCORE).test(text)) throw new Refused(`invalid number at offset ${at}: ${JSON.stringify(text)}`);
    if (!isFloat && text.length > 1 && text[0] === "0" && /[1-9]/.test(text) && !/^0[xXoObB]/.test(text)) {
      throw new Refused(`invalid number at offset ${at}: leading zeros in ${JSON.stringify(text)}`);
    }
    const n = sign * Number(text.includes("_") ? text.replace(/_/g, "") : text);
    if (isFloat) {
      if (!Number.isFinite(n)) throw new Refused(`not representable in JSON: float out of range at offset ${at}`);
      this.kind = K_FLOAT;
    } else {
      if (!Number.isSafeInteger(n) && this.o.bigInt === "refuse") {
        throw new Refused(`integer too large to send as JSON without losing digits at offset ${at}: ${text}`);
      }
      this.kind = K_INT;
    }
    return n;
  }

  /** `prefix` is the lower-cased string prefix already consumed ("", "u", "r", "b", "br", "rb"). */
  private string(prefix: string): string {
    const s = this.s;
    const at = this.i;
    const q = s.charCodeAt(this.i);
    if (s.charCodeAt(this.i + 1) === q && s.charCodeAt(this.i + 2) === q) throw new Refused(`not supported: triple-quoted string at offset ${at}`);
    const isBytes = prefix.includes("b");
    const raw = prefix.includes("r");
    if (isBytes && this.o.bytes === "refuse") throw new Refused(`bytes at offset ${at}: re-sending them as text would change their type`);
    // saferepr writes str raw; bytes still come out of Python's repr, escaped.
    const safe = this.o.strings === "saferepr" && !isBytes;
    this.i++;
    let out = "";
    let runStart = this.i;
    for (;;) {
      const c = s.charCodeAt(this.i);
      if (c !== c) this.end(`a string starting at offset ${at}`); // NaN: past the end
      if (c === q) {
        out += s.slice(runStart, this.i);
        this.i++;
        break;
      }
      if ((c === 10 || c === 13) && !safe) throw new Refused(`line break inside a string literal at offset ${this.i}`);
      if (isBytes && c > 0x7f) throw new Refused(`non-ASCII character in a bytes literal at offset ${this.i}`);
      if (c !== 92) {
        this.i++;
        continue;
      }
      out += s.slice(runStart, this.i);
      const e = s[this.i + 1];
      if (e === undefined) this.end(`a string starting at offset ${at}`);
      if (safe) {
        // Only the quote is escaped; any other backslash is the text's own.
        if (e.charCodeAt(0) === q) {
          out += e;
          this.i += 2;
        } else {
          out += "\\";
          this.i += 1;
        }
      } else if (raw) {
        out += "\\" + e;
        this.i += 2;
      } else {
        this.i += 2;
        out += this.escape(e, isBytes);
      }
      runStart = this.i;
    }
    this.kind = K_STR;
    let j = this.i;
    while (s[j] === " " || s[j] === "\t") j++;
    if (s[j] === "'" || s[j] === '"') throw new Refused(`not supported: implicitly concatenated strings at offset ${j}`);
    return out;
  }

  /** Decode one escape; `i` is already past `\` and `e`. */
  private escape(e: string, isBytes: boolean): string {
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) return simple;
    if (e === "\n") return "";
    if (e === "x" || (!isBytes && (e === "u" || e === "U"))) {
      const len = e === "x" ? 2 : e === "u" ? 4 : 8;
      const hex = this.s.slice(this.i, this.i + len);
      if (hex.length < len) this.end("an escape sequence");
      if (!HEX.test(hex)) throw new Refused(`invalid \\${e} escape at offset ${this.i - 2}`);
      const cp = parseInt(hex, 16);
      if (cp > 0x10ffff) throw new Refused(`invalid \\${e} escape at offset ${this.i - 2}: beyond U+10FFFF`);
      this.i += len;
      return String.fromCodePoint(cp);
    }
    if (e === "N" && !isBytes) throw new Refused(`not supported: \\N{…} escape at offset ${this.i - 2}`);
    if (e >= "0" && e <= "7") {
      let v = e.charCodeAt(0) - 48;
      for (let k = 0; k < 2; k++) {
        const d = this.s.charCodeAt(this.i);
        if (d < 48 || d > 55) break;
        v = v * 8 + d - 48;
        this.i++;
      }
      if (isBytes && v > 0xff) throw new Refused(`invalid octal escape in bytes at offset ${this.i}`);
      return String.fromCharCode(v);
    }
    // Python keeps unknown escapes as written.
    return "\\" + e;
  }

  private container(open: "(" | "[" | "{"): PyValue {
    const s = this.s;
    const at = this.i;
    if (++this.depth > PY_MAX_DEPTH) throw new Refused(`nested deeper than ${PY_MAX_DEPTH} levels at offset ${at}`);
    this.i++;
    this.ws();
    if (s.startsWith("...", this.i)) {
      const save = this.i;
      this.i += 3;
      this.ws();
      const close = open === "(" ? ")" : open === "[" ? "]" : "}";
      if (s[this.i] === close) throw new Refused(`${TOO_DEEP} ('${open}...${close}' at offset ${at})`);
      this.i = save;
    }
    const v = open === "{" ? this.braces(at) : this.sequence(open, at);
    this.depth--;
    return v;
  }

  private sequence(open: "(" | "[", at: number): PyValue {
    const s = this.s;
    const close = open === "(" ? ")" : "]";
    const items: PyValue[] = [];
    if (s[this.i] === close) {
      this.i++;
      this.kind = open === "(" ? K_TUPLE : K_LIST;
      return items;
    }
    let sawComma = false;
    for (;;) {
      items.push(this.value());
      this.ws();
      const c = s[this.i];
      if (c === undefined) this.end(`the ${open === "(" ? "tuple" : "list"} opened at offset ${at}`);
      this.i++;
      if (c === close) break;
      if (c !== ",") throw new Refused(`expected "," or "${close}" at offset ${this.i - 1}, got ${JSON.stringify(c)}`);
      sawComma = true;
      this.ws();
      if (s[this.i] === close) {
        this.i++;
        break;
      }
    }
    if (open === "(" && !sawComma) return items[0]!; // "(x)" is x, with x's kind
    this.kind = open === "(" ? K_TUPLE : K_LIST;
    return items;
  }

  /** `{}` dict, `{k: v, …}` dict or `{a, …}` set; `i` is past the brace and blanks. */
  private braces(at: number): PyValue {
    const s = this.s;
    const entries = this.depth === 1 ? this.o.entries : undefined;
    const strictKeys = this.depth === 1 && this.o.strictKeys === true;
    if (s[this.i] === "}") {
      this.i++;
      this.kind = K_DICT;
      return {};
    }
    let obj: { [key: string]: PyValue } | null = null;
    let set: PyValue[] | null = null;
    for (;;) {
      const keyAt = this.i;
      const k = this.value();
      const keyKind = this.kind;
      const keyEnd = this.i;
      this.ws();
      if (set === null && s[this.i] === ":") {
        this.i++;
        this.ws();
        const valueAt = this.i;
        const v = this.value();
        const valueKind = this.kind;
        obj ??= {};
        putKey(obj, this.dictKey(k, keyKind, keyAt, strictKeys), v);
        entries?.push({
          key: k,
          keySource: s.slice(keyAt, keyEnd),
          keyIsString: keyKind === K_STR,
          value: v,
          valueSource: s.slice(valueAt, this.i),
          valueIsString: valueKind === K_STR,
        });
      } else if (obj === null) {
        (set ??= []).push(k);
      } else {
        throw new Refused(`expected ":" at offset ${this.i} in the dict opened at offset ${at}`);
      }
      this.ws();
      const c = s[this.i];
      if (c === undefined) this.end(`the ${obj ? "dict" : "set"} opened at offset ${at}`);
      this.i++;
      if (c === "}") break;
      if (c !== ",") throw new Refused(`expected "," or "}" at offset ${this.i - 1}, got ${JSON.stringify(c)}`);
      this.ws();
      if (s[this.i] === "}") {
        this.i++;
        break;
      }
    }
    this.kind = obj ? K_DICT : K_SET;
    return obj ?? set!;
  }

  /** The JSON key `json.dumps` would write for a Python dict key. */
  private dictKey(k: PyValue, kind: Kind, at: number, strict: boolean): string {
    if (kind === K_STR) return k as string;
    if (strict) throw new Refused(`keyword argument names must be strings (key at offset ${at})`);
    if (kind === K_INT) return String(k);
    if (kind === K_FLOAT) {
      const n = k as number;
      return Number.isInteger(n) && Math.abs(n) < 1e16 ? `${n}.0` : pyNumber(n);
    }
    if (kind === K_CONST) return k === null ? "null" : k ? "true" : "false";
    throw new Refused(`dict key at offset ${at} cannot be a JSON key`);
  }
}

function putKey(obj: { [key: string]: PyValue }, key: string, v: PyValue): void {
  // A plain assignment to "__proto__" would change the object's prototype instead.
  if (key === "__proto__") Object.defineProperty(obj, key, { value: v, enumerable: true, writable: true, configurable: true });
  else obj[key] = v;
}
