import { describe, expect, it } from "vitest";
import {
  controlRequest,
  decodeControlReply,
  encodeControlReply,
  encodeControlRequest,
  err,
  globToRegExp,
  matchesDestination,
  ok,
  parseControlRequest,
  replyQueueName,
  withReply,
} from "./control";
import { decodeBody, ProtocolError, encodeEnvelope } from "./envelope";

describe("controlRequest / withReply", () => {
  it("builds Celery's body in Celery's key order", () => {
    const req = controlRequest("revoke", { task_id: "t1", terminate: false, signal: "SIGTERM" });
    expect(Object.keys(req)).toEqual(["method", "arguments", "destination", "pattern", "matcher"]);
    expect(req).toEqual({
      method: "revoke",
      arguments: { task_id: "t1", terminate: false, signal: "SIGTERM" },
      destination: null,
      pattern: null,
      matcher: null,
    });
    const full = withReply(req, "tk", "oid-1");
    expect(Object.keys(full)).toEqual(["method", "arguments", "destination", "pattern", "matcher", "ticket", "reply_to"]);
    expect(full.reply_to).toEqual({ exchange: "reply.celery.pidbox", routing_key: "oid-1" });
  });

  it("normalises an empty destination to null and a bare pattern to glob", () => {
    expect(controlRequest("ping", {}, { destination: [] }).destination).toBeNull();
    const dest = ["w1@h"];
    const r = controlRequest("ping", {}, { destination: dest });
    expect(r.destination).toEqual(["w1@h"]);
    expect(r.destination).not.toBe(dest);
    expect(controlRequest("ping", {}, { pattern: "w1@*" })).toMatchObject({ pattern: "w1@*", matcher: "glob" });
    expect(controlRequest("ping", {}, { pattern: "w\\d@.*", matcher: "pcre" }).matcher).toBe("pcre");
  });

  it("accepts unknown methods with free-form arguments", () => {
    expect(controlRequest("no_such_cmd").arguments).toEqual({});
  });

  it("ok/err build reply values", () => {
    expect(ok("pong")).toEqual({ ok: "pong" });
    expect(err("KeyError('x')")).toEqual({ error: "KeyError('x')" });
    expect(replyQueueName("abc")).toBe("abc.reply.celery.pidbox");
  });
});

describe("matchesDestination", () => {
  const req = (destination: string[] | null, pattern: string | null = null, matcher: "glob" | "pcre" | null = null) => ({
    destination,
    pattern,
    matcher,
  });

  it("null or empty destination without pattern means everyone", () => {
    expect(matchesDestination(req(null), "w1@h")).toBe(true);
    expect(matchesDestination(req([]), "w1@h")).toBe(true);
  });

  it("a destination list decides alone", () => {
    expect(matchesDestination(req(["w1@h", "w2@h"]), "w2@h")).toBe(true);
    expect(matchesDestination(req(["w1@h"]), "w2@h")).toBe(false);
    expect(matchesDestination(req(["w1@h"], "w2*", "glob"), "w2@h")).toBe(false);
  });

  it("glob matches the whole name, case-sensitively, like fnmatch", () => {
    expect(matchesDestination(req(null, "w1@*", "glob"), "w1@host1")).toBe(true);
    expect(matchesDestination(req(null, "w1@*", "glob"), "w2@host1")).toBe(false);
    expect(matchesDestination(req(null, "w?@host1", "glob"), "w7@host1")).toBe(true);
    expect(matchesDestination(req(null, "w[12]@*", "glob"), "w2@x")).toBe(true);
    expect(matchesDestination(req(null, "w[!12]@*", "glob"), "w2@x")).toBe(false);
    expect(matchesDestination(req(null, "W1@*", "glob"), "w1@x")).toBe(false);
    expect(matchesDestination(req(null, "w1.h", "glob"), "w1xh")).toBe(false);
    expect(matchesDestination(req(null, "w1", "glob"), "w1@x")).toBe(false);
  });

  it("pcre is anchored at the start only, like re.match", () => {
    expect(matchesDestination(req(null, "w\\d@", "pcre"), "w1@host1")).toBe(true);
    expect(matchesDestination(req(null, "host1", "pcre"), "w1@host1")).toBe(false);
    expect(matchesDestination(req(null, ".*host1$", "pcre"), "w1@host1")).toBe(true);
  });

  it("an invalid regex matches nothing instead of throwing", () => {
    expect(matchesDestination(req(null, "w1(", "pcre"), "w1(")).toBe(false);
  });

  it("a pattern without a matcher means everyone (kombu ignores it)", () => {
    expect(matchesDestination(req(null, "nobody", null), "w1@h")).toBe(true);
  });

  it("globToRegExp escapes regex syntax and handles ] first in a class", () => {
    expect(globToRegExp("a+b").test("a+b")).toBe(true);
    expect(globToRegExp("a+b").test("aab")).toBe(false);
    expect(globToRegExp("[]]x").test("]x")).toBe(true);
    expect(globToRegExp("a[").test("a[")).toBe(true);
  });
});

