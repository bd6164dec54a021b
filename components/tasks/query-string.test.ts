import { describe, expect, it } from "vitest";
import { EMPTY_FILTERS, filtersToQuery, filtersToSearch, hasFilters, nextSort, parseFilters, sortDirection, toggle } from "./query-string";

const params = (s: string) => new URLSearchParams(s);

describe("task filters in the URL", () => {
  it("parses and drops what it does not understand", () => {
    const f = parseFilters(params("state=failure,RETRY,bogus&name=proj.add,proj.add&worker=w1@h&q=args:(2,&sort=-received&range=15m"));
    expect(f).toEqual({
      states: ["FAILURE", "RETRY"],
      names: ["proj.add"],
      workers: ["w1@h"],
      search: "args:(2,",
      sort: "-received",
      range: "15m",
    });
    expect(parseFilters(params("sort=-password&range=7y"))).toEqual(EMPTY_FILTERS);
  });

  it("round-trips through the query string readably", () => {
    const f = parseFilters(params("state=FAILURE,RETRY&name=proj.add&worker=w1@h&q=boom&sort=name"));
    const s = filtersToSearch(f);
    expect(s).toBe("?state=FAILURE,RETRY&name=proj.add&worker=w1@h&q=boom&sort=name");
    expect(parseFilters(params(s.slice(1)))).toEqual(f);
    expect(filtersToSearch(EMPTY_FILTERS)).toBe("");
  });

  it("builds the server query with the window and time range", () => {
    const f = parseFilters(params("state=STARTED&worker=w1@h&range=5m&q=%20x%20"));
    expect(filtersToQuery(f, 1000.7, 50, 200)).toEqual({
      offset: 50,
      limit: 200,
      sort_by: "-received",
      state: ["STARTED"],
      workername: ["w1@h"],
      search: "x",
      received_start: 700,
    });
    expect(filtersToQuery(EMPTY_FILTERS, 0)).toEqual({ offset: 0, limit: 100, sort_by: "-received" });
    expect(filtersToQuery({ ...EMPTY_FILTERS, sort: "name" }, 0).sort_by).toBe("name");
  });

  it("cycles sort direction per column type, back to the default order", () => {
    // the default is already newest received first
    expect(nextSort("", "received")).toBe("received");
    expect(nextSort("received", "received")).toBe("");
    expect(nextSort("", "started")).toBe("-started");
    expect(nextSort("-started", "started")).toBe("started");
    expect(nextSort("started", "started")).toBe("");
    expect(nextSort("", "name")).toBe("name");
    expect(nextSort("name", "name")).toBe("-name");
    expect(nextSort("-name", "name")).toBe("");
    expect(nextSort("-received", "name")).toBe("name");
    expect(sortDirection("-runtime", "runtime")).toBe("desc");
    expect(sortDirection("name", "runtime")).toBeNull();
    expect(sortDirection("", "received")).toBe("desc");
    expect(filtersToSearch({ ...EMPTY_FILTERS, sort: "-received" })).toBe("");
  });

  it("knows when anything is filtered and toggles members", () => {
    expect(hasFilters(EMPTY_FILTERS)).toBe(false);
    expect(hasFilters({ ...EMPTY_FILTERS, sort: "name" })).toBe(false);
    expect(hasFilters({ ...EMPTY_FILTERS, range: "1h" })).toBe(true);
    expect(toggle(["a", "b"], "a")).toEqual(["b"]);
    expect(toggle(["a"], "b")).toEqual(["a", "b"]);
  });
});
