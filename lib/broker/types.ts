/**
 * The Broker port: a narrow, semantic interface every transport (memory://, redis://) implements
 * and the one conformance suite (lib/broker/conformance.ts) checks. Never raw keys here: the
 * Redis layout (kombu lists, unacked hash, celeryev channels, pidbox) is the transport's business.
 */
import type { ControlReply, ControlRequest, Envelope, ResultMeta } from "../protocol/types";

export interface BrokerCapabilities {
  /** messages survive a process restart (false for memory://) */
  durable: boolean;
  /** other processes can share it (false for memory://) */
  crossProcess: boolean;
  /** priority sub-queues (both: kombu's 0/3/6/9 steps, lower served first on Redis) */
  priority: boolean;
}

/** One delivered message. Exactly one of ack/reject/requeue settles it; later calls are no-ops. */
export interface Delivery {
  readonly queue: string;
  readonly envelope: Envelope;
  /** transport-level id (kombu's properties.delivery_tag) */
  readonly deliveryTag: string;
  /** true when it was restored or requeued after an earlier delivery */
  readonly redelivered: boolean;
  ack(): Promise<void>;
  /** drop it (same as ack on Redis); the caller reports task-rejected / dead-letters it */
  reject(): Promise<void>;
  /** put it back at the head of its queue so it is consumed next */
  requeue(): Promise<void>;
}

export interface ConsumeOptions {
  /** at most this many deliveries unsettled at once (default: 4) */
  prefetch?: number;
}

export interface Consumer {
  readonly queues: readonly string[];
  /** raise or lower the number of unsettled deliveries allowed (ETA tasks raise it, like Celery) */
  setPrefetch(n: number): void;
  addQueue(queue: string): void;
  removeQueue(queue: string): void;
  /** stop receiving; unsettled deliveries stay unsettled (the worker requeues or acks them) */
  cancel(): Promise<void>;
}

export interface PublishOptions {
  /** 0–9, kombu semantics: rounded down to 0/3/6/9, lower served first (default: 0) */
  priority?: number;
}

/** An event subscription; events are the decoded bodies (untrusted: ingest validates). */
export interface Subscription {
  close(): Promise<void>;
}

export interface SubscribeEventsOptions {
  /**
   * drop events whose sender also appended them to this broker's event stream: the caller
   * follows that stream (subscribeEventStream) and gets them there, once (default: false)
   */
  skipStreamed?: boolean;
}

/** Entries read from the event stream, in stream order. */
export interface EventStreamBatch {
  /** decoded event bodies (untrusted: ingest validates) */
  events: unknown[];
  /** id of the last entry read: the cursor to keep once these events are applied */
  lastId: string;
}

export interface EventStreamOptions {
  /** read entries after this id (a saved cursor, or eventStreamTail() for "from now on") */
  after: string;
  onBatch(batch: EventStreamBatch): void;
  /** events may be missing (cursor trimmed away, stream reset): say so in the log */
  onWarning?(message: string, extra: Record<string, unknown>): void;
  /** entries per read (default: 1000) */
  count?: number;
}

export interface RawEventBatch {
  /** decoded event bodies: one for a single event, many for `task.multi` */
  events: unknown[];
  /** routing key it arrived on, e.g. "task.multi", "worker.heartbeat" */
  routingKey: string;
}

export interface BroadcastOptions {
  /** wait for replies this long, ms (default: 1000) */
  timeout?: number;
  /** stop once this many replies have arrived (default: destination length, else unbounded) */
  limit?: number;
  /** whether to ask for replies at all (default: true) */
  reply?: boolean;
}

/** A control request as a worker receives it. */
export interface IncomingControl {
  request: ControlRequest;
  /** send this node's reply; a no-op when the request wanted none */
  reply(reply: ControlReply): Promise<void>;
}

export interface QueueLength {
  name: string;
  /** ready messages, all priorities */
  messages: number;
  /** per priority step, e.g. {0: 3, 3: 0, 6: 1, 9: 0} */
  byPriority?: Record<number, number>;
  /** delivered and not yet acked */
  unacked?: number;
}

export interface Broker {
  readonly url: string;
  readonly capabilities: BrokerCapabilities;
  connect(): Promise<void>;
  /** releases connections, consumers and subscriptions */
  close(): Promise<void>;

