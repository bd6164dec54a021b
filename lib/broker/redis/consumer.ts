/**
 * A consumer on Redis, as a Celery worker does it: BRPOP over every queue's priority lists
 * (lower step first) with a 1 s timeout on its own connection, then record the delivery in
 * `unacked`/`unacked_index` in one MULTI before handing it out. Changing the queue set or
 * cancelling interrupts a pending BRPOP with CLIENT UNBLOCK so it takes effect at once.
 * Errors (a Redis restart) are retried with backoff; the loop never crashes or spins.
 */
import type { Redis } from "ioredis";
import { parseEnvelope, uuid4 } from "../../protocol/envelope";
import type { Envelope } from "../../protocol/types";
import type { ConsumeOptions, Consumer, Delivery } from "../types";
import { endConnection } from "./connection";
import type { KeyMap } from "./keys";
import { restoreEntry, unackedValue } from "./unacked";

/** Consumer prefetch when ConsumeOptions.prefetch is not given (default: 4). 0 = unlimited. */
export const DEFAULT_PREFETCH = 4;
/** BRPOP timeout, s (default: 1, like kombu) */
export const BRPOP_TIMEOUT_S = 1;
/** Backoff after a failed BRPOP: doubles from the first value up to the cap, ms. */
const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 2000;

export type ErrorSink = (err: unknown, where: string) => void;

/** What a consumer needs from its broker. */
export interface ConsumerHost {
  readonly cmd: Redis;
  readonly keys: KeyMap;
  readonly onError: ErrorSink;
  isClosed(): boolean;
  /** a new connection for blocking commands (same server, db and options) */
  blockingConnection(): Redis;
  declare(queue: string): Promise<void>;
  /** a delivery whose message is not a kombu envelope (dropped, counted) */
  rejectMessage(queue: string, raw: string, err: unknown): void;
}

