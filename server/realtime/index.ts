/**
 * socket.io on the same HTTP server as the API and Next. Protocol (lib/protocol/api.ts):
 *   browser → `subscribe` ClientSubscription (optional ack) · `resync` (after a seq gap)
 *   server  → `update` WireUpdate (views.ts): a full snapshot on connect/subscribe/resync, then
 *             diffs; the task list and charts travel as deltas (task-rows.ts, chart-delta.ts)
 * A timer walks the sockets; each one gets at most one message per `minGapMs`, holding only
 * the views whose state version moved. Events never trigger a send directly; the answer to a
 * subscribe goes at once (an operator is waiting on it) and the next diff keeps its gap after it.
 */
import type http from "node:http";
import { Server, type Socket } from "socket.io";
import { SOCKET_EVENTS, type ApiError, type ClientSubscription } from "../../lib/protocol/api";
import type { ServerContext } from "../context";
import { checkBasicAuth } from "../http/index";
import { redactUrl } from "../log";
import { BrokerMonitor } from "./broker-monitor";
import { DEFAULT_SUBSCRIPTION, parseSubscription } from "./subscription";
import { stateReader } from "./state-reader";
import { WorkerInspector } from "./worker-info";
import { ViewCache, Viewer, type StateReader, type ViewConfig } from "./views";

/** server → browser: a subscription was refused (the previous one stays in force). */
export const SUBSCRIBE_ERROR_EVENT = "subscribe_error";

export interface RealtimeOptions {
  /** how often sockets are checked for changes, ms (default: 50) */
  tickMs?: number;
  /** least time between two messages to one socket, ms (default: 100, i.e. ≤ 10/s) */
  minGapMs?: number;
  /** charts are sent at most this often, ms (default: 1000) */
  chartsEveryMs?: number;
  /** broker queue-length poll, ms (default: 1000) */
  brokerPollMs?: number;
  /** Next dev mode: leave upgrades engine.io does not own to Next's HMR socket (default: false) */
  dev?: boolean;
  /** override the state reads (tests) */
  state?: StateReader;
}

export interface RealtimeStats {
  sockets: number;
  /** update messages sent since start */
  messages: number;
}

export interface Realtime {
  readonly io: Server;
  stats(): RealtimeStats;
  /** disconnect every socket and close the HTTP server (socket.io closes it) */
  close(): Promise<void>;
}

export function attachRealtime(server: http.Server, ctx: ServerContext, opts: RealtimeOptions = {}): Realtime {
  const tickMs = opts.tickMs ?? 50;
  const minGapMs = opts.minGapMs ?? 100;
  const chartsEveryMs = opts.chartsEveryMs ?? 1000;
  const state = opts.state ?? stateReader(ctx.state, new WorkerInspector(ctx));
  const cache = new ViewCache(state);
  const monitor = new BrokerMonitor(ctx, { pollMs: opts.brokerPollMs });
  const config: ViewConfig = { readOnly: ctx.config.readOnly, broker: redactUrl(ctx.config.broker), version: ctx.version };
  const viewers = new Map<Socket, Viewer>();
  let messages = 0;

  const io = new Server(server, {
    path: `${ctx.config.urlPrefix}/socket.io`,
    serveClient: false,
    // Dev mode: Next's HMR socket shares the server; engine.io must not end upgrades it does not own.
    destroyUpgrade: !opts.dev,
    allowRequest: ctx.config.basicAuth ? (req, cb) => cb(null, checkBasicAuth(req, ctx.config)) : undefined,
  });

  const send = (socket: Socket, viewer: Viewer, now: number, mono: number) => {
    let update;
    try {
      update = viewer.collect(state, cache, monitor, config, now, mono, chartsEveryMs);
    } catch (err) {
      ctx.log.error("realtime view failed", { err, socket: socket.id });
      return;
    }
    if (!update) return;
    messages++;
    socket.emit(SOCKET_EVENTS.update, update);
  };

  /** Send now if the socket's rate allows, else the next tick picks it up. */
  const sendSoon = (socket: Socket, viewer: Viewer) => {
    const mono = performance.now();
    if (mono - viewer.lastSentAt >= minGapMs) send(socket, viewer, Date.now(), mono);
  };

  const refuse = (socket: Socket, message: string, ack?: (r: unknown) => void) => {
    const body: ApiError = { error: { code: "bad_subscription", message } };
    socket.emit(SUBSCRIBE_ERROR_EVENT, body);
    ack?.({ ok: false, ...body });
  };

  io.on("connection", (socket) => {
    // A tab may put its subscription in the handshake (`io({auth: {subscription}})`) so the
    // first snapshot already holds what it shows.
    let initial: ClientSubscription = DEFAULT_SUBSCRIPTION;
    const hs = (socket.handshake.auth as { subscription?: unknown } | undefined)?.subscription;
    if (hs !== undefined) {
      const r = parseSubscription(hs);
      if (r.ok) initial = r.value;
      else refuse(socket, r.message);
    }
    const viewer = new Viewer(initial);
    viewers.set(socket, viewer);
    if (initial.broker) void monitor.refresh();

    socket.on(SOCKET_EVENTS.subscribe, (input: unknown, ack?: unknown) => {
      const reply = typeof ack === "function" ? (ack as (r: unknown) => void) : undefined;
      const r = parseSubscription(input);
      if (!r.ok) return refuse(socket, r.message, reply);
      // Search syntax is the state's to judge: run the query once so a typo is refused here
      // instead of failing every tick. The snapshot below reuses this page (ViewCache), so a
      // million-task scan is not paid twice.
      if (r.value.tasks) {
        try {
          cache.tasks(r.value.tasks);
        } catch (err) {
          return refuse(socket, `invalid task query: ${err instanceof Error ? err.message : String(err)}`, reply);
        }
      }
      viewer.subscribe(r.value);
      if (r.value.broker) void monitor.refresh();
      reply?.({ ok: true });
      // The operator is waiting on this answer: send it now, not at the next tick. The regular
      // diffs then keep their gap after it, so only an interaction can add a message.
      send(socket, viewer, Date.now(), performance.now());
    });
    socket.on(SOCKET_EVENTS.resync, () => {
      viewer.needsFull = true;
      sendSoon(socket, viewer);
    });
    socket.on("disconnect", () => viewers.delete(socket));
    sendSoon(socket, viewer);
  });

  const timer = setInterval(() => {
    if (viewers.size === 0) {
      monitor.wanted = false;
      return;
    }
    const now = Date.now();
    const mono = performance.now();
    let wantBroker = false;
    for (const [socket, viewer] of viewers) {
      if (viewer.sub.broker) wantBroker = true;
      if (mono - viewer.lastSentAt >= minGapMs) send(socket, viewer, now, mono);
    }
    monitor.wanted = wantBroker;
  }, tickMs);
  timer.unref();
  monitor.start();

  let closing: Promise<void> | null = null;
  return {
    io,
    stats: () => ({ sockets: viewers.size, messages }),
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        clearInterval(timer);
        monitor.close();
        viewers.clear();
        // io.close() disconnects sockets and calls server.close(); its error (server not
        // listening) does not matter at shutdown.
        io.close(() => resolve());
      })),
  };
}

export { parseSubscription, DEFAULT_SUBSCRIPTION, clientSubscriptionSchema, MAX_PAGE } from "./subscription";
export { BrokerMonitor } from "./broker-monitor";
export { ViewCache, Viewer, type StateReader, type ViewConfig } from "./views";
