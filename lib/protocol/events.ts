/**
 * Celery events (PROTOCOL.md §5): the field table, a fast validator for untrusted input, and
 * builders that emit exactly Celery's shapes (same keys, same key order), so a JSON diff
 * against a real worker's stream is clean. Browser-safe.
 */
import { encodeEnvelope } from "./envelope";
import type {
  CeleryEvent,
  Envelope,
  EventBase,
  EventType,
  TaskEvent,
  TaskEventType,
  WorkerEvent,
  WorkerEventType,
} from "./types";

// ---------------------------------------------------------------------------------------------
// field table

/** JSON kind of an event field; "int" also rejects fractions, "loadavg" is `[n, n, n]`. */
export type EventFieldKind = "string" | "number" | "int" | "boolean" | "loadavg";

export interface EventFieldSpec {
  readonly name: string;
  readonly kind: EventFieldKind;
  /** null is a legal value (kept as null) */
  readonly nullable: boolean;
  /**
   * Value put in place when the field is absent (or null while not nullable), the way Celery's
   * own readers tolerate older or hand-written senders. `undefined` = the field is required.
   */
  readonly fallback?: string | number | boolean | null;
  /** may be absent and stays absent (task-failed's traceback for NotRegistered) */
  readonly optional?: boolean;
}

const f = (
  name: string,
  kind: EventFieldKind,
  nullable: boolean,
  fallback?: string | number | boolean | null,
  optional?: boolean,
): EventFieldSpec => ({ name, kind, nullable, fallback, optional });

/** The fields Celery puts first on every event, in its order (§5.3). */
const HEAD: readonly EventFieldSpec[] = [
  f("hostname", "string", false),
  f("utcoffset", "number", false, 0),
  f("pid", "int", false, 0),
  f("clock", "int", false, 0),
];
/** ...and last (Celery's Event() appends them after the type's own fields). */
const TAIL: readonly EventFieldSpec[] = [f("timestamp", "number", false), f("type", "string", false)];

const UUID = f("uuid", "string", false);
const SENT_FIELDS = [
  UUID,
  f("root_id", "string", true, null),
  f("parent_id", "string", true, null),
  f("name", "string", false),
  f("args", "string", false, ""),
  f("kwargs", "string", false, ""),
  f("retries", "int", false, 0),
  f("eta", "string", true, null),
  f("expires", "string", true, null),
  f("queue", "string", false, ""),
  f("exchange", "string", false, ""),
  f("routing_key", "string", false, ""),
];
const RECEIVED_FIELDS = [
  UUID,
  f("name", "string", false),
  f("args", "string", false, ""),
  f("kwargs", "string", false, ""),
  f("root_id", "string", true, null),
  f("parent_id", "string", true, null),
  f("retries", "int", false, 0),
  f("eta", "string", true, null),
  f("expires", "string", true, null),
];
const WORKER_FIELDS = [
  f("freq", "number", false, 2),
  f("active", "int", false, 0),
  f("processed", "int", false, 0),
  f("loadavg", "loadavg", false, undefined, true),
  f("sw_ident", "string", false, ""),
  f("sw_ver", "string", false, ""),
  f("sw_sys", "string", false, ""),
];

/**
 * The fields of each event type (PROTOCOL.md §5.3/§5.4), in the order Celery writes them:
 * hostname, utcoffset, pid, clock, the type's own fields, timestamp, type.
 */
export const EVENT_FIELDS: Readonly<Record<EventType, readonly EventFieldSpec[]>> = {
  "task-sent": [...HEAD, ...SENT_FIELDS, ...TAIL],
  "task-received": [...HEAD, ...RECEIVED_FIELDS, ...TAIL],
  "task-started": [...HEAD, UUID, ...TAIL],
  "task-succeeded": [...HEAD, UUID, f("result", "string", false, ""), f("runtime", "number", false, 0), ...TAIL],
  "task-failed": [...HEAD, UUID, f("exception", "string", false, ""), f("traceback", "string", false, undefined, true), ...TAIL],
  "task-retried": [...HEAD, UUID, f("exception", "string", false, ""), f("traceback", "string", false, ""), ...TAIL],
  "task-revoked": [
    ...HEAD,
    UUID,
    f("terminated", "boolean", false, false),
    f("signum", "int", true, null),
    f("expired", "boolean", false, false),
    ...TAIL,
  ],
  "task-rejected": [...HEAD, UUID, f("requeue", "boolean", false, false), ...TAIL],
  "worker-online": [...HEAD, ...WORKER_FIELDS, ...TAIL],
  "worker-heartbeat": [...HEAD, ...WORKER_FIELDS, ...TAIL],
  "worker-offline": [...HEAD, ...WORKER_FIELDS, ...TAIL],
};