  // queues
  publish(queue: string, envelope: Envelope, opts?: PublishOptions): Promise<void>;
  consume(queues: string[], opts: ConsumeOptions, onDelivery: (d: Delivery) => void): Consumer;
  queueLengths(queues?: string[]): Promise<QueueLength[]>;
  /** names of queues that exist or were declared */
  queues(): Promise<string[]>;
  /** drop every ready message of a queue; returns how many */
  purge(queue: string): Promise<number>;

  // events (fanout: every subscriber sees every event)
  /** publish one event, or a batch as Celery's `task.multi` */
  publishEvent(hostname: string, events: object | object[]): Promise<void>;
  subscribeEvents(onBatch: (batch: RawEventBatch) => void, opts?: SubscribeEventsOptions): Promise<Subscription>;
  /**
   * Petal's own events as a capped, resumable log (Redis Stream), absent where there is none
   * (memory://). Reading starts after `opts.after`; a stream id is the cursor.
   */
  subscribeEventStream?(opts: EventStreamOptions): Promise<Subscription>;
  /** id of the newest event stream entry ("0-0" when empty): a start that misses nothing appended later */
  eventStreamTail?(): Promise<string>;
  /** event payloads dropped because they could not be decoded, since start (never thrown at subscribers) */
  readonly rejectedEvents?: number;

  // remote control (fanout + per-request reply queue)
  broadcast(request: Omit<ControlRequest, "ticket" | "reply_to">, opts?: BroadcastOptions): Promise<ControlReply[]>;
  /** a worker's control listener; filtering by destination/pattern is the worker's job */
  listenControl(onRequest: (c: IncomingControl) => void): Promise<Subscription>;

  /** connection state changes (for the "broker disconnected" banner) */
  onStatus?(listener: (s: BrokerStatus) => void): () => void;
  /** the connection state now (a page opened during an outage starts from it) */
  status?(): BrokerStatus;

  // dead letters: messages no worker could accept, kept where every process sees them
  /** record one (bounded: the oldest go first, DEAD_LETTERS_KEPT); never throws for a full store */
  deadLetter?(entry: DeadLetterEntry): Promise<void>;
  /** the newest `limit` entries, newest first, and how many are kept in all */
  deadLetters?(limit: number): Promise<DeadLetterList>;
}

/** Dead letters a transport keeps (default: 1000; Redis: LTRIM of `petal.dead-letters`). */
export const DEAD_LETTERS_KEPT = 1000;
/** Raw message text kept per dead letter, characters (default: 16384). */
export const DEAD_LETTER_RAW_MAX = 16_384;

/** A message a worker or transport refused, as stored (JSON on Redis). */
export interface DeadLetterEntry {
  /** unix seconds */
  at: number;
  queue: string;
  /** human-readable why */
  reason: string;
  /** ProtocolError code ("bad_json", "no_content_type", …) or "internal" */
  code: string;
  /** the message as popped, truncated to DEAD_LETTER_RAW_MAX */
  raw: string;
  /** the refusing worker's hostname; null when the transport itself dropped it */
  worker: string | null;
  /** headers.id when the message had one */
  taskId?: string | null;
}

export interface DeadLetterList {
  total: number;
  entries: DeadLetterEntry[];
}

/** Clip raw text to DEAD_LETTER_RAW_MAX so one huge poison message cannot bloat the store. */
export function clipRaw(raw: string): string {
  return raw.length > DEAD_LETTER_RAW_MAX ? raw.slice(0, DEAD_LETTER_RAW_MAX) + "..." : raw;
}

export type BrokerStatus = "connected" | "reconnecting" | "disconnected";

/** Where task results live (Celery's result backend). */
export interface ResultBackend {
  store(meta: ResultMeta, opts?: { ttlSeconds?: number }): Promise<void>;
  /**
   * True when a store() issued before an event published on `broker` is always visible before
   * that event is (one ordered connection, or a store that applies at once). Absent: false.
   */
  orderedWith?(broker: unknown): boolean;
  get(taskId: string): Promise<ResultMeta | null>;
  /** resolves with the first stored ready result, or null after timeoutMs */
  wait(taskId: string, timeoutMs: number): Promise<ResultMeta | null>;
  close(): Promise<void>;
}
