/**
 * A consumer on Redis, as a Celery worker does it: pop from every queue's priority lists (lower
 * step first), record the deliveries in `unacked`/`unacked_index` in one script, then hand them
 * out. Throughput: while messages are waiting, one Lua call pops as many as prefetch allows and
 * one atomic script records them all (kombu pays a BRPOP and a MULTI per message); only an empty queue
 * blocks in BRPOP (1 s timeout, like kombu) on the consumer's own connection. Acks made in the
 * same turn of the event loop share one script call. Changing the queue set or cancelling interrupts
 * a pending BRPOP with CLIENT UNBLOCK so it takes effect at once. Errors (a Redis restart) are
 * retried with backoff; the loop never crashes or spins.
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
/** Most messages one non-blocking pop takes, whatever the prefetch (default: 256). */
export const MAX_POP_BATCH = 256;

/**
 * Pop up to ARGV[1] messages, draining the lists in KEYS order (priority order), atomically so
 * no other consumer can interleave; returns [key, message, key, message, …]. Plain RPOP in a
 * loop rather than LMPOP/RPOP count so it also runs on Redis < 7.
 */
const POP_BATCH_LUA = `
local need = tonumber(ARGV[1])
local out = {}
for i = 1, #KEYS do
  while need > 0 do
    local v = redis.call('RPOP', KEYS[i])
    if not v then break end
    out[#out + 1] = KEYS[i]
    out[#out + 1] = v
    need = need - 1
  end
  if need == 0 then break end
end
return out`;

/**
 * What kombu's MULTI does (ZADD unacked_index + HSET unacked, or ZREM + HDEL on ack), as one
 * script: as atomic, but an EVALSHA joins the command connection's auto-pipeline where a MULTI
 * costs a socket write of its own. Per-entry calls keep clear of Lua's unpack() limit.
 */
const RECORD_UNACKED_LUA = `
for i = 2, #ARGV, 2 do
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[i])
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
end
return 1`;
const ACK_LUA = `
for i = 1, #ARGV do
  redis.call('ZREM', KEYS[1], ARGV[i])
  redis.call('HDEL', KEYS[2], ARGV[i])
end
return 1`;

type UnackedCommands = Redis & {
  petalRecordUnacked(index: string, hash: string, score: number, ...tagValue: string[]): Promise<number>;
  petalAck(index: string, hash: string, ...tags: string[]): Promise<number>;
};

/**
 * Define the unacked scripts on the command connection. Call it once right after creating the
 * connection: an auto-pipeline opened before the definition would not know the commands.
 */
export function defineUnackedCommands(cmd: Redis): void {
  cmd.defineCommand("petalRecordUnacked", { numberOfKeys: 2, lua: RECORD_UNACKED_LUA });
  cmd.defineCommand("petalAck", { numberOfKeys: 2, lua: ACK_LUA });
}

function unackedCommands(cmd: Redis): UnackedCommands {
  return cmd as UnackedCommands;
}

