/**
 * In-process task queues with kombu's Redis semantics: priority steps 0/3/6/9 with the lower
 * step served first, FIFO within a step, prefetch-bounded consumers served round-robin, and
 * ack/reject/requeue (requeue goes back to the head, marked redelivered). Messages are stored
 * as serialized envelope strings and parsed per delivery, so nobody shares an object.
 */
import { ProtocolError } from "../../protocol/envelope";
import type { Envelope } from "../../protocol/types";
import { BrokerClosedError } from "../errors";
import type { ConsumeOptions, Consumer, Delivery, PublishOptions, QueueLength } from "../types";
import { Deque } from "./deque";

/** kombu's priority steps; a published priority is clamped to 0–9 and rounded down to one. */
export const PRIORITY_STEPS = [0, 3, 6, 9] as const;
export type PriorityStep = (typeof PRIORITY_STEPS)[number];

/** Consumer prefetch when ConsumeOptions.prefetch is not given (default: 4). 0 = unlimited. */
export const DEFAULT_PREFETCH = 4;

export function priorityStep(p: unknown): PriorityStep {
  const n = typeof p === "number" && Number.isFinite(p) ? Math.min(9, Math.max(0, Math.trunc(p))) : 0;
  return PRIORITY_STEPS[Math.floor(n / 3)];
}

interface Stored {
  raw: string;
  /** index into PRIORITY_STEPS */
  level: number;
  redelivered: boolean;
}

interface QueueState {
  name: string;
  levels: Deque<Stored>[];
  ready: number;
  unacked: number;
  consumers: MemoryConsumer[];
  /** next consumer to try, for round-robin fairness */
  rr: number;
}

export type ErrorSink = (err: unknown, where: string) => void;

export class MemoryQueues {
  private readonly queues = new Map<string, QueueState>();
  private readonly consumers = new Set<MemoryConsumer>();
  private immediate: ReturnType<typeof setImmediate> | null = null;
  private closed = false;
  private tagSeq = 0;

  constructor(private readonly onError: ErrorSink) {}

  async publish(queue: string, envelope: Envelope, opts?: PublishOptions): Promise<void> {
    this.assertOpen("publish");
    if (typeof queue !== "string" || queue === "") throw new TypeError("publish: queue name must be a non-empty string");
    const env = envelope as Partial<Envelope> | null;
    if (!env || typeof env !== "object" || typeof env.body !== "string" || !env.properties || typeof env.properties !== "object")
      throw new ProtocolError("publish: not a kombu envelope (needs a string body and properties)", "bad_envelope");
    // Serialize now: later changes to the caller's object must not reach the consumer.
    const raw = JSON.stringify(envelope);
    const step = priorityStep(opts?.priority ?? env.properties.priority ?? 0);
    const q = this.declare(queue);
    const level = PRIORITY_STEPS.indexOf(step);
    q.levels[level].push({ raw, level, redelivered: false });
    q.ready++;
    if (q.consumers.length > 0) this.schedule();
  }

  consume(queues: string[], opts: ConsumeOptions, onDelivery: (d: Delivery) => void): Consumer {
    this.assertOpen("consume");
    const c = new MemoryConsumer(this, checkPrefetch(opts.prefetch ?? DEFAULT_PREFETCH), onDelivery);
    this.consumers.add(c);
    for (const q of queues) c.addQueue(q);
    return c;
  }

  async queueLengths(names?: string[]): Promise<QueueLength[]> {
    this.assertOpen("queueLengths");
    return (names ?? [...this.queues.keys()]).map((name) => {
      const q = this.queues.get(name);
      const byPriority: Record<number, number> = {};
      for (let i = 0; i < PRIORITY_STEPS.length; i++) byPriority[PRIORITY_STEPS[i]] = q ? q.levels[i].length : 0;
      return { name, messages: q?.ready ?? 0, byPriority, unacked: q?.unacked ?? 0 };
    });
  }

  async names(): Promise<string[]> {
    this.assertOpen("queues");
    return [...this.queues.keys()];
  }

