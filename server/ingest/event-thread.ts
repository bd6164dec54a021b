/**
 * Celery events from Redis decoded off the main thread (issue #4: ingest that keeps up). A
 * worker thread owns a subscriber connection, drains it as fast as Redis writes and decodes
 * every payload; the main thread gets one JSON text per batch and pays one JSON.parse for it,
 * then the reducer. Why a thread: the reducer owns the main thread, and a pub/sub client that
 * stops reading for a moment at 50k events/s is disconnected by Redis (output buffer limit),
 * losing events. Memory is the back-pressure: what the main thread has not applied yet waits
 * in its message queue, up to `maxQueuedMB`; past that, payloads are dropped and counted
 * (`dropped`), so an overload shows instead of growing without bound.
 */
import { Worker } from "node:worker_threads";
import { eventStreamKey } from "../../lib/broker/redis/stream";
import type { SubscribeEventsOptions, Subscription } from "../../lib/broker/types";
import { parseEventBatch } from "./event-batch";
import { type EventThreadData, type FromThread, SLOT_COUNT, SLOT_INFLIGHT_BATCHES, SLOT_INFLIGHT_KCHARS, type ToThread } from "./event-thread-protocol";

/** Where decoded events come from when not from broker.subscribeEvents. */
export interface EventSource {
  /** Start delivering decoded event bodies, in arrival order; resolves once subscribed. */
  start(onEvents: (events: unknown[]) => void, opts?: SubscribeEventsOptions): Promise<Subscription>;
  /** payloads dropped because they could not be decoded, since start */
  readonly rejected: number;
  /** payloads dropped undecoded because the main thread was too far behind, since start */
  readonly dropped: number;
}

export interface ThreadedEventSourceOptions {
  /** Celery's global_keyprefix (default: "") */
  globalKeyprefix?: string;
  /** largest batch posted to the main thread, events (default: 5000) */
  maxBatchEvents?: number;
  /** batches waiting on the main thread before the thread holds the next one back (default: 2) */
  maxInflightBatches?: number;
  /** body text waiting on the main thread before payloads are dropped, MB (default: 512) */
  maxQueuedMB?: number;
  /** CLIENT SETNAME of the subscriber (default: "petal-ingest") */
  connectionName?: string;
  /** subscriber connection changes and errors (default: ignored) */
  onStatus?: (s: { status: "ready" | "reconnecting" | "error"; reconnects: number; error?: string }) => void;
}

const BOOT = new URL("./event-thread-boot.mjs", import.meta.url);
/** The worker module next to this file, .ts under tsx/vitest, .js once compiled. */
const ENTRY = new URL(import.meta.url.endsWith(".ts") ? "./event-thread-worker.ts" : "./event-thread-worker.js", import.meta.url);
/** How long close() waits for the thread to hand over its last batch, ms (default: 3000). */
const CLOSE_TIMEOUT_MS = 3000;
/** Wait before replacing a thread that died, ms (default: 1000). */
const RESTART_DELAY_MS = 1000;

interface Thread {
  worker: Worker;
  exited: Promise<void>;
  /** the thread said "closed": its last batch has been handed over */
  closed: Promise<void>;
}

export function isRedisUrl(url: string): boolean {
  return /^(redis|rediss|sentinel):/i.test(url.trim());
}

export class ThreadedEventSource implements EventSource {
  rejected = 0;
  dropped = 0;
  /** times the subscriber lost its connection (Redis drops a slow pub/sub client this way) */
  reconnects = 0;
  /** batches and events handed to the main thread */
  batches = 0;
  events = 0;
  private thread: Thread | null = null;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | null = null;
  private readonly counters = new Int32Array(new SharedArrayBuffer(SLOT_COUNT * 4));

  constructor(
    private readonly url: string,
    private readonly opts: ThreadedEventSourceOptions = {},
  ) {}

  /** batches posted by the thread that the main thread has not applied yet */
  get inflight(): number {
    return Atomics.load(this.counters, SLOT_INFLIGHT_BATCHES);
  }

  async start(onEvents: (events: unknown[]) => void, opts: SubscribeEventsOptions = {}): Promise<Subscription> {
    if (this.thread || this.stopping) throw new Error("ThreadedEventSource already started");
    const data: EventThreadData = {
      entry: ENTRY.href,
      url: this.url,
      globalKeyprefix: this.opts.globalKeyprefix ?? "",
      counters: this.counters.buffer as SharedArrayBuffer,
      maxBatchEvents: this.opts.maxBatchEvents ?? 5000,
      maxInflightBatches: this.opts.maxInflightBatches ?? 2,
      maxQueuedKChars: Math.round((this.opts.maxQueuedMB ?? 512) * 1024),
      connectionName: this.opts.connectionName ?? "petal-ingest",
      skipStreamKey: opts.skipStreamed ? eventStreamKey(this.opts.globalKeyprefix ?? "") : null,
    };
    await this.spawn(data, onEvents);
    return { close: () => this.stop() };
  }

