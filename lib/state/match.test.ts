import { describe, expect, it } from "vitest";
import type { TaskRecord } from "../protocol/api";
import { queryTasks } from "./query";
import { kwargsPairs } from "./pyliteral";
import { parseSearch } from "./search";
import type { SearchNode } from "./search";
import { F_MASK_DIRTY } from "./columns";
import { TaskStore } from "./store";
import { taskEv } from "./test-events";

/**
 * The column matcher (match.ts) takes shortcuts (per-id tables, includes on strings without A-Z,
 * a non-unicode /i regex on ASCII strings, a uuid skip, a kwargs prefilter). This checks it
 * against the plain definition of Flower's search on strings chosen to hit every shortcut.
 */
function reference(node: SearchNode, t: TaskRecord): boolean {
  switch (node.kind) {
    case "all":
      return true;
    case "and":
      return node.children.every((c) => reference(c, t));
    case "or":
      return node.children.some((c) => reference(c, t));
    case "term": {
      const lower = node.value.toLowerCase();
      if (node.field === null) {
        const text = `${t.uuid}\0${t.name ?? ""}\0${t.state}\0${t.worker ?? ""}\0${t.args ?? ""}\0${t.kwargs ?? ""}\0${t.result ?? ""}`;
        return text.toLowerCase().includes(lower);
      }
      if (node.field === "state") return t.state.toLowerCase() === lower;
      if (node.field === "kwargs" && lower.includes("=")) {
        const eq = lower.indexOf("=");
        return kwargsPairs(t.kwargs).has(`${lower.slice(0, eq).trim()}=${lower.slice(eq + 1).trim()}`);
      }
      const v = t[node.field];
      return v !== null && new RegExp(lower.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "iu").test(v);
    }
  }
}

const TEXTS = [
  "(1, 2)",
  "('ABC', 'def')",
  "{'ok': True, 'n': 42}",
  "{'user': 'Zoë', 'k': 'KELVIN\u212a'}",
  "{'x': 100, 'y': 'it\\'s'}",
  "{'quote': \"it's\", 'n': None}",
  "'straße'",
  "ÉCOLE école",
  "'\u212aelvin'",
  "{'Key': 'Value'}",
  "",
];
const UUIDS = ["0a1b2c3d-0000-4000-8000-000000000001", "ABCDEF00-0000-4000-8000-000000000002", "task-Ünïcode-3", "plain-id-4"];
const TERMS = [
  "abc", "ABC", "def", "true", "TRUE", '"1, 2"', "zoë", "ZOË", "kelvin", "n\u212avin", "elvin", "straße", "STRASSE", "école", "ÉCOLE",
  "0a1b", "2c3d-0000", "d-00", "0001-1", "000-4", "abcdef", "ünï", "plain", "proj", "w1@host1", "success", "failure", "pending",
  "args:abc", "args:ABC", "kwargs:'ok", "result:école", "result:ÉCOLE", "kwargs:kelvin", "kwargs:\u212aelvin", "name:PROJ.A", "worker:W1@",
  "kwargs:user=zoë", "kwargs:user=ZOË", "kwargs:x=100", "kwargs:y=it's", "kwargs:quote=it's", "kwargs:n=none", "kwargs:key=value",
  "kwargs:ok=true", "state:success", "state:FAILURE", 'abc OR "1, 2"', "(true OR école) proj",
];

describe("search over columns matches the reference definition", () => {
  const s = new TaskStore();
  let v = 0;
  let i = 0;
  for (const uuid of UUIDS) {
    for (const args of TEXTS) {
      const id = `${uuid}-${i++}`;
      const name = i % 2 === 0 ? "proj.Add" : "PROJ.mul";
      const host = i % 3 === 0 ? "W1@Host1" : "w2@host1";
      s.apply(taskEv("task-received", id, { hostname: host }, { name, args, kwargs: TEXTS[(i * 3) % TEXTS.length] || "{}" }), ++v);
      if (i % 4 !== 0) {
        const end = i % 5 === 0 ? taskEv("task-failed", id, { hostname: host, clock: 2 }) : taskEv("task-succeeded", id, { hostname: host, clock: 2 }, { result: TEXTS[(i * 7) % TEXTS.length] || null });
        s.apply(end, ++v);
      }
    }
  }
  const all = queryTasks(s, {}).rows;

  for (const term of TERMS) {
    it(`search=${term}`, () => {
      const node = parseSearch(term);
      const want = all.filter((t) => reference(node, t)).map((t) => t.uuid).sort();
      const got = queryTasks(s, { search: term }).rows.map((t) => t.uuid).sort();
      expect(got).toEqual(want);
    });
  }

  it("finds something for most terms (the fixture exercises the matcher)", () => {
    const hits = TERMS.filter((term) => queryTasks(s, { search: term, limit: 1 }).total > 0);
    expect(hits.length).toBeGreaterThan(TERMS.length * 0.7);
  });
});

describe("search after changes", () => {
  it("sees a result that arrived after an earlier search (the character masks refresh)", () => {
    const s = new TaskStore();
    s.apply(taskEv("task-received", "t1", {}, { args: "(1,)", kwargs: "{}" }), 1);
    expect(queryTasks(s, { search: "zebra" }).total).toBe(0);
    expect(queryTasks(s, { search: "result:zebra" }).total).toBe(0);
    s.apply(taskEv("task-succeeded", "t1", { clock: 2 }, { result: "'Zebra'" }), 2);
    expect(queryTasks(s, { search: "zebra" }).total).toBe(1);
    expect(queryTasks(s, { search: "result:zebra" }).total).toBe(1);
    expect(queryTasks(s, { search: "kwargs:q=zebra" }).total).toBe(0);
  });
});

describe("uuid fragments", () => {
  it("finds every task whose uuid holds the fragment, and only those", () => {
    const s = new TaskStore({ maxTasks: 3000 });
    const ids: string[] = [];
    let seed = 7;
    const rand = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let i = 0; i < 2000; i++) {
      const hex = Array.from({ length: 32 }, () => "0123456789abcdef"[Math.floor(rand() * (i % 3 === 0 ? 3 : 16))]).join("");
      const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
      ids.push(id);
      s.apply(taskEv("task-received", id, {}, { args: "()", kwargs: "{}" }), i + 1);
    }
    for (let k = 0; k < 60; k++) {
      const src = ids[Math.floor(rand() * ids.length)];
      const at = Math.floor(rand() * 30);
      const term = src.slice(at, at + 3 + Math.floor(rand() * 6));
      if (term.startsWith("-")) continue;
      const want = ids.filter((id) => id.includes(term)).sort();
      expect(queryTasks(s, { search: term }).rows.map((r) => r.uuid).sort()).toEqual(want);
    }
  });
});

describe("mask refresh between searches", () => {
  it("queues rows changed after the first search and refreshes them in refreshQueued", () => {
    const s = new TaskStore();
    s.apply(taskEv("task-received", "t1"), 1);
    expect(s.cols.refreshQueued(50)).toBe(0); // nothing queued before any search
    expect(queryTasks(s, { search: "zebra" }).total).toBe(0);
    s.apply(taskEv("task-succeeded", "t1", { clock: 2 }, { result: "'zebra'" }), 2);
    s.apply(taskEv("task-received", "t2"), 3);
    expect(s.cols.refreshQueued(50)).toBe(2);
    expect(s.cols.flags[s.slotOf("t1")] & F_MASK_DIRTY).toBe(0);
    expect(queryTasks(s, { search: "zebra" }).total).toBe(1);
  });
});