  async purge(name: string): Promise<number> {
    this.assertOpen("purge");
    const q = this.queues.get(name);
    if (!q) return 0;
    const n = q.ready;
    for (const l of q.levels) l.clear();
    q.ready = 0;
    return n;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = null;
    for (const c of this.consumers) c.detachAll();
    this.consumers.clear();
    this.queues.clear();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  // --- used by MemoryConsumer / MemoryDelivery

  /** @internal */
  attach(c: MemoryConsumer, name: string): void {
    const q = this.declare(name);
    if (!q.consumers.includes(c)) q.consumers.push(c);
    this.schedule();
  }

  /** @internal */
  detach(c: MemoryConsumer, name: string): void {
    const q = this.queues.get(name);
    if (!q) return;
    const i = q.consumers.indexOf(c);
    if (i !== -1) q.consumers.splice(i, 1);
    if (q.rr >= q.consumers.length) q.rr = 0;
  }

  /** @internal */
  forget(c: MemoryConsumer): void {
    this.consumers.delete(c);
  }

  /** @internal */
  settle(c: MemoryConsumer, q: QueueState, requeue: Stored | null): void {
    if (this.closed) return;
    c.unsettled--;
    q.unacked--;
    if (requeue) {
      requeue.redelivered = true;
      q.levels[requeue.level].unshift(requeue);
      q.ready++;
    }
    this.schedule();
  }

  /** @internal */
  schedule(): void {
    if (this.closed || this.immediate) return;
    // setImmediate, not a microtask: delivery never runs inside the caller's stack, and a
    // consumer that acks synchronously cannot starve I/O.
    this.immediate = setImmediate(() => {
      this.immediate = null;
      this.drain();
    });
  }

  private declare(name: string): QueueState {
    let q = this.queues.get(name);
    if (!q) {
      q = { name, levels: PRIORITY_STEPS.map(() => new Deque<Stored>()), ready: 0, unacked: 0, consumers: [], rr: 0 };
      this.queues.set(name, q);
    }
    return q;
  }

  /** One message per queue per pass, so a consumer of several queues is served fairly. */
  private drain(): void {
    let progress = true;
    while (progress && !this.closed) {
      progress = false;
      for (const q of this.queues.values()) {
        if (q.ready === 0 || q.consumers.length === 0) continue;
        const c = this.pick(q);
        if (!c) continue;
        this.deliver(c, q);
        progress = true;
      }
    }
  }

  private pick(q: QueueState): MemoryConsumer | null {
    const n = q.consumers.length;
    for (let i = 0; i < n; i++) {
      const idx = (q.rr + i) % n;
      const c = q.consumers[idx];
      if (c.hasCapacity()) {
        q.rr = (idx + 1) % n;
        return c;
      }
    }
    return null;
  }

  private deliver(c: MemoryConsumer, q: QueueState): void {
    let item: Stored | undefined;
    for (let i = 0; i < q.levels.length && !item; i++) item = q.levels[i].shift();
    if (!item) return;
    q.ready--;
    const envelope = JSON.parse(item.raw) as Envelope;
    if (item.redelivered) {
      // what kombu's restore writes, so a consumer sees the same flags on both transports
      envelope.headers = { ...envelope.headers, redelivered: true };
      const di = envelope.properties.delivery_info;
      if (di && typeof di === "object") di.redelivered = true;
    }
    const tag = envelope.properties.delivery_tag;
    const deliveryTag = typeof tag === "string" || typeof tag === "number" ? String(tag) : `memory-${++this.tagSeq}`;
    c.unsettled++;
    q.unacked++;
    const d = new MemoryDelivery(this, c, q, item, envelope, deliveryTag);
    try {
      c.onDelivery(d);
    } catch (err) {
      // the delivery stays unsettled: the consumer owns it, as after a crash on Redis
      this.onError(err, "consumer handler");
    }
  }

  private assertOpen(op: string): void {
    if (this.closed) throw new BrokerClosedError(op);
  }
}

function checkPrefetch(n: number): number {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`prefetch must be an integer >= 0 (0 = unlimited), got ${n}`);
  return n;
}

class MemoryConsumer implements Consumer {
  private readonly names: string[] = [];
  unsettled = 0;
  private cancelled = false;

  constructor(
    private readonly owner: MemoryQueues,
    private prefetch: number,
    readonly onDelivery: (d: Delivery) => void,
  ) {}

  get queues(): readonly string[] {
    return this.names;
  }

  hasCapacity(): boolean {
    return !this.cancelled && (this.prefetch === 0 || this.unsettled < this.prefetch);
  }

  setPrefetch(n: number): void {
    this.prefetch = checkPrefetch(n);
    this.owner.schedule();
  }

  addQueue(queue: string): void {
    if (this.cancelled || this.owner.isClosed || this.names.includes(queue)) return;
    this.names.push(queue);
    this.owner.attach(this, queue);
  }

  removeQueue(queue: string): void {
    const i = this.names.indexOf(queue);
    if (i === -1) return;
    this.names.splice(i, 1);
    this.owner.detach(this, queue);
  }

  async cancel(): Promise<void> {
    if (this.cancelled) return;
    this.detachAll();
    this.owner.forget(this);
  }

  detachAll(): void {
    this.cancelled = true;
    for (const q of this.names) this.owner.detach(this, q);
  }
}

class MemoryDelivery implements Delivery {
  private settled = false;
  readonly redelivered: boolean;

  constructor(
    private readonly owner: MemoryQueues,
    private readonly consumer: MemoryConsumer,
    private readonly state: QueueState,
    private readonly item: Stored,
    readonly envelope: Envelope,
    readonly deliveryTag: string,
  ) {
    this.redelivered = item.redelivered;
  }

  get queue(): string {
    return this.state.name;
  }

  async ack(): Promise<void> {
    this.settle(false);
  }

  async reject(): Promise<void> {
    this.settle(false);
  }

  async requeue(): Promise<void> {
    this.settle(true);
  }

  private settle(requeue: boolean): void {
    if (this.settled) return;
    this.settled = true;
    this.owner.settle(this.consumer, this.state, requeue ? this.item : null);
  }
}
