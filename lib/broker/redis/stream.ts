/**
 * Petal's event stream on Redis: every event envelope a Petal process publishes on celeryev is
 * also appended to a capped Redis Stream, `<global_keyprefix>petal.events` (XADD … MAXLEN ~ N),
 * so a dashboard that was down can resume from the last entry id it applied: pub/sub forgets,
 * a stream does not. Celery's own workers only publish; they are reconciled instead
 * (server/reconcile).
 *
 * Entry: one field `e` holding the event body as JSON, exactly the text the pub/sub envelope
 * carries base64-encoded (one event, or a `task.multi` array). No envelope: the events name
 * their sender, ingest needs nothing else, and an entry is a third smaller without base64 and
 * kombu's properties. MAXLEN counts entries, and one entry holds one publish (up to
 * EVENT_BATCH_LIMIT events): measured ~250-350 bytes per event in Redis.
 *
 * No double application: the pub/sub copy of a streamed event carries `properties.petal_stream`
 * = the stream key. A subscriber that also follows that stream (subscribeEvents with
 * `skipStreamed`) drops those pub/sub copies and takes the stream's, so each event is applied
 * once and in stream order, with no set of seen ids to keep. The marker sits in `properties`,
 * not `headers`: kombu keeps unknown properties without reading them and Celery's
 * EventReceiver (celery events, Flower) reads only the body, while the headers stay exactly
 * Celery's `{hostname}`.
 */
import type { Redis } from "ioredis";
import { splitEventBody } from "../../protocol/events";
import type { EventStreamOptions, Subscription } from "../types";
import { endConnection } from "./connection";
import type { ErrorSink } from "./consumer";

/** Entries the event stream keeps, approximately (default: 100000; 0 turns appending off). */
export const DEFAULT_EVENT_STREAM_MAXLEN = 100_000;
/** Entries read per XREAD (default: 1000). */
export const DEFAULT_STREAM_READ_COUNT = 1000;
/**
 * XREAD BLOCK timeout, ms (default: 10000). The read returns the moment an entry is added (push,
 * not polling); the timeout only bounds how long a silently dead connection goes unnoticed.
 */
export const STREAM_BLOCK_MS = 10_000;
/** The field of an entry holding its event body (JSON). */
export const STREAM_FIELD = "e";
/** The property that marks a pub/sub event envelope as also appended to this stream. */
export const STREAM_MARKER = "petal_stream";

/** The stream key under Celery's global_keyprefix, like every other key of the transport. */
export function eventStreamKey(prefix: string): string {
  return prefix + "petal.events";
}

const STREAM_ID = /^(\d+)-(\d+)$/;

/** A valid stream entry id ("1700000000000-0"), or null. */
export function parseStreamId(id: unknown): [bigint, bigint] | null {
  if (typeof id !== "string") return null;
  const m = STREAM_ID.exec(id);
  return m ? [BigInt(m[1]), BigInt(m[2])] : null;
}

/** Compare two valid stream ids: <0, 0, >0. */
export function compareStreamIds(a: string, b: string): number {
  const x = parseStreamId(a);
  const y = parseStreamId(b);
  if (!x || !y) throw new TypeError(`not a stream id: ${!x ? a : b}`);
  if (x[0] !== y[0]) return x[0] < y[0] ? -1 : 1;
  return x[1] === y[1] ? 0 : x[1] < y[1] ? -1 : 1;
}

/** What the publisher needs: where to append and how much to keep. */
export interface EventStreamConfig {
  key: string;
  maxLen: number;
}

/**
 * Append one event body (JSON text). Issued in the same turn as its PUBLISH on the
 * auto-pipelined command connection, so both leave in one socket write.
 */
export function appendEvent(cmd: Redis, stream: EventStreamConfig, json: string): Promise<unknown> {
  return cmd.xadd(stream.key, "MAXLEN", "~", String(stream.maxLen), "*", STREAM_FIELD, json);
}

interface StreamInfo {
  firstId: string | null;
  lastGeneratedId: string;
  /** Redis ≥ 7.0: the newest id removed by XDEL ("0-0" when none; trimming does not move it) */
  maxDeletedId: string | null;
}

