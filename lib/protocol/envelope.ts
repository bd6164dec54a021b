/**
 * kombu envelope encode/decode (PROTOCOL.md §2). Browser-safe: base64 through TextEncoder/atob
 * when Buffer is absent.
 */
import { base64OfUtf8, canWriteBytes, fastUuid4, pythonizeBytesToBase64, pythonizeBytesToString, pythonizeBytesToTextAndBase64 } from "./fast-encode";
import type { DeliveryInfo, Envelope, EnvelopeProperties } from "./types";

/** A message that failed to decode, with a reason fit for a dead-letter list or a counter. */
export class ProtocolError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = "ProtocolError";
  }
}

const hasBuffer = typeof (globalThis as { Buffer?: unknown }).Buffer === "function";

export function base64Encode(text: string): string {
  if (canWriteBytes) return base64OfUtf8(text);
  const bytes = new TextEncoder().encode(text);
  let bin = "";
  for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
  return btoa(bin);
}

export function base64Decode(b64: string): string {
  if (hasBuffer) return Buffer.from(b64, "base64").toString("utf8");
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new TextDecoder().decode(bytes);
}

export function uuid4(): string {
  return fastUuid4();
}

/**
 * Python's json.dumps (ensure_ascii, ", " and ": " separators) so what we put on the wire reads
 * byte-for-byte like what Celery sends. Readers accept any JSON; this is for fidelity and tests.
 */
export function pythonJsonDumps(value: unknown): string {
  // Hot path (every task message, event, result): one native JSON.stringify plus one pass that
  // adds Python's separator spaces and escapes non-ASCII; values JSON cannot spell as Python
  // does (BigInt, NaN, Infinity, toJSON objects) take the reference writer.
  if (unsafeForNative(value, 0)) return dump(value);
  const json = JSON.stringify(value) ?? "null";
  return canWriteBytes ? pythonizeBytesToString(json) : pythonizeJson(json);
}

/** base64Encode(pythonJsonDumps(value)), without the intermediate Python-style string where it can. */
export function pythonJsonBase64(value: unknown): string {
  if (!canWriteBytes || unsafeForNative(value, 0)) return base64Encode(pythonJsonDumps(value));
  return pythonizeBytesToBase64(JSON.stringify(value) ?? "null");
}

/** pythonJsonDumps(value) and its base64 together (an event batch goes to pub/sub as base64 and to the stream as text). */
export function pythonJsonTextAndBase64(value: unknown): { text: string; base64: string } {
  if (!canWriteBytes || unsafeForNative(value, 0)) {
    const text = pythonJsonDumps(value);
    return { text, base64: base64Encode(text) };
  }
  return pythonizeBytesToTextAndBase64(JSON.stringify(value) ?? "null");
}

/** The plain recursive writer pythonJsonDumps must match byte for byte (tests compare both). */
export function referencePythonJsonDumps(value: unknown): string {
  return dump(value);
}

const COMMA = 44;
const COLON = 58;
const QUOTE = 34;
const BACKSLASH = 92;

/** a value JSON.stringify would write differently from Python */
function unsafeForNative(v: unknown, depth: number): boolean {
  if (depth > 32) return true;
  switch (typeof v) {
    case "number":
      return !Number.isFinite(v);
    case "bigint":
    case "function":
    case "symbol":
      return true;
    case "object": {
      if (v === null || v instanceof Date) return false;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) if (unsafeForNative(v[i], depth + 1)) return true;
        return false;
      }
      if (typeof (v as { toJSON?: unknown }).toJSON === "function") return true;
      for (const k in v as Record<string, unknown>) if (unsafeForNative((v as Record<string, unknown>)[k], depth + 1)) return true;
      return false;
    }
    default:
      return false;
  }
}

