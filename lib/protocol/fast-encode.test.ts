/**
 * The client's fast encoders must write exactly what the plain reference writers do: Python-style
 * JSON (and its base64), saferepr, and the task envelope encodeEnvelope would build.
 */
import { describe, expect, it, vi } from "vitest";
import { base64Decode, base64Encode, encodeEnvelope, pythonJsonBase64, pythonJsonDumps, referencePythonJsonDumps, uuid4 } from "./envelope";
import { fastUuid4 } from "./fast-encode";
import { pyRepr, pyReprArgs, referencePyRepr, referencePyReprArgs } from "./repr";
import { buildTaskMessage, EMPTY_EMBED, type BuildTaskOptions } from "./task-message";
import type { Envelope } from "./types";

/** small deterministic PRNG so a failure reproduces */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const PIECES = ["", "a", "x y", "it's", 'say "hi"', "back\\slash", "tab\there", "line\nbreak", "é", "日本", "🚀", "\u007f", "\u0000", ",", ":", '":', "\\\"", "\ud800", "2026-12-02T00:00:00+00:00", "(1, 2)"];

function randomValue(r: () => number, depth: number): unknown {
  const k = Math.floor(r() * (depth > 4 ? 6 : 9));
  switch (k) {
    case 0:
      return null;
    case 1:
      return r() < 0.5;
    case 2:
      return [0, -3, 2.5, 1e-7, 1e21, 123456789012345.5, -0.001, 42][Math.floor(r() * 8)];
    case 3:
    case 4:
    case 5: {
      let s = "";
      const n = Math.floor(r() * 4);
      for (let i = 0; i < n; i++) s += PIECES[Math.floor(r() * PIECES.length)];
      return s;
    }
    case 6:
    case 7:
      return Array.from({ length: Math.floor(r() * 5) }, () => randomValue(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      const n = Math.floor(r() * 5);
      for (let i = 0; i < n; i++) o[PIECES[Math.floor(r() * PIECES.length)] + i] = randomValue(r, depth + 1);
      return o;
    }
  }
}

describe("pythonJsonDumps / pythonJsonBase64 fast paths", () => {
  it("equal the reference writer on random values (unicode, escapes, separators in strings)", () => {
    const r = rng(1);
    for (let i = 0; i < 3000; i++) {
      const v = randomValue(r, 0);
      const ref = referencePythonJsonDumps(v);
      expect(pythonJsonDumps(v)).toBe(ref);
      expect(pythonJsonBase64(v)).toBe(base64Encode(ref));
    }
  });

  it("handle payloads bigger than the reused scratch buffers, ASCII or not", () => {
    const ascii = { s: "x,y:z".repeat(40_000), n: Array.from({ length: 5000 }, (_, i) => i) };
    const wide = { s: "é".repeat(70_000) + "\"" + "日".repeat(30_000) };
    const huge = { s: "x:".repeat(600_000), t: "é".repeat(400_000) };
    for (const v of [ascii, wide, huge]) {
      const ref = referencePythonJsonDumps(v);
      expect(pythonJsonDumps(v)).toBe(ref);
      expect(base64Decode(pythonJsonBase64(v))).toBe(ref);
    }
    // the scratch buffers are still right after a one-off big buffer
    expect(pythonJsonDumps({ a: [1, "b"] })).toBe('{"a": [1, "b"]}');
  });

  it("base64Encode round-trips any UTF-16 text", () => {
    for (const s of ["", "abc", "é日🚀", "\ud800x", "z".repeat(100_000)]) expect(base64Decode(base64Encode(s))).toBe(Buffer.from(s, "utf8").toString("utf8"));
  });
});

describe("uuid4", () => {
  it("writes RFC 4122 version 4 ids, all distinct across pool refills", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const id = i % 2 ? uuid4() : fastUuid4();
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      seen.add(id);
    }
    expect(seen.size).toBe(2000);
  });
});