/** Names on every event that the builders fill, so they are skipped among a type's own fields. */
const BASE_NAMES = new Set(["hostname", "utcoffset", "pid", "clock", "timestamp", "type"]);

/** Each type's own fields (no base fields), precomputed so the builders allocate nothing else. */
const OWN_FIELDS: Readonly<Record<string, readonly EventFieldSpec[]>> = Object.fromEntries(
  Object.entries(EVENT_FIELDS).map(([t, specs]) => [t, specs.filter((s) => !BASE_NAMES.has(s.name))]),
);

export const TASK_EVENT_TYPES: readonly TaskEventType[] = [
  "task-sent",
  "task-received",
  "task-started",
  "task-succeeded",
  "task-failed",
  "task-retried",
  "task-revoked",
  "task-rejected",
];
export const WORKER_EVENT_TYPES: readonly WorkerEventType[] = ["worker-online", "worker-heartbeat", "worker-offline"];

export function isTaskEventType(t: unknown): t is TaskEventType {
  return typeof t === "string" && t.startsWith("task-") && Object.prototype.hasOwnProperty.call(EVENT_FIELDS, t);
}

export function isWorkerEventType(t: unknown): t is WorkerEventType {
  return t === "worker-online" || t === "worker-heartbeat" || t === "worker-offline";
}

// ---------------------------------------------------------------------------------------------
// validation

/** Specs keyed by type in a Map: one hash lookup per event, no prototype surprises ("__proto__"). */
const SPECS_BY_TYPE = new Map<string, readonly EventFieldSpec[]>(Object.entries(EVENT_FIELDS));

function kindOk(v: unknown, kind: EventFieldKind): boolean {
  switch (kind) {
    case "string":
      return typeof v === "string";
    case "number":
      return typeof v === "number" && Number.isFinite(v);
    case "int":
      return typeof v === "number" && Number.isInteger(v);
    case "boolean":
      return typeof v === "boolean";
    case "loadavg":
      return (
        Array.isArray(v) &&
        v.length === 3 &&
        typeof v[0] === "number" &&
        typeof v[1] === "number" &&
        typeof v[2] === "number"
      );
  }
}

/**
 * Check one untrusted event body and return it typed, or null. Hand-written for the ingest hot
 * path: no copy, one pass over the type's field table. Accepts what Celery really sends (ints
 * where floats are expected, unknown extra fields kept, task-failed without traceback); fills the
 * documented `fallback` of an absent non-identity field in place; rejects unknown types, an
 * empty/missing hostname or uuid, a missing timestamp and any field of the wrong kind.
 * A worker event whose loadavg is absent gets `[0, 0, 0]`.
 */
export function validateEvent(x: unknown): CeleryEvent | null {
  if (typeof x !== "object" || x === null || Array.isArray(x)) return null;
  const e = x as Record<string, unknown>;
  const specs = SPECS_BY_TYPE.get(e.type as string);
  if (specs === undefined) return null;
  for (let i = 0; i < specs.length; i++) {
    const s = specs[i];
    const v = e[s.name];
    if (v === undefined || (v === null && !s.nullable)) {
      if (s.optional) {
        if (s.kind === "loadavg") e[s.name] = [0, 0, 0];
        else if (v === null) delete e[s.name];
        continue;
      }
      if (s.fallback === undefined) return null;
      e[s.name] = s.fallback;
      continue;
    }
    if (v === null) continue;
    if (!kindOk(v, s.kind)) return null;
  }
  if (e.hostname === "" || e.uuid === "") return null;
  return e as unknown as CeleryEvent;
}

/** One decoded event payload as a list: `task.multi` bodies are arrays, all others one object. */
export function splitEventBody(body: unknown): unknown[] {
  return Array.isArray(body) ? body : [body];
}

// ---------------------------------------------------------------------------------------------
// routing

/** Routing key used by a prefork worker's buffered task events (PROTOCOL.md §5.1). */
export const TASK_MULTI_ROUTING_KEY = "task.multi";
/** Fanout exchange of events. */
export const EVENT_EXCHANGE = "celeryev";

const routingKeyCache = new Map<string, string>();

/** "task-sent" → "task.sent", as kombu joins an event type to the celeryev channel. */
export function eventRoutingKey(type: string): string {
  let key = routingKeyCache.get(type);
  if (key === undefined) {
    key = type.replace(/-/g, ".");
    if (routingKeyCache.size < 256) routingKeyCache.set(type, key);
  }
  return key;
}

/**
 * The envelope a Celery sender publishes on `celeryev` for one event (routing key from its
 * type) or a batch (`task.multi`). Body in Python's JSON spelling, base64, delivery_mode 1.
 */
