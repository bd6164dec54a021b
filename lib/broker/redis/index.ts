/**
 * `redis://`, `rediss://`, `sentinel://`: the Redis transport, byte-compatible with kombu 5.2
 * (PROTOCOL.md §1–§6), so Celery workers, clients and Flower share the server with us.
 * Connections: one for commands, one subscriber (events + pidbox), one per consumer and one
 * per pending broadcast (both block in BRPOP). After close(), operations reject with
 * BrokerClosedError; settling a delivery and a second close() are no-ops.
 */
import { Redis, type RedisOptions } from "ioredis";
import { ProtocolError } from "../../protocol/envelope";
import { LamportClock } from "../../protocol/events";
import type { ControlReply, ControlRequest, Envelope } from "../../protocol/types";
import { BrokerClosedError, BrokerConnectError } from "../errors";
import { clipRaw, DEAD_LETTERS_KEPT } from "../types";
import type { BroadcastOptions, Broker, BrokerCapabilities, BrokerStatus, ConsumeOptions, Consumer, DeadLetterEntry, DeadLetterList, Delivery, EventStreamOptions, IncomingControl, PublishOptions, QueueLength, RawEventBatch, SubscribeEventsOptions, Subscription } from "../types";
import { type ConsumerHost, type ErrorSink, RedisConsumer } from "./consumer";
import { defineScripts } from "./scripts";
import { bindingMember, escapeGlob, KeyMap, parseBindingMember, PRIORITY_STEPS, priorityStep } from "./keys";
import { RedisPubSub } from "./pubsub";
import { PushBatcher } from "./push-batch";
import { DEFAULT_VISIBILITY_TIMEOUT_S, type RestoreOptions, restoreStale, routingKeyOfUnacked } from "./unacked";
import { parseRedisUrl } from "./url";
import { endConnection, QUIT_TIMEOUT_MS, quitConnection } from "./connection";
import { DEFAULT_EVENT_STREAM_MAXLEN, type EventStreamConfig, eventStreamKey, resolveStart, StreamReader, streamTail } from "./stream";

export { DEFAULT_PREFETCH, BRPOP_TIMEOUT_S } from "./consumer";
export { DEFAULT_BROADCAST_TIMEOUT_MS } from "./pubsub";
export { DEFAULT_VISIBILITY_TIMEOUT_S, type RestoreOptions } from "./unacked";
export { parseRedisUrl, type ParsedRedisUrl } from "./url";
export { RedisResultBackend, type RedisResultBackendOptions, DEFAULT_RESULT_TTL_S, parseResultMeta } from "./results";
export { SEP as KOMBU_SEP, KeyMap } from "./keys";
export { DEFAULT_EVENT_STREAM_MAXLEN, eventStreamKey } from "./stream";

export interface RedisBrokerOptions {
  /** Celery's `global_keyprefix`, put before every key and channel (default: "") */
  globalKeyprefix?: string;
  /** s a delivery may stay unacked before it is restored (default: 3600, kombu's visibility_timeout) */
  visibilityTimeout?: number;
  /** how often consumers' broker restores stale unacked deliveries, ms; 0 = only at the first consume (default: 60000) */
  restoreIntervalMs?: number;
  /** where throws from callbacks and background failures go (default: console.error) */
  onError?: ErrorSink;
  /** extra ioredis options (tests, TLS certificates) */
  redis?: Partial<RedisOptions>;
  /**
   * published events are also appended to `<prefix>petal.events`, trimmed to about this many
   * entries (XADD MAXLEN ~), so a dashboard resumes after a restart; 0 = pub/sub only
   * (default: 100000)
   */
  eventStreamMaxLen?: number;
}

/** Count per queue of unacked entries is read from the hash only when it is at most this big (default: 10000). */
const UNACKED_SCAN_LIMIT = 10_000;

/** Reconnect delay: grows with attempts up to 2 s, so a restart is picked up quickly without spinning. */
const retryStrategy = (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2000);

