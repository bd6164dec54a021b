import { describe, expect, it } from "vitest";
import { parseArgsRepr, parseKwargsRepr, parsePyDictEntries, parsePyLiteral, PY_MAX_DEPTH, type PyParseResult } from "./pyliteral";
import { pyRepr, pyReprArgs } from "./repr";
import { envelopeLines, HAVE_VECTORS, loadLines, SKIP_REASON } from "./test-vectors";

function ok<T>(r: PyParseResult<T>): T {
  if (!r.ok) throw new Error(`expected ok, got: ${r.reason}`);
  return r.value;
}
function refused<T>(r: PyParseResult<T>): string {
  if (r.ok) throw new Error(`expected a refusal, got ${JSON.stringify(r.value)}`);
  return r.reason;
}
const lit = (s: string) => ok(parsePyLiteral(s));

describe("parsePyLiteral: scalars", () => {
  it("reads None, booleans, ints and floats as Python writes them", () => {
    expect([lit("None"), lit("True"), lit("False")]).toEqual([null, true, false]);
    expect([lit("0"), lit("42"), lit("-7"), lit("+3"), lit("- 2"), lit("1_000"), lit("0x1F"), lit("0o17"), lit("0b101"), lit("00")]).toEqual([0, 42, -7, 3, -2, 1000, 31, 15, 5, 0]);
    expect([lit("2.5"), lit("-0.5"), lit("1e+16"), lit("1.5e-07"), lit(".5"), lit("5."), lit("1E3")]).toEqual([2.5, -0.5, 1e16, 1.5e-7, 0.5, 5, 1000]);
    expect(Object.is(lit("-0.0"), -0)).toBe(true);
  });

  it("keeps ints up to 2^53 and refuses bigger ones rather than rounding", () => {
    expect(lit("9007199254740991")).toBe(Number.MAX_SAFE_INTEGER);
    expect(lit("-9007199254740991")).toBe(-Number.MAX_SAFE_INTEGER);
    expect(refused(parsePyLiteral("100000000000000000000"))).toMatch(/integer too large/);
    expect(refused(parsePyLiteral("[9007199254740993]"))).toMatch(/integer too large.*offset 1/);
  });

  it("refuses inf, nan, complex and malformed numbers", () => {
    for (const s of ["inf", "-inf", "nan", "(1, inf)", "1e400"]) expect(refused(parsePyLiteral(s)), s).toMatch(/not representable in JSON/);
    expect(refused(parsePyLiteral("1j"))).toMatch(/complex/);
    expect(refused(parsePyLiteral("(1+2j)"))).toMatch(/complex|expected/);
    for (const s of ["1__0", "1_", "007", "1abc", "0b12", "."]) expect(parsePyLiteral(s).ok, s).toBe(false);
  });
});

describe("parsePyLiteral: strings (Python escapes)", () => {
  it("decodes every escape Python's repr writes", () => {
    expect(lit(String.raw`'a\nb\tc\\d\'e\"f'`)).toBe("a\nb\tc\\d'e\"f");
    expect(lit(String.raw`"it's"`)).toBe("it's");
    expect(lit(String.raw`'\x00\x7f\xe9'`)).toBe("\x00\x7f\u00e9");
    expect(lit(String.raw`'\u2603\U0001f680'`)).toBe("☃🚀");
    expect(lit(String.raw`'\r\a\b\f\v\0\101'`)).toBe("\r\x07\b\f\v\0A");
    expect(lit(String.raw`'\q'`)).toBe("\\q"); // unknown escapes stay as written
    expect(lit("'héllo ☃ 日本'")).toBe("héllo ☃ 日本");
    expect(lit("'a\\\nb'")).toBe("ab"); // backslash-newline continues the line
  });

  it("reads u/r/b prefixes; bytes become latin-1 text unless refused", () => {
    expect(lit("u'x'")).toBe("x");
    expect(lit(String.raw`r'a\nb\''`)).toBe(String.raw`a\nb\'`);
    expect(lit(String.raw`b'A\x00\xff'`)).toBe("A\x00\xff");
    expect(lit(String.raw`br'\x'`)).toBe("\\x");
    expect(lit(String.raw`b'\u1234'`)).toBe("\\u1234"); // no \u in bytes
    expect(refused(parsePyLiteral("b'x'", { bytes: "refuse" }))).toMatch(/bytes/);
    expect(refused(parsePyLiteral("b'é'"))).toMatch(/non-ASCII/);
  });

  it("refuses what literal_eval refuses or JSON cannot carry", () => {
    expect(refused(parsePyLiteral("f'x'"))).toMatch(/f-string/);
    expect(refused(parsePyLiteral("'abc"))).toMatch(/incomplete/);
    expect(refused(parsePyLiteral("'a\nb'"))).toMatch(/line break/);
    expect(refused(parsePyLiteral(String.raw`'\x4'`))).toMatch(/\\x escape/);
    expect(refused(parsePyLiteral(String.raw`'\N{DASH}'`))).toMatch(/\\N/);
    expect(refused(parsePyLiteral("'''x'''"))).toMatch(/triple/);
    expect(refused(parsePyLiteral("'a' 'b'"))).toMatch(/concatenated/);
  });
});

