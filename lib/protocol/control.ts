/**
 * Remote control (pidbox, PROTOCOL.md §6): request builders, the worker-side destination filter,
 * pidbox envelopes for requests and replies, and the argument/reply shapes of the methods Celery
 * and Flower use. Browser-safe.
 */
import { decodeBody, encodeEnvelope, ProtocolError } from "./envelope";
import type { ControlReply, ControlReplyTo, ControlRequest, Envelope } from "./types";

/** Fanout exchange every control request goes through. */
export const PIDBOX_EXCHANGE = "celery.pidbox";
/** Exchange named in `reply_to`; its binding set maps an oid to its reply list. */
export const REPLY_EXCHANGE = "reply.celery.pidbox";

/** The list a client BRPOPs for replies to requests it sent with `reply_to.routing_key = oid`. */
export function replyQueueName(oid: string): string {
  return `${oid}.${REPLY_EXCHANGE}`;
}

// ---------------------------------------------------------------------------------------------
// method shapes (§6.3)

/** Arguments of each method as Celery's client sends them. */
export interface ControlArgumentsMap {
  ping: Record<string, never>;
  stats: Record<string, never>;
  /** Celery sends `{safe: null}` */
  active: { safe?: boolean | null };
  reserved: Record<string, never>;
  scheduled: Record<string, never>;
  revoked: Record<string, never>;
  registered: { taskinfoitems?: string[] };
  active_queues: Record<string, never>;
  conf: { with_defaults?: boolean };
  query_task: { ids: string[] };
  /** Celery's defaults: terminate false, signal "SIGTERM" */
  revoke: { task_id: string | string[]; terminate?: boolean; signal?: string };
  /** e.g. "10/m"; null or 0 removes the limit */
  rate_limit: { task_name: string; rate_limit: string | number | null };
  /** seconds; null leaves a limit unset */
  time_limit: { task_name: string; hard?: number | null; soft?: number | null };
  pool_grow: { n?: number };
  pool_shrink: { n?: number };
  add_consumer: { queue: string; exchange?: string | null; exchange_type?: string; routing_key?: string | null };
  cancel_consumer: { queue: string };
  enable_events: Record<string, never>;
  disable_events: Record<string, never>;
  shutdown: Record<string, never>;
  heartbeat: Record<string, never>;
  /** mingle, sent by a starting worker */
  hello: { from_node: string; revoked?: Record<string, unknown> };
}

export type ControlMethod = keyof ControlArgumentsMap;

export interface OkReply {
  ok: string;
}
export interface ErrorReply {
  error: string;
}

/** A task request as active/reserved/query_task list it. */
export interface RequestInfo {
  id: string;
  name: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
  type: string;
  hostname: string;
  /** unix seconds; null until it runs */
  time_start: number | null;
  acknowledged: boolean;
  delivery_info: { exchange: string; routing_key: string; priority: number | null; redelivered: boolean | null };
  worker_pid: number | null;
}

export interface ScheduledInfo {
  /** ISO-8601 with offset */
  eta: string;
  priority: number;
  request: RequestInfo;
}

/** One entry of active_queues (kombu's Queue.as_dict, trimmed to what readers use). */
export interface ActiveQueueInfo {
  name: string;
  exchange: { name: string; type: string; [k: string]: unknown };
  routing_key: string;
  [k: string]: unknown;
}

/** `stats` reply; note `clock` is a string. */
export interface WorkerStats {
  total: Record<string, number>;
  pid: number;
  clock: string;
  uptime: number;
  pool: Record<string, unknown>;
  broker: Record<string, unknown>;
  prefetch_count: number;
  rusage?: Record<string, unknown>;
  [k: string]: unknown;
}