  /** Start a thread; resolves once it subscribed. A thread that dies later is replaced. */
  private spawn(data: EventThreadData, onEvents: (events: unknown[]) => void): Promise<void> {
    const worker = new Worker(BOOT, { workerData: data });
    let onClosed: () => void = () => undefined;
    const thread: Thread = {
      worker,
      exited: new Promise<void>((resolve) => worker.once("exit", () => resolve())),
      closed: new Promise<void>((resolve) => (onClosed = resolve)),
    };
    this.thread = thread;
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      worker.on("message", (m: FromThread) => {
        switch (m.t) {
          case "batch":
            this.applyBatch(m, onEvents);
            break;
          case "ready":
            ready = true;
            resolve();
            break;
          case "status":
            this.reconnects = m.reconnects;
            this.opts.onStatus?.(m);
            break;
          case "closed":
            onClosed();
            break;
        }
      });
      worker.on("error", (err) => {
        if (!ready) reject(err);
        else this.opts.onStatus?.({ status: "error", reconnects: this.reconnects, error: String(err) });
      });
      worker.once("exit", (code) => {
        if (!ready) {
          if (this.thread === thread) this.thread = null;
          reject(new Error(`event thread exited (code ${code}) before subscribing`));
          return;
        }
        if (this.stopping || this.thread !== thread) return;
        // A crashed thread must not end ingest for good: start another (events meanwhile are lost,
        // as they would be for any subscriber that was down).
        this.thread = null;
        Atomics.store(this.counters, SLOT_INFLIGHT_BATCHES, 0);
        Atomics.store(this.counters, SLOT_INFLIGHT_KCHARS, 0);
        this.opts.onStatus?.({ status: "error", reconnects: this.reconnects, error: `event thread exited (code ${code}); restarting it` });
        const again = () => {
          if (this.stopping) return;
          this.spawn(data, onEvents).catch((err: unknown) => {
            this.opts.onStatus?.({ status: "error", reconnects: this.reconnects, error: `event thread restart failed: ${String(err)}` });
            this.restartTimer = setTimeout(again, RESTART_DELAY_MS);
          });
        };
        this.restartTimer = setTimeout(again, RESTART_DELAY_MS);
      });
    });
  }

  private applyBatch(m: Extract<FromThread, { t: "batch" }>, onEvents: (events: unknown[]) => void): void {
    try {
      this.rejected += m.rejected;
      this.dropped += m.dropped;
      if (m.events > 0) {
        const events = parseEventBatch(m.text);
        this.batches++;
        this.events += events.length;
        onEvents(events);
      }
    } catch (err) {
      // A bug, not bad input (the thread validated every payload): count it, keep the process.
      this.rejected += m.events;
      this.opts.onStatus?.({ status: "error", reconnects: this.reconnects, error: `event batch failed: ${String(err)}` });
    } finally {
      Atomics.sub(this.counters, SLOT_INFLIGHT_BATCHES, 1);
      Atomics.sub(this.counters, SLOT_INFLIGHT_KCHARS, m.kchars);
    }
  }

  private async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const t = this.thread;
    this.thread = null;
    if (!t) return;
    t.worker.postMessage({ t: "close" } satisfies ToThread);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_TIMEOUT_MS)));
    // "closed" follows the last batch on the same port, so every event has been applied by then.
    await Promise.race([t.closed, t.exited, late]);
    clearTimeout(timer);
    await t.worker.terminate();
    await t.exited;
  }
}

/**
 * The source compose.ts gives Ingest: off-thread decoding for Redis brokers; undefined (the
 * broker's own subscribeEvents) for memory://. Subscriber trouble goes to the log.
 */
export function eventSourceFor(brokerUrl: string, log: { warn(msg: string, extra?: Record<string, unknown>): void }, opts: ThreadedEventSourceOptions = {}): EventSource | undefined {
  if (!isRedisUrl(brokerUrl)) return undefined;
  return new ThreadedEventSource(brokerUrl, {
    ...opts,
    onStatus: (s) => {
      if (s.status !== "ready") log.warn(`event subscriber ${s.status}`, { reconnects: s.reconnects, ...(s.error ? { error: s.error } : {}) });
      opts.onStatus?.(s);
    },
  });
}