describe("parsePyLiteral: containers", () => {
  it("reads tuples (1-tuples too), lists, sets and dicts, nested", () => {
    expect(lit("()")).toEqual([]);
    expect(lit("(5,)")).toEqual([5]);
    expect(lit("(5)")).toBe(5);
    expect(lit("(2, 3)")).toEqual([2, 3]);
    expect(lit("[1, 'x', None, [], (1, 2,)]")).toEqual([1, "x", null, [], [1, 2]]);
    expect(lit("{1, 2}")).toEqual([1, 2]);
    expect(lit("set()")).toEqual([]);
    expect(lit("{}")).toEqual({});
    expect(lit("{'a': {'b': [1, {'c': (True,)}]}, 'd': 1.5,}")).toEqual({ a: { b: [1, { c: [true] }] }, d: 1.5 });
    expect(lit(" \n [ 1 ,\t2 ] \n")).toEqual([1, 2]);
  });

  it("names non-string keys as json.dumps would, and keeps a __proto__ key as data", () => {
    expect(lit("{1: 'one', 2.0: 'two', 1.5: 'x', None: 'n', True: 't', False: 'f'}")).toEqual({ "1": "one", "2.0": "two", "1.5": "x", null: "n", true: "t", false: "f" });
    expect(refused(parsePyLiteral("{(1, 2): 'x'}"))).toMatch(/JSON key/);
    const o = lit("{'__proto__': {'polluted': 1}}") as Record<string, unknown>;
    expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
    expect(Object.keys(o)).toEqual(["__proto__"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("refuses malformed and over-deep containers", () => {
    for (const s of ["(1, 2", "[1 2]", "{'a' 1}", "{'a': 1, 2}", "{1, 'a': 2}", "[1,,2]", "(,)", "[1] [2]"]) {
      expect(parsePyLiteral(s).ok, s).toBe(false);
    }
    const deep = "[".repeat(PY_MAX_DEPTH + 1) + "]".repeat(PY_MAX_DEPTH + 1);
    expect(refused(parsePyLiteral(deep))).toMatch(/nested deeper/);
    expect(parsePyLiteral("[".repeat(PY_MAX_DEPTH) + "]".repeat(PY_MAX_DEPTH)).ok).toBe(true);
  });
});

describe("parsePyLiteral: what is not a literal", () => {
  it.each([
    ["(<object object at 0x7fa1dddb8fb0>,)", /not a literal: an object's repr/],
    ["(datetime.datetime(2020, 1, 1, 0, 0),)", /not a literal: datetime\.datetime\(…\)/],
    ["{'d': Decimal('1')}", /not a literal: Decimal\(…\)/],
    ["(UUID('0b8f…'),)", /not a literal: UUID/],
    ["frozenset({1})", /not a literal: frozenset/],
    ["foo", /not a literal: name "foo"/],
    ["Ellipsis", /not a literal/],
    ["", /incomplete/],
  ])("refuses %j", (s, re) => {
    expect(refused(parsePyLiteral(s))).toMatch(re);
  });

  it("refuses saferepr's truncation marks with a reason saying so", () => {
    const long = "('" + "x".repeat(1017) + "...', ...)";
    expect(refused(parsePyLiteral(long))).toMatch(/^truncated: .*1024 characters/);
    expect(refused(parsePyLiteral("{'data': {'nested': {'list': [...]}}}"))).toMatch(/^truncated: nested deeper than the 3 levels/);
    expect(refused(parsePyLiteral("{'a': {...}}"))).toMatch(/3 levels/);
    expect(refused(parsePyLiteral("(123456789...,)"))).toMatch(/^truncated/);
    expect(refused(parsePyLiteral("[1, 2, ...]"))).toMatch(/^truncated/);
  });
});

describe("parseArgsRepr / parseKwargsRepr", () => {
  it("reads args tuples and lists, kwargs dicts", () => {
    expect(ok(parseArgsRepr("(2, 3)"))).toEqual([2, 3]);
    expect(ok(parseArgsRepr("(5,)"))).toEqual([5]);
    expect(ok(parseArgsRepr("()"))).toEqual([]);
    expect(ok(parseArgsRepr("[1, 2]"))).toEqual([1, 2]);
    expect(ok(parseKwargsRepr("{'x': 100, 'y': 1}"))).toEqual({ x: 100, y: 1 });
    expect(ok(parseKwargsRepr("{}"))).toEqual({});
    expect(ok(parseKwargsRepr("{'n': {1: 'one', None: 'none'}}"))).toEqual({ n: { "1": "one", null: "none" } });
  });

  it("reads strings the way Celery's saferepr wrote them (raw, only the quote escaped)", () => {
    // Captured from Celery 5.2.6: saferepr(('a\nb', 'C:\\new\\table', "it's", 'say "hi"', 'tab\there'))
    const captured = "('a\nb', 'C:\\new\\table', 'it\\'s', 'say \"hi\"', 'tab\there')";
    expect(ok(parseArgsRepr(captured))).toEqual(["a\nb", "C:\\new\\table", "it's", 'say "hi"', "tab\there"]);
    // The same text read with Python escapes would have turned the path into control characters.
    expect(ok(parsePyLiteral("('C:\\new',)"))).toEqual(["C:\new"]);
  });

  it("round-trips what Petal's own saferepr port writes", () => {
    const samples: [unknown[], Record<string, unknown>][] = [
      [[1, -2.5, "x", null, true, [1, [2]]], { a: "it's", b: { c: "back\\slash" } }],
      [["héllo ☃ 日本", "line\nbreak", ""], {}],
      [[{ k: [1, 2] }], { empty: [], nested: { x: { y: 1 } } }],
    ];
    for (const [args, kwargs] of samples) {
      expect(ok(parseArgsRepr(pyReprArgs(args)))).toEqual(args);
      expect(ok(parseKwargsRepr(pyRepr(kwargs)))).toEqual(kwargs);
    }
  });

  it("refuses with a reason when the arguments cannot be recovered", () => {
    expect(refused(parseArgsRepr(null))).toMatch(/no arguments recorded/);
    expect(refused(parseArgsRepr(""))).toMatch(/no arguments recorded/);
    expect(refused(parseKwargsRepr(""))).toMatch(/no keyword arguments recorded/);
    expect(refused(parseArgsRepr("5"))).toMatch(/not a tuple or list/);
    expect(refused(parseArgsRepr("{1, 2}"))).toMatch(/not a tuple or list/);
    expect(refused(parseArgsRepr("(b'raw',)"))).toMatch(/bytes/);
    expect(refused(parseKwargsRepr("[1]"))).toMatch(/not a dict/);
    expect(refused(parseKwargsRepr("{1: 2}"))).toMatch(/must be strings/);
    expect(refused(parseArgsRepr(pyReprArgs(["x".repeat(2000)])))).toMatch(/^truncated/);
    expect(refused(parseKwargsRepr(pyRepr({ a: { b: { c: [1] } } })))).toMatch(/3 levels/);
  });
});

describe("parsePyDictEntries", () => {
  it("gives each entry with its source text, keeping big ints", () => {
    const r = parsePyDictEntries("{'a': [1, 'x'], 'b': 'y', 3: 100000000000000000000}");
    if (!r.ok) throw new Error(r.reason);
    expect(r.entries.map((e) => [e.keySource, e.keyIsString, e.valueSource, e.valueIsString])).toEqual([
      ["'a'", true, "[1, 'x']", false],
      ["'b'", true, "'y'", true],
      ["3", false, "100000000000000000000", false],
    ]);
    expect(r.entries[1]?.value).toBe("y");
    expect(parsePyDictEntries("(1,)").ok).toBe(false);
  });
});

describe.skipIf(!HAVE_VECTORS)(`Celery 5.2.6 captures (${HAVE_VECTORS ? "found" : SKIP_REASON})`, () => {
  it("recovers the exact args and kwargs of every captured task message from its reprs", () => {
    let checked = 0;
    let truncated = 0;
    for (const l of envelopeLines("task-messages")) {
      const h = l.envelope?.headers as { argsrepr?: string; kwargsrepr?: string } | undefined;
      const body = l.decoded as unknown;
      if (!h?.argsrepr || !Array.isArray(body) || body.length !== 3) continue;
      const a = parseArgsRepr(h.argsrepr);
      const k = parseKwargsRepr(h.kwargsrepr);
      if (h.argsrepr.endsWith("...)") || (h.kwargsrepr ?? "").includes("[...]")) {
        expect(a.ok && k.ok, h.argsrepr.slice(0, 40)).toBe(false);
        truncated++;
        continue;
      }
      expect(ok(a), l.label).toEqual(body[0]);
      expect(ok(k), l.label).toEqual(body[1]);
      checked++;
    }
    expect(checked).toBeGreaterThan(10);
    expect(truncated).toBeGreaterThanOrEqual(2);
  });

  it("parses or clearly refuses every args/kwargs/result repr in the captured events", () => {
    const reasons = new Set<string>();
    let parsed = 0;
    const visit = (ev: Record<string, unknown>) => {
      for (const [key, parse] of [["args", parseArgsRepr], ["kwargs", parseKwargsRepr]] as const) {
        const v = ev[key];
        if (typeof v !== "string") continue;
        const r = parse(v);
        if (r.ok) parsed++;
        else reasons.add(r.reason.replace(/ \(.*$/, "").replace(/ offset \d+.*/, ""));
      }
    };
    for (const l of loadLines("events").filter((x) => x.command === "PUBLISH")) {
      const d = l.decoded;
      for (const ev of Array.isArray(d) ? d : [d]) if (ev && typeof ev === "object") visit(ev as Record<string, unknown>);
    }
    expect(parsed).toBeGreaterThan(50);
    // Only the three expected refusals: missing reprs, the 2000-char string, the 4-level dict.
    expect([...reasons].sort()).toEqual([
      "no arguments recorded",
      "no keyword arguments recorded",
      "truncated: Celery's saferepr cut this repr at about 1024 characters",
      "truncated: nested deeper than the 3 levels Celery's saferepr prints",
    ]);
  });
});