type PopConnection = Redis & { petalPopBatch(numKeys: number, ...args: (string | number)[]): Promise<string[]> };

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
  private ackTags: string[] = [];
  private ackFlush: Promise<void> | null = null;

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
    this.conn.defineCommand("petalPopBatch", { lua: POP_BATCH_LUA });
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
    let tryBatch = true;
    try {
      while (!this.cancelled) {
        if (this.list.length === 0 || this.full()) {
          await this.idle();
          // Let the rest of this loop turn settle too: slots freed together are refilled by one pop.
          await new Promise<void>((r) => setImmediate(r));
          continue;
        }
        let popped: string[] = [];
        try {
          if (this.clientId === null) this.clientId = Number(await this.conn.call("CLIENT", "ID"));
          if (this.cancelled) break;
          if (tryBatch) {
            const want = this.want();
            popped = await this.popBatch(want);
            // A short batch emptied the lists: the next round blocks at once.
            if (popped.length / 2 < want) tryBatch = false;
          }
          if (popped.length === 0) {
            this.blocking = true;
            popped = (await this.conn.brpop(...this.brpopKeys, BRPOP_TIMEOUT_S)) ?? [];
            // One arrived: more of a burst may be waiting behind it.
            if (popped.length > 0) tryBatch = true;
          }
          backoff = 0;
        } catch (err) {
          if (this.cancelled || this.host.isClosed()) break;
          backoff = Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_MIN_MS, backoff * 2));
          await sleep(backoff);
          continue;
        } finally {
          this.blocking = false;
        }
        if (popped.length > 0) await this.handleBatch(popped);
      }
    } finally {
      await endConnection(this.conn);
    }
  }

  /** how many deliveries fit in the prefetch window now */
  private want(): number {
    return this.prefetch === 0 ? MAX_POP_BATCH : Math.min(MAX_POP_BATCH, this.prefetch - this.unsettled);
  }

  private popBatch(want: number): Promise<string[]> {
    if (want <= 0) return Promise.resolve([]);
    return (this.conn as PopConnection).petalPopBatch(this.brpopKeys.length, ...this.brpopKeys, want);
  }

  /** Record every popped message as unacked in one atomic script, then deliver them in pop order. */
  private async handleBatch(popped: string[]): Promise<void> {
    const accepted: { key: string; raw: string; queue: string; envelope: Envelope; tag: string; value: string }[] = [];
    for (let i = 0; i < popped.length; i += 2) {
      const a = this.accept(popped[i], popped[i + 1]);
      if (a) accepted.push({ key: popped[i], raw: popped[i + 1], ...a });
    }
    if (accepted.length === 0) return;
    const keys = this.host.keys;
    const now = Date.now() / 1000;
    const fields: string[] = [];
    for (const a of accepted) fields.push(a.tag, a.value);
    try {
      await unackedCommands(this.host.cmd).petalRecordUnacked(keys.unackedIndex, keys.unacked, now, ...fields);
    } catch (err) {
      // Could not record them as unacked: put them back (last popped first, so the first is served next).
      this.host.onError(err, "record unacked");
      for (let i = accepted.length - 1; i >= 0; i--) await this.giveBack(accepted[i].key, accepted[i].raw);
      return;
    }
    for (const a of accepted) {
      const di = a.envelope.properties.delivery_info;
      const redelivered = a.envelope.headers.redelivered === true || di.redelivered === true;
      this.unsettled++;
      const d = new RedisDelivery(this, a.queue, a.envelope, a.tag, redelivered, a.value);
      try {
        this.onDelivery(d);
      } catch (err) {
        this.host.onError(err, "consumer callback");
      }
    }
  }

  private async giveBack(key: string, raw: string): Promise<void> {
    await this.host.cmd.rpush(key, raw).catch((e) => this.host.onError(e, "return message"));
  }

  /** Parse one popped message; null when it went back (queue dropped, cancelling) or was rejected. */
  private accept(key: string, raw: string): { queue: string; envelope: Envelope; tag: string; value: string } | null {
    const queue = this.listToQueue.get(key);
    if (queue === undefined || this.cancelled) {
      // Popped for a queue we no longer consume (or while cancelling): hand it back to be served next.
      void this.giveBack(key, raw);
      return null;
    }
    let envelope: Envelope;
    try {
      envelope = parseEnvelope(raw);
      if (!envelope.properties.delivery_info || typeof envelope.properties.delivery_info !== "object")
        envelope.properties.delivery_info = { exchange: "", routing_key: queue };
    } catch (err) {
      this.host.rejectMessage(queue, raw, err);
      return null;
    }
    let tag = envelope.properties.delivery_tag;
    if (typeof tag !== "string" || tag === "") tag = envelope.properties.delivery_tag = uuid4();
    const di = envelope.properties.delivery_info;
    const exchange = typeof di.exchange === "string" ? di.exchange : "";
    // The anonymous exchange routes by queue name: record where it really came from.
    const routingKey = exchange === "" || typeof di.routing_key !== "string" ? queue : di.routing_key;
    return { queue, envelope, tag, value: unackedValue(raw, exchange, routingKey) };
  }

  /** @internal queue an ack; acks made in the same event-loop turn go out in one atomic script */
  ack(tag: string): Promise<void> {
    this.ackTags.push(tag);
    if (!this.ackFlush) {
      this.ackFlush = new Promise<void>((resolve) =>
        setImmediate(() => {
          const tags = this.ackTags;
          this.ackTags = [];
          this.ackFlush = null;
          const { cmd, keys } = this.host;
          unackedCommands(cmd)
            .petalAck(keys.unackedIndex, keys.unacked, ...tags)
            // Never reject (callers `void` it): the entries stay in unacked and are restored after the visibility timeout.
            .catch((err) => this.host.onError(err, "ack"))
            .finally(resolve);
        }),
      );
    }
    return this.ackFlush;
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
    // The slot frees at once: the ZREM/HDEL follow on the same connection, so a delivery popped
    // next is recorded after this one is settled, and nothing can overtake an ack.
    const done = this.consumer.ack(this.deliveryTag);
    this.consumer.release();
    await done;
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