/** What one node answers per method (the value under its `{"<node>": …}` key). */
export interface ControlResultMap {
  ping: OkReply;
  stats: WorkerStats;
  active: RequestInfo[];
  reserved: RequestInfo[];
  scheduled: ScheduledInfo[];
  revoked: string[];
  registered: string[];
  active_queues: ActiveQueueInfo[];
  conf: Record<string, unknown>;
  query_task: Record<string, [state: "active" | "reserved" | "scheduled", request: RequestInfo]>;
  revoke: OkReply;
  rate_limit: OkReply | ErrorReply;
  time_limit: OkReply | ErrorReply;
  pool_grow: OkReply | ErrorReply;
  pool_shrink: OkReply | ErrorReply;
  add_consumer: OkReply | ErrorReply;
  cancel_consumer: OkReply | ErrorReply;
  enable_events: OkReply;
  disable_events: OkReply;
  shutdown: OkReply;
  heartbeat: OkReply;
  /** `revoked` values are `[monotonic float, id]`; a list of ids is also accepted by Celery */
  hello: { revoked: Record<string, unknown> | string[]; clock: number };
}

export const ok = (text: string): OkReply => ({ ok: text });
export const err = (text: string): ErrorReply => ({ error: text });

// ---------------------------------------------------------------------------------------------
// requests

export interface ControlTarget {
  /** node names; null or [] means every worker (default: null) */
  destination?: string[] | null;
  /** select nodes by name instead of a list, e.g. "w1@*" (default: null) */
  pattern?: string | null;
  /** how to read `pattern` (default: "glob" when a pattern is given, else null) */
  matcher?: "glob" | "pcre" | null;
}

export type ControlRequestBody = Omit<ControlRequest, "ticket" | "reply_to">;

/**
 * A control request body in Celery's key order. An empty destination list becomes null (Celery
 * treats both as "everyone"); a pattern without a matcher gets "glob", because kombu would
 * otherwise ignore the pattern and run the command on every worker.
 */
export function controlRequest<M extends ControlMethod>(method: M, args: ControlArgumentsMap[M], target?: ControlTarget): ControlRequestBody;
export function controlRequest(method: string, args?: Record<string, unknown>, target?: ControlTarget): ControlRequestBody;
export function controlRequest(method: string, args: Record<string, unknown> = {}, target: ControlTarget = {}): ControlRequestBody {
  const destination = target.destination && target.destination.length > 0 ? [...target.destination] : null;
  const pattern = target.pattern ?? null;
  const matcher = pattern === null ? null : (target.matcher ?? "glob");
  return { method, arguments: args, destination, pattern, matcher };
}

/** Add the reply fields (present only when replies are wanted), after Celery's other keys. */
export function withReply(req: ControlRequestBody, ticket: string, oid: string): ControlRequest {
  return {
    method: req.method,
    arguments: req.arguments,
    destination: req.destination,
    pattern: req.pattern,
    matcher: req.matcher,
    ticket,
    reply_to: { exchange: REPLY_EXCHANGE, routing_key: oid },
  };
}

/** Validate an untrusted request body as a worker receives it; null when it is not one. */
export function parseControlRequest(body: unknown): ControlRequest | null {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return null;
  const b = body as Record<string, unknown>;
  if (typeof b.method !== "string" || b.method === "") return null;
  const args = b.arguments ?? {};
  if (typeof args !== "object" || args === null || Array.isArray(args)) return null;
  const dest = b.destination ?? null;
  if (dest !== null && !(Array.isArray(dest) && dest.every((d) => typeof d === "string"))) return null;
  const pattern = b.pattern ?? null;
  if (pattern !== null && typeof pattern !== "string") return null;
  const matcher = b.matcher ?? null;
  if (matcher !== null && matcher !== "glob" && matcher !== "pcre") return null;
  const req: ControlRequest = {
    method: b.method,
    arguments: args as Record<string, unknown>,
    destination: dest as string[] | null,
    pattern,
    matcher,
  };
  if (b.ticket != null || b.reply_to != null) {
    const rt = b.reply_to as Partial<ControlReplyTo> | null | undefined;
    if (typeof b.ticket !== "string" || !rt || typeof rt !== "object") return null;
    if (typeof rt.exchange !== "string" || typeof rt.routing_key !== "string") return null;
    req.ticket = b.ticket;
    req.reply_to = { exchange: rt.exchange, routing_key: rt.routing_key };
  }
  return req;
}

// ---------------------------------------------------------------------------------------------
// destination filter (kombu's Node.handle_message)

