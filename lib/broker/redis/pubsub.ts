/**
 * Events (celeryev) and remote control (pidbox) over Redis pub/sub, exactly as kombu lays them
 * out (PROTOCOL.md §5, §6): one subscriber connection per broker PSUBSCRIBEs the event pattern
 * and the pidbox channel and fans each message out to local handlers (each decodes its own
 * copy). ioredis resubscribes after a reconnect. Malformed payloads are counted, never thrown.
 * Task events published in one turn of the event loop leave as one `task.multi` per sender, as
 * Celery's worker batches them; a lone event keeps its own routing key ("task.succeeded").
 */
import type { Redis } from "ioredis";
import { BrokerUnavailableError } from "../errors";
import { decodeControlReply, encodeControlReply, encodeControlRequest, parseControlRequest, replyQueueName, REPLY_EXCHANGE, withReply } from "../../protocol/control";
import { decodeBody, decodeEnvelopeText, encodeEnvelope, parseEnvelope, pythonJsonTextAndBase64, serializeEnvelope, uuid4 } from "../../protocol/envelope";
import { EVENT_EXCHANGE, eventRoutingKey, LamportClock, splitEventBody } from "../../protocol/events";
import type { ControlReply, ControlRequest, Envelope } from "../../protocol/types";
import type { BroadcastOptions, IncomingControl, RawEventBatch, SubscribeEventsOptions, Subscription } from "../types";
import type { ErrorSink } from "./consumer";
import { endConnection } from "./connection";
import { bindingMember, type KeyMap, parseBindingMember } from "./keys";
import { appendEvent, type EventStreamConfig, eventStreamKey, STREAM_MARKER } from "./stream";
import { atTurnEnd, type BatchOutcome, batchOutcome } from "./turn";

/** How long broadcast waits for replies when not told, ms (default: 1000). */
export const DEFAULT_BROADCAST_TIMEOUT_MS = 1000;
/** Task events buffered per sender before a task.multi leaves early (default: 100). */
export const EVENT_BATCH_LIMIT = 100;

const EMPTY_BODY_PREFIX = '{"body": ""';

/**
 * serializeEnvelope's exact bytes, minus its costliest part: re-escaping the base64 body (pure
 * ASCII, nothing to escape) character by character. Events are the hot path (thousands/s).
 */
export function serializeWithBody(env: Envelope, bodyIsBase64 = false): string {
  const rest = serializeEnvelope({ ...env, body: "" });
  if (!rest.startsWith(EMPTY_BODY_PREFIX) || (!bodyIsBase64 && !/^[A-Za-z0-9+/=]*$/.test(env.body))) return serializeEnvelope(env);
  return '{"body": "' + env.body + '"' + rest.slice(EMPTY_BODY_PREFIX.length);
}

export interface PubSubHost {
  readonly cmd: Redis;
  readonly keys: KeyMap;
  readonly onError: ErrorSink;
  readonly clock: LamportClock;
  /** where published events are also appended (stream.ts); null: pub/sub only */
  readonly eventStream?: EventStreamConfig | null;
  isClosed(): boolean;
  subscriber(): Redis;
  blockingConnection(): Redis;
}

type EventHandler = (batch: RawEventBatch) => void;
interface PendingEvents extends BatchOutcome {
  events: object[];
}
type ControlHandler = (c: IncomingControl) => void;

export class RedisPubSub {
  private readonly eventHandlers = new Set<EventHandler>();
  /** handlers that take streamed events from the stream instead (subscribeEvents skipStreamed) */
  private readonly skipsStreamed = new Set<EventHandler>();
  private readonly streamKey: string;
  private readonly controlHandlers = new Set<ControlHandler>();
  private listening = false;
  private readonly pendingBroadcasts = new Set<{ conn: Redis; done: Promise<unknown> }>();
  /** task events waiting for the end of this loop turn, by sender hostname */
  private readonly pendingEvents = new Map<string, PendingEvents>();
  private flushScheduled = false;
  /** event payloads that could not be decoded */
  rejectedEvents = 0;
  /** pidbox payloads that were not a control request */
  rejectedControl = 0;

  constructor(private readonly host: PubSubHost) {
    this.streamKey = eventStreamKey(host.keys.prefix);
  }

  // --- events

  publishEvent(hostname: string, events: object | object[]): Promise<void> {
    let routingKey: string;
    if (Array.isArray(events)) {
      if (events.length === 0) return Promise.resolve();
      routingKey = "task.multi";
    } else {
      const type = (events as { type?: unknown } | null)?.type;
      if (typeof type !== "string" || type === "") return Promise.reject(new TypeError("publishEvent: an event needs a string type"));
      if (type.startsWith("task-") && !this.host.isClosed()) return this.buffer(hostname, events);
      routingKey = eventRoutingKey(type);
    }
    // Whatever was buffered goes first: one connection keeps the order on the wire.
    this.flushEvents();
    return this.send(hostname, routingKey, events);
  }