/** XINFO STREAM, or null when the key does not exist (nothing was ever appended). */
async function streamInfo(cmd: Redis, key: string): Promise<StreamInfo | null> {
  let raw: unknown;
  try {
    raw = await cmd.call("XINFO", "STREAM", key);
  } catch (err) {
    if (/no such key/i.test(String(err))) return null;
    throw err;
  }
  const flat = Array.isArray(raw) ? raw : [];
  const info = new Map<string, unknown>();
  for (let i = 0; i + 1 < flat.length; i += 2) info.set(String(flat[i]), flat[i + 1]);
  const first = info.get("first-entry");
  const maxDeleted = info.get("max-deleted-entry-id");
  return {
    firstId: Array.isArray(first) && typeof first[0] === "string" ? first[0] : null,
    lastGeneratedId: String(info.get("last-generated-id") ?? "0-0"),
    maxDeletedId: typeof maxDeleted === "string" ? maxDeleted : null,
  };
}

/** The newest entry id, "0-0" when the stream is empty: reading after it misses nothing appended later. */
export async function streamTail(cmd: Redis, key: string): Promise<string> {
  const last = (await cmd.xrevrange(key, "+", "-", "COUNT", 1)) as [string, string[]][];
  return last.length > 0 ? last[0][0] : "0-0";
}

export interface StreamReaderHost {
  readonly cmd: Redis;
  readonly onError: ErrorSink;
  isClosed(): boolean;
  blockingConnection(): Redis;
}

/**
 * Where to start reading for a cursor, saying why when events may be missing: the cursor fell
 * off the capped stream (continue from the oldest entry), or the stream restarted below it
 * (Redis lost its data: read the new stream from its start).
 */
export async function resolveStart(cmd: Redis, key: string, after: string, warn: (msg: string, extra: Record<string, unknown>) => void): Promise<string> {
  const info = await streamInfo(cmd, key);
  if (!info) return after;
  if (compareStreamIds(info.lastGeneratedId, after) < 0) {
    warn("event stream restarted below the saved cursor (Redis lost its data?): reading it from the start", { stream: key, cursor: after, last: info.lastGeneratedId });
    return "0-0";
  }
  // The cursor's own entry is gone (trimmed, or XDEL'd past it): entries between it and the oldest
  // left may have been trimmed unread. Only when the cursor was at the very edge is this a false alarm.
  const fellOff =
    (info.firstId !== null && compareStreamIds(info.firstId, after) > 0) || (info.maxDeletedId !== null && compareStreamIds(info.maxDeletedId, after) > 0);
  if (fellOff) {
    warn("event stream cursor fell off the capped stream: events trimmed since may be lost; continuing from the oldest entry", {
      stream: key,
      cursor: after,
      oldest: info.firstId,
    });
  }
  return after;
}

type Entries = [id: string, fields: string[]][];

/** One follower: XREAD BLOCK on its own connection, batches handed over in stream order. */
export class StreamReader implements Subscription {
  /** entries whose body could not be decoded (skipped, counted) */
  rejected = 0;
  private readonly conn: Redis;
  private closed = false;
  private readonly done: Promise<void>;

  constructor(
    private readonly host: StreamReaderHost,
    private readonly key: string,
    start: string,
    private readonly opts: EventStreamOptions,
  ) {
    this.conn = host.blockingConnection();
    this.done = this.loop(start);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await endConnection(this.conn);
    await this.done;
  }

  private async loop(start: string): Promise<void> {
    let id = start;
    const count = this.opts.count ?? DEFAULT_STREAM_READ_COUNT;
    let failures = 0;
    while (!this.stopped()) {
      let res: [string, Entries][] | null;
      try {
        res = (await this.conn.xread("COUNT", count, "BLOCK", STREAM_BLOCK_MS, "STREAMS", this.key, id)) as [string, Entries][] | null;
        failures = 0;
      } catch (err) {
        if (this.stopped()) break;
        // ioredis reconnects by itself; back off so a refused read does not spin.
        if (failures++ === 0) this.host.onError(err, "event stream read");
        await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** failures, 2000)));
        continue;
      }
      const entries = res?.[0]?.[1];
      if (!entries || entries.length === 0) continue;
      const events: unknown[] = [];
      for (const [, fields] of entries) this.decode(fields, events);
      id = entries[entries.length - 1][0];
      try {
        this.opts.onBatch({ events, lastId: id });
      } catch (err) {
        this.host.onError(err, "event stream subscriber");
      }
    }
  }

  private stopped(): boolean {
    return this.closed || this.host.isClosed();
  }

  private decode(fields: string[], out: unknown[]): void {
    let payload: string | undefined;
    for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === STREAM_FIELD) payload = fields[i + 1];
    try {
      if (payload === undefined) throw new Error("no event field");
      const events = splitEventBody(JSON.parse(payload));
      for (let i = 0; i < events.length; i++) out.push(events[i]);
    } catch {
      this.rejected++;
    }
  }
}
