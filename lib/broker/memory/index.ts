/**
 * `memory://`: the embedded broker. Same semantics as the Redis transport (checked by the one
 * conformance suite), nothing survives the process. After close(), every operation rejects
 * with BrokerClosedError (consume() throws it); settling a delivery and close() are no-ops.
 */
import type { ControlReply, ControlRequest, Envelope } from "../../protocol/types";
import { BrokerClosedError } from "../errors";
import type {
  BroadcastOptions,
  Broker,
  BrokerCapabilities,
  BrokerStatus,
  ConsumeOptions,
  Consumer,
  DeadLetterEntry,
  DeadLetterList,
  Delivery,
  IncomingControl,
  PublishOptions,
  QueueLength,
  RawEventBatch,
  Subscription,
} from "../types";
import { clipRaw, DEAD_LETTERS_KEPT } from "../types";
import { MemoryControl, MemoryEvents } from "./pubsub";
import { MemoryQueues, type ErrorSink } from "./queues";

export { DEFAULT_PREFETCH, PRIORITY_STEPS, priorityStep } from "./queues";
export { DEFAULT_BROADCAST_TIMEOUT_MS } from "./pubsub";

export interface MemoryBrokerOptions {
  /** where throws from consumer, subscriber and listener callbacks go (default: console.error) */
  onError?: ErrorSink;
}

export class MemoryBroker implements Broker {
  readonly url = "memory://";
  readonly capabilities: BrokerCapabilities = { durable: false, crossProcess: false, priority: true };
  private readonly q: MemoryQueues;
  private readonly events: MemoryEvents;
  private readonly control: MemoryControl;
  private readonly statusListeners = new Set<(s: BrokerStatus) => void>();
  /** oldest first, at most DEAD_LETTERS_KEPT (dead letters are rare: a splice is cheap enough) */
  private readonly dead: DeadLetterEntry[] = [];
  private closed = false;

  constructor(opts: MemoryBrokerOptions = {}) {
    const onError: ErrorSink = opts.onError ?? ((err, where) => console.error(`memory broker: ${where} threw`, err));
    this.q = new MemoryQueues(onError);
    this.events = new MemoryEvents(onError);
    this.control = new MemoryControl(onError);
  }

  async connect(): Promise<void> {
    if (this.closed) throw new BrokerClosedError("connect");
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.q.close();
    this.events.close();
    this.control.close();
    for (const l of this.statusListeners) {
      try {
        l("disconnected");
      } catch {
        // a status listener's failure must not stop the shutdown
      }
    }
    this.statusListeners.clear();
  }

  publish(queue: string, envelope: Envelope, opts?: PublishOptions): Promise<void> {
    return this.q.publish(queue, envelope, opts);
  }

  consume(queues: string[], opts: ConsumeOptions, onDelivery: (d: Delivery) => void): Consumer {
    return this.q.consume(queues, opts, onDelivery);
  }

  queueLengths(queues?: string[]): Promise<QueueLength[]> {
    return this.q.queueLengths(queues);
  }

  queues(): Promise<string[]> {
    return this.q.names();
  }

  purge(queue: string): Promise<number> {
    return this.q.purge(queue);
  }

  publishEvent(hostname: string, events: object | object[]): Promise<void> {
    return this.events.publish(hostname, events);
  }

  subscribeEvents(onBatch: (batch: RawEventBatch) => void): Promise<Subscription> {
    return this.events.subscribe(onBatch);
  }

  broadcast(request: Omit<ControlRequest, "ticket" | "reply_to">, opts?: BroadcastOptions): Promise<ControlReply[]> {
    return this.control.broadcast(request, opts);
  }

  listenControl(onRequest: (c: IncomingControl) => void): Promise<Subscription> {
    return this.control.listen(onRequest);
  }

  async deadLetter(entry: DeadLetterEntry): Promise<void> {
    if (this.closed) throw new BrokerClosedError("deadLetter");
    this.dead.push({ ...entry, raw: clipRaw(entry.raw) });
    if (this.dead.length > DEAD_LETTERS_KEPT) this.dead.splice(0, this.dead.length - DEAD_LETTERS_KEPT);
  }

  async deadLetters(limit: number): Promise<DeadLetterList> {
    const n = Math.max(0, Math.min(Math.floor(limit), this.dead.length));
    return { total: this.dead.length, entries: n > 0 ? this.dead.slice(this.dead.length - n).reverse() : [] };
  }

  /** memory:// is connected from birth; the only change it reports is "disconnected" on close. */
  onStatus(listener: (s: BrokerStatus) => void): () => void {
    if (!this.closed) this.statusListeners.add(listener);
    return () => {
      this.statusListeners.delete(listener);
    };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