  /** Task events of one loop turn leave as one task.multi (Celery's worker buffers them too). */
  private buffer(hostname: string, event: object): Promise<void> {
    let b = this.pendingEvents.get(hostname);
    if (!b) {
      b = { ...batchOutcome(), events: [] };
      this.pendingEvents.set(hostname, b);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // With the turn's other commands (acks, pops, results) on the same connection: one write.
        atTurnEnd(this.host.cmd, () => this.flushEvents());
      }
    }
    b.events.push(event);
    const done = b.done;
    if (b.events.length >= EVENT_BATCH_LIMIT) this.flushOne(hostname, b);
    return done;
  }

  /** Send every buffered batch now (before a direct publish, on close, at the end of the loop turn). */
  flushEvents(): void {
    this.flushScheduled = false;
    for (const [hostname, b] of this.pendingEvents) this.flushOne(hostname, b);
  }

  private flushOne(hostname: string, b: PendingEvents): void {
    this.pendingEvents.delete(hostname);
    const one = b.events.length === 1;
    const routingKey = one ? eventRoutingKey(String((b.events[0] as { type: string }).type)) : "task.multi";
    // Every caller of the batch sees its outcome, as if it had published alone.
    this.send(hostname, routingKey, one ? b.events[0] : b.events).then(b.resolve, b.reject);
  }

  private async send(hostname: string, routingKey: string, events: object | object[]): Promise<void> {
    // encodeEventEnvelope's envelope, its body written by the faster (byte-identical) dumper.
    const env = encodeEnvelope(null, { hostname }, { deliveryInfo: { exchange: EVENT_EXCHANGE, routing_key: routingKey }, deliveryMode: 1 });
    // One Python-style rewrite gives both the base64 body (pub/sub) and the text (stream).
    const { text, base64 } = pythonJsonTextAndBase64(events);
    env.body = base64;
    const stream = this.host.eventStream;
    if (!stream) {
      await this.host.cmd.publish(this.host.keys.eventChannel(routingKey), serializeWithBody(env, true));
      return;
    }
    (env.properties as unknown as Record<string, unknown>)[STREAM_MARKER] = stream.key;
    // Same turn, same auto-pipelined connection: PUBLISH and XADD leave in one write.
    await Promise.all([this.host.cmd.publish(this.host.keys.eventChannel(routingKey), serializeWithBody(env, true)), appendEvent(this.host.cmd, stream, text)]);
  }

  async subscribeEvents(onBatch: EventHandler, opts: SubscribeEventsOptions = {}): Promise<Subscription> {
    const first = this.eventHandlers.size === 0;
    this.eventHandlers.add(onBatch);
    if (opts.skipStreamed) this.skipsStreamed.add(onBatch);
    this.attach();
    if (first) await this.host.subscriber().psubscribe(this.host.keys.eventPattern);
    return {
      close: () => {
        this.skipsStreamed.delete(onBatch);
        return this.remove(this.eventHandlers, onBatch, this.host.keys.eventPattern);
      },
    };
  }

  // --- control

  async listenControl(onRequest: ControlHandler): Promise<Subscription> {
    const first = this.controlHandlers.size === 0;
    this.controlHandlers.add(onRequest);
    this.attach();
    if (first) await this.host.subscriber().psubscribe(this.host.keys.pidboxPattern);
    return { close: () => this.remove(this.controlHandlers, onRequest, this.host.keys.pidboxPattern) };
  }

  async broadcast(request: Omit<ControlRequest, "ticket" | "reply_to">, opts: BroadcastOptions = {}): Promise<ControlReply[]> {
    const { cmd, keys } = this.host;
    const timeout = opts.timeout ?? DEFAULT_BROADCAST_TIMEOUT_MS;
    // ioredis would queue the request until Redis is back, then deliver it late; say so now.
    if (cmd.status !== "ready" && cmd.status !== "connect" && !this.host.isClosed()) throw new BrokerUnavailableError(`control ${request.method}`, cmd.status);
    const clock = this.host.clock.tick();
    if (opts.reply === false) {
      await cmd.publish(keys.pidboxChannel, serializeEnvelope(encodeControlRequest(request, { clock, timeoutMs: timeout })));
      return [];
    }
    const dest = request.destination;
    const limit = opts.limit ?? (Array.isArray(dest) && dest.length > 0 ? dest.length : Infinity);
    const oid = uuid4();
    const ticket = uuid4();
    const replyQueue = replyQueueName(oid);
    const member = bindingMember(oid, "", replyQueue);
    const lists = keys.lists(replyQueue);
    const conn = this.host.blockingConnection();
    const replies: ControlReply[] = [];
    const run = (async () => {
      // Without this binding a Celery worker silently drops its reply (PROTOCOL.md §6.2).
      await cmd.sadd(keys.binding(REPLY_EXCHANGE), member);
      const env = encodeControlRequest(withReply(request, ticket, oid), { clock, timeoutMs: timeout });
      await cmd.publish(keys.pidboxChannel, serializeEnvelope(env));
      const deadline = Date.now() + timeout;
      while (replies.length < limit) {
        const left = deadline - Date.now();
        if (left <= 0) break;
        // BRPOP takes fractional seconds: block no longer than the time that is left.
        const res = await conn.brpop(...lists, Math.max(0.01, Math.min(1, left / 1000)).toFixed(3));
        if (!res) continue;
        try {
          const r = decodeControlReply(parseEnvelope(res[1]));
          if (r.ticket === ticket) replies.push(r.reply);
        } catch {
          this.rejectedControl++;
        }
      }
    })();
    const entry = { conn, done: run.catch(() => undefined) };
    this.pendingBroadcasts.add(entry);
    try {
      await run;
    } catch (err) {
      if (!this.host.isClosed()) throw err;
    } finally {
      this.pendingBroadcasts.delete(entry);
      void endConnection(conn);
      if (!this.host.isClosed())
        await cmd
          .multi()
          .srem(keys.binding(REPLY_EXCHANGE), member)
          .del(...lists)
          .exec()
          .catch((e) => this.host.onError(e, "broadcast cleanup"));
    }
    return replies;
  }

  /** Ends pending broadcasts (they resolve with what they have) and forgets every handler. */
  async close(): Promise<void> {
    this.flushEvents();
    this.eventHandlers.clear();
    this.skipsStreamed.clear();
    this.controlHandlers.clear();
    const pending = [...this.pendingBroadcasts];
    for (const p of pending) void endConnection(p.conn);
    await Promise.all(pending.map((p) => p.done));
  }

  // --- internals

  private attach(): void {
    if (this.listening) return;
    this.listening = true;
    this.host.subscriber().on("pmessage", (pattern: string, channel: string, message: string) => this.dispatch(pattern, channel, message));
  }

  private async remove<T>(set: Set<T>, handler: T, pattern: string): Promise<void> {
    if (!set.delete(handler) || set.size > 0 || this.host.isClosed()) return;
    const sub = this.host.subscriber();
    const done = sub.punsubscribe(pattern).catch(() => undefined);
    // While Redis is down the command waits for a reconnect: the handlers are gone already, so
    // closing a subscription must not wait for that (shutdown during an outage).
    if (sub.status === "ready") await done;
  }

  private dispatch(pattern: string, channel: string, message: string): void {
    const keys = this.host.keys;
    if (pattern === keys.eventPattern) this.dispatchEvent(channel.slice(keys.eventPrefix.length), message);
    else if (pattern === keys.pidboxPattern) this.dispatchControl(message);
  }

  private dispatchEvent(routingKey: string, message: string): void {
    if (this.eventHandlers.size === 0) return;
    let env: Envelope;
    let text: string;
    let body: unknown;
    try {
      // The body is sliced out of the envelope, not parsed as part of it: events are the hot path.
      ({ envelope: env, text } = decodeEnvelopeText(message));
      body = JSON.parse(text);
    } catch {
      this.rejectedEvents++;
      return;
    }
    const streamed = this.skipsStreamed.size > 0 && (env.properties as unknown as Record<string, unknown>)[STREAM_MARKER] === this.streamKey;
    let first = true;
    for (const h of [...this.eventHandlers]) {
      if (streamed && this.skipsStreamed.has(h)) continue;
      // Every handler gets its own objects: the first takes the parsed body, the others a fresh parse.
      const events = splitEventBody(first ? body : JSON.parse(text));
      first = false;
      try {
        h({ events, routingKey });
      } catch (err) {
        this.host.onError(err, "event subscriber");
      }
    }
  }

  private dispatchControl(message: string): void {
    if (this.controlHandlers.size === 0) return;
    let env: Envelope;
    try {
      env = parseEnvelope(message);
      if (!parseControlRequest(decodeBody(env))) throw new Error("not a control request");
    } catch {
      this.rejectedControl++;
      return;
    }
    const clock = env.headers.clock;
    if (typeof clock === "number") this.host.clock.adjust(clock);
    for (const h of [...this.controlHandlers]) {
      const request = parseControlRequest(decodeBody(env)) as ControlRequest;
      try {
        // reply() never rejects (callers `void` it): a lost reply is what a timeout looks like anyway.
        h({ request, reply: (reply) => this.reply(request, reply).catch((e) => this.host.onError(e, "control reply")) });
      } catch (err) {
        this.host.onError(err, "control listener");
      }
    }
  }

  /** §6.2 from the worker's side: find the reply list through the binding set, then LPUSH. */
  private async reply(request: ControlRequest, reply: ControlReply): Promise<void> {
    const rt = request.reply_to;
    if (!rt || typeof request.ticket !== "string" || this.host.isClosed()) return;
    const { cmd, keys } = this.host;
    const members = await cmd.smembers(keys.binding(rt.exchange));
    const env = encodeControlReply(reply, { ticket: request.ticket, clock: this.host.clock.tick(), replyTo: rt });
    const raw = serializeEnvelope(env);
    for (const m of members) {
      const b = parseBindingMember(m);
      if (b && b.routingKey === rt.routing_key) await cmd.lpush(keys.prefix + b.queue, raw);
    }
  }
}
