/**
 * A consumer on Redis, as a Celery worker does it: pop from every queue's priority lists (lower
 * step first), record the deliveries in `unacked`/`unacked_index`, then hand them out.
 * Throughput: while messages are waiting, one script per loop turn on the shared, auto-pipelined
 * command connection sends this turn's acks, pops as many as prefetch allows and records them
 * (kombu pays a BRPOP and a MULTI per message), so a worker's acks, pops, events and result
 * stores of one turn leave in one socket write. Two such scripts may be in flight (a window of
 * 16 or more is split between them), so Redis pops the next batch while the worker runs this
 * one. Only an empty queue blocks in BRPOP (1 s timeout, like kombu) on the consumer's own
 * connection. Changing the queue set or cancelling interrupts a pending BRPOP with CLIENT
 * UNBLOCK so it takes effect at once. Errors (a Redis restart) are retried with backoff; the
 * loop never crashes or spins.
 */
import type { Redis } from "ioredis";
import type { ConsumeOptions, Consumer, Delivery } from "../types";
import { endConnection } from "./connection";
import type { KeyMap } from "./keys";
import { scriptCommands as unackedCommands } from "./scripts";
import { atTurnEnd } from "./turn";
import { AckBatch } from "./ack-batch";
import { RedisDelivery } from "./delivery";
import { type Accepted, type Popped, poppedFromReply, readPopped } from "./popped";
import { unackedScore, unackedValue } from "./unacked";

