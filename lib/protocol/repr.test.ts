/**
 * Expected strings below were produced by Celery 5.2.6's own `celery.utils.saferepr.saferepr`
 * (Debian's python3-celery) for the same values, quirks included.
 */
import { describe, expect, it } from "vitest";
import { pyNumber, pyRepr, pyReprArgs, pyStr, pythonRepr } from "./repr";

const x = (n: number) => "x".repeat(n);

describe("pyRepr / pyReprArgs (Celery's saferepr)", () => {
  it("formats tuples, lists, dicts and scalars", () => {
    expect(pyReprArgs([2, 3])).toBe("(2, 3)");
    expect(pyReprArgs(["x"])).toBe("('x',)");
    expect(pyReprArgs([])).toBe("()");
    expect(pyRepr({})).toBe("{}");
    expect(pyReprArgs([true, null, 2.5, 1e-5, 123456789012345.5, -3])).toBe("(True, None, 2.5, 1e-05, 123456789012345.5, -3)");
  });

  it("caps nesting at 3 levels", () => {
    expect(pyReprArgs([{ a: [1, [2, [3, [4]]]] }])).toBe("({'a': [1, [...]]},)");
    expect(pyRepr({ a: { b: { c: { d: 1 }, l: [1] } } })).toBe("{'a': {'b': {'c': {...}, 'l': [...]}}}");
  });

  it("quotes strings with single quotes, escaping only the quote", () => {
    expect(pyReprArgs(["it's", "a\nb", "back\\slash"])).toBe("('it\\'s', 'a\nb', 'back\\slash')");
  });

  it("truncates a long string and closes the open brackets after ', ...'", () => {
    expect(pyReprArgs([x(2000), 1])).toBe("('" + x(1023) + "...', ...)");
    expect(pyReprArgs([x(2000), 1])).toHaveLength(1035);
    // a one-element tuple loses its ",)" (the token consumed when the budget ran out)
    expect(pyReprArgs([x(2000)])).toBe("('" + x(1023) + "...', ...");
    expect(pyRepr(x(1030))).toBe("'" + x(1024) + "...'");
  });

  it("backs off to the last space when truncating words", () => {
    expect(pyReprArgs(["word ".repeat(300)], 50)).toBe("('" + Array(9).fill("word").join(" ") + "...', ...");
  });

  it("stops a long list mid-way with Celery's odd separator", () => {
    const out = pyReprArgs([Array(600).fill(1)]);
    expect(out).toHaveLength(1033);
    expect(out.endsWith("1, 1, , ...],)")).toBe(true);
  });

  it("truncates dict keys with the remaining budget", () => {
    expect(pyReprArgs([{ [x(40).replace(/x/g, "k")]: "v" }], 20)).toBe("({'" + "k".repeat(18) + "...', ...},)");
  });

  it("counts code points, not UTF-16 units", () => {
    expect(pyReprArgs(["🚀".repeat(30)], 10)).toBe("('" + "🚀".repeat(9) + "...', ...");
  });

  it("has no cap with an infinite budget", () => {
    expect(pyRepr(x(5000), Infinity)).toHaveLength(5002);
  });
});

describe("pythonRepr / pyStr (builtin repr)", () => {
  it("escapes like Python and switches quotes", () => {
    expect(pyStr("it's")).toBe(`"it's"`);
    expect(pyStr("a\nb\\")).toBe("'a\\nb\\\\'");
    expect(pythonRepr(["boom", { k: null }, true, 1.5])).toBe("['boom', {'k': None}, True, 1.5]");
  });

  it("pyNumber follows Python's float exponent rules", () => {
    expect(pyNumber(1e16)).toBe("1e+16");
    expect(pyNumber(1.5e-7)).toBe("1.5e-07");
    expect(pyNumber(0.0001)).toBe("0.0001");
    expect(pyNumber(12)).toBe("12");
    expect(pyNumber(NaN)).toBe("nan");
    expect(pyNumber(-Infinity)).toBe("-inf");
  });
});
