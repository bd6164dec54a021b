/**
 * The dashboard's follower of Petal's event stream (lib/broker/redis/stream.ts): no gap while the
 * dashboard was down. On start it resumes after the last stream id it applied (the cursor, kept
 * in history's key/value table when history is on), reads with XREAD BLOCK (push, not polling)
 * and hands each batch to ingest.inject, the same batching and the same single writer as pub/sub.
 *
 * Exactly-once between the two sources: ingest subscribes to pub/sub with `skipStreamed`, so the
 * pub/sub copies of streamed events are dropped and only the stream's are applied (see the
 * transport's header comment). Celery workers' events are not streamed and keep coming over
 * pub/sub.
 *
 * The cursor moves only after ingest applied the batch that holds it, and is saved at most every
 * `saveEveryMs` and on stop: after a crash the dashboard re-reads at most that last second,
 * rather than skipping anything (a task event applied twice changes no task; it may count twice
 * in a chart bucket).
 */
import { markReplayed } from "../../lib/state";
import type { Broker, Subscription } from "../../lib/broker/types";
import type { Logger } from "../context";

/** Where the stream cursor lives between runs. */
export interface CursorStore {
  get(): string | null;
  set(id: string): void;
}

/** A cursor kept in memory only: every start is a fresh start (used when history is off). */
export class MemoryCursorStore implements CursorStore {
  constructor(private id: string | null = null) {}
  get(): string | null {
    return this.id;
  }
  set(id: string): void {
    this.id = id;
  }
}

/** The key under which the cursor is kept in history's key/value table (default: "event_stream_cursor"). */
export const CURSOR_META_KEY = "event_stream_cursor";

/** A CursorStore over history's getMeta/setMeta (lib/history). */
export function metaCursorStore(meta: { getMeta(key: string): string | null | undefined; setMeta(key: string, value: string): void }, key = CURSOR_META_KEY): CursorStore {
  return {
    get: () => meta.getMeta(key) ?? null,
    set: (id) => meta.setMeta(key, id),
  };
}

/** What the follower needs of Ingest. */
export interface StreamSink {
  inject(events: unknown[]): void;
  flush(): void;
  onApplied(listener: (applied: number) => void): () => void;
}

export interface StreamFollowerOptions {
  /** save the cursor at most this often, ms (default: 1000) */
  saveEveryMs?: number;
  /** entries per read (default: 1000) */
  count?: number;
}

export interface StreamFollowerStats {
  /** events read from the stream since start */
  events: number;
  /** batches read */
  batches: number;
  /** the last id applied, the one saved next */
  cursor: string | null;
  /** times events were found missing (cursor trimmed away, stream reset) */
  gaps: number;
}

const STREAM_ID = /^\d+-\d+$/;

export class StreamFollower {
  private sub: Subscription | null = null;
  private start: string | null = null;
  /** last id handed to ingest, not yet applied */
  private injected: string | null = null;
  /** last id ingest applied */
  private applied: string | null = null;
  private saved: string | null = null;
  private saveTimer: NodeJS.Timeout | null = null;
  private offApplied: (() => void) | null = null;
  private readonly counters = { events: 0, batches: 0, gaps: 0 };

  constructor(
    private readonly broker: Broker,
    private readonly sink: StreamSink,
    private readonly cursor: CursorStore,
    private readonly log: Logger,
    private readonly opts: StreamFollowerOptions = {},
  ) {}

  /** The broker keeps an event stream: there is something to follow. */
  static supported(broker: Broker): boolean {
    return typeof broker.subscribeEventStream === "function" && typeof broker.eventStreamTail === "function";
  }

  /**
   * Fix the starting point before ingest subscribes to pub/sub: the saved cursor, else the
   * stream's tail as of now. Events appended after that point are read from the stream; their
   * pub/sub copies are dropped from the moment ingest subscribes, so none is missed or doubled.
   */
  async prepare(): Promise<void> {
    if (!StreamFollower.supported(this.broker) || this.start !== null) return;
    let saved: string | null = null;
    try {
      saved = this.cursor.get();
    } catch (err) {
      this.log.warn("event stream: could not read the saved cursor; following from now on", { err: String(err) });
    }
    if (saved !== null && !STREAM_ID.test(saved)) {
      this.log.warn("event stream: ignoring a saved cursor that is not a stream id; following from now on", { cursor: saved });
      saved = null;
    }
    let tail: string;
    try {
      tail = await this.broker.eventStreamTail!();
    } catch (err) {
      // e.g. WRONGTYPE: another tool owns the key. Fail the start clearly rather than drop events.
      throw new Error(`event stream unavailable (${err instanceof Error ? err.message : String(err)}); run with --no-event-stream to go without it`);
    }
    this.start = saved ?? tail;
    this.saved = saved;
    if (saved !== null) this.log.info("event stream: resuming after the saved cursor", { cursor: saved });
  }

  /** Start reading (call after ingest.start()). */
  async run(): Promise<void> {
    if (this.sub || !StreamFollower.supported(this.broker)) return;
    if (this.start === null) await this.prepare();
    this.offApplied = this.sink.onApplied(() => {
      // Ingest applies its whole buffer at once: whatever was injected before is applied now.
      if (this.injected !== null) this.applied = this.injected;
    });
    this.sub = await this.broker.subscribeEventStream!({
      after: this.start!,
      count: this.opts.count,
      onBatch: ({ events, lastId }) => {
        this.counters.events += events.length;
        this.counters.batches++;
        const before = this.injected;
        this.injected = lastId;
        if (events.length > 0) {
          markReplayed(events);
          this.sink.inject(events);
        }
        // Entries that all failed to decode move the cursor past them, unless earlier ones still wait.
        else if (this.applied === before) this.applied = lastId;
      },
      onWarning: (message, extra) => {
        this.counters.gaps++;
        this.log.warn(message, extra);
      },
    });
    const every = this.opts.saveEveryMs ?? 1000;
    this.saveTimer = setInterval(() => this.save(), every);
    this.saveTimer.unref();
  }

  /** Stop reading, apply what was read and save the cursor. */
  async stop(): Promise<void> {
    if (this.saveTimer) clearInterval(this.saveTimer);
    this.saveTimer = null;
    const sub = this.sub;
    this.sub = null;
    await sub?.close().catch((err: unknown) => this.log.warn("event stream: close failed", { err: String(err) }));
    this.sink.flush();
    this.offApplied?.();
    this.offApplied = null;
    this.save();
  }

  stats(): StreamFollowerStats {
    return { ...this.counters, cursor: this.applied ?? this.saved };
  }

  private save(): void {
    const id = this.applied;
    if (id === null || id === this.saved) return;
    try {
      this.cursor.set(id);
      this.saved = id;
    } catch (err) {
      this.log.warn("event stream: could not save the cursor", { err: String(err), cursor: id });
    }
  }
}
