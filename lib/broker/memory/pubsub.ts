/**
 * In-process fan-out: events (celeryev) and remote control (pidbox + replies). Like Redis
 * pub/sub, a subscriber sees what is published after it subscribed, each gets its own parsed
 * copy, delivery is always asynchronous and a throwing subscriber harms nobody else.
 */
import { withReply } from "../../protocol/control";
import { uuid4 } from "../../protocol/envelope";
import { eventRoutingKey, splitEventBody, TASK_MULTI_ROUTING_KEY } from "../../protocol/events";
import type { ControlReply, ControlRequest } from "../../protocol/types";
import { BrokerClosedError } from "../errors";
import type { BroadcastOptions, IncomingControl, RawEventBatch, Subscription } from "../types";
import type { ErrorSink } from "./queues";

/** How long broadcast waits for replies when not told, ms (default: 1000). */
export const DEFAULT_BROADCAST_TIMEOUT_MS = 1000;

interface EventSub {
  onBatch: (batch: RawEventBatch) => void;
  /** first sequence number this subscriber may see */
  since: number;
  closed: boolean;
}

interface PendingEvent {
  seq: number;
  json: string;
  routingKey: string;
}

export class MemoryEvents {
  private readonly subs = new Set<EventSub>();
  private pending: PendingEvent[] = [];
  private seq = 0;
  private immediate: ReturnType<typeof setImmediate> | null = null;
  private closed = false;

  constructor(private readonly onError: ErrorSink) {}

  async publish(_hostname: string, events: object | object[]): Promise<void> {
    if (this.closed) throw new BrokerClosedError("publishEvent");
    let routingKey: string;
    if (Array.isArray(events)) {
      if (events.length === 0) return;
      routingKey = TASK_MULTI_ROUTING_KEY;
    } else {
      const type = (events as { type?: unknown } | null)?.type;
      if (typeof type !== "string" || type === "") throw new TypeError("publishEvent: an event needs a string type");
      routingKey = eventRoutingKey(type);
    }
    this.pending.push({ seq: ++this.seq, json: JSON.stringify(events), routingKey });
    if (!this.immediate) this.immediate = setImmediate(() => this.flush());
  }

  async subscribe(onBatch: (batch: RawEventBatch) => void): Promise<Subscription> {
    if (this.closed) throw new BrokerClosedError("subscribeEvents");
    const sub: EventSub = { onBatch, since: this.seq + 1, closed: false };
    this.subs.add(sub);
    return {
      close: async () => {
        sub.closed = true;
        this.subs.delete(sub);
      },
    };
  }

  close(): void {
    this.closed = true;
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = null;
    this.pending = [];
    for (const s of this.subs) s.closed = true;
    this.subs.clear();
  }

  private flush(): void {
    this.immediate = null;
    const batch = this.pending;
    this.pending = [];
    for (const item of batch) {
      for (const sub of this.subs) {
        if (sub.closed || item.seq < sub.since) continue;
        try {
          sub.onBatch({ events: splitEventBody(JSON.parse(item.json)), routingKey: item.routingKey });
        } catch (err) {
          this.onError(err, "event subscriber");
        }
      }
    }
  }
}

interface Listener {
  onRequest: (c: IncomingControl) => void;
  closed: boolean;
}

interface Collector {
  replies: ControlReply[];
  limit: number;
  timer: ReturnType<typeof setTimeout>;
  resolve: (replies: ControlReply[]) => void;
}

export class MemoryControl {
  private readonly listeners = new Set<Listener>();
  private readonly collectors = new Map<string, Collector>();
  private readonly immediates = new Set<ReturnType<typeof setImmediate>>();
  /** this broker's reply address, as a kombu client's oid */
  private readonly oid = uuid4();
  private closed = false;

  constructor(private readonly onError: ErrorSink) {}

  async broadcast(request: Omit<ControlRequest, "ticket" | "reply_to">, opts: BroadcastOptions = {}): Promise<ControlReply[]> {
    if (this.closed) throw new BrokerClosedError("broadcast");
    const wantReply = opts.reply ?? true;
    const ticket = wantReply ? uuid4() : null;
    const body: ControlRequest = ticket
      ? withReply(request, ticket, this.oid)
      : { method: request.method, arguments: request.arguments, destination: request.destination, pattern: request.pattern, matcher: request.matcher };
    const json = JSON.stringify(body);
    // listeners present now get it, as with a Redis PUBLISH
    const targets = [...this.listeners];
    const im = setImmediate(() => {
      this.immediates.delete(im);
      for (const l of targets) this.dispatch(l, json, ticket);
    });
    this.immediates.add(im);
    if (!ticket) return [];

    const limit = opts.limit ?? (request.destination && request.destination.length > 0 ? request.destination.length : Infinity);
    const timeout = opts.timeout ?? DEFAULT_BROADCAST_TIMEOUT_MS;
    if (limit <= 0) return [];
    return new Promise<ControlReply[]>((resolve) => {
      const timer = setTimeout(() => this.finish(ticket), Math.max(0, timeout));
      this.collectors.set(ticket, { replies: [], limit, timer, resolve });
    });
  }

  async listen(onRequest: (c: IncomingControl) => void): Promise<Subscription> {
    if (this.closed) throw new BrokerClosedError("listenControl");
    const l: Listener = { onRequest, closed: false };
    this.listeners.add(l);
    return {
      close: async () => {
        l.closed = true;
        this.listeners.delete(l);
      },
    };
  }

  /** Resolves every pending broadcast with the replies it has so far. */
  close(): void {
    this.closed = true;
    for (const im of this.immediates) clearImmediate(im);
    this.immediates.clear();
    for (const ticket of [...this.collectors.keys()]) this.finish(ticket);
    for (const l of this.listeners) l.closed = true;
    this.listeners.clear();
  }

  private dispatch(l: Listener, json: string, ticket: string | null): void {
    if (l.closed || this.closed) return;
    const incoming: IncomingControl = {
      request: JSON.parse(json) as ControlRequest,
      reply: async (reply: ControlReply) => {
        if (!ticket) return;
        this.collect(ticket, reply);
      },
    };
    try {
      l.onRequest(incoming);
    } catch (err) {
      this.onError(err, "control listener");
    }
  }

  private collect(ticket: string, reply: ControlReply): void {
    const c = this.collectors.get(ticket);
    if (!c) return; // late reply: the sender stopped waiting
    if (typeof reply !== "object" || reply === null || Array.isArray(reply)) return;
    c.replies.push(JSON.parse(JSON.stringify(reply)) as ControlReply);
    if (c.replies.length >= c.limit) this.finish(ticket);
  }

  private finish(ticket: string): void {
    const c = this.collectors.get(ticket);
    if (!c) return;
    this.collectors.delete(ticket);
    clearTimeout(c.timer);
    c.resolve(c.replies);
  }
}
