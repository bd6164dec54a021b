/**
 * What we send must read like what Celery sends: rebuild captured messages, events and control
 * envelopes with our encoders and compare keys, key order and bytes.
 */
import { describe, expect, it } from "vitest";
import { controlRequest, encodeControlReply, encodeControlRequest, withReply } from "./control";
import { base64Decode, decodeBody, parseEnvelope, pythonJsonDumps, serializeEnvelope } from "./envelope";
import { splitEventBody, taskEvent, workerEvent, isWorkerEventType } from "./events";
import { pyRepr, pyReprArgs } from "./repr";
import { buildTaskMessage } from "./task-message";
import { envelopeLines, HAVE_VECTORS, loadLines } from "./test-vectors";
import type { ControlRequest, Envelope, ResultMeta, TaskEventType, TaskHeaders } from "./types";

/** Python writes whole floats as `2.0`; JSON.parse makes them 2, so compare without the `.0`. */
const dropWholeFloatZero = (s: string): string => s.replace(/(\d)\.0(?=[,\]} ])/g, "$1");

/** Task messages as a Celery client (or our raw full-form producer) sent them. */
function clientMessages() {
  return envelopeLines("task-messages").filter((l) => {
    const p = l.envelope?.properties as Record<string, unknown> | undefined;
    return l.command === "LPUSH" && p && Object.keys(p)[0] === "correlation_id" && Object.keys(p)[2] === "delivery_mode";
  });
}

describe.skipIf(!HAVE_VECTORS)("task messages: buildTaskMessage reproduces Celery's client", () => {
  it("matches the §3.1 add.delay(2, 3) capture byte for byte", () => {
    const line = clientMessages().find((l) => l.phase === "add")!;
    const cap = parseEnvelope(line.raw);
    const h = cap.headers as TaskHeaders;
    const env = buildTaskMessage("demo.add", { id: h.id, args: [2, 3], origin: h.origin, replyTo: cap.properties.reply_to });
    expect(Object.keys(env)).toEqual(Object.keys(cap));
    expect(Object.keys(env.headers)).toEqual(Object.keys(cap.headers));
    expect(Object.keys(env.properties)).toEqual(Object.keys(cap.properties));
    expect(env.body).toBe(cap.body);
    env.properties.delivery_tag = cap.properties.delivery_tag;
    expect(serializeEnvelope(env)).toBe(line.raw);
  });

  it("rebuilds every first-send client message (eta, expires, unicode, long args) byte for byte", () => {
    let n = 0;
    for (const line of clientMessages()) {
      const cap = parseEnvelope(line.raw);
      const h = cap.headers as TaskHeaders;
      if (h.retries !== 0) continue; // retry re-publishes carry kombu's extra properties
      const [args, kwargs] = decodeBody(cap) as [unknown[], Record<string, unknown>];
      const expiration = cap.properties.expiration;
      const env = buildTaskMessage(h.task, {
        id: h.id,
        args,
        kwargs,
        queue: cap.properties.delivery_info.routing_key,
        eta: h.eta ?? null,
        expires: h.expires ?? null,
        expiresInSeconds: expiration === undefined ? undefined : Number(expiration) / 1000,
        rootId: h.root_id,
        parentId: h.parent_id,
        origin: h.origin,
        replyTo: cap.properties.reply_to,
        priority: cap.properties.priority,
      });
      env.properties.delivery_tag = cap.properties.delivery_tag;
      expect(serializeEnvelope(env), line.phase).toBe(line.raw);
      n++;
    }
    expect(n).toBeGreaterThanOrEqual(15);
  });
});

describe.skipIf(!HAVE_VECTORS)("pythonJsonDumps reproduces Python's json.dumps", () => {
  for (const file of ["task-messages", "events", "control"] as const) {
    it(`${file}: every envelope re-serializes to the captured raw bytes`, () => {
      for (const line of envelopeLines(file)) {
        expect(serializeEnvelope(parseEnvelope(line.raw)), line.label).toBe(line.raw);
      }
    });

    it(`${file}: every decoded body re-encodes to the captured body text`, () => {
      let exact = 0;
      const lines = envelopeLines(file);
      for (const line of lines) {
        const env = parseEnvelope(line.raw);
        const original = env.properties.body_encoding === "base64" ? base64Decode(env.body) : env.body;
        const ours = pythonJsonDumps(line.decoded);
        if (ours === original) exact++;
        else expect(ours, line.label).toBe(dropWholeFloatZero(original));
      }
      // heartbeats all carry freq 2.0; elsewhere most bodies hold no whole float at all
      expect(exact).toBeGreaterThan(file === "events" ? lines.length / 5 : lines.length / 2);
    });
  }
});