function checkPrefetch(n: number): number {
  if (!Number.isInteger(n) || n < 0) throw new RangeError("prefetch must be an integer >= 0");
  return n;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class RedisConsumer implements Consumer {
  private readonly list: string[] = [];
  private prefetch: number;
  private unsettled = 0;
  private cancelled = false;
  private readonly conn: Redis;
  private clientId: number | null = null;
  private blocking = false;
  private wake: (() => void) | null = null;
  private readonly done: Promise<void>;
  /** list key → queue name, rebuilt when the queue set changes */
  private listToQueue = new Map<string, string>();
  private brpopKeys: string[] = [];

  constructor(
    private readonly host: ConsumerHost,
    queues: string[],
    opts: ConsumeOptions,
    private readonly onDelivery: (d: Delivery) => void,
  ) {
    this.prefetch = checkPrefetch(opts.prefetch ?? DEFAULT_PREFETCH);
    for (const q of queues) if (!this.list.includes(q)) this.list.push(q);
    this.rebuildKeys();
    for (const q of this.list) void host.declare(q).catch((e) => host.onError(e, "declare queue"));
    this.conn = host.blockingConnection();
    this.conn.on("close", () => (this.clientId = null));
    this.done = this.loop();
  }

  get queues(): readonly string[] {
    return [...this.list];
  }

  setPrefetch(n: number): void {
    this.prefetch = checkPrefetch(n);
    this.poke();
  }

  addQueue(queue: string): void {
    if (this.cancelled || this.list.includes(queue)) return;
    this.list.push(queue);
    this.rebuildKeys();
    void this.host.declare(queue).catch((e) => this.host.onError(e, "declare queue"));
    this.poke();
    this.interrupt();
  }

  removeQueue(queue: string): void {
    const i = this.list.indexOf(queue);
    if (i === -1) return;
    this.list.splice(i, 1);
    this.rebuildKeys();
    this.interrupt();
  }

  async cancel(): Promise<void> {
    if (!this.cancelled) {
      this.cancelled = true;
      this.poke();
    }
    // UNBLOCK travels on another connection and can overtake the BRPOP it means to cut short,
    // so repeat it until the loop has ended (bounded by the 1 s BRPOP timeout anyway).
    let finished = false;
    const done = this.done.then(() => void (finished = true));
    while (!finished) {
      this.interrupt();
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([done, new Promise<void>((r) => (timer = setTimeout(r, 20)))]);
      clearTimeout(timer);
    }
  }

  /** @internal a settle call freed a prefetch slot */
  release(): void {
    this.unsettled--;
    this.poke();
  }

  private rebuildKeys(): void {
    const map = new Map<string, string>();
    for (const q of this.list) for (const k of this.host.keys.lists(q)) map.set(k, q);
    this.listToQueue = map;
    // kombu's order: every queue's step 0 list before any step 3 list, and so on.
    const keys: string[] = [];
    for (let step = 0; step < 4; step++) for (const q of this.list) keys.push(this.host.keys.lists(q)[step]);
    this.brpopKeys = keys;
  }

  private poke(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** make a pending BRPOP return now (as if it timed out) so the loop sees the change */
  private interrupt(): void {
    if (!this.blocking || this.clientId === null) return;
    void this.host.cmd.call("CLIENT", "UNBLOCK", String(this.clientId)).catch(() => undefined);
  }

  private idle(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }

  private full(): boolean {
    return this.prefetch > 0 && this.unsettled >= this.prefetch;
  }

  private async loop(): Promise<void> {
    let backoff = 0;
    try {
      while (!this.cancelled) {
        if (this.list.length === 0 || this.full()) {
          await this.idle();
          continue;
        }
        let res: [string, string] | null;
        try {
          if (this.clientId === null) this.clientId = Number(await this.conn.call("CLIENT", "ID"));
          if (this.cancelled) break;
          this.blocking = true;
          res = await this.conn.brpop(...this.brpopKeys, BRPOP_TIMEOUT_S);
          backoff = 0;
        } catch (err) {
          if (this.cancelled || this.host.isClosed()) break;
          backoff = Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_MIN_MS, backoff * 2));
          await sleep(backoff);
          continue;
        } finally {
          this.blocking = false;
        }
        if (!res) continue;
        await this.handle(res[0], res[1]);
      }
    } finally {
      await endConnection(this.conn);
    }
  }

  private async handle(key: string, raw: string): Promise<void> {
    const queue = this.listToQueue.get(key);
    if (queue === undefined || this.cancelled) {
      // Popped for a queue we no longer consume (or while cancelling): hand it back to be served next.
      await this.host.cmd.rpush(key, raw).catch((e) => this.host.onError(e, "return message"));
      return;
    }
    let envelope: Envelope;
    try {
      envelope = parseEnvelope(raw);
      if (!envelope.properties.delivery_info || typeof envelope.properties.delivery_info !== "object")
        envelope.properties.delivery_info = { exchange: "", routing_key: queue };
    } catch (err) {
      this.host.rejectMessage(queue, raw, err);
      return;
    }
    let tag = envelope.properties.delivery_tag;
    if (typeof tag !== "string" || tag === "") tag = envelope.properties.delivery_tag = uuid4();
    const di = envelope.properties.delivery_info;
    const exchange = typeof di.exchange === "string" ? di.exchange : "";
    // The anonymous exchange routes by queue name: record where it really came from.
    const routingKey = exchange === "" || typeof di.routing_key !== "string" ? queue : di.routing_key;
    const value = unackedValue(raw, exchange, routingKey);
    const keys = this.host.keys;
    try {
      await this.host.cmd.multi().zadd(keys.unackedIndex, Date.now() / 1000, tag).hset(keys.unacked, tag, value).exec();
    } catch (err) {
      // Could not record it as unacked: put it back rather than risk losing it.
      this.host.onError(err, "record unacked");
      await this.host.cmd.rpush(key, raw).catch((e) => this.host.onError(e, "return message"));
      return;
    }
    const redelivered = envelope.headers.redelivered === true || di.redelivered === true;
    this.unsettled++;
    const d = new RedisDelivery(this, queue, envelope, tag, redelivered, value);
    try {
      this.onDelivery(d);
    } catch (err) {
      this.host.onError(err, "consumer callback");
    }
  }

  /** @internal */
  get hostRef(): ConsumerHost {
    return this.host;
  }
}

class RedisDelivery implements Delivery {
  private settled = false;

  constructor(
    private readonly consumer: RedisConsumer,
    readonly queue: string,
    readonly envelope: Envelope,
    readonly deliveryTag: string,
    readonly redelivered: boolean,
    /** exactly what we stored in `unacked`, to requeue our own copy, not the caller's object */
    private readonly stored: string,
  ) {}

  /** false when already settled or the broker is closed (then the call is a no-op) */
  private settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    if (this.consumer.hostRef.isClosed()) {
      this.consumer.release();
      return false;
    }
    return true;
  }

  async ack(): Promise<void> {
    if (!this.settle()) return;
    const { cmd, keys } = this.consumer.hostRef;
    try {
      await cmd.multi().zrem(keys.unackedIndex, this.deliveryTag).hdel(keys.unacked, this.deliveryTag).exec();
    } catch (err) {
      // Never reject (callers `void` it): the entry stays in unacked and is restored after the visibility timeout.
      this.consumer.hostRef.onError(err, "ack");
    } finally {
      this.consumer.release();
    }
  }

  reject(): Promise<void> {
    return this.ack();
  }

  async requeue(): Promise<void> {
    if (!this.settle()) return;
    const { cmd, keys } = this.consumer.hostRef;
    // RPUSH: the consumer end of the list, so it is served next (the Delivery contract). The
    // prefetch slot frees only afterwards, or our own next BRPOP could overtake the push.
    try {
      await restoreEntry(cmd, keys, this.deliveryTag, this.stored, false);
    } catch (err) {
      this.consumer.hostRef.onError(err, "requeue");
    } finally {
      this.consumer.release();
    }
  }
}
