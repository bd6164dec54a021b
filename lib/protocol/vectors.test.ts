/**
 * Decode every payload line captured from Celery 5.2.6 (../shared/celery-protocol/vectors):
 * envelopes, task messages (including the malformed ones), events, control, results.
 */
import { describe, expect, it } from "vitest";
import { decodeControlReply, parseControlRequest } from "./control";
import { base64Decode, decodeBody, parseEnvelope, ProtocolError } from "./envelope";
import { EVENT_FIELDS, eventRoutingKey, splitEventBody, TASK_MULTI_ROUTING_KEY, validateEvent } from "./events";
import { parseTaskMessage } from "./task-message";
import { envelopeLines, HAVE_VECTORS, loadLines, SKIP_REASON, type VectorLine } from "./test-vectors";
import { TASK_STATES, type Envelope, type EventType, type ResultMeta } from "./types";

if (!HAVE_VECTORS) console.warn(`skipping vector tests: ${SKIP_REASON}`);

/** Malformed messages captured on purpose (PROTOCOL.md §3.3) and the error code each must give. */
const MALFORMED: Record<string, string> = {
  "edge-no-content-type": "no_content_type",
  "edge-two-elem-body": "bad_body",
  "edge-no-delivery-info": "no_delivery_info",
  "edge-no-delivery-tag": "no_delivery_tag",
};

function stripBody(env: Envelope): Record<string, unknown> {
  const { body: _body, ...rest } = env;
  return rest;
}

describe.skipIf(!HAVE_VECTORS)("Celery wire vectors: envelopes", () => {
  for (const file of ["task-messages", "events", "control"] as const) {
    it(`${file}: every PUBLISH/LPUSH/RPUSH decodes to the captured body and envelope`, () => {
      const lines = envelopeLines(file);
      expect(lines.length).toBeGreaterThan(10);
      let decoded = 0;
      for (const line of lines) {
        const env = parseEnvelope(line.raw);
        expect(stripBody(env), line.label).toEqual(line.envelope);
        if (env["content-type"] === undefined) {
          // decodeBody refuses it (Celery crashes on it); the bytes are still the captured body.
          expect(() => decodeBody(env)).toThrowError(ProtocolError);
          expect(JSON.parse(base64Decode(env.body))).toEqual(line.decoded);
          continue;
        }
        expect(decodeBody(env), line.label).toEqual(line.decoded);
        decoded++;
      }
      expect(decoded).toBeGreaterThan(lines.length - 3);
    });
  }
});

describe.skipIf(!HAVE_VECTORS)("Celery wire vectors: task messages", () => {
  const queueLines = () => envelopeLines("task-messages");

  it("parses every well-formed message and keeps args, kwargs and headers", () => {
    let parsed = 0;
    for (const line of queueLines()) {
      if (MALFORMED[line.phase]) continue;
      const env = parseEnvelope(line.raw);
      const msg = parseTaskMessage(env);
      const h = line.envelope!.headers as Record<string, unknown>;
      expect(msg.headers.id).toBe(h.id);
      expect(msg.headers.task).toBe(h.task);
      expect(msg.headers.retries).toBe(typeof h.retries === "number" ? h.retries : 0);
      const body = line.decoded as unknown;
      if (Array.isArray(body)) {
        expect(msg.args).toEqual(body[0]);
        expect(msg.kwargs).toEqual(body[1]);
      } else {
        // the hybrid {args, kwargs} body Celery also accepts
        expect(msg.args).toEqual((body as { args: unknown[] }).args);
      }
      parsed++;
    }
    expect(parsed).toBeGreaterThanOrEqual(30);
  });

  it("rejects every captured poison message with a ProtocolError code, never another exception", () => {
    const seen = new Set<string>();
    for (const line of queueLines()) {
      const code = MALFORMED[line.phase];
      if (!code) continue;
      let caught: unknown = null;
      try {
        parseTaskMessage(parseEnvelope(line.raw));
      } catch (e) {
        caught = e;
      }
      expect(caught, line.phase).toBeInstanceOf(ProtocolError);
      expect((caught as ProtocolError).code, line.phase).toBe(code);
      seen.add(line.phase);
    }
    expect([...seen].sort()).toEqual(Object.keys(MALFORMED).sort());
  });

  it("restores (RPUSH) carry redelivered in headers and delivery_info", () => {
    const restores = queueLines().filter((l) => l.command === "RPUSH");
    expect(restores.length).toBeGreaterThan(0);
    for (const line of restores) {
      const env = parseEnvelope(line.raw);
      expect(env.headers.redelivered).toBe(true);
      expect(env.properties.delivery_info.redelivered).toBe(true);
    }
  });

  it("the unacked hash values hold [envelope, exchange, routing_key] that parse as tasks", () => {
    const hsets = loadLines("task-messages").filter((l) => l.command === "HSET" && l.channel_or_key === "unacked");
    expect(hsets.length).toBeGreaterThan(0);
    for (const line of hsets) {
      const [envObj, exchange, routingKey] = JSON.parse(line.raw) as [Envelope, string, string];
      expect(typeof exchange).toBe("string");
      const msg = parseTaskMessage(parseEnvelope(JSON.stringify(envObj)));
      expect(routingKey).toBe(msg.properties.delivery_info.routing_key);
      const value = (line.decoded as { value: [{ body: unknown }] }).value;
      expect([msg.args, msg.kwargs, msg.embed]).toEqual(value[0].body);
    }
  });
});