/** JSON.stringify's output with ", " and ": " outside strings and non-ASCII escaped inside them. */
function pythonizeJson(json: string): string {
  let out = "";
  let from = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      else if (c >= 0x7f) {
        out += json.slice(from, i) + "\\u" + c.toString(16).padStart(4, "0");
        from = i + 1;
      }
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === COMMA || c === COLON) {
      out += json.slice(from, i + 1) + " ";
      from = i + 1;
    }
  }
  return out + json.slice(from);
}

function dump(v: unknown): string {
  if (v === null || v === undefined) return "null";
  switch (typeof v) {
    case "string":
      return asciiString(v);
    case "number":
      if (!Number.isFinite(v)) return v > 0 ? "Infinity" : v < 0 ? "-Infinity" : "NaN";
      return String(v);
    case "boolean":
      return v ? "true" : "false";
    case "bigint":
      return v.toString();
    case "object": {
      if (Array.isArray(v)) return "[" + v.map(dump).join(", ") + "]";
      if (v instanceof Date) return asciiString(v.toISOString());
      const parts: string[] = [];
      for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
        if (val === undefined) continue;
        parts.push(asciiString(k) + ": " + dump(val));
      }
      return "{" + parts.join(", ") + "}";
    }
    default:
      return "null";
  }
}

function asciiString(s: string): string {
  // JSON.stringify escapes control chars and quotes; then escape every non-ASCII UTF-16 unit
  // (astral characters come out as surrogate pairs, as Python's ensure_ascii writes them).
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
}

export interface EncodeOptions {
  deliveryInfo: DeliveryInfo;
  /** 2 for tasks and pidbox requests, 1 for events and replies */
  deliveryMode?: 1 | 2;
  priority?: number;
  /** extra properties (correlation_id, reply_to, expiration) placed before kombu's own */
  properties?: Partial<EnvelopeProperties>;
}

/**
 * Build a kombu envelope with a base64 JSON body and a fresh delivery tag. Property order is
 * kombu's: extra properties, delivery_mode, expiration, delivery_info, priority, body_encoding,
 * delivery_tag (so the serialized envelope matches a Python client's byte for byte).
 */
export function encodeEnvelope(body: unknown, headers: Record<string, unknown>, opts: EncodeOptions): Envelope {
  // Without extra properties (events, replies) one literal: no rest/spread copies per message.
  const extra = opts.properties;
  let properties: EnvelopeProperties;
  if (extra === undefined) {
    properties = {
      delivery_mode: opts.deliveryMode ?? 2,
      delivery_info: opts.deliveryInfo,
      priority: opts.priority ?? 0,
      body_encoding: "base64",
      delivery_tag: uuid4(),
    };
  } else {
    const { expiration, ...rest } = extra;
    properties = { ...rest, delivery_mode: opts.deliveryMode ?? 2 } as EnvelopeProperties;
    if (expiration !== undefined) properties.expiration = expiration;
    properties.delivery_info = opts.deliveryInfo;
    properties.priority = opts.priority ?? 0;
    properties.body_encoding = "base64";
    properties.delivery_tag = uuid4();
  }
  return {
    body: pythonJsonBase64(body),
    "content-encoding": "utf-8",
    "content-type": "application/json",
    headers,
    properties,
  };
}

export function serializeEnvelope(env: Envelope): string {
  return pythonJsonDumps(env);
}

/** Parse the raw string of a list item or pub/sub payload into an envelope. Throws ProtocolError. */
export function parseEnvelope(raw: string | Buffer): Envelope {
  let obj: unknown;
  try {
    obj = JSON.parse(typeof raw === "string" ? raw : raw.toString("utf8"));
  } catch {
    throw new ProtocolError("envelope is not valid JSON", "bad_json");
  }
  return checkEnvelope(obj);
}

