import { describe, expect, it } from "vitest";
import { kwargsPairs } from "./pyliteral";

const pairs = (s: string): string[] => [...kwargsPairs(s)].sort();

describe("kwargsPairs (Python str() of each key and value, lower-cased)", () => {
  it("reads a plain kwargs repr", () => {
    expect(pairs("{'x': 100, 'y': 1}")).toEqual(["x=100", "y=1"]);
    expect(pairs("{}")).toEqual([]);
  });
  it("prints strings without quotes, decoding escapes", () => {
    expect(pairs("{'name': 'Bob', 'q': \"it's\", 'e': '\\u00e9\\n'}")).toEqual(["e=é\n", "name=bob", "q=it's"]);
  });
  it("prints containers and constants as Python does", () => {
    expect(pairs("{'a': [1, 'x'], 'b': (2,), 'c': None, 'd': True, 'f': -1.5, 'g': {'k': 'v'}}")).toEqual([
      "a=[1, 'x']",
      "b=(2,)",
      "c=none",
      "d=true",
      "f=-1.5",
      "g={'k': 'v'}",
    ]);
  });
  it("gives nothing for what literal_eval refuses", () => {
    expect(pairs("{'o': <object at 0x7f>}")).toEqual([]);
    expect(pairs("{'long': 'xxx...")).toEqual([]);
    expect(pairs("(1, 2)")).toEqual([]);
    expect(pairs("{1, 2}")).toEqual([]);
    expect(pairs("{'a': 1} trailing")).toEqual([]);
  });
});