describe.skipIf(!HAVE_VECTORS)("events: taskEvent/workerEvent emit Celery's exact shapes", () => {
  it("rebuilds every captured event with the same keys, order and bytes", () => {
    const seen = new Set<string>();
    for (const line of envelopeLines("events")) {
      for (const raw of splitEventBody(line.decoded)) {
        const cap = raw as Record<string, unknown> & { type: string };
        const { hostname, utcoffset, pid, clock, type, ...own } = cap;
        // hand the fields over in reverse order: the builder must restore Celery's
        const fields = Object.fromEntries(Object.entries(own).reverse());
        const base = { hostname: hostname as string, pid: pid as number, clock: clock as number, utcoffset: utcoffset as number };
        const built = isWorkerEventType(type)
          ? workerEvent(type, fields as never, base)
          : taskEvent(type as TaskEventType, fields as never, base);
        expect(Object.keys(built), type).toEqual(Object.keys(cap));
        expect(built).toEqual(cap);
        seen.add(type);
      }
      if (!Array.isArray(line.decoded)) {
        const original = base64Decode(parseEnvelope(line.raw).body);
        const cap = line.decoded as Record<string, unknown> & { type: string };
        const { hostname, utcoffset, pid, clock, type, ...own } = cap;
        const base = { hostname: hostname as string, pid: pid as number, clock: clock as number, utcoffset: utcoffset as number };
        const built = isWorkerEventType(type) ? workerEvent(type, own as never, base) : taskEvent(type as TaskEventType, own as never, base);
        expect(pythonJsonDumps(built)).toBe(dropWholeFloatZero(original));
      }
    }
    expect(seen.size).toBe(11);
  });
});

describe.skipIf(!HAVE_VECTORS)("pyRepr matches Celery's saferepr in captures", () => {
  it("argsrepr/kwargsrepr of every client message, including unicode, nesting and truncation", () => {
    let n = 0;
    for (const line of clientMessages()) {
      const env = parseEnvelope(line.raw);
      const h = env.headers as TaskHeaders;
      const [args, kwargs] = decodeBody(env) as [unknown[], Record<string, unknown>];
      expect(pyReprArgs(args), line.phase).toBe(h.argsrepr);
      expect(pyRepr(kwargs), line.phase).toBe(h.kwargsrepr);
      n++;
    }
    expect(n).toBeGreaterThan(15);
    const kw = clientMessages().find((l) => l.phase === "kw-unicode")!;
    const h = parseEnvelope(kw.raw).headers as TaskHeaders;
    expect(h.argsrepr).toBe("('héllo ☃ 日本',)");
    expect(h.kwargsrepr).toBe("{'data': {'nested': {'list': [...]}, 'emoji': '🚀'}, 'flag': True}");
  });

  it("task-succeeded result strings equal pyRepr of the stored result", () => {
    const results = new Map<string, ResultMeta>();
    for (const l of loadLines("results")) {
      if (l.command === "SETEX") results.set((l.decoded as ResultMeta).task_id, l.decoded as ResultMeta);
    }
    let n = 0;
    for (const line of envelopeLines("events")) {
      for (const e of splitEventBody(line.decoded) as { type: string; uuid: string; result: string }[]) {
        if (e.type !== "task-succeeded") continue;
        const meta = results.get(e.uuid);
        if (!meta || meta.status !== "SUCCESS") continue;
        expect(pyRepr(meta.result)).toBe(e.result);
        n++;
      }
    }
    expect(n).toBeGreaterThan(5);
  });
});

describe.skipIf(!HAVE_VECTORS)("control: pidbox envelopes match Celery's", () => {
  const lines = () => envelopeLines("control");

  it("requests: same headers, properties and body bytes", () => {
    let n = 0;
    for (const line of lines()) {
      if (line.command !== "PUBLISH" || line.phase === "raw-ping-nobinding") continue;
      const cap = parseEnvelope(line.raw);
      const c = line.decoded as ControlRequest;
      let req = controlRequest(c.method, c.arguments, { destination: c.destination, pattern: c.pattern, matcher: c.matcher });
      if (c.ticket) req = withReply(req, c.ticket, c.reply_to!.routing_key);
      const env: Envelope = encodeControlRequest(req, { clock: cap.headers.clock as number });
      expect(Object.keys(env.headers)).toEqual(["clock", "expires"]);
      expect(env.body, c.method).toBe(cap.body);
      env.headers.expires = cap.headers.expires;
      env.properties.delivery_tag = cap.properties.delivery_tag;
      expect(serializeEnvelope(env)).toBe(line.raw);
      n++;
    }
    expect(n).toBeGreaterThan(20);
  });

  it("replies: same headers and properties; bodies equal modulo whole floats", () => {
    let n = 0;
    for (const line of lines()) {
      if (line.command !== "LPUSH") continue;
      const cap = parseEnvelope(line.raw);
      const env = encodeControlReply(line.decoded as Record<string, unknown>, {
        ticket: cap.headers.ticket as string,
        clock: cap.headers.clock as number,
        replyTo: { exchange: "reply.celery.pidbox", routing_key: cap.properties.delivery_info.routing_key },
      });
      env.properties.delivery_tag = cap.properties.delivery_tag;
      const ours = serializeEnvelope(env);
      if (ours !== line.raw) {
        expect(base64Decode(env.body)).toBe(dropWholeFloatZero(base64Decode(cap.body)));
        expect({ ...env, body: "" }).toEqual({ ...cap, body: "" });
      }
      n++;
    }
    expect(n).toBeGreaterThan(20);
  });
});