export function encodeEventEnvelope(hostname: string, events: object | readonly object[]): Envelope {
  const routingKey = Array.isArray(events)
    ? TASK_MULTI_ROUTING_KEY
    : eventRoutingKey(String((events as { type?: unknown }).type ?? ""));
  return encodeEnvelope(events, { hostname }, { deliveryInfo: { exchange: EVENT_EXCHANGE, routing_key: routingKey }, deliveryMode: 1 });
}

// ---------------------------------------------------------------------------------------------
// Lamport clock

/**
 * Celery's Lamport clock (kombu.clocks.LamportClock, PROTOCOL.md §5.6). A sender calls tick()
 * for every event it emits; a receiver calls observe() for every event it takes in.
 */
export class LamportClock {
  constructor(public value = 0) {}

  /** Advance for a local event (Celery's `forward()`); returns the new value. */
  tick(): number {
    return ++this.value;
  }

  /** Merge a remote clock: `value = max(value, other) + 1`; returns the new value. */
  adjust(other: number): number {
    this.value = (other > this.value ? other : this.value) + 1;
    return this.value;
  }

  /**
   * What Celery's EventReceiver does with an incoming event: `task-sent` comes from clients that
   * never sync, so its clock is overwritten with `(value || 1) - 1` before adjusting; an event
   * without a numeric clock gets a fresh tick. Mutates `event.clock`; returns the new value.
   */
  observe(event: { type: string; clock?: unknown }): number {
    if (event.type === "task-sent") {
      const c = (this.value || 1) - 1;
      event.clock = c;
      return this.adjust(c);
    }
    if (typeof event.clock !== "number") {
      event.clock = this.tick();
      return this.value;
    }
    return this.adjust(event.clock);
  }
}

// ---------------------------------------------------------------------------------------------
// builders

/** Who sends: what Celery's EventDispatcher fills on every event. */
export interface EventSource {
  /** `name@host` of the sender */
  hostname: string;
  pid: number;
  /** ticked once per event; a plain number is used as is */
  clock: LamportClock | number;
  /** hours, POSIX sign (default: localUtcOffset()) */
  utcoffset?: number;
  /** unix seconds (default: Date.now() / 1000) */
  now?: () => number;
}

type OwnFields<E extends EventBase> = Omit<E, keyof EventBase> & { timestamp?: number };
export type TaskEventFields<T extends TaskEventType> = OwnFields<Extract<TaskEvent, { type: T }>>;
export type WorkerEventFields = OwnFields<WorkerEvent>;

let offsetCache = { at: -Infinity, value: 0 };

/**
 * Celery's `utcoffset()`: hours west of UTC, floored like Python's `//` (UTC+2 → -2,
 * UTC+5:30 → -6). Re-read at most once a minute, since DST can change it.
 */
export function localUtcOffset(nowMs: number = Date.now()): number {
  if (nowMs - offsetCache.at > 60_000 || nowMs < offsetCache.at) {
    offsetCache = { at: nowMs, value: Math.floor(new Date(nowMs).getTimezoneOffset() / 60) };
  }
  return offsetCache.value;
}

function build(type: EventType, fields: Record<string, unknown>, base: EventSource): Record<string, unknown> {
  const clock = typeof base.clock === "number" ? base.clock : base.clock.tick();
  const ev: Record<string, unknown> = {
    hostname: base.hostname,
    utcoffset: base.utcoffset ?? localUtcOffset(),
    pid: base.pid,
    clock,
  };
  const own = OWN_FIELDS[type];
  for (let i = 0; i < own.length; i++) {
    const name = own[i].name;
    const v = fields[name];
    if (v !== undefined) ev[name] = v;
  }
  // Extension fields (Petal's retry_of, custom ones) go after Celery's own, before timestamp.
  for (const k in fields) {
    if (!(k in ev) && !BASE_NAMES.has(k) && fields[k] !== undefined) ev[k] = fields[k];
  }
  ev.timestamp = typeof fields.timestamp === "number" ? fields.timestamp : base.now ? base.now() : Date.now() / 1000;
  ev.type = type;
  return ev;
}

/** A task event exactly as Celery's dispatcher writes it (keys and order of §5.4). */
export function taskEvent<T extends TaskEventType>(
  type: T,
  fields: TaskEventFields<T>,
  base: EventSource,
): Extract<TaskEvent, { type: T }> {
  return build(type, fields as Record<string, unknown>, base) as unknown as Extract<TaskEvent, { type: T }>;
}

/** A worker event (online/heartbeat/offline) exactly as Celery's heart writes it. */
export function workerEvent(type: WorkerEventType, fields: WorkerEventFields, base: EventSource): WorkerEvent {
  return build(type, fields as unknown as Record<string, unknown>, base) as unknown as WorkerEvent;
}