describe.skipIf(!HAVE_VECTORS)("Celery wire vectors: events", () => {
  it("every event body passes validateEvent, in single and task.multi form", () => {
    const lines = envelopeLines("events");
    let count = 0;
    let multi = 0;
    for (const line of lines) {
      const env = parseEnvelope(line.raw);
      const body = decodeBody(env);
      const events = splitEventBody(body);
      const routingKey = env.properties.delivery_info.routing_key;
      expect(line.channel_or_key).toBe(`/0.celeryev/${routingKey}`);
      if (Array.isArray(body)) {
        multi++;
        expect(routingKey).toBe(TASK_MULTI_ROUTING_KEY);
      } else {
        expect(routingKey).toBe(eventRoutingKey((body as { type: string }).type));
      }
      for (const raw of events) {
        const copy = structuredClone(raw) as Record<string, unknown>;
        const ev = validateEvent(raw) as Record<string, unknown> | null;
        expect(ev, JSON.stringify(raw).slice(0, 200)).not.toBeNull();
        // kept as sent, except a null where the type has a fallback (args/kwargs of a task
        // received without argsrepr come as null and become "")
        const specs = EVENT_FIELDS[copy.type as EventType];
        for (const [k, v] of Object.entries(copy)) {
          const spec = specs.find((s) => s.name === k);
          if (v === null && spec && !spec.nullable) expect(ev![k]).toBe(spec.fallback);
          else expect(ev![k]).toEqual(v);
        }
        expect(Object.keys(ev!).sort()).toEqual(Object.keys(copy).sort());
        count++;
      }
    }
    expect(multi).toBeGreaterThan(5);
    expect(count).toBeGreaterThan(lines.length);
  });

  it("covers every event type Celery emitted", () => {
    const types = new Set<string>();
    for (const line of envelopeLines("events")) {
      for (const e of splitEventBody(line.decoded)) types.add((e as { type: string }).type);
    }
    expect([...types].sort()).toEqual(
      [
        "task-failed",
        "task-received",
        "task-rejected",
        "task-retried",
        "task-revoked",
        "task-sent",
        "task-started",
        "task-succeeded",
        "worker-heartbeat",
        "worker-offline",
        "worker-online",
      ].sort(),
    );
  });
});

describe.skipIf(!HAVE_VECTORS)("Celery wire vectors: control", () => {
  const lines = (): VectorLine[] => envelopeLines("control");

  it("every pidbox request validates as a ControlRequest equal to the captured body", () => {
    const requests = lines().filter((l) => l.command === "PUBLISH");
    expect(requests.length).toBeGreaterThan(20);
    for (const line of requests) {
      const env = parseEnvelope(line.raw);
      // one capture is a hand-built request without headers (raw-ping-nobinding)
      if (line.phase !== "raw-ping-nobinding") expect(Object.keys(env.headers)).toEqual(["clock", "expires"]);
      expect(env.properties.delivery_info).toEqual({ exchange: "celery.pidbox", routing_key: "" });
      const req = parseControlRequest(decodeBody(env));
      expect(req, line.label).not.toBeNull();
      expect(req).toEqual(line.decoded);
      expect("ticket" in req! === "reply_to" in req!).toBe(true);
    }
  });

  it("every reply decodes with the ticket of a request that asked for it", () => {
    const tickets = new Set<string>();
    for (const line of lines()) {
      if (line.command === "PUBLISH") {
        const t = (line.decoded as { ticket?: string }).ticket;
        if (t) tickets.add(t);
      }
    }
    const replies = lines().filter((l) => l.command === "LPUSH");
    expect(replies.length).toBeGreaterThan(20);
    for (const line of replies) {
      const env = parseEnvelope(line.raw);
      expect(Object.keys(env.headers)).toEqual(["ticket", "clock"]);
      const { ticket, clock, reply } = decodeControlReply(env);
      expect(tickets.has(ticket!)).toBe(true);
      expect(typeof clock).toBe("number");
      expect(reply).toEqual(line.decoded);
      expect(Object.keys(reply)).toHaveLength(1);
      expect(line.channel_or_key).toBe(`${env.properties.delivery_info.routing_key}.reply.celery.pidbox`);
    }
  });
});

describe.skipIf(!HAVE_VECTORS)("Celery wire vectors: results", () => {
  it("every SETEX/PUBLISH of celery-task-meta-<id> parses as a ResultMeta", () => {
    const lines = loadLines("results").filter((l) => l.command === "SETEX" || l.command === "PUBLISH");
    expect(lines.length).toBeGreaterThan(20);
    for (const line of lines) {
      const meta = JSON.parse(line.raw) as ResultMeta;
      expect(meta).toEqual(line.decoded);
      expect(line.channel_or_key).toBe(`celery-task-meta-${meta.task_id}`);
      expect(TASK_STATES).toContain(meta.status);
      expect(Array.isArray(meta.children)).toBe(true);
      expect(meta.traceback === null || typeof meta.traceback === "string").toBe(true);
      if (meta.status === "RETRY") expect(meta.date_done).toBeNull();
      else expect(meta.date_done).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?$/);
      if (meta.status === "FAILURE" || meta.status === "REVOKED") {
        const r = meta.result as { exc_type: string; exc_message: unknown[]; exc_module: string | null };
        expect(typeof r.exc_type).toBe("string");
        expect(Array.isArray(r.exc_message)).toBe(true);
      }
    }
  });
});