export class RedisBroker implements Broker, ConsumerHost {
  readonly url: string;
  readonly capabilities: BrokerCapabilities = { durable: true, crossProcess: true, priority: true };
  readonly keys: KeyMap;
  readonly cmd: Redis;
  readonly onError: ErrorSink;
  readonly clock = new LamportClock();
  readonly visibilityTimeout: number;
  /** where published events are also appended; null when eventStreamMaxLen is 0 */
  readonly eventStream: EventStreamConfig | null;
  /** task messages popped that were not kombu envelopes (dropped) */
  rejectedMessages = 0;
  private readonly options: RedisOptions;
  private sub: Redis | null = null;
  private readonly pubsub: RedisPubSub;
  private readonly pushes: PushBatcher;
  private readonly consumers = new Set<RedisConsumer>();
  private readonly streamReaders = new Set<StreamReader>();
  /** undecodable entries of closed stream readers */
  private streamRejected = 0;
  /** every connection not yet ended, so close() can wait until all sockets are gone */
  private readonly conns = new Set<Redis>();
  private readonly declared = new Set<string>();
  private readonly statusListeners = new Set<(s: BrokerStatus) => void>();
  private readonly restoreIntervalMs: number;
  private restoreTimer: ReturnType<typeof setInterval> | null = null;
  private restoredOnce = false;
  private closed = false;
  /** the command connection's last error, for a connect() failure to say why */
  private lastConnError: Error | null = null;

  constructor(url: string, opts: RedisBrokerOptions = {}) {
    const parsed = parseRedisUrl(url);
    this.url = parsed.redacted;
    this.keys = new KeyMap(opts.globalKeyprefix ?? "", parsed.db);
    this.visibilityTimeout = opts.visibilityTimeout ?? DEFAULT_VISIBILITY_TIMEOUT_S;
    this.restoreIntervalMs = opts.restoreIntervalMs ?? 60_000;
    const maxLen = opts.eventStreamMaxLen ?? DEFAULT_EVENT_STREAM_MAXLEN;
    if (!Number.isInteger(maxLen) || maxLen < 0) throw new RangeError(`eventStreamMaxLen must be a non-negative integer (got ${String(maxLen)})`);
    this.eventStream = maxLen > 0 ? { key: eventStreamKey(this.keys.prefix), maxLen } : null;
    this.onError = opts.onError ?? ((err, where) => console.error(`redis broker (${this.url}): ${where} failed`, err));
    this.options = { retryStrategy, lazyConnect: true, ...parsed.options, ...opts.redis };
    // Commands of one tick leave in one socket write: a write per command cost more CPU than the work.
    this.cmd = this.connection("command", { enableAutoPipelining: true });
    defineScripts(this.cmd);
    this.cmd.on("ready", () => {
      this.lastConnError = null;
      this.emitStatus("connected");
    });
    this.cmd.on("reconnecting", () => this.emitStatus("reconnecting"));
    this.cmd.on("end", () => this.emitStatus("disconnected"));
    this.cmd.on("error", (err: Error) => (this.lastConnError = err));
    this.pubsub = new RedisPubSub(this);
    this.pushes = new PushBatcher(this.cmd);
  }

  /** event payloads that could not be decoded (never thrown at subscribers) */
  get rejectedEvents(): number {
    let n = this.pubsub.rejectedEvents + this.streamRejected;
    for (const r of this.streamReaders) n += r.rejected;
    return n;
  }

  async connect(): Promise<void> {
    this.assertOpen("connect");
    try {
      if (this.cmd.status === "wait") await this.cmd.connect();
      else await this.cmd.ping();
    } catch (err) {
      if (this.closed) throw new BrokerClosedError("connect");
      // ioredis rejects with "Connection is closed."; the reason came with its error event.
      const cause = this.lastConnError ?? (err instanceof Error ? err : new Error(String(err)));
      // A server that answered (WRONGPASS, NOAUTH, bad db) is not down: no point retrying.
      if (cause.name === "ReplyError") throw cause;
      throw new BrokerConnectError(this.url, cause.message);
    }
  }