describe("pyRepr / pyReprArgs fast path", () => {
  it("equals saferepr's token writer on random values, budgets and nesting", () => {
    const r = rng(2);
    for (let i = 0; i < 3000; i++) {
      const v = randomValue(r, 0);
      const max = [1024, 40, 8, 3, 2, 1, 0, Infinity][i % 8];
      expect(pyRepr(v, max)).toBe(referencePyRepr(v, max));
      const args = Array.isArray(v) ? v : [v];
      expect(pyReprArgs(args, max)).toBe(referencePyReprArgs(args, max));
    }
  });

  it("stays exact around the 1024 budget and on huge containers", () => {
    for (let n = 1010; n < 1030; n++) {
      const s = "w ".repeat(n / 2) + "x".repeat(n % 2);
      expect(pyRepr(s)).toBe(referencePyRepr(s));
      expect(pyReprArgs([s])).toBe(referencePyReprArgs([s]));
      expect(pyReprArgs([s.slice(0, n - 20), 1, "ab"])).toBe(referencePyReprArgs([s.slice(0, n - 20), 1, "ab"]));
    }
    const big = Array.from({ length: 100_000 }, (_, i) => i);
    expect(pyReprArgs([big])).toBe(referencePyReprArgs([big]));
    expect(pyRepr({ a: big, b: "x" })).toBe(referencePyRepr({ a: big, b: "x" }));
  });
});

/** What buildTaskMessage wrote when it went through encodeEnvelope (the reference shape). */
function viaEncodeEnvelope(name: string, opts: BuildTaskOptions, built: Envelope): Envelope {
  const h = built.headers;
  const p = built.properties;
  const args = opts.args ?? [];
  const kwargs = opts.kwargs ?? {};
  const headers: Record<string, unknown> = {
    lang: "py",
    task: name,
    id: h.id,
    shadow: opts.shadow ?? null,
    eta: opts.eta ?? null,
    expires: opts.expires ?? null,
    group: null,
    group_index: null,
    retries: opts.retries ?? 0,
    timelimit: opts.timelimit ?? [null, null],
    root_id: opts.rootId ?? h.id,
    parent_id: opts.parentId ?? null,
    argsrepr: referencePyReprArgs(args, 1024),
    kwargsrepr: referencePyRepr(kwargs, 1024),
    origin: opts.origin ?? "petal",
    ignore_result: opts.ignoreResult ?? false,
  };
  if (opts.retryOf) headers.retry_of = opts.retryOf;
  const properties: Record<string, unknown> = { correlation_id: h.id, reply_to: p.reply_to };
  if (opts.expiresInSeconds != null) properties.expiration = String(Math.round(opts.expiresInSeconds * 1000));
  const env = encodeEnvelope([args, kwargs, EMPTY_EMBED], headers, {
    deliveryInfo: { exchange: "", routing_key: opts.queue ?? "celery" },
    deliveryMode: 2,
    priority: opts.priority ?? 0,
    properties,
  });
  env.properties.delivery_tag = p.delivery_tag;
  return env;
}

describe("buildTaskMessage", () => {
  const cases: [string, BuildTaskOptions][] = [
    ["bench.noop", {}],
    ["demo.add", { args: [2, 3] }],
    ["demo.kw", { kwargs: { x: "é", y: [1, { z: null }] }, queue: "images", priority: 5 }],
    ["demo.all", { id: "fixed-id", args: ["it's"], kwargs: { a: 1 }, eta: "2026-12-02T00:00:00+00:00", expires: "2026-12-03T00:00:00+00:00", expiresInSeconds: 60, retries: 2, rootId: "r", parentId: "p", origin: "gen1@h", timelimit: [1, 2], ignoreResult: true, replyTo: "rt", retryOf: "old", shadow: "sh" }],
    ["demo.nullroot", { rootId: null, kwargs: Object.create(null) as Record<string, unknown> }],
    ["demo.date", { kwargs: new Date(0) as unknown as Record<string, unknown> }],
  ];
  it.each(cases)("%s: the same keys, order and bytes as encodeEnvelope wrote", (name, opts) => {
    const built = buildTaskMessage(name, opts);
    const ref = viaEncodeEnvelope(name, opts, built);
    expect(JSON.stringify(built)).toBe(JSON.stringify(ref));
    expect(pythonJsonDumps(built)).toBe(referencePythonJsonDumps(ref));
  });
});

describe("without Buffer (the browser)", () => {
  it("uuid4, pythonJsonDumps and base64 take the portable paths and write the same", async () => {
    vi.resetModules();
    vi.stubGlobal("Buffer", undefined);
    let mod: typeof import("./envelope");
    let fast: typeof import("./fast-encode");
    try {
      fast = await import("./fast-encode");
      mod = await import("./envelope");
    } finally {
      vi.unstubAllGlobals();
    }
    expect(fast.canWriteBytes).toBe(false);
    for (let i = 0; i < 600; i++) expect(mod.uuid4()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const r = rng(3);
    for (let i = 0; i < 500; i++) {
      const v = randomValue(r, 0);
      expect(mod.pythonJsonDumps(v)).toBe(referencePythonJsonDumps(v));
      expect(mod.pythonJsonBase64(v)).toBe(pythonJsonBase64(v));
    }
  });
});