/** Consumer prefetch when ConsumeOptions.prefetch is not given (default: 4). 0 = unlimited. */
export const DEFAULT_PREFETCH = 4;
/** BRPOP timeout, s (default: 1, like kombu) */
export const BRPOP_TIMEOUT_S = 1;
/** Backoff after a failed BRPOP: doubles from the first value up to the cap, ms. */
const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 2000;
/** Most messages one non-blocking pop takes, whatever the prefetch (default: 256). */
export const MAX_POP_BATCH = 256;
/** Turn scripts one consumer keeps in flight, each for up to its share of the prefetch window (default: 2). */
export const MAX_TURNS_IN_FLIGHT = 2;
/** Prefetch windows smaller than this go to one turn at a time (default: 16, concurrency 4). */
export const SPLIT_WINDOW_MIN = 16;

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
  /** per brpopKeys entry: its queue name as a JSON string (the turn script's unacked values) */
  private brpopQueueJson: string[] = [];
  private readonly acks: AckBatch;
  /** the loop will run a turn in this check phase: the acks queued until then ride along */
  private turnSoon = false;
  /** turn scripts sent and not yet answered, and the deliveries they may bring */
  private inflight = 0;
  private reserved = 0;
  /** popped and waiting to be handed out */
  private queued = 0;
  /** the lists had messages at the last look: pop with turn scripts, not BRPOP */
  private tryBatch = true;
  private turnError: unknown = null;
  /** the batch being delivered (batches never overtake each other) */
  private handling: Promise<void> = Promise.resolve();

  constructor(
    private readonly host: ConsumerHost,
    queues: string[],
    opts: ConsumeOptions,
    private readonly onDelivery: (d: Delivery) => void,
  ) {
    this.prefetch = checkPrefetch(opts.prefetch ?? DEFAULT_PREFETCH);
    this.acks = new AckBatch(host, () => this.flushAcks(false));
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
    const names: string[] = [];
    for (let step = 0; step < 4; step++)
      for (const q of this.list) {
        keys.push(this.host.keys.lists(q)[step]);
        names.push(JSON.stringify(q));
      }
    this.brpopKeys = keys;
    this.brpopQueueJson = names;
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
    return this.prefetch > 0 && this.unsettled + this.reserved + this.queued >= this.prefetch;
  }

  private async loop(): Promise<void> {
    let backoff = 0;
    try {
      while (!this.cancelled) {
        if (this.turnError !== null) {
          // A turn failed (Redis went away): back off once the others in flight have settled.
          if (this.inflight > 0) {
            await this.idle();
            continue;
          }
          this.turnError = null;
          backoff = Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_MIN_MS, backoff * 2));
          await sleep(backoff);
          continue;
        }
        if (this.list.length === 0 || this.full() || this.inflight >= MAX_TURNS_IN_FLIGHT || (!this.tryBatch && this.inflight > 0)) {
          if (this.inflight === 0) this.flushAcks(true);
          await this.idle();
          continue;
        }
        // Wait for the end of this loop turn: slots freed together are refilled by one pop, and
        // the acks, events and results of the turn travel in the same write.
        this.turnSoon = true;
        await new Promise<void>((r) => atTurnEnd(this.host.cmd, r));
        this.turnSoon = false;
        if (this.cancelled || this.list.length === 0 || this.full() || this.inflight >= MAX_TURNS_IN_FLIGHT) continue;
        if (this.tryBatch) {
          // Not awaited: the next turn may leave while this one's messages are being run, so
          // Redis pops the next batch while this process works (at most MAX_TURNS_IN_FLIGHT).
          this.startTurn();
          backoff = 0;
          continue;
        }
        if (this.inflight > 0) continue;
        this.flushAcks(true);
        let popped: Popped[] = [];
        try {
          if (this.clientId === null) this.clientId = Number(await this.conn.call("CLIENT", "ID"));
          if (this.cancelled) break;
          this.blocking = true;
          const got = await this.conn.brpop(...this.brpopKeys, BRPOP_TIMEOUT_S);
          // One arrived: more of a burst may be waiting behind it.
          if (got) {
            popped = [{ key: got[0], raw: got[1], recordedTag: null }];
            this.tryBatch = true;
          }
          backoff = 0;
        } catch {
          if (this.cancelled || this.host.isClosed()) break;
          backoff = Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_MIN_MS, backoff * 2));
          await sleep(backoff);
          continue;
        } finally {
          this.blocking = false;
        }
        if (popped.length > 0) await this.deliverInOrder(popped);
      }
    } finally {
      // Messages popped by turns still in flight are handed back (cancelled) or delivered first.
      while (this.inflight > 0) await this.idle();
      await this.handling;
      this.flushAcks(true);
      await endConnection(this.conn);
    }
  }

  /** Issue one turn script for up to half the free window; its batch is delivered in pop order. */
  private startTurn(): void {
    const want = this.want();
    this.inflight++;
    this.reserved += want;
    this.turn(want).then(
      (popped) => {
        this.inflight--;
        this.reserved -= want;
        // A short batch emptied the lists: once the turns in flight are back, the loop blocks.
        if (popped.length < want) this.tryBatch = false;
        if (popped.length > 0) void this.deliverInOrder(popped);
        this.poke();
      },
      (err: unknown) => {
        this.inflight--;
        this.reserved -= want;
        if (!this.cancelled && !this.host.isClosed()) this.turnError = err;
        this.poke();
      },
    );
  }

  /** Batches are delivered one after the other, as popped, even when one waits on Redis to be recorded. */
  private deliverInOrder(popped: Popped[]): Promise<void> {
    // Counted against the window until handed out: a batch waiting behind another (one being
    // recorded client-side) must not look like free room for another pop.
    this.queued += popped.length;
    const next = this.handling.then(() => this.handleBatch(popped));
    this.handling = next
      .catch((err: unknown) => this.host.onError(err, "deliver"))
      .finally(() => {
        this.queued -= popped.length;
        this.poke();
      });
    return this.handling;
  }

  /** how many deliveries one turn asks for: half the prefetch window, so two turns can overlap (a small window: all of it) */
  private want(): number {
    if (this.prefetch === 0) return MAX_POP_BATCH;
    const free = this.prefetch - this.unsettled - this.reserved - this.queued;
    // A small window is not split: a turn costs the same for 2 messages as for 4, and at
    // concurrency 1 (prefetch 4) halves doubled the worker's CPU per task.
    const share = this.prefetch < SPLIT_WINDOW_MIN ? this.prefetch : Math.ceil(this.prefetch / MAX_TURNS_IN_FLIGHT);
    return Math.max(1, Math.min(MAX_POP_BATCH, share, free));
  }

  /** The turn script: this turn's acks, then pop (and record) up to `want` messages. */
  private async turn(want: number): Promise<Popped[]> {
    const acks = this.acks.take();
    const { keys } = this.host;
    const tags = acks ? acks.tags : [];
    let reply: (string | number)[];
    try {
      reply = await unackedCommands(this.host.cmd).petalTurn(
        2 + this.brpopKeys.length,
        keys.unackedIndex,
        keys.unacked,
        ...this.brpopKeys,
        unackedScore(),
        Math.max(0, want),
        tags.length,
        ...tags,
        ...this.brpopQueueJson,
      );
    } catch (err) {
      // The acks are lost with the call: their entries stay in unacked and are restored later.
      if (tags.length > 0) this.host.onError(err, "ack");
      throw err;
    } finally {
      acks?.resolve();
    }
    return poppedFromReply(reply, this.brpopKeys);
  }

  /** Deliver a popped batch in pop order; messages the script could not record are recorded here first. */
  private async handleBatch(popped: Popped[]): Promise<void> {
    const accepted: Accepted[] = [];
    let unrecorded = 0;
    for (const p of popped) {
      const a = this.accept(p);
      if (!a) continue;
      accepted.push(a);
      if (!a.recorded) unrecorded++;
    }
    if (accepted.length === 0) return;
    let deliver = accepted;
    if (unrecorded > 0) {
      const keys = this.host.keys;
      const fields: string[] = [];
      for (const a of accepted) if (!a.recorded) fields.push(a.tag, unackedValue(a.raw, a.exchange, a.routingKey));
      try {
        await unackedCommands(this.host.cmd).petalRecordUnacked(keys.unackedIndex, keys.unacked, unackedScore(), ...fields);
      } catch (err) {
        // Could not record them as unacked: put them back (last popped first, so the first is served next).
        this.host.onError(err, "record unacked");
        for (let i = accepted.length - 1; i >= 0; i--) if (!accepted[i].recorded) await this.giveBack(accepted[i].key, accepted[i].raw, null);
        deliver = accepted.filter((a) => a.recorded);
      }
    }
    for (const a of deliver) {
      const di = a.envelope.properties.delivery_info;
      const redelivered = a.envelope.headers.redelivered === true || di.redelivered === true;
      this.unsettled++;
      const d = new RedisDelivery(this, a.queue, a.envelope, a.tag, redelivered, a.raw, a.exchange, a.routingKey);
      try {
        this.onDelivery(d);
      } catch (err) {
        this.host.onError(err, "consumer callback");
      }
    }
  }

  /** Push a popped message back where it came from (served next); a recorded one leaves unacked in the same step. */
  private async giveBack(key: string, raw: string, recordedTag: string | null): Promise<void> {
    const { cmd, keys } = this.host;
    const op = recordedTag === null ? cmd.rpush(key, raw) : cmd.multi().rpush(key, raw).zrem(keys.unackedIndex, recordedTag).hdel(keys.unacked, recordedTag).exec();
    await op.catch((e) => this.host.onError(e, "return message"));
  }

  /** Parse one popped message; null when it went back (queue dropped, cancelling) or was rejected. */
  private accept(p: Popped): Accepted | null {
    const queue = this.listToQueue.get(p.key);
    if (queue === undefined || this.cancelled) {
      // Popped for a queue we no longer consume (or while cancelling): hand it back to be served next.
      void this.giveBack(p.key, p.raw, p.recordedTag);
      return null;
    }
    try {
      return readPopped(p, queue);
    } catch (err) {
      // The script's JSON reader took it, ours did not: it must not linger in unacked either.
      if (p.recordedTag !== null) void this.ack(p.recordedTag);
      this.host.rejectMessage(queue, p.raw, err);
      return null;
    }
  }

  /** @internal queue an ack; acks made in the same event-loop turn go out in one atomic script */
  ack(tag: string): Promise<void> {
    return this.acks.add(tag);
  }

  /** Send the queued acks on their own, unless the loop's turn script is about to take them. */
  private flushAcks(now: boolean): void {
    if (!now && this.turnSoon && !this.cancelled) return;
    this.acks.send();
  }

  /** @internal */
  get hostRef(): ConsumerHost {
    return this.host;
  }
}
