import { describe, expect, it } from "vitest";
import { decodeBody, decodeBodyText, encodeEnvelope, parseEnvelope, ProtocolError, serializeEnvelope } from "../../lib/protocol/envelope";
import { encodeEventEnvelope, splitEventBody } from "../../lib/protocol/events";
import { envelopeLines, HAVE_VECTORS, SKIP_REASON } from "../../lib/protocol/test-vectors";
import { EventBatcher, parseEventBatch } from "./event-batch";

/** What the in-process path hands ingest for one payload. */
const reference = (raw: string) => splitEventBody(decodeBody(parseEnvelope(raw)));

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return e instanceof ProtocolError ? e.code : `other:${String(e)}`;
  }
  return "ok";
}

const celeryevLines = () => envelopeLines("events").filter((l) => l.command === "PUBLISH" && l.channel_or_key.includes(".celeryev/"));

describe.skipIf(!HAVE_VECTORS)(`decodeBodyText + EventBatcher on the Celery captures (${HAVE_VECTORS ? "" : SKIP_REASON})`, () => {
  it("decodes every captured event payload to what parseEnvelope + decodeBody give", () => {
    const lines = celeryevLines();
    expect(lines.length).toBeGreaterThan(50);
    for (const l of lines) expect(JSON.parse(decodeBodyText(l.raw))).toEqual(decodeBody(parseEnvelope(l.raw)));
  });

  it("batches every captured payload into one array with the events in order, task.multi flattened", () => {
    const lines = celeryevLines();
    const b = new EventBatcher();
    for (const l of lines) expect(b.add(l.raw)).toBe(true);
    const expected = lines.flatMap((l) => reference(l.raw));
    expect(expected.some((e) => (e as { type?: string }).type === "task-succeeded")).toBe(true);
    const out = b.take();
    expect(out).not.toBeNull();
    expect(out!.events).toBe(expected.length);
    expect(out!.rejected).toBe(0);
    expect(parseEventBatch(out!.text)).toEqual(expected);
    expect(b.take()).toBeNull();
  });
});

describe("decodeBodyText", () => {
  const ev = { type: "task-succeeded", uuid: "ü-1", result: "'é ☃'", clock: 3 };
  const env = encodeEventEnvelope("w@h", ev);

  it("agrees with the full decode on shapes off the fast path", () => {
    const cases: string[] = [
      serializeEnvelope(env),
      JSON.stringify(env), // no spaces after ":" — not the kombu prefix
      JSON.stringify({ properties: env.properties, "content-type": "application/json", body: env.body, headers: {} }),
      // plain (not base64) body with escapes inside the string
      serializeEnvelope({ ...env, body: '{"type": "worker-heartbeat", "q": "a\\"b"}', properties: { ...env.properties, body_encoding: "utf-8" } as never }),
      serializeEnvelope({ ...env, body: '{"type": "worker-heartbeat"}', properties: { ...env.properties, body_encoding: "utf-8" } as never }),
      // a second "body" key wins in JSON.parse
      serializeEnvelope(env).replace(/}$/, ', "body": "eyJ0eXBlIjogIngifQ=="}'),
      serializeEnvelope(env).replace(/}$/, ', "body": 5}'),
    ];
    for (const raw of cases) {
      const want = codeOf(() => decodeBody(parseEnvelope(raw)));
      expect(codeOf(() => decodeBodyText(raw)), raw).toBe(want);
      if (want === "ok") expect(JSON.parse(decodeBodyText(raw))).toEqual(decodeBody(parseEnvelope(raw)));
    }
  });

  it("rejects what parseEnvelope/decodeBody reject, with the same code", () => {
    const good = serializeEnvelope(env);
    const bad: string[] = [
      "",
      "not json",
      "[1, 2]",
      '{"body": "abc"',
      '{"body": "abc"} trailing',
      good.replace('"content-type": "application/json"', '"content-type": "application/x-python-serialize"'),
      good.replace('"content-type": "application/json", ', ""),
      good.replace(/"properties": \{.*\}\}$/, '"properties": 7}'),
      good.replace('"headers": {"hostname": "w@h"}', '"headers": [1]'),
      serializeEnvelope(encodeEnvelope(null, {}, { deliveryInfo: { exchange: "celeryev", routing_key: "x" } })).replace(/"body": "[^"]*"/, '"body": "e30"'),
    ];
    for (const raw of bad) expect(codeOf(() => decodeBodyText(raw)), raw).toBe(codeOf(() => decodeBody(parseEnvelope(raw))));
  });
});

describe("EventBatcher", () => {
  const one = (ev: Record<string, unknown>) => serializeEnvelope(encodeEventEnvelope("w@h", ev));
  const many = (evs: Record<string, unknown>[]) => serializeEnvelope(encodeEventEnvelope("w@h", evs));

  it("counts undecodable payloads, skips empty task.multi arrays and keeps the rest in order", () => {
    const b = new EventBatcher();
    expect(b.add(one({ type: "task-sent", uuid: "1" }))).toBe(true);
    expect(b.add("garbage")).toBe(false);
    expect(b.add(many([]))).toBe(true);
    expect(b.add(many([{ type: "task-received", uuid: "1" }, { type: "task-started", uuid: "1" }]))).toBe(true);
    // bodies that are JSON but not events still go through: the reducer rejects and counts them
    expect(b.add(serializeEnvelope(encodeEnvelope(5, {}, { deliveryInfo: { exchange: "celeryev", routing_key: "x" } })))).toBe(true);
    expect(b.add(serializeEnvelope({ ...encodeEventEnvelope("w@h", {}), body: "bm90IGpzb24=" }))).toBe(false);
    const out = b.take()!;
    expect(out.rejected).toBe(2);
    expect(out.events).toBe(4);
    expect(parseEventBatch(out.text)).toEqual([{ type: "task-sent", uuid: "1" }, { type: "task-received", uuid: "1" }, { type: "task-started", uuid: "1" }, 5]);
  });

  it("cannot be tricked into splicing one payload's text into two events", () => {
    const b = new EventBatcher();
    // not valid JSON on its own, but would be inside "[...]": must be rejected, not spliced
    const sneaky = serializeEnvelope({ ...encodeEventEnvelope("w@h", {}), body: Buffer.from('{"type": "a"}, {"type": "b"}').toString("base64") });
    expect(b.add(sneaky)).toBe(false);
    expect(b.take()).toEqual({ text: "[]", events: 0, rejected: 1 });
  });

  it("reports a batch with only rejects, and nothing at all when idle", () => {
    const b = new EventBatcher();
    expect(b.take()).toBeNull();
    b.add("{}");
    expect(b.take()).toEqual({ text: "[]", events: 0, rejected: 1 });
  });
});
