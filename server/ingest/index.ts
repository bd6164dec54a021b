/**
 * The single writer: broker events → ClusterState, in batches. Every event from
 * broker.subscribeEvents lands in a buffer; the buffer is applied at most every `flushMs` (or at
 * once when it grows past `maxBuffer`), so a burst of thousands of events costs a handful of
 * reducer calls and the realtime layer sees whole batches, never half of one.
 * A 1 s timer calls state.tick() so workers that stopped heartbeating go offline and the
 * time series roll over even when no event arrives.
 */
import type { Broker, RawEventBatch, Subscription } from "../../lib/broker/types";
import type { Logger } from "../context";
import type { EventSource } from "./event-thread";
import { RateMeter } from "./rate";

/** What ingest needs of ClusterState (kept narrow so tests can pass a fake). */
export interface IngestTarget {
  ingest(raw: unknown[]): { accepted: number; rejected: number };
  tick(now?: number): void;
  /** add events the transport dropped undecoded to the rejected count (petal_events_rejected_total) */
  noteRejected?(n: number): void;
}

export interface IngestOptions {
  /** apply buffered events at most this often, ms (default: 20) */
  flushMs?: number;
  /** apply at once when this many events are waiting (default: 1000) */
  maxBuffer?: number;
  /** state.tick() period, ms (default: 1000) */
  tickMs?: number;
  /** ask workers for a heartbeat right after subscribing, like Flower (default: true) */
  requestHeartbeat?: boolean;
  /**
   * Called once after subscribing, and again every `pollMs` (issue #3 uses it to broadcast
   * `enable_events` to Celery workers started without -E). Errors are logged, never thrown.
   */
  onPoll?: (broker: Broker) => Promise<void>;
  /** period of onPoll, ms (default: 60000) */
  pollMs?: number;
  /**
   * Take events from here instead of broker.subscribeEvents, e.g. a ThreadedEventSource that
   * decodes Redis pub/sub off the main thread (default: the broker). If it fails to start,
   * ingest falls back to the broker with a warning.
   */
  source?: EventSource;
  /** drop pub/sub events that are also in the broker's event stream: a StreamFollower injects those (default: false) */
  skipStreamed?: boolean;
}

export interface IngestStats {
  /** events handed to the state since start */
  events: number;
  accepted: number;
  rejected: number;
  /** reducer calls (a batch each) */
  batches: number;
  /** events per second over the last few seconds */
  eventsPerSecond: number;
  /** events waiting in the buffer right now */
  buffered: number;
  /** the largest batch applied */
  maxBatch: number;
}