/**
 * Whether a worker named `hostname` must handle `req`: a non-empty destination list decides
 * alone; else pattern+matcher (glob = fnmatch, whole name, case-sensitive; pcre = Python's
 * re.match, anchored at the start only); else every worker. An invalid regex matches nothing.
 */
export function matchesDestination(
  req: Pick<ControlRequest, "destination" | "pattern" | "matcher">,
  hostname: string,
): boolean {
  if (req.destination && req.destination.length > 0) return req.destination.includes(hostname);
  if (req.pattern && req.matcher) {
    const re = compileMatcher(req.pattern, req.matcher);
    return re !== null && re.test(hostname);
  }
  return true;
}

const matcherCache = new Map<string, RegExp | null>();

function compileMatcher(pattern: string, matcher: "glob" | "pcre"): RegExp | null {
  const key = matcher + "\0" + pattern;
  let re = matcherCache.get(key);
  if (re !== undefined) return re;
  try {
    re = matcher === "glob" ? globToRegExp(pattern) : new RegExp("^(?:" + pattern + ")");
  } catch {
    re = null;
  }
  if (matcherCache.size >= 128) matcherCache.clear();
  matcherCache.set(key, re);
  return re;
}

/** Python's fnmatch.translate: `*`, `?`, `[seq]`, `[!seq]`; everything else literal. */
export function globToRegExp(glob: string): RegExp {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*") out += ".*";
    else if (c === "?") out += ".";
    else if (c === "[") {
      const end = glob.indexOf("]", glob[i + 1] === "!" ? i + 3 : i + 2);
      if (end === -1) {
        out += "\\[";
        continue;
      }
      let body = glob.slice(i + 1, end);
      const negate = body[0] === "!";
      if (negate) body = body.slice(1);
      out += "[" + (negate ? "^" : "") + body.replace(/[\\\][^]/g, "\\$&") + "]";
      i = end;
    } else out += c.replace(/[.+^${}()|\\\]/]/g, "\\$&");
  }
  return new RegExp("^" + out + "$", "s");
}

// ---------------------------------------------------------------------------------------------
// pidbox envelopes

export interface ControlRequestEnvelopeOptions {
  /** sender's Lamport clock */
  clock: number;
  /** how long the sender waits for replies, ms; sets headers.expires (default: 1000) */
  timeoutMs?: number;
  /** ms since epoch (default: Date.now()) */
  now?: number;
}

/** The envelope PUBLISHed on the pidbox channel: headers {clock, expires}, delivery_mode 2. */
export function encodeControlRequest(req: ControlRequest | ControlRequestBody, opts: ControlRequestEnvelopeOptions): Envelope {
  const expires = ((opts.now ?? Date.now()) + (opts.timeoutMs ?? 1000)) / 1000;
  return encodeEnvelope(req, { clock: opts.clock, expires }, {
    deliveryInfo: { exchange: PIDBOX_EXCHANGE, routing_key: "" },
    deliveryMode: 2,
  });
}

export interface ControlReplyEnvelopeOptions {
  ticket: string;
  /** replying node's Lamport clock */
  clock: number;
  /** the request's reply_to */
  replyTo: ControlReplyTo;
}

/** The envelope a worker LPUSHes to the reply list: headers {ticket, clock}, delivery_mode 1. */
export function encodeControlReply(reply: ControlReply, opts: ControlReplyEnvelopeOptions): Envelope {
  return encodeEnvelope(reply, { ticket: opts.ticket, clock: opts.clock }, {
    deliveryInfo: { exchange: opts.replyTo.exchange, routing_key: opts.replyTo.routing_key },
    deliveryMode: 1,
  });
}

export interface DecodedControlReply {
  ticket: string | null;
  clock: number | null;
  reply: ControlReply;
}

/** Decode a reply envelope; throws ProtocolError when the body is not a `{node: value}` object. */
export function decodeControlReply(env: Envelope): DecodedControlReply {
  const body = decodeBody(env);
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw new ProtocolError("control reply body is not an object", "bad_reply");
  const h = env.headers ?? {};
  return {
    ticket: typeof h.ticket === "string" ? h.ticket : null,
    clock: typeof h.clock === "number" ? h.clock : null,
    reply: body as ControlReply,
  };
}