/** parseEnvelope's shape rules on an already parsed value. Throws ProtocolError. */
function checkEnvelope(obj: unknown): Envelope {
  if (!obj || typeof obj !== "object" || Array.isArray(obj)) throw new ProtocolError("envelope is not a JSON object", "bad_envelope");
  const env = obj as Partial<Envelope>;
  if (typeof env.body !== "string") throw new ProtocolError("envelope has no string body", "bad_envelope");
  if (env.headers != null && (typeof env.headers !== "object" || Array.isArray(env.headers)))
    throw new ProtocolError("envelope headers is not an object", "bad_envelope");
  if (env.properties == null || typeof env.properties !== "object" || Array.isArray(env.properties))
    throw new ProtocolError("envelope has no properties", "bad_envelope");
  if (env.headers == null) env.headers = {};
  return env as Envelope;
}

const BODY_FIRST = '{"body": "';
const EMPTY_BODY = '{"body": ""';

/**
 * The body of a raw envelope as JSON text (base64 undone), with exactly the checks of
 * parseEnvelope + decodeBody but without parsing the body twice: kombu writes `body` first, so
 * on that shape the base64 string is sliced out and only the small rest of the envelope goes
 * through JSON.parse (an event body is ~70% of its envelope). Any other shape, or a body string
 * holding an escape, takes the full parse. Throws ProtocolError.
 */
export function decodeBodyText(raw: string): string {
  return decodeEnvelopeText(raw).text;
}

/**
 * decodeBodyText plus the envelope it came in (for its headers and properties). On the fast
 * path `envelope.body` is "" (the body was never parsed as part of it): use `text`.
 */
export function decodeEnvelopeText(raw: string): { envelope: Envelope; text: string } {
  let env: Envelope;
  const q = raw.startsWith(BODY_FIRST) ? raw.indexOf('"', BODY_FIRST.length) : -1;
  // Without a backslash before the first quote, that quote ends the string and the raw slice is
  // its value as is (base64 never needs an escape).
  let body = q > 0 ? raw.slice(BODY_FIRST.length, q) : "";
  if (q > 0 && !body.includes("\\")) {
    let obj: unknown;
    try {
      obj = JSON.parse(EMPTY_BODY + raw.slice(q + 1));
    } catch {
      throw new ProtocolError("envelope is not valid JSON", "bad_json");
    }
    env = checkEnvelope(obj);
    // A second "body" key later on wins in a full parse: let the full parse decide then.
    if (env.body !== "") {
      env = parseEnvelope(raw);
      body = env.body;
    }
  } else {
    env = parseEnvelope(raw);
    body = env.body;
  }
  const ct = env["content-type"];
  if (typeof ct !== "string" || ct === "") throw new ProtocolError("message has no content-type", "no_content_type");
  if (ct !== "application/json") throw new ProtocolError(`unsupported content-type ${JSON.stringify(ct)}`, "bad_content_type");
  if (env.properties?.body_encoding !== "base64") return { envelope: env, text: body };
  try {
    return { envelope: env, text: base64Decode(body) };
  } catch {
    throw new ProtocolError("body is not valid base64", "bad_base64");
  }
}

/**
 * Decode an envelope's body: base64 when properties.body_encoding says so, then JSON.
 * Only application/json is understood (Petal never unpickles). Throws ProtocolError.
 */
export function decodeBody(env: Envelope): unknown {
  const ct = env["content-type"];
  if (typeof ct !== "string" || ct === "") throw new ProtocolError("message has no content-type", "no_content_type");
  if (ct !== "application/json") throw new ProtocolError(`unsupported content-type ${JSON.stringify(ct)}`, "bad_content_type");
  let text = env.body;
  if (env.properties?.body_encoding === "base64") {
    try {
      text = base64Decode(env.body);
    } catch {
      throw new ProtocolError("body is not valid base64", "bad_base64");
    }
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ProtocolError("body is not valid JSON", "bad_json");
  }
}

/** parseEnvelope + decodeBody in one step. */
export function decodeMessage(raw: string | Buffer): { envelope: Envelope; body: unknown } {
  const envelope = parseEnvelope(raw);
  return { envelope, body: decodeBody(envelope) };
}
