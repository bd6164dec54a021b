import { describe, expect, it } from "vitest";
import type { TaskQuery } from "../protocol/api";
import type { TaskEvent } from "../protocol/types";
import { SearchSyntaxError, TaskQueryError, queryTasks } from "./query";
import { parseSearch } from "./search";
import { TaskStore } from "./store";
import { taskEv } from "./test-events";

/** A small cluster like FLOWER-API.md's run: proj.add / proj.fail / proj.slow on w1 and w2. */
function fixture(): TaskStore {
  const s = new TaskStore();
  let v = 0;
  const put = (evs: TaskEvent[]): void => evs.forEach((e) => s.apply(e, ++v));
  const run = (uuid: string, host: string, t: number, name: string, args: string, kwargs: string, end: TaskEvent | null): void => {
    put([
      taskEv("task-received", uuid, { hostname: host, timestamp: t, clock: 1 }, { name, args, kwargs }),
      taskEv("task-started", uuid, { hostname: host, timestamp: t + 0.1, clock: 2 }),
    ]);
    if (end) put([end]);
  };
  const ok = (uuid: string, host: string, t: number, result: string, runtime: number): TaskEvent =>
    taskEv("task-succeeded", uuid, { hostname: host, timestamp: t + 0.5, clock: 3 }, { result, runtime });
  const fail = (uuid: string, host: string, t: number): TaskEvent =>
    taskEv("task-failed", uuid, { hostname: host, timestamp: t + 0.5, clock: 3 }, { exception: "ValueError('boom: intentional failure')" });
  run("a1000000-0000-0000-0000-000000000001", "w1@host1", 100, "proj.add", "(2, 3)", "{}", ok("a1000000-0000-0000-0000-000000000001", "w1@host1", 100, "5", 0.03));
  run("a2000000-0000-0000-0000-000000000002", "w2@host1", 101, "proj.add", "(7, 8)", "{}", ok("a2000000-0000-0000-0000-000000000002", "w2@host1", 101, "15", 0.002));
  run("a3000000-0000-0000-0000-000000000003", "w1@host1", 102, "proj.add", "()", "{'x': 100, 'y': 1}", ok("a3000000-0000-0000-0000-000000000003", "w1@host1", 102, "101", 0.01));
  run("f1000000-0000-0000-0000-000000000004", "w1@host1", 103, "proj.fail", "()", "{}", fail("f1000000-0000-0000-0000-000000000004", "w1@host1", 103));
  run("f2000000-0000-0000-0000-000000000005", "w2@host1", 104, "proj.fail", "()", "{}", fail("f2000000-0000-0000-0000-000000000005", "w2@host1", 104));
  run("s1000000-0000-0000-0000-000000000006", "w2@host1", 105, "proj.slow", "(2,)", "{}", ok("s1000000-0000-0000-0000-000000000006", "w2@host1", 105, "2", 2.0));
  run("s2000000-0000-0000-0000-000000000007", "w2@host1", 106, "proj.slow", "(60,)", "{}", null); // running
  // Sent only, never received (received stays null).
  put([taskEv("task-sent", "p1000000-0000-0000-0000-000000000008", { timestamp: 107 }, { name: "proj.add", args: "(1, 1)" })]);
  return s;
}

const ids = (s: TaskStore, q: TaskQuery): string[] => queryTasks(s, q).rows.map((r) => r.uuid.slice(0, 2));

