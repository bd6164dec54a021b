/**
 * Celery task message, protocol v2 (PROTOCOL.md §3): build what a Celery client sends, and parse
 * (strictly, never throwing anything but ProtocolError) what a queue hands a worker.
 */
import { decodeBody, ProtocolError, pythonJsonBase64, uuid4 } from "./envelope";
import { pyRepr, pyReprArgs } from "./repr";
import type { Envelope, EnvelopeProperties, TaskEmbed, TaskHeaders, TaskMessage } from "./types";

export const EMPTY_EMBED: TaskEmbed = { callbacks: null, errbacks: null, chain: null, chord: null };

/** The body of `name()`, the commonest message there is: encoded once. */
const NO_ARGS_BODY = pythonJsonBase64([[], {}, EMPTY_EMBED]);

export interface BuildTaskOptions {
  id?: string;
  args?: unknown[];
  kwargs?: Record<string, unknown>;
  queue?: string;
  /** ISO-8601 with offset */
  eta?: string | null;
  /** ISO-8601 with offset */
  expires?: string | null;
  /** seconds, sets properties.expiration like apply_async(expires=N) */
  expiresInSeconds?: number;
  retries?: number;
  rootId?: string | null;
  parentId?: string | null;
  origin?: string;
  priority?: number;
  timelimit?: [number | null, number | null];
  ignoreResult?: boolean;
  replyTo?: string;
  retryOf?: string | null;
  shadow?: string | null;
}

/**
 * Build the envelope a Celery 5 client would LPUSH for `name(*args, **kwargs)`: what
 * encodeEnvelope writes (kombu's property order), built in place since this runs per task.
 */
export function buildTaskMessage(name: string, opts: BuildTaskOptions = {}): Envelope {
  const id = opts.id ?? uuid4();
  const args = opts.args ?? [];
  const kwargs = opts.kwargs ?? {};
  const queue = opts.queue ?? "celery";
  const headers: TaskHeaders = {
    lang: "py",
    task: name,
    id,
    shadow: opts.shadow ?? null,
    eta: opts.eta ?? null,
    expires: opts.expires ?? null,
    group: null,
    group_index: null,
    retries: opts.retries ?? 0,
    timelimit: opts.timelimit ?? [null, null],
    root_id: opts.rootId ?? id,
    parent_id: opts.parentId ?? null,
    argsrepr: pyReprArgs(args),
    kwargsrepr: pyRepr(kwargs),
    origin: opts.origin ?? "petal",
    ignore_result: opts.ignoreResult ?? false,
  };
  if (opts.retryOf) headers.retry_of = opts.retryOf;
  const replyTo = opts.replyTo ?? uuid4();
  const deliveryInfo = { exchange: "", routing_key: queue };
  const priority = opts.priority ?? 0;
  const properties: EnvelopeProperties =
    opts.expiresInSeconds == null
      ? { correlation_id: id, reply_to: replyTo, delivery_mode: 2, delivery_info: deliveryInfo, priority, body_encoding: "base64", delivery_tag: uuid4() }
      : {
          correlation_id: id,
          reply_to: replyTo,
          delivery_mode: 2,
          expiration: String(Math.round(opts.expiresInSeconds * 1000)),
          delivery_info: deliveryInfo,
          priority,
          body_encoding: "base64",
          delivery_tag: uuid4(),
        };
  return {
    body: args.length === 0 && isEmptyPlainObject(kwargs) ? NO_ARGS_BODY : pythonJsonBase64([args, kwargs, EMPTY_EMBED]),
    "content-encoding": "utf-8",
    "content-type": "application/json",
    headers,
    properties,
  };
}

/** `{}` as JSON writes it: a plain object with no enumerable key at all (no toJSON of a class). */
function isEmptyPlainObject(o: object): boolean {
  const proto: unknown = Object.getPrototypeOf(o);
  if (proto !== Object.prototype && proto !== null) return false;
  for (const _ in o) return false;
  return true;
}

/**
 * Decode a task message as a worker must: required headers (`task`, `id`), required properties
 * (`delivery_info`, `delivery_tag`), body `[args, kwargs, embed]` (the hybrid `{args, kwargs}`
 * form is accepted too, as Celery does). Anything else throws ProtocolError with a code, so the
 * caller can reject it and dead-letter it instead of crashing (PROTOCOL.md §3.3).
 */
export function parseTaskMessage(env: Envelope): TaskMessage {
  const h = env.headers as Partial<TaskHeaders> | undefined;
  if (!h || typeof h !== "object") throw new ProtocolError("task message has no headers", "no_headers");
  if (typeof h.task !== "string" || h.task === "") throw new ProtocolError("task message has no task name", "no_task_name");
  if (typeof h.id !== "string" || h.id === "") throw new ProtocolError("task message has no id", "no_task_id");
  const p = env.properties;
  if (!p || typeof p.delivery_info !== "object" || p.delivery_info === null)
    throw new ProtocolError("task message has no properties.delivery_info", "no_delivery_info");
  if (typeof p.delivery_tag !== "string" && typeof p.delivery_tag !== "number")
    throw new ProtocolError("task message has no properties.delivery_tag", "no_delivery_tag");
  const body = decodeBody(env);
  let args: unknown;
  let kwargs: unknown;
  let embed: unknown = EMPTY_EMBED;
  if (Array.isArray(body)) {
    if (body.length !== 3) throw new ProtocolError(`task body has ${body.length} elements, expected [args, kwargs, embed]`, "bad_body");
    [args, kwargs, embed] = body;
  } else if (body && typeof body === "object") {
    const b = body as Record<string, unknown>;
    args = b.args ?? [];
    kwargs = b.kwargs ?? {};
    embed = b.embed ?? EMPTY_EMBED;
  } else {
    throw new ProtocolError("task body is neither an array nor an object", "bad_body");
  }
  if (!Array.isArray(args)) throw new ProtocolError("task args is not a list", "bad_body");
  if (!kwargs || typeof kwargs !== "object" || Array.isArray(kwargs)) throw new ProtocolError("task kwargs is not an object", "bad_body");
  if (embed === null || typeof embed !== "object" || Array.isArray(embed)) embed = EMPTY_EMBED;
  const retries = typeof h.retries === "number" && Number.isFinite(h.retries) ? h.retries : 0;
  return {
    headers: { ...h, task: h.task, id: h.id, retries } as TaskHeaders,
    args,
    kwargs: kwargs as Record<string, unknown>,
    embed: embed as TaskEmbed,
    properties: p,
  };
}

/** The queue a message was routed to (exchange "" routes by queue name). */
export function routingKeyOf(env: Envelope): string {
  return env.properties?.delivery_info?.routing_key ?? "celery";
}