describe("parseControlRequest", () => {
  it("validates a full request and defaults arguments", () => {
    const r = parseControlRequest({ method: "ping", destination: null, pattern: null, matcher: null });
    expect(r).toEqual({ method: "ping", arguments: {}, destination: null, pattern: null, matcher: null });
  });

  it.each([
    ["a string", "ping"],
    ["no method", { arguments: {} }],
    ["empty method", { method: "" }],
    ["array arguments", { method: "ping", arguments: [] }],
    ["string destination", { method: "ping", destination: "w1@h" }],
    ["non-string destination entries", { method: "ping", destination: [1] }],
    ["unknown matcher", { method: "ping", pattern: "x", matcher: "regex" }],
    ["ticket without reply_to", { method: "ping", ticket: "t" }],
    ["reply_to without ticket", { method: "ping", reply_to: { exchange: "e", routing_key: "r" } }],
    ["bad reply_to", { method: "ping", ticket: "t", reply_to: { exchange: 1, routing_key: "r" } }],
  ])("rejects %s", (_why, body) => {
    expect(parseControlRequest(body)).toBeNull();
  });
});

describe("pidbox envelopes", () => {
  it("requests carry headers {clock, expires} and go to celery.pidbox", () => {
    const env = encodeControlRequest(controlRequest("ping", {}), { clock: 54, timeoutMs: 1500, now: 1_000_000 });
    expect(env.headers).toEqual({ clock: 54, expires: 1001.5 });
    expect(env.properties.delivery_mode).toBe(2);
    expect(env.properties.delivery_info).toEqual({ exchange: "celery.pidbox", routing_key: "" });
    expect(decodeBody(env)).toEqual(controlRequest("ping", {}));
  });

  it("replies carry headers {ticket, clock} and round-trip through decodeControlReply", () => {
    const env = encodeControlReply({ "w1@h": ok("pong") }, { ticket: "tk", clock: 56, replyTo: { exchange: "reply.celery.pidbox", routing_key: "oid" } });
    expect(Object.keys(env.headers)).toEqual(["ticket", "clock"]);
    expect(env.properties.delivery_mode).toBe(1);
    expect(env.properties.delivery_info).toEqual({ exchange: "reply.celery.pidbox", routing_key: "oid" });
    expect(decodeControlReply(env)).toEqual({ ticket: "tk", clock: 56, reply: { "w1@h": { ok: "pong" } } });
  });

  it("decodeControlReply refuses a body that is not an object", () => {
    const env = encodeEnvelope(["x"], {}, { deliveryInfo: { exchange: "reply.celery.pidbox", routing_key: "o" } });
    expect(() => decodeControlReply(env)).toThrowError(ProtocolError);
  });
});