describe("Flower search examples (FLOWER-API.md)", () => {
  const s = fixture();
  it("state:FAILURE → both failures", () => expect(ids(s, { search: "state:FAILURE" }).sort()).toEqual(["f1", "f2"]));
  it("state: is exact and case-insensitive", () => {
    expect(ids(s, { search: "state:failure" }).sort()).toEqual(["f1", "f2"]);
    expect(ids(s, { search: "state:FAIL" })).toEqual([]);
  });
  it("kwargs:x=100 → the task with kwargs {'x': 100, 'y': 1}", () => expect(ids(s, { search: "kwargs:x=100" })).toEqual(["a3"]));
  it("kwargs:x=10 is an exact pair, not a substring", () => expect(ids(s, { search: "kwargs:x=10" })).toEqual([]));
  it("name:proj.slow OR result:101 → 3 tasks here (two slow + the 101 result)", () =>
    expect(ids(s, { search: "name:proj.slow OR result:101" }).sort()).toEqual(["a3", "s1", "s2"]));
  it("proj.add AND w1@host1 → proj.add tasks on w1", () => expect(ids(s, { search: "proj.add AND w1@host1" }).sort()).toEqual(["a1", "a3"]));
  it("implicit AND on whitespace", () => expect(ids(s, { search: "proj.add w1@host1" }).sort()).toEqual(["a1", "a3"]));
  it("PROJ.FAIL → the two failures (case-insensitive)", () => expect(ids(s, { search: "PROJ.FAIL" }).sort()).toEqual(["f1", "f2"]));
  it("boom (only in the exception) → nothing", () => expect(ids(s, { search: "boom" })).toEqual([]));
  it("&quot;proj.add&quot; (quotes HTML-escaped by the API) → nothing", () => expect(ids(s, { search: "&quot;proj.add&quot;" })).toEqual([]));
  it("a real quoted phrase works at this level", () => expect(ids(s, { search: '"(7, 8)"' })).toEqual(["a2"]));
  it("parentheses group OR inside AND", () =>
    expect(ids(s, { search: "(name:proj.fail OR name:proj.slow) worker:w2@host1" }).sort()).toEqual(["f2", "s1", "s2"]));
  it("matches the uuid", () => expect(ids(s, { search: "000000000006" })).toEqual(["s1"]));
});

describe("Flower search errors: same message, same position", () => {
  const cases: [string, string][] = [
    ["ab", "Substring search terms must contain at least 3 characters at position 0."],
    ["name:proj.slow OR result:15", "Substring search terms must contain at least 3 characters at position 18."],
    ["(unterminated", "Missing closing parenthesis at position 0."],
    ["args:(10,", "Search qualifier requires a value at position 0."],
    ["NOT foo", "NOT is not supported at position 0."],
    ["-foo", "Negation with '-' is not supported at position 0."],
    // From the same parser (Flower HEAD), positions in the trimmed query:
    ['"abc', "Unterminated quoted phrase at position 0."],
    ["abc OR", "OR must be followed by a search term at position 4."],
    ["abc AND OR def", "AND must be followed by a search term at position 4."],
    ["abc )", "Unexpected ')' at position 4."],
    ["()", "Empty group at position 0."],
    ['abc ""', "Empty search term at position 4."],
    ["((((((abc))))))", "Query nesting exceeds 5 levels at position 5."],
    ["x".repeat(2049), "Query exceeds 2048 characters."],
    [Array(129).fill("abc").join(" "), "Query exceeds 128 tokens."],
  ];
  for (const [q, msg] of cases) {
    it(`${q.length > 40 ? q.slice(0, 20) + "…" : q} → ${msg}`, () => {
      let err: unknown;
      try {
        queryTasks(new TaskStore(), { search: q });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SearchSyntaxError);
      expect((err as Error).message).toBe(msg);
    });
  }
  it("accepts short exact terms (state:, kwargs:k=v) and trims the query", () => {
    expect(() => parseSearch("state:X")).not.toThrow();
    expect(() => parseSearch("kwargs:a=1")).not.toThrow();
    expect(parseSearch("   ")).toEqual({ kind: "all" });
    expect(() => parseSearch("  ab")).toThrow("at position 0.");
  });
});