export class Ingest {
  private readonly flushMs: number;
  private readonly maxBuffer: number;
  private readonly tickMs: number;
  private buffer: unknown[] = [];
  /** the second array swapped in on flush, so a flush allocates nothing */
  private spare: unknown[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  private tickTimer: NodeJS.Timeout | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private sub: Subscription | null = null;
  private running = false;
  private readonly rate = new RateMeter();
  private readonly counters = { events: 0, accepted: 0, rejected: 0, batches: 0, maxBatch: 0 };
  private readonly listeners = new Set<(applied: number) => void>();
  /** broker.rejectedEvents already handed to the state */
  private transportRejected = 0;
  /** source.dropped already logged */
  private sourceDropped = 0;

  constructor(
    private readonly broker: Broker,
    private readonly state: IngestTarget,
    private readonly log: Logger,
    private readonly opts: IngestOptions = {},
  ) {
    this.flushMs = opts.flushMs ?? 20;
    this.maxBuffer = opts.maxBuffer ?? 1000;
    this.tickMs = opts.tickMs ?? 1000;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.sub = await this.subscribe();
    this.tickTimer = setInterval(() => this.tick(), this.tickMs);
    this.tickTimer.unref();
    if (this.opts.requestHeartbeat !== false) {
      // Workers answer a pidbox `heartbeat` with an immediate worker-heartbeat, so the
      // dashboard knows the cluster within milliseconds instead of one heartbeat period.
      this.broker
        .broadcast({ method: "heartbeat", arguments: {}, destination: null, pattern: null, matcher: null }, { reply: false })
        .catch((err: unknown) => this.log.warn("heartbeat broadcast failed", { err: String(err) }));
    }
    const poll = this.opts.onPoll;
    if (poll) {
      const run = () => void poll(this.broker).catch((err: unknown) => this.log.warn("ingest poll failed", { err: String(err) }));
      run();
      this.pollTimer = setInterval(run, this.opts.pollMs ?? 60_000);
      this.pollTimer.unref();
    }
  }

  private async subscribe(): Promise<Subscription> {
    const source = this.opts.source;
    if (source) {
      try {
        return await source.start((events) => this.push({ events, routingKey: "*" }), { skipStreamed: this.opts.skipStreamed === true });
      } catch (err) {
        this.log.warn("event source failed to start; decoding events on the main thread", { err: String(err) });
      }
    }
    return this.broker.subscribeEvents((batch) => this.push(batch), { skipStreamed: this.opts.skipStreamed === true });
  }

  /** Stop receiving; whatever is buffered is applied first so nothing is lost. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const t of [this.tickTimer, this.pollTimer, this.flushTimer]) if (t) clearTimeout(t);
    this.tickTimer = this.pollTimer = this.flushTimer = null;
    const sub = this.sub;
    this.sub = null;
    await sub?.close();
    this.flush();
  }

  /** Called after each applied batch with its size (the realtime layer may wake on it). */
  onApplied(listener: (applied: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stats(): IngestStats {
    return { ...this.counters, eventsPerSecond: this.rate.perSecond(), buffered: this.buffer.length };
  }

  /** Exposed for tests and for a source other than the broker (e.g. replay). */
  push(batch: RawEventBatch): void {
    if (!this.running) return;
    const events = batch.events;
    if (!Array.isArray(events)) return;
    const buf = this.buffer;
    for (let i = 0; i < events.length; i++) buf.push(events[i]);
    if (buf.length > this.maxBuffer) this.flush();
    else if (!this.flushTimer && buf.length > 0) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = null;
        this.flush();
      }, this.flushMs);
    }
  }

  /**
   * Decoded event bodies from a source other than pub/sub (the event stream, reconciliation's
   * synthetic events): same buffer, same batching, same single writer.
   */
  inject(events: unknown[]): void {
    this.push({ events, routingKey: "" });
  }

  /** Hand the transport's count of undecodable payloads to the state as a delta (once a tick). */
  syncTransportRejects(): void {
    const dropped = this.opts.source?.dropped ?? 0;
    if (dropped > this.sourceDropped) {
      // Only when the reducer fell behind by the source's whole memory cap: events were lost.
      this.log.warn("ingest overloaded: event payloads dropped", { dropped: dropped - this.sourceDropped, total: dropped });
      this.sourceDropped = dropped;
    }
    const seen = (this.broker.rejectedEvents ?? 0) + (this.opts.source?.rejected ?? 0);
    if (seen <= this.transportRejected) return;
    const delta = seen - this.transportRejected;
    this.transportRejected = seen;
    this.counters.rejected += delta;
    this.state.noteRejected?.(delta);
  }

  /** Apply everything buffered now. */
  flush(): void {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    const batch = this.buffer;
    if (batch.length === 0) return;
    this.buffer = this.spare;
    try {
      const r = this.state.ingest(batch);
      this.counters.accepted += r.accepted;
      this.counters.rejected += r.rejected;
    } catch (err) {
      // The reducer validates its input; a throw here is a bug, but losing the process to it
      // would take the dashboard down with it.
      this.counters.rejected += batch.length;
      this.log.error("state.ingest threw", { err, events: batch.length });
    }
    const n = batch.length;
    this.counters.events += n;
    this.counters.batches++;
    if (n > this.counters.maxBatch) this.counters.maxBatch = n;
    this.rate.add(n);
    batch.length = 0;
    this.spare = batch;
    for (const l of this.listeners) l(n);
  }

  private tick(): void {
    this.flush();
    this.syncTransportRejects();
    try {
      this.state.tick();
    } catch (err) {
      this.log.error("state.tick threw", { err });
    }
  }
}

export { RateMeter } from "./rate";
