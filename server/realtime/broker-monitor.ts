/**
 * Broker view shared by every socket: connection status (pushed by the transport) and queue
 * lengths (polled once a second, only while some tab shows them). `version` moves only when
 * the payload really changed, so sockets send it only then.
 */
import type { BrokerPayload } from "../../lib/protocol/api";
import type { BrokerStatus } from "../../lib/broker/types";
import type { ServerContext } from "../context";
import { redactUrl } from "../log";

export interface BrokerMonitorOptions {
  /** queue-length poll period while wanted, ms (default: 1000) */
  pollMs?: number;
}

export class BrokerMonitor {
  /** moves when anything in the payload changed */
  version = 1;
  /** moves when the connection status changed (every tab shows it, subscribed or not) */
  statusVersion = 1;
  /** set by the realtime tick: does any socket subscribe to queue lengths? */
  wanted = false;
  private payload: BrokerPayload;
  private json = "";
  private timer: NodeJS.Timeout | null = null;
  private unlisten: (() => void) | null = null;
  private inflight = false;
  private closed = false;

  constructor(
    private readonly ctx: ServerContext,
    private readonly opts: BrokerMonitorOptions = {},
  ) {
    const url = ctx.broker.url;
    this.payload = { url: redactUrl(url), transport: url.split(":")[0] || "memory", status: ctx.broker.status?.() ?? "connected", queues: [] };
    this.json = JSON.stringify(this.payload);
  }

  start(): void {
    this.unlisten = this.ctx.broker.onStatus?.((s) => this.setStatus(s)) ?? null;
    this.timer = setInterval(() => {
      if (this.wanted) void this.refresh();
    }, this.opts.pollMs ?? 1000);
    this.timer.unref();
  }

  current(): BrokerPayload {
    return this.payload;
  }

  setStatus(status: BrokerStatus): void {
    if (status === this.payload.status) return;
    this.payload = { ...this.payload, status };
    this.json = JSON.stringify(this.payload);
    this.version++;
    this.statusVersion++;
  }

  /** Poll queue lengths now (also called when a socket first subscribes, for a fresh snapshot). */
  async refresh(): Promise<void> {
    if (this.inflight || this.closed) return;
    this.inflight = true;
    try {
      const names = await this.ctx.broker.queues();
      const lengths = await this.ctx.broker.queueLengths(names);
      const consumers = this.ctx.queueConsumers();
      const seen = new Set<string>();
      const queues: BrokerPayload["queues"] = lengths.map((q) => {
        seen.add(q.name);
        return { name: q.name, messages: q.messages, unacked: q.unacked, byPriority: q.byPriority, consumers: consumers[q.name] ?? [] };
      });
      // A queue that workers consume but nobody published to yet still belongs on the page.
      for (const [name, list] of Object.entries(consumers)) if (!seen.has(name)) queues.push({ name, messages: 0, consumers: list });
      queues.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const next: BrokerPayload = { ...this.payload, queues };
      const json = JSON.stringify(next);
      if (json !== this.json && !this.closed) {
        this.payload = next;
        this.json = json;
        this.version++;
      }
    } catch {
      // A failing poll says nothing new; the transport reports disconnects through onStatus.
    } finally {
      this.inflight = false;
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.unlisten?.();
    this.unlisten = null;
  }
}
