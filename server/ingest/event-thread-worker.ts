/**
 * The event-decoding thread: owns its own Redis subscriber (PSUBSCRIBE /{db}.celeryev/*), so
 * the socket is drained even while the main thread is busy (a reducer batch, a big query, a GC
 * pause): Redis disconnects a pub/sub client whose output buffer passes 32 MB, and at 50k
 * events/s that is under a second of not reading. Reading comes before decoding: chunks are
 * queued as they arrive and decoded in slices of a few ms (RespSubscriber), so a burst costs
 * memory here, never a disconnect there. Payloads are decoded (EventBatcher) and posted as one
 * JSON text per batch; batches grow on their own while the main thread is behind: a new one is
 * posted only when fewer than `maxInflightBatches` wait, or when it is full.
 */
import { parentPort, workerData } from "node:worker_threads";
import { Redis } from "ioredis";
import { KeyMap } from "../../lib/broker/redis/keys";
import { parseRedisUrl } from "../../lib/broker/redis/url";
import { EventBatcher } from "./event-batch";
import { type EventThreadData, type FromThread, SLOT_INFLIGHT_BATCHES, SLOT_INFLIGHT_KCHARS, type ToThread } from "./event-thread-protocol";
import { RespSubscriber } from "./resp-subscriber";

const port = parentPort;
if (!port) throw new Error("event-thread-worker runs only as a worker thread");
const data = workerData as EventThreadData;
const counters = new Int32Array(data.counters);
const send = (m: FromThread) => port.postMessage(m);

const parsed = parseRedisUrl(data.url);
const keys = new KeyMap(data.globalKeyprefix, parsed.db);
const batcher = new EventBatcher(data.skipStreamKey);
let dropped = 0;
let reconnects = 0;
let closing = false;
let retry: NodeJS.Timeout | null = null;

function post(): void {
  if (retry) {
    clearTimeout(retry);
    retry = null;
  }
  const b = batcher.take();
  if (!b && dropped === 0) return;
  const kchars = b ? Math.ceil(b.text.length / 1024) : 0;
  Atomics.add(counters, SLOT_INFLIGHT_BATCHES, 1);
  Atomics.add(counters, SLOT_INFLIGHT_KCHARS, kchars);
  send({ t: "batch", text: b?.text ?? "[]", events: b?.events ?? 0, rejected: b?.rejected ?? 0, dropped, kchars });
  dropped = 0;
}

/** Post now if the main thread keeps up, else look again shortly (the batch keeps growing). */
function maybePost(): void {
  if (Atomics.load(counters, SLOT_INFLIGHT_BATCHES) < data.maxInflightBatches) post();
  else retry ??= setTimeout(() => ((retry = null), maybePost()), 2);
}

/** One payload off the wire. Past the memory cap it is dropped (and counted) undecoded. */
function accept(payload: string, queuedBytes: number): void {
  if (queuedBytes / 1024 + Atomics.load(counters, SLOT_INFLIGHT_KCHARS) > data.maxQueuedKChars) dropped++;
  else batcher.add(payload);
  if (batcher.events >= data.maxBatchEvents) post();
}

function status(s: "ready" | "reconnecting" | "error", error?: string): void {
  if (closing) return;
  if (s === "reconnecting") reconnects++;
  send(error === undefined ? { t: "status", status: s, reconnects } : { t: "status", status: s, reconnects, error });
}

interface Transport {
  start(): Promise<void>;
  /** unsubscribe, hand every payload received before to accept(), disconnect */
  close(): Promise<void>;
}

/** redis:// and rediss://: read first, parse in slices (resp-subscriber.ts). */
function respTransport(): Transport {
  const o = parsed.options;
  const sub: RespSubscriber = new RespSubscriber({
    host: o.host ?? "127.0.0.1",
    port: o.port ?? 6379,
    username: o.username,
    password: o.password,
    tls: o.tls,
    name: data.connectionName,
    pattern: keys.eventPattern,
    onMessage: (payload) => accept(payload, sub.queuedBytes),
    onSliceEnd: maybePost,
    onStatus: status,
  });
  return { start: () => sub.start(), close: () => sub.close() };
}

/** sentinel://: ioredis finds the master; payloads are queued and decoded in slices here. */
function ioredisTransport(): Transport {
  const sub = new Redis({
    ...parsed.options,
    connectionName: data.connectionName,
    retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    maxRetriesPerRequest: null,
  });
  let queue: Buffer[] = [];
  let head = 0;
  let queuedBytes = 0;
  let scheduled = false;
  const slice = (budgetMs: number) => {
    scheduled = false;
    const until = performance.now() + budgetMs;
    let n = 0;
    while (head < queue.length) {
      const p = queue[head++];
      queuedBytes -= p.length;
      accept(p.toString("utf8"), queuedBytes);
      if ((++n & 15) === 0 && performance.now() > until) break;
    }
    if (head === queue.length) {
      queue = [];
      head = 0;
    } else if (!scheduled) {
      scheduled = true;
      setImmediate(() => slice(4));
    }
    maybePost();
  };
  const onPayload = (_pattern: string, _channel: Buffer, payload: Buffer) => {
    queue.push(payload);
    queuedBytes += payload.length;
    if (!scheduled) {
      scheduled = true;
      setImmediate(() => slice(4));
    }
  };
  sub.on("pmessageBuffer", onPayload);
  let everReady = false;
  sub.on("ready", () => {
    if (everReady) status("ready");
    everReady = true;
  });
  sub.on("reconnecting", () => status("reconnecting"));
  sub.on("error", (err: Error) => status("error", err.message));
  return {
    start: async () => {
      await sub.psubscribe(keys.eventPattern);
    },
    close: async () => {
      // Redis answers PUNSUBSCRIBE after every message it sent before: those still get posted.
      if (sub.status === "ready") await Promise.race([sub.punsubscribe(keys.eventPattern).catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
      sub.off("pmessageBuffer", onPayload);
      slice(Infinity);
      sub.disconnect();
    },
  };
}

const transport = parsed.options.sentinels ? ioredisTransport() : respTransport();

let closeRequested = false;
port.on("message", (m: ToThread) => {
  if (m.t !== "close" || closeRequested) return;
  closeRequested = true;
  void transport.close().then(() => {
    closing = true;
    post();
    send({ t: "closed" });
    port.close();
  });
});

await transport.start();
send({ t: "ready" });