  /** Where the command connection stands now (the transport also pushes changes: onStatus). */
  status(): BrokerStatus {
    const s = this.cmd.status;
    if (s === "ready") return "connected";
    return s === "reconnecting" || s === "connecting" || s === "connect" ? "reconnecting" : "disconnected";
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.restoreTimer) clearInterval(this.restoreTimer);
    this.restoreTimer = null;
    // Messages published just before close() still go out (QUIT would overtake the auto-pipeline).
    this.pushes.flush();
    const pushed = this.pushes.drained();
    await Promise.all([...this.consumers].map((c) => c.cancel()));
    this.consumers.clear();
    await Promise.all([...this.streamReaders].map((r) => r.close()));
    await this.pubsub.close();
    if (this.cmd.status === "ready") {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([pushed, new Promise<void>((r) => (timer = setTimeout(r, QUIT_TIMEOUT_MS)))]);
      clearTimeout(timer);
    }
    await quitConnection(this.cmd);
    // disconnect() keeps a timer until the socket closes: wait for every "end" so nothing lingers.
    await Promise.all([...this.conns].map(endConnection));
    this.emitStatus("disconnected");
    this.statusListeners.clear();
  }

  // --- queues

  async publish(queue: string, envelope: Envelope, opts?: PublishOptions): Promise<void> {
    this.assertOpen("publish");
    if (typeof queue !== "string" || queue === "") throw new TypeError("publish: queue name must be a non-empty string");
    const env = envelope as Partial<Envelope> | null;
    if (!env || typeof env !== "object" || typeof env.body !== "string" || !env.properties || typeof env.properties !== "object")
      throw new ProtocolError("publish: not a kombu envelope (needs a string body and properties)", "bad_envelope");
    const step = priorityStep(opts?.priority ?? env.properties.priority ?? 0);
    const raw = JSON.stringify(envelope);
    // Declared already (the usual case): no extra await between the caller and its LPUSH.
    if (!this.declared.has(queue)) await this.declare(queue);
    await this.pushes.push(this.keys.list(queue, step), raw);
  }

  consume(queues: string[], opts: ConsumeOptions, onDelivery: (d: Delivery) => void): Consumer {
    this.assertOpen("consume");
    const c = new RedisConsumer(this, queues, opts, onDelivery);
    this.consumers.add(c);
    this.startRestoring();
    return {
      get queues() {
        return c.queues;
      },
      setPrefetch: (n) => c.setPrefetch(n),
      addQueue: (q) => c.addQueue(q),
      removeQueue: (q) => c.removeQueue(q),
      cancel: async () => {
        this.consumers.delete(c);
        await c.cancel();
      },
    };
  }

  async queueLengths(queues?: string[]): Promise<QueueLength[]> {
    this.assertOpen("queueLengths");
    const names = queues ?? (await this.queues());
    const p = this.cmd.pipeline();
    for (const q of names) for (const k of this.keys.lists(q)) p.llen(k);
    p.hlen(this.keys.unacked);
    const res = (await p.exec()) ?? [];
    const num = (i: number) => Number(res[i]?.[1] ?? 0);
    const hlen = num(names.length * 4);
    const unacked = new Map<string, number>();
    let countable = hlen === 0;
    if (hlen > 0 && hlen <= UNACKED_SCAN_LIMIT) {
      countable = true;
      for (const v of await this.cmd.hvals(this.keys.unacked)) {
        const rk = routingKeyOfUnacked(v);
        if (rk !== null) unacked.set(rk, (unacked.get(rk) ?? 0) + 1);
      }
    }
    return names.map((name, i) => {
      const byPriority: Record<number, number> = {};
      let messages = 0;
      PRIORITY_STEPS.forEach((step, j) => {
        byPriority[step] = num(i * 4 + j);
        messages += byPriority[step];
      });
      const out: QueueLength = { name, messages, byPriority };
      if (countable) out.unacked = unacked.get(name) ?? 0;
      return out;
    });
  }

  async queues(): Promise<string[]> {
    this.assertOpen("queues");
    const found = new Set<string>(this.declared);
    let cursor = "0";
    const bindingKeys: string[] = [];
    do {
      const [next, batch] = await this.cmd.scan(cursor, "MATCH", escapeGlob(this.keys.bindingPrefix) + "*", "COUNT", 1000);
      cursor = next;
      for (const k of batch) if (this.keys.queueExchangeOf(k) !== null) bindingKeys.push(k);
    } while (cursor !== "0");
    if (bindingKeys.length > 0) {
      const p = this.cmd.pipeline();
      for (const k of bindingKeys) p.smembers(k);
      for (const [, members] of (await p.exec()) ?? []) {
        if (!Array.isArray(members)) continue;
        for (const m of members as string[]) {
          const b = parseBindingMember(m);
          if (b && b.queue) found.add(b.queue);
        }
      }
    }
    return [...found];
  }

  async purge(queue: string): Promise<number> {
    this.assertOpen("purge");
    const lists = this.keys.lists(queue);
    const m = this.cmd.multi();
    for (const k of lists) m.llen(k);
    m.del(...lists);
    const res = (await m.exec()) ?? [];
    let n = 0;
    for (let i = 0; i < lists.length; i++) n += Number(res[i]?.[1] ?? 0);
    return n;
  }

  /** Hand stale unacked deliveries (older than the visibility timeout) back to their queues; kombu's restore_visible. */
  async restoreUnacked(opts: RestoreOptions = {}): Promise<number> {
    this.assertOpen("restoreUnacked");
    return restoreStale(this.cmd, this.keys, opts.olderThanSeconds ?? this.visibilityTimeout, opts.max);
  }

  // --- events and control

  publishEvent(hostname: string, events: object | object[]): Promise<void> {
    if (this.closed) return Promise.reject(new BrokerClosedError("publishEvent"));
    return this.pubsub.publishEvent(hostname, events);
  }

  subscribeEvents(onBatch: (batch: RawEventBatch) => void, opts?: SubscribeEventsOptions): Promise<Subscription> {
    if (this.closed) return Promise.reject(new BrokerClosedError("subscribeEvents"));
    return this.pubsub.subscribeEvents(onBatch, opts);
  }

  async eventStreamTail(): Promise<string> {
    this.assertOpen("eventStreamTail");
    return streamTail(this.cmd, eventStreamKey(this.keys.prefix));
  }

  /** Follow `<prefix>petal.events` after `opts.after` (stream.ts), on a connection of its own. */
  async subscribeEventStream(opts: EventStreamOptions): Promise<Subscription> {
    this.assertOpen("subscribeEventStream");
    const key = eventStreamKey(this.keys.prefix);
    const warn = opts.onWarning ?? ((msg: string, extra: Record<string, unknown>) => this.onError(new Error(msg), JSON.stringify(extra)));
    const start = await resolveStart(this.cmd, key, opts.after, warn);
    this.assertOpen("subscribeEventStream");
    const reader = new StreamReader(this, key, start, opts);
    this.streamReaders.add(reader);
    return {
      close: async () => {
        if (!this.streamReaders.delete(reader)) return;
        await reader.close();
        this.streamRejected += reader.rejected;
      },
    };
  }

  broadcast(request: Omit<ControlRequest, "ticket" | "reply_to">, opts?: BroadcastOptions): Promise<ControlReply[]> {
    if (this.closed) return Promise.reject(new BrokerClosedError("broadcast"));
    return this.pubsub.broadcast(request, opts);
  }

  listenControl(onRequest: (c: IncomingControl) => void): Promise<Subscription> {
    if (this.closed) return Promise.reject(new BrokerClosedError("listenControl"));
    return this.pubsub.listenControl(onRequest);
  }

  async deadLetter(entry: DeadLetterEntry): Promise<void> {
    this.assertOpen("deadLetter");
    const json = JSON.stringify({ ...entry, raw: clipRaw(entry.raw) });
    await this.cmd.multi().lpush(this.keys.deadLetters, json).ltrim(this.keys.deadLetters, 0, DEAD_LETTERS_KEPT - 1).exec();
  }

  async deadLetters(limit: number): Promise<DeadLetterList> {
    this.assertOpen("deadLetters");
    const n = Math.max(0, Math.min(Math.floor(limit), DEAD_LETTERS_KEPT));
    const [total, raws] = await Promise.all([
      this.cmd.llen(this.keys.deadLetters),
      n > 0 ? this.cmd.lrange(this.keys.deadLetters, 0, n - 1) : Promise.resolve([] as string[]),
    ]);
    const entries: DeadLetterEntry[] = [];
    for (const raw of raws) {
      const e = parseDeadLetter(raw);
      if (e) entries.push(e);
    }
    return { total, entries };
  }

  onStatus(listener: (s: BrokerStatus) => void): () => void {
    if (!this.closed) this.statusListeners.add(listener);
    return () => {
      this.statusListeners.delete(listener);
    };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // --- ConsumerHost / PubSubHost

  isClosed(): boolean {
    return this.closed;
  }

  blockingConnection(): Redis {
    // Blocking commands wait as long as it takes to reconnect; the caller's loop handles errors.
    return this.connection("blocking", { maxRetriesPerRequest: null, lazyConnect: false });
  }

  subscriber(): Redis {
    this.sub ??= this.connection("subscriber", { lazyConnect: false });
    return this.sub;
  }

  /** kombu's queue_declare: SADD the binding of the queue's own direct exchange (once per process). */
  async declare(queue: string): Promise<void> {
    if (this.declared.has(queue)) return;
    await this.cmd.sadd(this.keys.binding(queue), bindingMember(queue, "", queue));
    this.declared.add(queue);
  }

  rejectMessage(queue: string, raw: string, err: unknown): void {
    this.rejectedMessages++;
    // Not an envelope, so no worker ever sees it: the transport dead-letters it itself.
    const code = err instanceof ProtocolError ? err.code : "internal";
    const reason = err instanceof Error ? err.message : String(err);
    const entry: DeadLetterEntry = { at: Date.now() / 1000, queue, reason, code, raw, worker: null, taskId: null };
    if (!this.closed) void this.deadLetter(entry).catch((e) => this.onError(e, "dead-letter"));
    this.onError(err, `message on queue ${JSON.stringify(queue)} is not a kombu envelope; dead-lettered`);
  }

  // --- internals

  private connection(role: string, extra: Partial<RedisOptions> = {}): Redis {
    const r = new Redis({ ...this.options, ...extra });
    this.conns.add(r);
    r.once("end", () => this.conns.delete(r));
    // ioredis reports every failed reconnect; the status events say it once, so stay quiet here.
    r.on("error", () => undefined);
    void role;
    return r;
  }

  private startRestoring(): void {
    if (!this.restoredOnce) {
      this.restoredOnce = true;
      void this.restoreUnacked().catch((e) => this.onError(e, "restore unacked"));
    }
    if (this.restoreTimer || this.restoreIntervalMs <= 0) return;
    this.restoreTimer = setInterval(() => {
      if (this.closed || this.consumers.size === 0) return;
      void this.restoreUnacked().catch((e) => this.onError(e, "restore unacked"));
    }, this.restoreIntervalMs);
    this.restoreTimer.unref();
  }

  private emitStatus(s: BrokerStatus): void {
    for (const l of [...this.statusListeners]) {
      try {
        l(s);
      } catch (err) {
        this.onError(err, "status listener");
      }
    }
  }

  private assertOpen(op: string): void {
    if (this.closed) throw new BrokerClosedError(op);
  }
}

/** One stored entry; anything else in the list (another tool's junk) is skipped, never thrown. */
function parseDeadLetter(raw: string): DeadLetterEntry | null {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!v || typeof v !== "object" || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  if (typeof o.at !== "number" || typeof o.queue !== "string" || typeof o.reason !== "string") return null;
  return {
    at: o.at,
    queue: o.queue,
    reason: o.reason,
    code: typeof o.code === "string" ? o.code : "",
    raw: typeof o.raw === "string" ? o.raw : "",
    worker: typeof o.worker === "string" ? o.worker : null,
    taskId: typeof o.taskId === "string" ? o.taskId : null,
  };
}