describe("filters, sort and paging", () => {
  const s = fixture();
  it("default order is newest timestamp first", () => {
    expect(ids(s, {})).toEqual(["p1", "s2", "s1", "f2", "f1", "a3", "a2", "a1"]);
    expect(queryTasks(s, {}).total).toBe(8);
  });
  it("state filter is case-insensitive and All means none", () => {
    expect(ids(s, { state: ["failure" as never] })).toEqual(["f2", "f1"]);
    expect(ids(s, { state: ["All" as never] }).length).toBe(8);
    expect(ids(s, { state: ["STARTED", "PENDING"] })).toEqual(["p1", "s2"]);
  });
  it("taskname and workername filters, unknown names give nothing", () => {
    expect(ids(s, { taskname: ["proj.add"] })).toEqual(["p1", "a3", "a2", "a1"]);
    expect(ids(s, { workername: ["w2@host1"], limit: 2 })).toEqual(["s2", "s1"]);
    expect(ids(s, { workername: ["nobody@host1"] })).toEqual([]);
    expect(ids(s, { taskname: ["proj.add"], workername: ["w1@host1"], state: ["SUCCESS"] })).toEqual(["a3", "a1"]);
  });
  it("received range keeps tasks with received null", () => {
    expect(ids(s, { received_start: 102, received_end: 104 })).toEqual(["p1", "f2", "f1", "a3"]);
  });
  it("offset/limit page through the order", () => {
    expect(ids(s, { limit: 2, offset: 2 })).toEqual(["s1", "f2"]);
    const page = queryTasks(s, { limit: 3, offset: 6 });
    expect(page).toMatchObject({ total: 8, offset: 6 });
    expect(page.rows.map((r) => r.uuid.slice(0, 2))).toEqual(["a2", "a1"]);
    expect(ids(s, { limit: 0 })).toEqual([]);
  });
  it("sort_by name ascending, ties by uuid; '-' reverses", () => {
    expect(ids(s, { sort_by: "name", limit: 3 })).toEqual(["a1", "a2", "a3"]);
    expect(ids(s, { sort_by: "-name", limit: 3 })).toEqual(["s2", "s1", "f2"]);
  });
  it("sort_by runtime puts nulls first ascending, last descending", () => {
    expect(ids(s, { sort_by: "runtime" })).toEqual(["f1", "f2", "p1", "s2", "a2", "a3", "a1", "s1"]);
    expect(ids(s, { sort_by: "-runtime", limit: 2 })).toEqual(["s1", "a1"]);
  });
  it("sort_by received, started, state, worker, timestamp", () => {
    expect(ids(s, { sort_by: "-received", limit: 2 })).toEqual(["s2", "s1"]);
    expect(ids(s, { sort_by: "started", limit: 2 })).toEqual(["p1", "a1"]);
    expect(ids(s, { sort_by: "state", limit: 3 })).toEqual(["f1", "f2", "p1"]);
    expect(ids(s, { sort_by: "worker", limit: 2 })).toEqual(["p1", "a1"]);
    expect(ids(s, { sort_by: "timestamp", limit: 1 })).toEqual(["a1"]);
  });
  it("heap selection gives the same page as a full sort", () => {
    for (const sort_by of ["name", "-name", "runtime", "-started", "worker", null]) {
      const all = ids(s, { sort_by });
      for (let offset = 0; offset < 8; offset++) {
        expect(ids(s, { sort_by, offset, limit: 3 })).toEqual(all.slice(offset, offset + 3));
      }
    }
  });
  it("refuses an unknown sort_by or bad paging like Flower's 500", () => {
    expect(() => queryTasks(s, { sort_by: "foo" })).toThrow(TaskQueryError);
    expect(() => queryTasks(s, { offset: -1 })).toThrow(TaskQueryError);
    expect(() => queryTasks(s, { limit: 1.5 })).toThrow(TaskQueryError);
  });
  it("search combines with filters", () => {
    expect(ids(s, { search: "proj", workername: ["w1@host1"], state: ["SUCCESS"] })).toEqual(["a3", "a1"]);
  });
});

describe("default page without a scan (newest first over the update order)", () => {
  it.each([256, 16, 3, 1])("gives the same pages as a full scan, with late events, skewed clocks and eviction (block %i)", (moveBlock) => {
    const s = new TaskStore({ maxTasks: 700, moveBlock });
    let seed = 42;
    const rand = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const types = ["task-sent", "task-received", "task-started", "task-succeeded", "task-failed"] as const;
    let v = 0;
    const page = (q: TaskQuery): string[] => queryTasks(s, q).rows.map((r) => r.uuid);
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 100; i++) {
        const n = round * 60 + Math.floor(rand() * 160);
        const skew = n % 97 === 0 ? 5000 : 0; // one "worker" far ahead
        const late = rand() < 0.1 ? -50 * rand() : 0;
        const ts = round * 10 + i * 0.1 + skew + late;
        const type = types[Math.floor(rand() * types.length)];
        s.apply(taskEv(type, `t${n}`, { timestamp: rand() < 0.02 ? ts : Math.round(ts * 10) / 10, clock: Math.floor(rand() * 5) }), ++v);
      }
      for (const q of [{ limit: 50 }, { limit: 20, offset: Math.floor(rand() * 100) }, { limit: 10, state: ["SUCCESS"] }, { limit: 5, state: ["RECEIVED", "STARTED"] }, { limit: 0 }] as TaskQuery[]) {
        const scanned = queryTasks(s, { ...q, received_start: -1e308 });
        expect(page(q)).toEqual(scanned.rows.map((r) => r.uuid));
        expect(queryTasks(s, q).total).toBe(scanned.total);
      }
    }
    expect(s.evicted).toBeGreaterThan(0);
  });
});
